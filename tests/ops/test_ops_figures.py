"""Operations figures that misled (issue 9 §1): demo-injected outages counted as real, a week of records
shown as a year, a Major Event Day threshold fitted on days, a fault feed ~40× too busy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from ops_feeders import build_feeders, meters_of

from fluxops.grid.models import Grid
from fluxops.ops.faults import FaultInjector, FaultParams
from fluxops.ops.models import MeterEvent
from fluxops.ops.ports import OutageQuery
from fluxops.ops.reliability import MedConfig, major_event_days
from fluxops.ops.service import OpsService
from fluxops.ops.trace import ProtectionTree
from fluxops.storage.ops_store import OpsTableStore

T0 = datetime(2026, 7, 1, 18, 0, tzinfo=UTC)
NO_OPEN = pd.DataFrame(columns=["start_utc", "customers_out", "feeder_id", "substation_id"])


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Coverage:
    def __init__(self, start: datetime | None) -> None:
        self.start = start

    def history_start_utc(self) -> datetime | None:
        return self.start


def _outage(svc: OpsService, clock: Clock, meters: list[str], at: datetime, minutes: float) -> None:
    clock.now = at
    svc.process_events([MeterEvent(m, "last_gasp", at) for m in meters])
    back = at + timedelta(minutes=minutes)
    clock.now = back
    svc.process_events([MeterEvent(m, "power_restore", back) for m in meters])


# --- synthetic (demo-injected) outages -------------------------------------------------------------


def test_injected_outages_are_flagged_and_left_out_of_indices_and_etr(duckdb_store: Any) -> None:
    grid = build_feeders()
    clock = Clock(T0)
    svc = OpsService(OpsTableStore(duckdb_store), grid, clock=clock)
    fake = meters_of("T3", "T4")  # an injected fuse fault
    real = meters_of("T7")[:2]
    svc.mark_synthetic(fake, True)
    _outage(svc, clock, fake, T0, 12.0)  # the demo's accelerated repair
    svc.mark_synthetic(fake, False)
    _outage(svc, clock, real, T0 + timedelta(hours=1), 95.0)
    outs = {o.device_id: o for o in svc.list_outages(OutageQuery())[0]}
    assert outs["FUS1"].synthetic and not any(o.synthetic for k, o in outs.items() if k != "FUS1")
    p0, p1 = T0 - timedelta(hours=1), T0 + timedelta(days=1)
    real_only = svc.reliability_report(level="system", start_utc=p0, end_utc=p1)
    everything = svc.reliability_report(level="system", start_utc=p0, end_utc=p1, include_synthetic=True)
    n_t = len(grid.meters)
    n_real = sum(o.customers_affected for k, o in outs.items() if k != "FUS1")  # T7's customers
    assert real_only.rows[0].customer_minutes == pytest.approx(n_real * 95.0)
    assert real_only.rows[0].saidi_min == pytest.approx(n_real * 95.0 / n_t)
    assert everything.rows[0].customer_minutes == pytest.approx(n_real * 95.0 + len(fake) * 12.0)
    assert not real_only.include_synthetic and everything.include_synthetic
    # restoration history for ETR: the injected repair is not this utility's record
    hist = svc.store.restored_outages(T0 - timedelta(days=1)).to_pandas()
    assert len(hist) == 1
    assert len(svc.store.restored_outages(T0 - timedelta(days=1), include_synthetic=True)) == 2


def test_an_outage_with_a_real_report_is_not_synthetic() -> None:
    from fluxops.ops.outages import OutageEngine

    grid = build_feeders()
    eng = OutageEngine(ProtectionTree.build(grid))
    fake = meters_of("T3")
    eng.mark_synthetic(fake, True)
    delta = eng.process([MeterEvent(m, "last_gasp", T0) for m in [*fake, *meters_of("T4")]], now_utc=T0)
    assert delta.outages and not any(o.synthetic for o in delta.outages)


def test_existing_outages_table_gains_the_synthetic_column(duckdb_store: Any) -> None:
    """A store written before the flag existed: the column is added, its old rows read as real."""
    ops = OpsTableStore(duckdb_store)
    ops.ensure_tables()
    duckdb_store.execute("ALTER TABLE outages DROP COLUMN synthetic")
    ops.ensure_tables()
    assert "synthetic" in duckdb_store.query_arrow("SELECT * FROM outages LIMIT 0").schema.names


def test_fault_rate_follows_saifi_and_repairs_are_real_time(tiny_grid: Grid) -> None:
    tree = ProtectionTree.build(tiny_grid)
    inj = FaultInjector(tree, FaultParams(seed=3))
    per_h = inj.expected_faults_per_h()
    # expected customer interruptions per year = SAIFI 1.3 × customers served
    assert per_h * 8760 * inj.mean_customers_per_fault() == pytest.approx(1.3 * tree.n_meters)
    assert inj.mean_interval_s == pytest.approx(3600 / per_h)
    assert per_h < 26 / 40  # the old feed: a fault every 40 s, ~26/h once repairs capped it
    busy = np.zeros(tree.n_meters, dtype=bool)
    fault = inj.draw(T0, busy)
    assert fault is not None
    # not accelerated: a repair lasts its sampled minutes (log-normal around 95 min), >= 1 min
    assert (fault.restore_utc - fault.start_utc) >= timedelta(minutes=1)
    durations = []
    for _ in range(200):
        f = inj.draw(T0, busy)
        assert f is not None
        durations.append((f.restore_utc - f.start_utc).total_seconds() / 60)
    assert 60 < float(np.median(durations)) < 150


# --- the period the indices cover, annualization, MED threshold ------------------------------------


def test_a_week_of_records_is_a_week_not_a_year(duckdb_store: Any) -> None:
    grid = build_feeders()
    clock = Clock(T0)
    data_start = T0 - timedelta(days=7)
    svc = OpsService(OpsTableStore(duckdb_store), grid, clock=clock, coverage=Coverage(data_start))
    _outage(svc, clock, meters_of("T3", "T4"), T0 - timedelta(days=2), 120.0)
    clock.now = T0
    rep = svc.reliability_report(level="system", start_utc=None, end_utc=None)
    assert rep.period_basis == "data_coverage"
    assert rep.period_start_utc == data_start and rep.days_covered == pytest.approx(7.0)
    assert rep.customers_served == len(grid.meters)
    (row,) = rep.rows
    n = len(meters_of("T3", "T4"))
    assert row.saidi_min == pytest.approx(n * 120.0 / len(grid.meters))
    assert row.saidi_min_annualized is None and not rep.annualized
    # ASAI over the week, not over a year
    assert row.asai == pytest.approx(1 - row.saidi_min / (7 * 1440))
    ann = svc.reliability_report(level="system", start_utc=None, end_utc=None, annualize=True)
    (arow,) = ann.rows
    assert ann.annualized and arow.annualization_factor == pytest.approx(365.25 / 7)
    assert arow.saidi_min_annualized == pytest.approx(row.saidi_min * 365.25 / 7)
    assert arow.saidi_min == pytest.approx(row.saidi_min)  # the period's value is still there
    # a week of history: the MED threshold is not fitted on it
    assert rep.med.threshold_source == "default" and rep.med.history_span_days == pytest.approx(0.0)
    # with more than a year of data, the last 365 days
    svc.coverage = Coverage(T0 - timedelta(days=800))
    assert (
        svc.reliability_report(level="system", start_utc=None, end_utc=None).period_basis == "last_365_days"
    )


def test_without_coverage_the_first_outage_on_record_bounds_the_period(duckdb_store: Any) -> None:
    grid = build_feeders()
    clock = Clock(T0)
    svc = OpsService(OpsTableStore(duckdb_store), grid, clock=clock)
    first = T0 - timedelta(days=3)
    _outage(svc, clock, meters_of("T3"), first, 30.0)
    clock.now = T0
    rep = svc.reliability_report(level="system", start_utc=None, end_utc=None)
    assert rep.period_basis == "data_coverage" and rep.data_start_source == "first_outage_on_record"
    assert rep.period_start_utc == first and rep.days_covered == pytest.approx(3.0)


def _daily(start: datetime, days: int, customers: int, minutes: float) -> list[dict[str, object]]:
    return [
        {
            "event_type": "restored",
            "event_utc": start + timedelta(days=k, minutes=minutes),
            "start_utc": start + timedelta(days=k),
            "customers": customers,
            "feeder_id": "F1",
            "substation_id": "S1",
        }
        for k in range(days)
    ]


def test_med_threshold_falls_back_to_the_default_rule() -> None:
    p0 = datetime(2026, 2, 1, tzinfo=UTC)
    week = _daily(p0 - timedelta(days=7), 7, 2, 60)  # a week of ordinary days: 2 of 100 customers
    period = [*_daily(p0 + timedelta(days=2), 1, 5, 600), *_daily(p0 + timedelta(days=5), 1, 20, 300)]
    log = pd.DataFrame([*week, *period])
    p1 = p0 + timedelta(days=10)
    med = major_event_days(
        log, NO_OPEN, 100, start_utc=p0, end_utc=p1, as_of_utc=p1, history_start_utc=p0 - timedelta(days=7)
    )
    # 7 days < 365: not fitted. Default: a day interrupting >= 10 % of customers (20 of 100: day 5),
    # not the 5-customer day (day 2)
    assert med.threshold_source == "default" and med.t_med_min is None
    assert med.customer_share == 0.10 and "10 %" in med.rule
    assert med.days == ((p0 + timedelta(days=5)).date(),)
    assert med.history_span_days == pytest.approx(7.0)
    # a configured T_MED (e.g. the utility's filed value) is used as the default instead
    cfg = MedConfig(default_t_med_min=40.0, default_t_med_source="filed T_MED 2025")
    med = major_event_days(
        log,
        NO_OPEN,
        100,
        start_utc=p0,
        end_utc=p1,
        as_of_utc=p1,
        history_start_utc=p0 - timedelta(days=7),
        config=cfg,
    )
    assert med.threshold_source == "default" and med.t_med_min == 40.0 and "filed T_MED 2025" in med.rule
    assert med.days == ((p0 + timedelta(days=5)).date(),)  # SAIDI 20 × 300 / 100 = 60 > 40; day 2: 30
    # with more than a year of history the 2.5 β fit is used
    year = _daily(p0 - timedelta(days=400), 400, 2, 60)
    long = pd.DataFrame([*year, *period])
    fitted = major_event_days(
        long, NO_OPEN, 100, start_utc=p0, end_utc=p1, as_of_utc=p1, history_start_utc=p0 - timedelta(days=400)
    )
    # every history day has SAIDI 2 × 60 / 100 = 1.2 min: β = 0, T_MED = 1.2 min; both period days exceed it
    assert fitted.threshold_source == "fitted" and fitted.t_med_min == pytest.approx(1.2)
    assert len(fitted.days) == 2


# --- storm mode -------------------------------------------------------------------------------------


def test_one_lockout_is_not_a_storm_many_feeders_are() -> None:
    from fluxops.ops.outages import OutageEngine

    per = 120  # 6 transformers × 120 meters: a feeder of 720 customers
    copies = 6
    tree = ProtectionTree.build(build_feeders(copies, per=per))
    eng = OutageEngine(tree)
    feeder = [f"{t}_1" for t in ("T1", "T2", "T3", "T4", "T5", "T6")]
    lockout = meters_of(*feeder, per=per)
    lockout = lockout[: int(len(lockout) * 0.95)]  # 684 last-gasps from one breaker lockout
    assert len(lockout) > 500  # the old rule: > 500 last-gasps in 120 s = storm
    delta = eng.process([MeterEvent(m, "last_gasp", T0) for m in lockout], now_utc=T0)
    assert not delta.storm_mode and not eng.in_storm(T0)
    # faults on 5 distinct feeders within 15 minutes: a storm, even with few last-gasps each
    t = T0
    for k in range(2, 6):
        t = t + timedelta(minutes=3)
        small = meters_of(f"T6_{k}", per=per)[:3]
        delta = eng.process([MeterEvent(m, "last_gasp", t) for m in small], now_utc=t)
    assert delta.storm_mode and eng.in_storm(t)
    # and it decays once the window has passed
    assert not eng.in_storm(t + timedelta(minutes=16))
