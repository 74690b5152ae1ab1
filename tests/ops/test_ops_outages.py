"""OMS trace on hand-built feeders: the predicted device is the lowest common protective ancestor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from ops_feeders import build_feeders, meters_of

from fluxops.core.errors import ConflictError, NotFoundError
from fluxops.ops.models import MeterEvent, TraceConfig
from fluxops.ops.outages import OutageEngine
from fluxops.ops.trace import ProtectionTree

T0 = datetime(2026, 7, 1, 18, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def tree() -> ProtectionTree:
    return ProtectionTree.build(build_feeders())


def gasps(meters: list[str], at: datetime) -> list[MeterEvent]:
    return [MeterEvent(m, "last_gasp", at + timedelta(seconds=i)) for i, m in enumerate(meters)]


def restores(meters: list[str], at: datetime) -> list[MeterEvent]:
    return [MeterEvent(m, "power_restore", at + timedelta(seconds=i)) for i, m in enumerate(meters)]


def test_tree_lowest_common_protective_device(tree: ProtectionTree) -> None:
    assert tree.lowest_common_protective_device(meters_of("T3", "T4")) == "FUS1"
    # SW1 is a sectionalizing switch: it does not operate on faults, so the trace lifts to the recloser
    assert tree.lowest_common_protective_device(meters_of("T5")[:1] + meters_of("T6")[:1]) == "REC1"
    assert tree.lowest_common_protective_device(meters_of("T1", "T6")) == "BRK1"
    assert tree.lowest_common_protective_device(meters_of("T1", "T7")) is None  # two feeders
    assert tree.lowest_common_protective_device(["M3-0", "M3-1"]) == "T3"


def test_fuse_outage_from_partial_reports(tree: ProtectionTree) -> None:
    eng = OutageEngine(tree)
    reporters = meters_of("T3", "T4")[:6]  # two of eight last-gasps never arrive
    delta = eng.process(gasps(reporters, T0), now_utc=T0 + timedelta(seconds=40))
    assert len(delta.outages) == 1
    o = delta.outages[0]
    assert (o.status, o.kind, o.device_id, o.device_type) == ("proposed", "device", "FUS1", "fuse")
    assert (o.customers_affected, o.critical_customers_affected, o.reports) == (8, 1, 6)
    assert o.start_utc == T0 and o.feeder_id == "F1" and o.substation_id == "SUB-1"
    dev = build_feeders().devices.set_index("device_id").loc["FUS1"]
    assert (o.lon, o.lat) == (dev["lon"], dev["lat"])  # placed on the map at the device
    assert sorted(eng.held_meters(o.outage_id)) == sorted(meters_of("T3", "T4"))
    assert delta.meter_rows.num_rows == 8


def test_transformer_and_single_lights_out(tree: ProtectionTree) -> None:
    eng = OutageEngine(tree)
    delta = eng.process(gasps(["M5-0", "M5-2", "M2-1"], T0), now_utc=T0)
    by_device = {o.device_id: o for o in delta.outages}
    assert by_device["T5"].kind == "transformer" and by_device["T5"].customers_affected == 4
    assert by_device["M2-1"].kind == "lights_out" and by_device["M2-1"].customers_affected == 1
    assert len(by_device) == 2


def test_rollup_as_more_reports_arrive_keeps_the_outage_id(tree: ProtectionTree) -> None:
    eng = OutageEngine(tree)
    first = eng.process(gasps(meters_of("T3")[:3], T0), now_utc=T0)
    (o1,) = first.outages
    assert o1.device_id == "T3"
    second = eng.process(gasps(meters_of("T4")[:3], T0 + timedelta(seconds=20)), now_utc=T0)
    (o2,) = second.outages
    assert o2.outage_id == o1.outage_id and o2.device_id == "FUS1" and o2.customers_affected == 8
    assert o2.start_utc == T0 and [e.event_type for e in second.events] == ["extended"]
    assert len(eng.open_outages()) == 1


def test_two_proposals_merge_into_their_common_device(tree: ProtectionTree) -> None:
    eng = OutageEngine(tree)
    a = eng.process(gasps(meters_of("T5")[:3], T0), now_utc=T0).outages[0]
    b = eng.process(gasps(meters_of("T6")[:3], T0 + timedelta(seconds=5)), now_utc=T0).outages[0]
    assert (a.device_id, b.device_id) == ("T5", "T6")
    delta = eng.process(gasps(meters_of("T2"), T0 + timedelta(seconds=9)), now_utc=T0)  # 10 of 20 report
    states = {o.outage_id: o for o in delta.outages}
    assert states[a.outage_id].device_id == "REC1" and states[a.outage_id].customers_affected == 20
    assert states[b.outage_id].status == "merged" and states[b.outage_id].merged_into_id == a.outage_id
    assert delta.dropped_meter_outage_ids == [b.outage_id]


def test_reports_outside_the_window_do_not_roll_up(tree: ProtectionTree) -> None:
    eng = OutageEngine(tree, TraceConfig(window_s=60))
    a = eng.process(gasps(meters_of("T3")[:3], T0), now_utc=T0).outages[0]
    later = eng.process(gasps(meters_of("T4")[:3], T0 + timedelta(minutes=10)), now_utc=T0).outages
    assert {o.device_id for o in later} == {"T4"} and a.device_id == "T3"


def test_nested_outage_and_restoration_order(tree: ProtectionTree) -> None:
    eng = OutageEngine(tree)
    fuse = eng.process(gasps(meters_of("T3", "T4"), T0), now_utc=T0).outages[0]
    eng.confirm(fuse.outage_id, actor="op1", now_utc=T0 + timedelta(minutes=2))
    # the recloser trips later: only meters still live can report
    t1 = T0 + timedelta(minutes=10)
    delta = eng.process(gasps(meters_of("T2", "T5", "T6")[:10], t1), now_utc=t1)
    new = next(o for o in delta.outages if o.outage_id != fuse.outage_id)
    nested = next(o for o in delta.outages if o.outage_id == fuse.outage_id)
    assert new.device_id == "REC1" and new.customers_affected == 12  # 20 under REC1, 8 already out
    assert nested.parent_outage_id == new.outage_id and nested.status == "confirmed"
    # the recloser is closed again: the fuse is still blown, so its customers stay out
    t2 = t1 + timedelta(minutes=30)
    delta = eng.process(restores(["M2-0", "M5-1", "M6-3"], t2), now_utc=t2)
    states = {o.outage_id: o for o in delta.outages}
    assert states[new.outage_id].status == "restored" and states[new.outage_id].restored_utc == t2
    assert fuse.outage_id not in states
    assert eng.get(fuse.outage_id) is not None and eng.get(fuse.outage_id).customers_out == 8  # type: ignore[union-attr]
    t3 = t2 + timedelta(minutes=45)
    delta = eng.process(restores(["M4-2"], t3), now_utc=t3)
    (done,) = delta.outages
    assert done.status == "restored" and done.customers_out == 0
    assert done.customer_minutes == pytest.approx(8 * 85.0)


def test_partial_restoration_behind_an_open_switch(tree: ProtectionTree) -> None:
    eng = OutageEngine(tree)
    out = eng.process(gasps(meters_of("T2", "T3", "T4", "T5", "T6")[:16], T0), now_utc=T0).outages[0]
    assert out.device_id == "REC1" and out.customers_affected == 20
    # crew opens SW1 to isolate a fault beyond it and recloses: T2..T4 come back (T3 and T4 via FUS1)
    t1 = T0 + timedelta(minutes=40)
    delta = eng.process(restores(["M2-0", "M3-1", "M4-3"], t1), now_utc=t1)
    (part,) = delta.outages
    assert part.status == "proposed" and part.customers_out == 8
    assert [(e.event_type, e.customers) for e in delta.events] == [("partial_restore", 12)]
    assert sorted(eng.held_meters(out.outage_id)) == sorted(meters_of("T5", "T6"))
    t2 = T0 + timedelta(minutes=100)
    delta = eng.process(restores(["M5-0", "M6-0"], t2), now_utc=t2)
    (fin,) = delta.outages
    assert fin.status == "restored" and fin.customer_minutes == pytest.approx(12 * 40 + 8 * 100)


def test_blink_in_one_batch_is_a_short_outage(tree: ProtectionTree) -> None:
    eng = OutageEngine(tree)
    events = gasps(meters_of("T3")[:2], T0) + restores(meters_of("T3")[:1], T0 + timedelta(seconds=70))
    delta = eng.process(events, now_utc=T0 + timedelta(seconds=80))
    final = {o.outage_id: o for o in delta.outages}
    (o,) = final.values()
    assert o.status == "restored" and o.device_id == "T3"
    assert (o.restored_utc - o.start_utc) == timedelta(seconds=70)  # type: ignore[operator]


def test_arrow_batch_and_unknown_meters_are_ignored(tree: ProtectionTree) -> None:
    eng = OutageEngine(tree)
    table = pa.table(
        {
            "meter_id": ["M7-0", "M7-1", "NOPE", "M7-2"],
            "event_type": ["last_gasp", "last_gasp", "last_gasp", "tamper"],
            "event_utc": pa.array([T0, T0, T0, T0], pa.timestamp("us", tz="UTC")),
        }
    )
    delta = eng.process(table, now_utc=T0)
    assert delta.ignored_events == 2
    (o,) = delta.outages
    assert o.device_id == "T7" and o.feeder_id == "F2"


def test_duplicate_last_gasps_do_not_double_count(tree: ProtectionTree) -> None:
    eng = OutageEngine(tree)
    eng.process(gasps(meters_of("T3")[:2], T0), now_utc=T0)
    delta = eng.process(gasps(meters_of("T3")[:2], T0 + timedelta(seconds=3)), now_utc=T0)
    assert delta.outages == [] and len(eng.open_outages()) == 1


def test_operator_transitions(tree: ProtectionTree) -> None:
    eng = OutageEngine(tree)
    o = eng.process(gasps(meters_of("T3")[:2], T0), now_utc=T0).outages[0]
    ack = eng.acknowledge(o.outage_id, actor="op1", now_utc=T0).outages[0]
    assert ack.acknowledged_by == "op1" and ack.status == "proposed"
    eng.confirm(o.outage_id, actor="op1", now_utc=T0)
    with pytest.raises(ConflictError):
        eng.confirm(o.outage_id, actor="op1", now_utc=T0)
    done = eng.restore(o.outage_id, actor="op1", now_utc=T0 + timedelta(minutes=30)).outages[0]
    assert done.status == "restored" and done.customer_minutes == pytest.approx(4 * 30)
    with pytest.raises(NotFoundError):
        eng.restore(o.outage_id, actor="op1", now_utc=T0)


def test_storm_thousands_of_last_gasps_in_one_batch() -> None:
    per, copies = 25, 40
    tree = ProtectionTree.build(build_feeders(copies, per=per))
    eng = OutageEngine(tree)  # 39 feeders with last-gasps at once: storm mode
    events: list[MeterEvent] = []
    expected: dict[int, str] = {}
    for k in range(1, copies):
        kind = k % 4
        if kind == 0:  # breaker: the whole feeder
            ts, expected[k] = ["T1", "T2", "T3", "T4", "T5", "T6"], f"BRK1_{k}"
        elif kind == 1:
            ts, expected[k] = ["T2", "T3", "T4", "T5", "T6"], f"REC1_{k}"
        elif kind == 2:
            ts, expected[k] = ["T3", "T4"], f"FUS1_{k}"
        else:
            ts, expected[k] = ["T6"], f"T6_{k}"
        ms = meters_of(*[f"{t}_{k}" for t in ts], per=per)
        events += gasps(ms[: int(len(ms) * 0.8)], T0)  # 20 % of last-gasps never arrive
    assert len(events) > 2000
    delta = eng.process(events, now_utc=T0 + timedelta(minutes=1))
    assert delta.storm_mode and all(o.storm_mode for o in delta.outages)
    got = {o.device_id for o in eng.open_outages()}
    assert got == set(expected.values())
    total = sum(o.customers_out for o in eng.open_outages())
    assert total == sum({0: 6, 1: 5, 2: 2, 3: 1}[k % 4] * per for k in range(1, copies))


def test_cancel_a_proposal_that_was_no_outage(tree: ProtectionTree) -> None:
    """False last-gasps (a head-end fault): the operator cancels the proposal; it closes as cancelled,
    its customer rows are dropped (no index counts it), its meters are free for a real outage later."""
    eng = OutageEngine(tree)
    o = eng.process(gasps(meters_of("T3")[:2], T0), now_utc=T0).outages[0]
    delta = eng.cancel(o.outage_id, actor="op1", now_utc=T0 + timedelta(minutes=3))
    (done,) = delta.outages
    assert done.status == "cancelled" and done.customers_out == 0 and done.customer_minutes == 0
    assert [e.event_type for e in delta.events] == ["cancelled"]
    assert delta.dropped_meter_outage_ids == [o.outage_id]
    assert eng.open_outages() == [] and len(eng.meters_out()) == 0
    with pytest.raises(NotFoundError):
        eng.cancel(o.outage_id, actor="op1", now_utc=T0)
    # a confirmed outage is real: it is restored, not cancelled
    again = eng.process(gasps(meters_of("T3")[:2], T0 + timedelta(hours=1)), now_utc=T0 + timedelta(hours=1))
    real = again.outages[0]
    assert real.outage_id != o.outage_id
    eng.confirm(real.outage_id, actor="op1", now_utc=T0 + timedelta(hours=1))
    with pytest.raises(ConflictError):
        eng.cancel(real.outage_id, actor="op1", now_utc=T0 + timedelta(hours=1))
