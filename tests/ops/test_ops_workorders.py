"""Work-order state machine: every legal path, and every illegal transition is a ConflictError."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fluxops.core.errors import ConflictError, InvalidInputError
from fluxops.ops.workorders import ACTIONS, apply_action, new_work_order

T0 = datetime(2026, 7, 1, tzinfo=UTC)


def make() -> object:
    return new_work_order(
        work_order_id="WO-1",
        work_type="outage_repair",
        priority="high",
        description=" replace fuse ",
        now_utc=T0,
    )


def test_happy_path_records_times() -> None:
    wo = make()
    wo = apply_action(wo, "assign", now_utc=T0 + timedelta(minutes=5), crew_id="CREW-1")  # type: ignore[arg-type]
    assert (wo.status, wo.crew_id, wo.assigned_utc) == ("assigned", "CREW-1", T0 + timedelta(minutes=5))
    wo = apply_action(wo, "start", now_utc=T0 + timedelta(minutes=30))
    wo = apply_action(wo, "complete", now_utc=T0 + timedelta(hours=2))
    assert wo.status == "completed" and wo.completed_utc == T0 + timedelta(hours=2)
    assert wo.description == "replace fuse" and wo.created_utc == T0


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ([], "start"),
        ([], "complete"),
        ([], "unassign"),
        (["assign"], "assign"),
        (["assign"], "complete"),
        (["assign", "start"], "cancel"),
        (["assign", "start"], "assign"),
        (["assign", "start", "complete"], "start"),
        (["assign", "start", "complete"], "cancel"),
        (["cancel"], "assign"),
    ],
)
def test_illegal_transitions(path: list[str], illegal: str) -> None:
    wo = make()
    for a in path:
        wo = apply_action(wo, a, now_utc=T0, crew_id="CREW-1")  # type: ignore[arg-type]
    with pytest.raises(ConflictError):
        apply_action(wo, illegal, now_utc=T0, crew_id="CREW-1")  # type: ignore[arg-type]


def test_every_state_reachable_and_unassign() -> None:
    wo = apply_action(make(), "assign", now_utc=T0, crew_id="C")  # type: ignore[arg-type]
    wo = apply_action(wo, "unassign", now_utc=T0)
    assert wo.status == "open" and wo.crew_id is None
    assert {to for _, to in ACTIONS.values()} == {"open", "assigned", "in_progress", "completed", "cancelled"}


def test_bad_input_names_the_field() -> None:
    with pytest.raises(InvalidInputError) as e:
        new_work_order(work_order_id="W", work_type="x", priority="high", description="d", now_utc=T0)
    assert e.value.field == "work_type"
    with pytest.raises(InvalidInputError) as e:
        new_work_order(
            work_order_id="W", work_type="inspection", priority="urgent", description="d", now_utc=T0
        )
    assert e.value.field == "priority"
    with pytest.raises(InvalidInputError) as e:
        apply_action(make(), "assign", now_utc=T0)  # type: ignore[arg-type]
    assert e.value.field == "crew_id"
    with pytest.raises(InvalidInputError) as e:
        apply_action(make(), "teleport", now_utc=T0)  # type: ignore[arg-type]
    assert e.value.field == "action"


def test_edit_fields_and_refuse_finished_orders() -> None:
    from fluxops.ops.workorders import edit_work_order

    wo = make()
    edited = edit_work_order(
        wo, {"priority": "critical", "estimated_hours": 3}, now_utc=T0 + timedelta(hours=1)
    )  # type: ignore[arg-type]
    assert (edited.priority, edited.estimated_hours, edited.status) == ("critical", 3.0, "open")
    assert edited.updated_utc == T0 + timedelta(hours=1) and edited.created_utc == T0
    with pytest.raises(InvalidInputError) as e:
        edit_work_order(edited, {"status": "completed"}, now_utc=T0)
    assert e.value.field == "status"  # state changes go through actions only
    with pytest.raises(InvalidInputError) as e:
        edit_work_order(edited, {"priority": "whenever"}, now_utc=T0)
    assert e.value.field == "priority"
    done = apply_action(
        apply_action(apply_action(edited, "assign", now_utc=T0, crew_id="C"), "start", now_utc=T0),
        "complete",
        now_utc=T0,
    )
    with pytest.raises(ConflictError):
        edit_work_order(done, {"description": "rewrite history"}, now_utc=T0)


def test_restore_proposals_need_a_completed_order_for_the_outage_or_its_device() -> None:
    from dataclasses import replace as _replace
    from datetime import UTC, datetime, timedelta

    from fluxops.ops.models import OutageRecord, WorkOrder
    from fluxops.ops.workorders import restore_proposals

    t0 = datetime(2026, 7, 1, 12, tzinfo=UTC)
    o = OutageRecord(
        outage_id="OUT-1",
        status="confirmed",
        kind="fuse",
        device_id="FUSE-1",
        device_type="fuse",
        feeder_id=None,
        substation_id=None,
        start_utc=t0,
        proposed_utc=t0,
        updated_utc=t0,
        customers_affected=3,
        critical_customers_affected=0,
        customers_out=3,
        reports=3,
    )
    w = WorkOrder(
        work_order_id="WO-1",
        work_type="outage_repair",
        priority="high",
        status="completed",
        description="d",
        created_utc=t0,
        updated_utc=t0,
        asset_id="FUSE-1",
        completed_utc=t0 + timedelta(hours=1),
    )
    assert restore_proposals([o], [w])["OUT-1"].work_order_id == "WO-1"
    by_outage = _replace(
        w, work_order_id="WO-2", asset_id=None, outage_id="OUT-1", completed_utc=t0 + timedelta(hours=2)
    )
    assert restore_proposals([o], [w, by_outage])["OUT-1"].work_order_id == "WO-2"  # the latest
    assert restore_proposals([o], [_replace(w, status="in_progress")]) == {}
    assert (
        restore_proposals([o], [_replace(w, completed_utc=t0 - timedelta(hours=1))]) == {}
    )  # before the fault
    assert restore_proposals([o], [_replace(w, asset_id="FUSE-2")]) == {}
    assert restore_proposals([_replace(o, status="restored")], [w]) == {}
