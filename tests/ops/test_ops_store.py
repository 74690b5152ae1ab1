"""Ops tables on both backends (DuckDB file, the machine's PostgreSQL) through the service: records
survive a restart, the engine resumes open outages, work orders and crews round-trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ops_feeders import build_feeders, meters_of

from fluxops.core.errors import ConflictError, InvalidInputError, NotFoundError
from fluxops.ops.models import MeterEvent
from fluxops.ops.ports import OutageQuery, WorkOrderQuery
from fluxops.ops.service import OpsService
from fluxops.storage.ops_store import OpsTableStore

T0 = datetime(2026, 7, 1, 18, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_outages_persist_and_resume_after_restart(store: Any) -> None:
    grid = build_feeders()
    clock = Clock()
    svc = OpsService(OpsTableStore(store), grid, clock=clock)
    svc.process_events([MeterEvent(m, "last_gasp", T0) for m in meters_of("T3", "T4")[:6]])
    svc.process_events([MeterEvent("M2-1", "last_gasp", T0)])
    outs, total = svc.list_outages(OutageQuery())
    assert total == 2 and {o.device_id for o in outs} == {"FUS1", "M2-1"}
    fuse = next(o for o in outs if o.device_id == "FUS1")
    clock.now = T0 + timedelta(minutes=5)
    assert svc.confirm(fuse.outage_id, actor="op1").status == "confirmed"
    with pytest.raises(ConflictError):
        svc.confirm(fuse.outage_id, actor="op1")
    rec, events, meters = svc.get_outage(fuse.outage_id)
    assert rec.confirmed_utc == clock.now and [e.event_type for e in events] == ["proposed", "confirmed"]
    assert sorted(meters) == sorted(meters_of("T3", "T4"))
    assert svc.kpis()["customers_out"] == 9
    assert svc.state.counts()["out"] > 0

    # a new process: the engine resumes from the store
    svc2 = OpsService(OpsTableStore(store), grid, clock=clock)
    assert {o.outage_id for o in svc2.engine.open_outages()} == {o.outage_id for o in outs}
    svc2.process_events([MeterEvent("M3-2", "power_restore", T0 + timedelta(minutes=60))])
    done = svc2.store.get_outage(fuse.outage_id)
    assert done is not None and done.status == "restored" and done.customer_minutes == pytest.approx(8 * 60)
    assert [e.event_type for e in svc2.store.list_outage_events(fuse.outage_id)][-1] == "restored"
    # ids continue after the restart
    svc2.process_events([MeterEvent("M7-0", "last_gasp", T0 + timedelta(minutes=61))])
    new_ids = {o.outage_id for o in svc2.list_outages(OutageQuery(statuses=("proposed",)))[0]}
    assert len(new_ids - {o.outage_id for o in outs}) == 1
    clock.now = T0 + timedelta(minutes=90)  # the lights-out M2-1 is still open: 90 min so far
    rows = svc2.reliability(level="feeder", start_utc=T0 - timedelta(days=1), end_utc=T0 + timedelta(days=1))
    f1 = next(r for r in rows if r.key == "F1")
    assert f1.customers_interrupted == 9 and f1.customers_served == 24
    assert f1.customer_minutes == pytest.approx(8 * 60 + 90)
    with pytest.raises(NotFoundError):
        svc2.get_outage("OUT-999999")


def test_filters(store: Any) -> None:
    svc = OpsService(OpsTableStore(store), build_feeders(), clock=Clock())
    svc.process_events([MeterEvent(m, "last_gasp", T0) for m in meters_of("T7")])
    svc.process_events([MeterEvent("M2-0", "last_gasp", T0 + timedelta(hours=1))])
    assert [o.device_id for o in svc.list_outages(OutageQuery(feeder_id="F2"))[0]] == ["T7"]
    assert [o.device_id for o in svc.list_outages(OutageQuery(kinds=("lights_out",)))[0]] == ["M2-0"]
    late = svc.list_outages(OutageQuery(since_utc=T0 + timedelta(minutes=30)))[0]
    assert [o.device_id for o in late] == ["M2-0"]
    assert svc.list_outages(OutageQuery(statuses=("restored",)))[1] == 0
    # T3 fails, later the recloser above it trips: the T3 outage nests under the recloser's
    svc.process_events([MeterEvent(m, "last_gasp", T0 + timedelta(hours=2)) for m in meters_of("T3")])
    t3 = svc.list_outages(OutageQuery(device_id="T3"))[0][0]
    later = T0 + timedelta(hours=3)
    svc.process_events([MeterEvent(m, "last_gasp", later) for m in meters_of("T2", "T4", "T5", "T6")])
    rec1 = svc.list_outages(OutageQuery(device_id="REC1"))[0][0]
    assert rec1.customers_affected == 16
    (child,) = svc.list_outages(OutageQuery(parent_outage_id=rec1.outage_id))[0]
    assert child.outage_id == t3.outage_id


def test_work_orders_and_crews(store: Any) -> None:
    clock = Clock()
    svc = OpsService(OpsTableStore(store), build_feeders(), clock=clock)
    assert svc.dispatch.seed_demo_crews() == 1 and svc.dispatch.seed_demo_crews() == 0
    (crew,) = svc.dispatch.list_crews()
    assert crew.status == "available" and crew.size == 2
    wo = svc.dispatch.create_work_order(
        work_type="outage_repair", priority="high", description="fuse", asset_id="FUS1"
    )
    assert wo.work_order_id == "WO-000001" and wo.status == "open"
    with pytest.raises(InvalidInputError):
        svc.dispatch.transition_work_order(wo.work_order_id, "assign", crew_id="CREW-404")
    clock.now = T0 + timedelta(minutes=10)
    svc.dispatch.transition_work_order(wo.work_order_id, "assign", crew_id=crew.crew_id)
    assert svc.dispatch.list_crews()[0].status == "assigned"
    with pytest.raises(ConflictError):
        svc.dispatch.delete_work_order(wo.work_order_id)
    svc.dispatch.transition_work_order(wo.work_order_id, "start")
    done = svc.dispatch.transition_work_order(wo.work_order_id, "complete")
    assert done.status == "completed" and done.assigned_utc == T0 + timedelta(minutes=10)
    assert svc.dispatch.list_crews()[0].status == "available"
    assert [
        w.work_order_id for w in svc.dispatch.list_work_orders(WorkOrderQuery(statuses=("completed",)))
    ] == ["WO-000001"]
    with pytest.raises(InvalidInputError):
        svc.dispatch.create_work_order(
            work_type="inspection", priority="low", description="x", asset_id="NOPE"
        )
    svc.dispatch.delete_work_order(wo.work_order_id)
    with pytest.raises(NotFoundError):
        svc.dispatch.get_work_order(wo.work_order_id)


def test_worker_coalesces_queued_batches_into_one_step(store: Any) -> None:
    """A storm's many small posts become one engine step, and the stream gets one outage message."""
    import asyncio

    import pyarrow as pa

    svc = OpsService(OpsTableStore(store), build_feeders(4, per=10), clock=Clock())
    loop = asyncio.new_event_loop()
    sub = svc.hub.subscribe(loop, types=frozenset({"outage"}))
    for k in range(1, 4):
        for m in meters_of(f"T3_{k}", f"T4_{k}", per=10):
            svc.submit_events(
                pa.table(
                    {
                        "meter_id": [m],
                        "event_type": ["last_gasp"],
                        "event_time_utc": pa.array([T0], pa.timestamp("us", tz="UTC")),
                    }
                )
            )
    svc.start()  # 60 queued posts, drained together
    try:
        for _ in range(400):
            if svc.steps:
                break
            loop.run_until_complete(asyncio.sleep(0.05))
    finally:
        svc.stop()
    assert svc.steps == 1
    assert {o.device_id for o in svc.engine.open_outages()} == {"FUS1_1", "FUS1_2", "FUS1_3"}
    loop.run_until_complete(asyncio.sleep(0))  # deliver call_soon_threadsafe callbacks
    assert sub.queue.qsize() == 1
    loop.close()


def test_etr_from_own_restored_history(store: Any) -> None:
    clock = Clock()
    svc = OpsService(OpsTableStore(store), build_feeders(), clock=clock)
    t = T0
    for minutes in (10, 20, 30, 40, 50):  # five transformer outages, a median of 30 min
        svc.process_events([MeterEvent(m, "last_gasp", t) for m in meters_of("T3")[:2]])
        svc.process_events([MeterEvent("M3-0", "power_restore", t + timedelta(minutes=minutes))])
        t += timedelta(hours=3)
    clock.now = t
    (o,) = svc.process_events([MeterEvent(m, "last_gasp", t) for m in meters_of("T5")[:3]]).outages
    est = svc.etr([o])[o.outage_id]
    assert est["etr_utc"] == o.start_utc + timedelta(minutes=30)
    assert est["etr_basis"] == {"by": "device_type", "value": "transformer", "median_min": 30.0, "n": 5}
    (f,) = svc.process_events([MeterEvent(m, "last_gasp", t) for m in meters_of("T7")[:1]]).outages
    assert f.kind == "lights_out"
    assert svc.etr([f])[f.outage_id]["etr_basis"]["by"] == "all"  # no lights-out history: all outages
