"""The cascade run store adapter over both real stores (DuckDB file, the machine's PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fluxops.cascade.ports import StoredRun
from fluxops.core.errors import InvalidInputError
from fluxops.storage.cascade_runs import CascadeRunTableStore


def _run(run_id: str, kind: str, minutes: int) -> StoredRun:
    return StoredRun(
        run_id=run_id,
        kind=kind,
        name=f"run {run_id}",
        created_utc=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes),
        grid_name="tiny",
        grid_hash="abc",
        inputs={"patient_zero": ["SEG-1"], "scenario": {"name": "summer_peak", "ambient_temp_c": 42.0}},
        summary={"customers_out": 12},
        result={"waves": [{"wave": 0, "customers_out": 12, "min_v_pu": None}], "note": "é ✓"},
    )


def test_round_trip_listing_and_idempotent_save(store: Any) -> None:
    runs = CascadeRunTableStore(store)
    runs.ensure_tables()
    runs.ensure_tables()  # idempotent
    a, b = _run("cascade-a", "cascade", 1), _run("montecarlo-b", "montecarlo", 2)
    runs.save_run(a)
    runs.save_run(b)
    runs.save_run(a)  # saving twice changes nothing
    got = runs.get_run("cascade-a")
    assert got == a
    assert runs.get_run("nope") is None
    assert [r.run_id for r in runs.list_runs()] == ["montecarlo-b", "cascade-a"]
    assert [r.run_id for r in runs.list_runs(kind="cascade")] == ["cascade-a"]
    assert runs.list_runs(limit=1)[0].summary == {"customers_out": 12}
    with pytest.raises(InvalidInputError):
        runs.list_runs(limit=0)
