"""The failure history as OMS outages: restored, historical, counted by IEEE 1366 per feeder and year,
never open; written again it replaces itself. On the real stores (DuckDB and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fluxops.grid.models import Grid
from fluxops.ops.ports import OutageQuery
from fluxops.ops.service import OpsService
from fluxops.ops.trace import ProtectionTree
from fluxops.risk.history import History
from fluxops.risk.oms_history import HISTORY_PREFIX, outage_history
from fluxops.storage.oms_history import history_window_start, oms_history_meta, write_oms_history
from fluxops.storage.ops_store import OpsTableStore


class _Coverage:
    def __init__(self, start: datetime | None) -> None:
        self.start = start

    def history_start_utc(self) -> datetime | None:
        return self.start


def _write(store: Any, grid: Grid, h: History) -> dict[str, Any]:
    delta = outage_history(h.failures, ProtectionTree.build(grid), grid)
    end = h.start_utc + timedelta(days=h.n_days)
    return write_oms_history(
        store, delta, grid_hash="g", start_utc=h.start_utc, end_utc=end, years=h.years, seed=h.seed
    )


def test_records_follow_the_failures(small_grid: Grid, small_history: History) -> None:
    f = small_history.failures
    delta = outage_history(f, ProtectionTree.build(small_grid), small_grid)
    assert len(delta.outages) == len(f)
    assert {o.status for o in delta.outages} == {"restored"}
    assert all(o.historical and not o.synthetic and o.customers_out == 0 for o in delta.outages)
    by_id = {o.outage_id: o for o in delta.outages}
    for r in f.itertuples(index=False):
        o = by_id[f"{HISTORY_PREFIX}{r.failure_id}"]
        assert o.device_id == r.protective_device_id
        # the protection tree's meters are the customers the risk assets count behind the same device
        assert o.customers_affected == r.customers_affected
        assert o.restored_utc - o.start_utc == pd.Timedelta(hours=r.duration_h)
    # every outage's restored steps give back exactly its customers; one meter row per customer
    steps = pd.DataFrame([e.to_dict() for e in delta.events if e.event_type != "proposed"])
    back = steps.groupby("outage_id")["customers"].sum()
    want = pd.Series({o.outage_id: o.customers_affected for o in delta.outages if o.customers_affected})
    pd.testing.assert_series_equal(back.sort_index(), want.sort_index(), check_names=False)
    assert delta.meter_rows.num_rows == int(f["customers_affected"].sum())


def test_reliability_has_the_years_by_feeder(store: Any, small_grid: Grid, small_history: History) -> None:
    h = small_history
    meta = _write(store, small_grid, h)
    assert meta["outages"] == len(h.failures)
    assert history_window_start(store) == h.start_utc
    end = h.start_utc + timedelta(days=h.n_days)
    svc = OpsService(OpsTableStore(store), small_grid, clock=lambda: end, coverage=_Coverage(h.start_utc))
    try:
        assert svc.engine.open_outages() == []  # history is never active
        assert all(
            o.historical
            for o in svc.store.list_outages(OutageQuery(limit=100_000))
            if o.outage_id.startswith(HISTORY_PREFIX)
        )
        f = h.failures
        for y, (y0, y1) in enumerate(h.year_bounds()):
            rep = svc.reliability_report(level="feeder", start_utc=y0, end_utc=y1)
            ci = sum(r.customers_interrupted for r in rep.rows)
            cmi = sum(r.customer_minutes for r in rep.rows)
            in_year = f[f["year_index"] == y]
            assert ci == int(in_year["customers_affected"].sum())
            assert cmi == pytest.approx(float(in_year["customer_minutes"].sum()), rel=1e-9)
            assert any(r.saidi_min > 0 for r in rep.rows) == bool(len(in_year))
        # the default report (no start) covers the last 365 days of the outage records, not of the lake
        rep = svc.reliability_report(level="system", start_utc=None, end_utc=None)
        assert rep.period_basis == "last_365_days"
        assert rep.med.threshold_source == "fitted"  # years of daily SAIDI: IEEE 1366's 2.5 beta fit
    finally:
        svc.stop()


def test_writing_again_replaces(store: Any, small_grid: Grid, small_history: History) -> None:
    _write(store, small_grid, small_history)
    _write(store, small_grid, small_history)
    t = store.query_arrow("SELECT COUNT(*) AS n FROM outages WHERE historical")
    assert int(t.column(0)[0].as_py()) == len(small_history.failures)
    m = store.query_arrow("SELECT COUNT(*) AS n FROM outage_meters")
    assert int(m.column(0)[0].as_py()) == int(small_history.failures["customers_affected"].sum())
    meta = oms_history_meta(store)
    assert meta is not None and meta["grid_hash"] == "g"
    assert np.isclose(meta["years"], small_history.years)


def test_no_history_no_window(store: Any) -> None:
    assert oms_history_meta(store) is None
    assert history_window_start(store) is None
    _ = UTC
