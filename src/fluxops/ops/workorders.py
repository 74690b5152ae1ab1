"""Work orders: a small explicit state machine, so an illegal move is a 409, never a silent overwrite.

    open ──assign──▶ assigned ──start──▶ in_progress ──complete──▶ completed
      ▲                 │
      └────unassign─────┘        open / assigned ──cancel──▶ cancelled

States and priorities follow the seed's WORK_ORDERS table (OPEN/ASSIGNED/IN_PROGRESS/COMPLETED,
CRITICAL..LOW), lower-cased; ``cancelled`` is added so a mistaken order can be closed without lying
that work was done. Pure functions: each returns a new `WorkOrder`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from fluxops.core.errors import ConflictError, InvalidInputError
from fluxops.ops.models import WORK_ORDER_PRIORITIES, WORK_ORDER_TYPES, OutageRecord, WorkOrder

# action -> (allowed from-states, to-state)
ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "assign": (("open",), "assigned"),
    "unassign": (("assigned",), "open"),
    "start": (("assigned",), "in_progress"),
    "complete": (("in_progress",), "completed"),
    "cancel": (("open", "assigned"), "cancelled"),
}


def new_work_order(
    *,
    work_order_id: str,
    work_type: str,
    priority: str,
    description: str,
    now_utc: datetime,
    asset_id: str | None = None,
    outage_id: str | None = None,
    estimated_hours: float | None = None,
) -> WorkOrder:
    """Validate and build an ``open`` work order."""
    if work_type not in WORK_ORDER_TYPES:
        raise InvalidInputError(f"work_type must be one of {WORK_ORDER_TYPES}", field="work_type")
    if priority not in WORK_ORDER_PRIORITIES:
        raise InvalidInputError(f"priority must be one of {WORK_ORDER_PRIORITIES}", field="priority")
    if not description.strip():
        raise InvalidInputError("description must not be empty", field="description")
    if estimated_hours is not None and not (0 < estimated_hours < 24 * 365):
        raise InvalidInputError("estimated_hours must be positive and under a year", field="estimated_hours")
    return WorkOrder(
        work_order_id=work_order_id,
        work_type=work_type,
        priority=priority,
        status="open",
        description=description.strip(),
        created_utc=now_utc,
        updated_utc=now_utc,
        asset_id=asset_id,
        outage_id=outage_id,
        estimated_hours=estimated_hours,
    )


EDITABLE_FIELDS: tuple[str, ...] = ("priority", "description", "estimated_hours", "asset_id", "work_type")


def edit_work_order(wo: WorkOrder, changes: dict[str, object], *, now_utc: datetime) -> WorkOrder:
    """Change descriptive fields of an order that is not finished (completed/cancelled orders are history)."""
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise InvalidInputError(f"cannot edit {unknown}; editable: {EDITABLE_FIELDS}", field=unknown[0])
    if wo.status in ("completed", "cancelled"):
        raise ConflictError(f"work order {wo.work_order_id} is {wo.status}; it can no longer be edited")
    merged = {**wo.to_dict(), **changes}
    hours = merged["estimated_hours"]
    if hours is not None and not isinstance(hours, int | float):
        raise InvalidInputError("estimated_hours must be a number", field="estimated_hours")
    for f in ("work_type", "priority", "description"):
        if not isinstance(merged[f], str):
            raise InvalidInputError(f"{f} must be a string", field=f)
    checked = new_work_order(
        work_order_id=wo.work_order_id,
        work_type=str(merged["work_type"]),
        priority=str(merged["priority"]),
        description=str(merged["description"]),
        now_utc=now_utc,
        asset_id=merged["asset_id"] if isinstance(merged["asset_id"], str) else None,
        outage_id=wo.outage_id,
        estimated_hours=None if hours is None else float(hours),
    )
    return replace(
        wo,
        work_type=checked.work_type,
        priority=checked.priority,
        description=checked.description,
        asset_id=checked.asset_id,
        estimated_hours=checked.estimated_hours,
        updated_utc=now_utc,
    )


def apply_action(wo: WorkOrder, action: str, *, now_utc: datetime, crew_id: str | None = None) -> WorkOrder:
    """Move ``wo`` by ``action``; ConflictError when the current state does not allow it."""
    if action not in ACTIONS:
        raise InvalidInputError(f"action must be one of {tuple(ACTIONS)}", field="action")
    allowed, to = ACTIONS[action]
    if wo.status not in allowed:
        raise ConflictError(
            f"work order {wo.work_order_id} is {wo.status}; '{action}' needs {' or '.join(allowed)}",
            details={"status": wo.status, "action": action},
        )
    if action == "assign":
        if not crew_id:
            raise InvalidInputError("assigning needs a crew_id", field="crew_id")
        return replace(wo, status=to, crew_id=crew_id, assigned_utc=now_utc, updated_utc=now_utc)
    if action == "unassign":
        return replace(wo, status=to, crew_id=None, assigned_utc=None, updated_utc=now_utc)
    if action == "start":
        return replace(wo, status=to, started_utc=now_utc, updated_utc=now_utc)
    if action == "complete":
        return replace(wo, status=to, completed_utc=now_utc, updated_utc=now_utc)
    return replace(wo, status=to, updated_utc=now_utc)


def restore_proposals(
    outages: Iterable[OutageRecord], work_orders: Iterable[WorkOrder]
) -> dict[str, WorkOrder]:
    """Open outages whose repair is done: outage id → the completed work order that repaired it.

    A work order repairs an outage when it names the outage (``outage_id``) or its device (``asset_id``)
    and was completed at or after the outage started (an order finished before the fault repaired
    something else). Completing it does not restore anything: it *proposes* the restore, which the
    operator confirms (`POST /api/outages/{id}/restore`) — the crew's word that the device is fixed is
    not evidence that every customer is back (nested outages, a second fault downstream). When several
    orders qualify, the latest completed one is reported.
    """
    done = [w for w in work_orders if w.status == "completed" and w.completed_utc is not None]
    out: dict[str, WorkOrder] = {}
    for o in outages:
        if not o.is_open:
            continue
        for w in done:
            if w.outage_id != o.outage_id and (w.asset_id is None or w.asset_id != o.device_id):
                continue
            assert w.completed_utc is not None
            if w.completed_utc < o.start_utc:
                continue
            best = out.get(o.outage_id)
            if best is None or (best.completed_utc is not None and w.completed_utc > best.completed_utc):
                out[o.outage_id] = w
    return out
