"""Switching: the live state of switching devices, and switching orders with their state machine.

Why an overlay and not an edit of the grid tables: a grid load replaces the element tables as a whole
(and a re-load of the same content is a no-op), so the operated state of a device is kept beside them,
in ``switch_overrides`` keyed by (grid content hash, device id). The live configuration is the loaded
grid with those states laid over ``devices.state`` (`apply_switch_states`); every consumer that reads
``devices.state`` (compiled arrays, energization, power flow, the map's loading, the cascade engine,
the outage trace and topology) then sees the operated state without knowing about switching.

The live configuration has its own identity (`configuration_hash`): the grid's content hash when no
device differs from its recorded state, else a hash over that content hash and the differing states —
so caches keyed on grid content (the loaded grid, the loading map, stored N-1 screenings) follow it.

Switching orders: a planned sequence of open/close steps::

    draft ──approve──▶ approved ──execute──▶ executed
      │                   │
      └──────cancel───────┴──▶ cancelled

Each transition records who and when. Steps are validated by power flow (`fluxops.ops.switching_validation`)
when the order is created, again when it is approved and again, against the configuration live at that
moment, right before execution, which applies every step in one store transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

import pyarrow as pa

from fluxops.core.errors import ConflictError, InvalidInputError
from fluxops.grid.models import SWITCH_STATES, Grid

SWITCH_ACTIONS: tuple[str, ...] = ("open", "close")
ACTION_STATE: dict[str, str] = {"open": "open", "close": "closed"}
ORDER_STATUSES: tuple[str, ...] = ("draft", "approved", "executed", "cancelled")
# action -> (allowed from-statuses, to-status); ``execute`` is here for the table, `execute` applies it
ORDER_ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "approve": (("draft",), "approved"),
    "execute": (("approved",), "executed"),
    "cancel": (("draft", "approved"), "cancelled"),
}
MAX_STEPS = 200  # a switching order is a page of steps, not a bulk reconfiguration
MAX_REASON_CHARS = 2000

_s = pa.string()
_ts = pa.timestamp("us", tz="UTC")

# The operated state per device (one row per device of one grid; the last operation wins).
SWITCH_OVERRIDES_SCHEMA = pa.schema(
    [
        pa.field("grid_hash", _s, nullable=False),  # content hash of the grid the state applies to
        pa.field("device_id", _s, nullable=False),
        pa.field("state", _s, nullable=False),  # SWITCH_STATES
        pa.field("changed_by", _s, nullable=False),
        pa.field("reason", _s, nullable=False),
        pa.field("changed_utc", _ts, nullable=False),
        pa.field("order_id", _s, nullable=True),  # the switching order that set it, if any
    ]
)
# Every operation, in order (the history behind the current override rows).
SWITCHING_LOG_SCHEMA = pa.schema(
    [
        pa.field("op_id", _s, nullable=False),
        pa.field("grid_hash", _s, nullable=False),
        pa.field("device_id", _s, nullable=False),
        pa.field("action", _s, nullable=False),  # SWITCH_ACTIONS
        pa.field("from_state", _s, nullable=False),
        pa.field("to_state", _s, nullable=False),
        pa.field("changed_by", _s, nullable=False),
        pa.field("reason", _s, nullable=False),
        pa.field("at_utc", _ts, nullable=False),
        pa.field("order_id", _s, nullable=True),
        pa.field("forced", pa.bool_(), nullable=False),  # applied although its check found problems
        pa.field("check_json", _s, nullable=False),  # the validation the operation was applied after
    ]
)
SWITCHING_ORDERS_SCHEMA = pa.schema(
    [
        pa.field("order_id", _s, nullable=False),
        pa.field("grid_hash", _s, nullable=False),
        pa.field("title", _s, nullable=False),
        pa.field("reason", _s, nullable=False),
        pa.field("status", _s, nullable=False),  # ORDER_STATUSES
        pa.field("steps_json", _s, nullable=False),  # [{"device_id", "action"}, ...]
        pa.field("load_multiplier", pa.float64(), nullable=False),  # validation load: × design peak
        pa.field("created_by", _s, nullable=False),
        pa.field("created_utc", _ts, nullable=False),
        pa.field("approved_by", _s, nullable=True),
        pa.field("approved_utc", _ts, nullable=True),
        pa.field("executed_by", _s, nullable=True),
        pa.field("executed_utc", _ts, nullable=True),
        pa.field("cancelled_by", _s, nullable=True),
        pa.field("cancelled_utc", _ts, nullable=True),
        pa.field("validation_json", _s, nullable=False),  # the last validation (JSON)
    ]
)
SWITCHING_TABLES: dict[str, tuple[pa.Schema, tuple[str, ...]]] = {
    "switch_overrides": (SWITCH_OVERRIDES_SCHEMA, ("grid_hash", "device_id")),
    "switching_log": (SWITCHING_LOG_SCHEMA, ("op_id",)),
    "switching_orders": (SWITCHING_ORDERS_SCHEMA, ("order_id",)),
}


@dataclass(frozen=True)
class SwitchState:
    """The operated state of one device (a ``switch_overrides`` row)."""

    grid_hash: str
    device_id: str
    state: str
    changed_by: str
    reason: str
    changed_utc: datetime
    order_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SwitchOperation:
    """One applied operation (a ``switching_log`` row)."""

    op_id: str
    grid_hash: str
    device_id: str
    action: str
    from_state: str
    to_state: str
    changed_by: str
    reason: str
    at_utc: datetime
    order_id: str | None = None
    forced: bool = False
    check_json: str = "{}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["check"] = json.loads(d.pop("check_json") or "{}")
        return d


@dataclass(frozen=True)
class SwitchingStep:
    device_id: str
    action: str  # SWITCH_ACTIONS

    @property
    def to_state(self) -> str:
        return ACTION_STATE[self.action]


@dataclass(frozen=True)
class SwitchingOrder:
    order_id: str
    grid_hash: str
    title: str
    reason: str
    status: str
    steps: tuple[SwitchingStep, ...]
    load_multiplier: float
    created_by: str
    created_utc: datetime
    approved_by: str | None = None
    approved_utc: datetime | None = None
    executed_by: str | None = None
    executed_utc: datetime | None = None
    cancelled_by: str | None = None
    cancelled_utc: datetime | None = None
    validation: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["steps"] = [{"step": i + 1, **asdict(s)} for i, s in enumerate(self.steps)]
        return d

    def to_row(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k not in ("steps", "validation")}
        d["steps_json"] = json.dumps([asdict(s) for s in self.steps])
        d["validation_json"] = json.dumps(self.validation, sort_keys=True, allow_nan=False, default=str)
        return d

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> SwitchingOrder:
        names = {f for f in cls.__dataclass_fields__ if f not in ("steps", "validation")}
        steps = tuple(SwitchingStep(**s) for s in json.loads(row["steps_json"]))
        return cls(
            **{k: row[k] for k in names},
            steps=steps,
            validation=json.loads(row["validation_json"] or "{}"),
        )


# --- input parsing ---------------------------------------------------------------------------------


def parse_reason(reason: object, *, field: str = "reason") -> str:
    """A non-empty reason of at most `MAX_REASON_CHARS` characters (operations must say why)."""
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInputError("a reason is required", field=field)
    if len(reason) > MAX_REASON_CHARS:
        raise InvalidInputError(f"reason is longer than {MAX_REASON_CHARS} characters", field=field)
    return reason.strip()


def device_states(grid: Grid) -> dict[str, str]:
    """Device id → state as the grid records it (``devices.state``)."""
    dev = grid.devices
    return dict(zip(dev["device_id"].astype(str), dev["state"].astype(str), strict=True))


def parse_steps(
    grid: Grid, steps: Iterable[Mapping[str, Any]], *, field: str = "steps"
) -> tuple[SwitchingStep, ...]:
    """Steps from ``[{"device_id", "action"}]``; every error names ``steps[i].<field>``."""
    known = device_states(grid)
    out: list[SwitchingStep] = []
    for i, raw in enumerate(steps):
        device_id, action = raw.get("device_id"), raw.get("action")
        if not isinstance(device_id, str) or device_id not in known:
            raise InvalidInputError(
                f"step {i + 1}: no switching device {device_id!r} in the loaded grid",
                field=f"{field}[{i}].device_id",
            )
        if action not in SWITCH_ACTIONS:
            raise InvalidInputError(
                f"step {i + 1}: action must be open or close", field=f"{field}[{i}].action"
            )
        out.append(SwitchingStep(device_id, str(action)))
    if not out:
        raise InvalidInputError("a switching order needs at least one step", field=field)
    if len(out) > MAX_STEPS:
        raise InvalidInputError(f"at most {MAX_STEPS} steps", field=field)
    return tuple(out)


def parse_states(
    grid: Grid, states: Iterable[Mapping[str, Any]], *, field: str = "switch_states"
) -> dict[str, str]:
    """A proposed configuration ``[{"device_id", "state"}]`` → {device id: state}; errors name the item."""
    known = device_states(grid)
    out: dict[str, str] = {}
    for i, raw in enumerate(states):
        device_id, state = raw.get("device_id"), raw.get("state")
        if not isinstance(device_id, str) or device_id not in known:
            raise InvalidInputError(
                f"no switching device {device_id!r} in the loaded grid", field=f"{field}[{i}].device_id"
            )
        if state not in SWITCH_STATES:
            raise InvalidInputError("state must be open or closed", field=f"{field}[{i}].state")
        if device_id in out:
            raise InvalidInputError(f"device {device_id} is listed twice", field=f"{field}[{i}].device_id")
        out[device_id] = str(state)
    return out


# --- the live configuration ------------------------------------------------------------------------


def differing_states(grid: Grid, states: Mapping[str, str]) -> dict[str, str]:
    """The subset of ``states`` that differs from what ``grid`` records (unknown devices dropped)."""
    recorded = device_states(grid)
    return {d: s for d, s in states.items() if d in recorded and recorded[d] != s}


def apply_switch_states(grid: Grid, states: Mapping[str, str]) -> Grid:
    """A new `Grid` whose ``devices.state`` holds ``states`` (other devices and tables shared, unchanged).

    Returns ``grid`` itself when nothing differs. Unknown device ids are ignored (`parse_states` refuses
    them at the API); a state outside `SWITCH_STATES` raises `InvalidInputError`."""
    bad = sorted(d for d, s in states.items() if s not in SWITCH_STATES)
    if bad:
        raise InvalidInputError(f"device {bad[0]}: state must be open or closed", field="state")
    diff = differing_states(grid, states)
    if not diff:
        return grid
    dev = grid.devices.copy()
    ids = dev["device_id"].astype(str)
    dev["state"] = ids.map(diff).fillna(dev["state"]).astype(dev["state"].dtype)
    return replace(grid, devices=dev)


def configuration_hash(content_hash: str, diff: Mapping[str, str]) -> str:
    """Identity of a configuration: ``content_hash`` itself when ``diff`` (the states differing from the
    recorded ones) is empty, else sha256 over it and the sorted differing states."""
    if not diff:
        return content_hash
    text = content_hash + "|switching|" + ";".join(f"{d}={s}" for d, s in sorted(diff.items()))
    return hashlib.sha256(text.encode()).hexdigest()


# --- order state machine ---------------------------------------------------------------------------


def transition(order: SwitchingOrder, action: str, *, actor: str, now_utc: datetime) -> SwitchingOrder:
    """``order`` after ``action`` (approve, execute, cancel), recording who and when; an illegal move
    raises `ConflictError` naming the current status."""
    if action not in ORDER_ACTIONS:
        raise InvalidInputError(f"action must be one of {tuple(ORDER_ACTIONS)}", field="action")
    allowed, to = ORDER_ACTIONS[action]
    if order.status not in allowed:
        raise ConflictError(
            f"switching order {order.order_id} is {order.status}; cannot {action} it",
            details={"order_id": order.order_id, "status": order.status, "action": action},
        )
    stamp: dict[str, Any] = {f"{to}_by": actor, f"{to}_utc": now_utc}  # approved_by, approved_utc, ...
    return replace(order, status=to, **stamp)
