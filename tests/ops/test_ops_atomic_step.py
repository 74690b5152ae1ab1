"""One outage-engine step is persisted atomically on both backends: when a later write of the step
fails in the database (here: an outage record violating its NOT NULL declaration, written after the
meter rows and the log events), none of the step's writes remain — the outage event log can never
run a step ahead of the outage records."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ops_feeders import build_feeders, meters_of

from fluxops.core.errors import FluxOpsError
from fluxops.ops.models import MeterEvent, OutageDelta
from fluxops.ops.ports import OutageQuery
from fluxops.ops.service import OpsService
from fluxops.storage.ops_store import OpsTableStore

T0 = datetime(2026, 7, 1, 18, 0, tzinfo=UTC)


def _broken(delta: OutageDelta) -> OutageDelta:
    """The same step with its outage records invalid for the database (device_type is NOT NULL)."""
    bad = [replace(o, device_type=None) for o in delta.outages]
    return replace(delta, outages=bad)


def _snapshot(store: Any) -> tuple[list[Any], list[Any], list[Any]]:
    def rows(sql: str) -> list[Any]:
        return store.query_arrow(sql).to_pylist()

    return (
        rows("SELECT outage_id, status, customers_out, updated_utc FROM outages ORDER BY outage_id"),
        rows("SELECT event_id, event_type FROM outage_events ORDER BY event_id"),
        rows("SELECT outage_id, meter_id, restored_utc FROM outage_meters ORDER BY outage_id, meter_id"),
    )


def test_a_first_step_whose_outage_write_fails_leaves_nothing(store: Any) -> None:
    ops = OpsTableStore(store)
    svc = OpsService(ops, build_feeders())
    delta = svc.engine.process(
        [MeterEvent(m, "last_gasp", T0) for m in meters_of("T3", "T4")[:6]], now_utc=T0
    )
    assert delta.outages and delta.events and delta.meter_rows.num_rows  # a step writing all three
    with pytest.raises(FluxOpsError):
        ops.save_delta(_broken(delta))
    assert _snapshot(store) == ([], [], [])
    ops.save_delta(delta)  # the valid step then lands whole
    outages, events, meters = _snapshot(store)
    assert (
        len(outages) == 1 and [e["event_type"] for e in events] == ["proposed"] and len(meters) == 8
    )  # the fuse holds 8


def test_a_failed_later_step_leaves_the_previous_step_exactly(store: Any) -> None:
    ops = OpsTableStore(store)
    svc = OpsService(ops, build_feeders())
    svc.process_events([MeterEvent(m, "last_gasp", T0) for m in meters_of("T3", "T4")[:6]])
    before = _snapshot(store)
    (fuse,) = svc.list_outages(OutageQuery())[0]
    later = T0 + timedelta(minutes=30)
    restore = svc.engine.process(
        [MeterEvent(m, "power_restore", later) for m in meters_of("T3")], now_utc=later
    )
    assert restore.events and restore.outages and restore.meter_rows.num_rows
    with pytest.raises(FluxOpsError):
        ops.save_delta(_broken(restore))
    assert _snapshot(store) == before  # no partial_restore event without its outage update
    assert [e.event_type for e in ops.list_outage_events(fuse.outage_id)] == ["proposed"]
