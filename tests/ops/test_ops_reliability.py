"""IEEE 1366 indices on a worked example whose answers are computed by hand below."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pyarrow as pa
import pytest
from ops_feeders import build_feeders, meters_of

from fluxops.core.errors import InvalidInputError
from fluxops.ops.models import MeterEvent
from fluxops.ops.outages import OutageEngine
from fluxops.ops.reliability import MedConfig, compute_indices, customers_served
from fluxops.ops.trace import ProtectionTree

P0 = datetime(2026, 6, 1, tzinfo=UTC)
P1 = P0 + timedelta(days=30)  # 720 h


def step(
    feeder: str, start: datetime, minutes: float, customers: int, kind: str = "restored"
) -> dict[str, object]:
    return {
        "event_type": kind,
        "event_utc": start + timedelta(minutes=minutes),
        "start_utc": start,
        "customers": customers,
        "feeder_id": feeder,
        "substation_id": "S1" if feeder in ("F1", "F2") else "S2",
    }


@pytest.fixture()
def log() -> pd.DataFrame:
    a = P0 + timedelta(days=1)
    b = P0 + timedelta(days=2)
    c = P0 + timedelta(days=3)
    d = P0 + timedelta(days=4)
    return pd.DataFrame(
        [
            step("F1", a, 90, 200),  # A: 200 customers, 90 min
            step("F1", b, 30, 60, "partial_restore"),  # B: 100 customers, 60 back at 30 min ...
            step("F1", b, 120, 40),  # ... 40 at 120 min
            step("F2", c, 3, 400),  # C: a 3-minute blink: momentary
            step("F2", d, 240, 50),  # D: 50 customers, 4 h
            step("F2", P0 - timedelta(days=3), 600, 400),  # before the period: ignored
            {**step("F1", a, 90, 999), "event_type": "extended"},  # not a restoration step
        ]
    )


NO_OPEN = pd.DataFrame(columns=["start_utc", "customers_out", "feeder_id", "substation_id"])


def test_worked_example_system(log: pd.DataFrame) -> None:
    (row,) = compute_indices(
        log, NO_OPEN, {"system": 1000}, level="system", start_utc=P0, end_utc=P1, as_of_utc=P1
    )
    # CI = 200 + 100 + 50 = 350; CMI = 200·90 + 60·30 + 40·120 + 50·240 = 36 600
    assert row.customers_interrupted == 350 and row.customer_minutes == pytest.approx(36_600)
    assert row.saifi == pytest.approx(0.35)
    assert row.saidi_min == pytest.approx(36.6)
    assert row.caidi_min == pytest.approx(36.6 / 0.35)  # 104.571 min
    assert row.asai == pytest.approx(1 - 36.6 / (720 * 60))  # 0.999 152 78
    assert row.maifi_e == pytest.approx(0.4) and row.momentary_customer_events == 400


def test_worked_example_feeders(log: pd.DataFrame) -> None:
    rows = compute_indices(
        log, NO_OPEN, {"F1": 600, "F2": 400, "F3": 10}, level="feeder", start_utc=P0, end_utc=P1, as_of_utc=P1
    )
    f = {r.key: r for r in rows}
    assert (f["F1"].saifi, f["F1"].saidi_min, f["F1"].caidi_min) == pytest.approx((0.5, 41.0, 82.0))
    assert (f["F2"].saifi, f["F2"].saidi_min, f["F2"].caidi_min) == pytest.approx((0.125, 30.0, 240.0))
    assert f["F2"].maifi_e == pytest.approx(1.0)
    assert f["F3"].saifi == 0 and f["F3"].caidi_min is None and f["F3"].asai == 1.0


def test_open_outage_counts_to_as_of_and_daily_buckets(log: pd.DataFrame) -> None:
    open_ = pd.DataFrame(
        [{"start_utc": P0 + timedelta(days=5), "customers_out": 10, "feeder_id": "F1", "substation_id": "S1"}]
    )
    as_of = P0 + timedelta(days=5, minutes=60)
    rows = compute_indices(
        log,
        open_,
        {"S1": 1000},
        level="substation",
        start_utc=P0,
        end_utc=P1,
        as_of_utc=as_of,
        interval="day",
    )
    assert len(rows) == 30
    by_day = {r.period_start_utc.day: r for r in rows}
    assert by_day[2].customer_minutes == pytest.approx(18_000)
    assert by_day[6].customers_interrupted == 10 and by_day[6].customer_minutes == pytest.approx(600)
    assert by_day[4].maifi_e == pytest.approx(0.4)
    assert by_day[2].asai == pytest.approx(1 - 18.0 / 1440)
    total = sum(r.customer_minutes for r in rows)
    assert total == pytest.approx(36_600 + 600)


def test_bad_level_and_period() -> None:
    with pytest.raises(InvalidInputError) as e:
        compute_indices(NO_OPEN, NO_OPEN, {}, level="region", start_utc=P0, end_utc=P1, as_of_utc=P1)
    assert e.value.field == "level"
    with pytest.raises(InvalidInputError):
        compute_indices(NO_OPEN, NO_OPEN, {}, level="system", start_utc=P1, end_utc=P0, as_of_utc=P1)


def test_indices_from_engine_records() -> None:
    """End to end: the engine's log rows feed the indices (partial restoration weighs each step)."""
    grid = build_feeders()
    eng = OutageEngine(ProtectionTree.build(grid))
    t0 = P0 + timedelta(days=1)
    events: list = []
    d1 = eng.process([MeterEvent(m, "last_gasp", t0) for m in meters_of("T2", "T5", "T6")], now_utc=t0)
    t1 = t0 + timedelta(minutes=40)
    d2 = eng.process([MeterEvent("M2-0", "power_restore", t1)], now_utc=t1)
    t2 = t0 + timedelta(minutes=100)
    d3 = eng.process(
        [MeterEvent("M5-0", "power_restore", t2), MeterEvent("M6-0", "power_restore", t2)], now_utc=t2
    )
    for d in (d1, d2, d3):
        events += [e.to_dict() for e in d.events]
    served = customers_served(grid.meters, "system")
    assert served == {"system": 28}
    open_ = pd.DataFrame([o.to_dict() for o in eng.open_outages()])
    as_of = t0 + timedelta(minutes=130)
    (row,) = compute_indices(
        pd.DataFrame(events), open_, served, level="system", start_utc=P0, end_utc=P1, as_of_utc=as_of
    )
    # REC1 outage: 20 customers. M2-0 back at 40 min proves REC1 closed: T2 (4) restored. M5-0 and M6-0 at
    # 100 min prove SW1 and FUS2 closed: T5, T6 (8). Nothing proves FUS1 closed: T3, T4 (8) are still
    # out and count up to as_of (130 min).
    assert row.customers_interrupted == 20
    assert row.customer_minutes == pytest.approx(4 * 40 + 8 * 100 + 8 * 130)
    assert row.saifi == pytest.approx(20 / 28)
    # per-customer records agree: 20 distinct customers, one interruption each
    meters = pa.concat_tables([d.meter_rows for d in (d1, d2, d3)]).to_pandas()
    meters = meters.drop_duplicates(["outage_id", "meter_id"], keep="last").assign(
        feeder_id="F1", substation_id="S"
    )
    (row,) = compute_indices(
        pd.DataFrame(events),
        open_,
        served,
        level="system",
        start_utc=P0,
        end_utc=P1,
        as_of_utc=as_of,
        meter_rows=meters,
    )
    assert (row.customers_with_interruption, row.caifi, row.cemi_n) == (20, 1.0, 0.0)


def test_caifi_and_cemi_from_customer_records() -> None:
    def rec(meter: str, day: int, minutes: float) -> dict[str, object]:
        out = P0 + timedelta(days=day)
        return {
            "meter_id": meter,
            "out_utc": out,
            "restored_utc": out + timedelta(minutes=minutes),
            "feeder_id": "F1",
            "substation_id": "S1",
        }

    rows = pd.DataFrame(
        [rec("A", d, 60) for d in (1, 2, 3)]  # A: 3 sustained
        + [rec("B", 4, 30), rec("B", 5, 2)]  # B: 1 sustained, 1 momentary
        + [rec("C", d, 10) for d in (6, 7, 8, 9)]  # C: 4 sustained
    )
    (row,) = compute_indices(
        NO_OPEN,
        NO_OPEN,
        {"system": 10},
        level="system",
        start_utc=P0,
        end_utc=P1,
        as_of_utc=P1,
        meter_rows=rows,
        cemi_threshold=3,
    )
    # CN = 3 customers; CI (from the steps) is 0 here, so CAIFI = 0 / 3; CEMI_3 = 1 (C) / 10
    assert (
        row.customers_with_interruption == 3 and row.cemi_n == pytest.approx(0.1) and row.cemi_threshold == 3
    )


def test_major_event_days_by_the_2_5_beta_method() -> None:
    from fluxops.ops.reliability import major_event_days

    # history: 9 days with SAIDI 1 min and one with 100 min (N_T = 100: 100 customer-minutes = 1 min)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [step("F1", t0 + timedelta(days=k), 50, 2) for k in range(9)]  # 2 × 50 = 100 → 1 min
    rows.append(step("F1", t0 + timedelta(days=9), 100, 100))  # 100 × 100 → 100 min
    # the reporting month: one ordinary day (1 min) and one storm day (SAIDI 80 min)
    p0 = datetime(2026, 2, 1, tzinfo=UTC)
    rows.append(step("F1", p0 + timedelta(days=3), 50, 2))
    rows.append(step("F1", p0 + timedelta(days=7, hours=2), 80, 100))
    log = pd.DataFrame(rows)
    # the fit's arithmetic on a short history: the minimum history is lifted here on purpose (the
    # default refuses to fit on 31 days, see test_med_threshold_falls_back_to_the_default_rule)
    fit_anyway = MedConfig(min_history_days=0)
    med = major_event_days(
        log, NO_OPEN, 100, start_utc=p0, end_utc=p0 + timedelta(days=28), as_of_utc=p0, config=fit_anyway
    )
    assert med.threshold_source == "fitted"
    # ln SAIDI: nine 0s and ln 100 = 4.60517; α = 0.460517; β (sample) = sqrt(19.0872 / 9) = 1.456305
    # T_MED = exp(0.460517 + 2.5 × 1.456305) = exp(4.101280) = 60.42 min
    assert med.history_days == 10
    assert med.t_med_min == pytest.approx(60.42, abs=0.01)
    assert med.days == ((p0 + timedelta(days=7)).date(),)
    (kept,) = compute_indices(
        log,
        NO_OPEN,
        {"system": 100},
        level="system",
        start_utc=p0,
        end_utc=p0 + timedelta(days=28),
        as_of_utc=p0,
        exclude_days=med.days,
    )
    assert kept.saidi_min == pytest.approx(1.0) and kept.saifi == pytest.approx(0.02)
    short = major_event_days(
        log.iloc[:1], NO_OPEN, 100, start_utc=p0, end_utc=p0, as_of_utc=p0, config=fit_anyway
    )
    assert short.t_med_min is None and short.days == () and short.threshold_source == "default"


def test_major_event_days_with_no_outages_at_all() -> None:
    """A fresh store has no restore events and no open outages; the answer is 'no MED', not an error."""
    from fluxops.ops.reliability import major_event_days

    p0 = datetime(2026, 2, 1, tzinfo=UTC)
    empty_log = pd.DataFrame(
        columns=["event_type", "start_utc", "event_utc", "customers", "feeder_id", "substation_id"]
    )
    med = major_event_days(
        empty_log, NO_OPEN, 100, start_utc=p0, end_utc=p0 + timedelta(days=7), as_of_utc=p0
    )
    assert med.t_med_min is None and med.days == () and med.history_days == 0
