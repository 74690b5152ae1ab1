"""Use cases of switching: operate a device, and create / approve / execute / cancel switching orders.

Why the live configuration is passed as a callable (``live``): a check is only worth something against
the configuration that is live when the change is written. The service takes its lock, asks for the
live configuration, validates, and writes in one store transaction, so two operations in this process
cannot interleave between a check and its write; the order's status is replaced conditionally
(`SwitchingStore.replace_order_if`), so two processes cannot both execute one order.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from fluxops.core.clock import utc_now
from fluxops.core.errors import ConflictError, InvalidInputError, NotFoundError
from fluxops.grid.models import Grid
from fluxops.network.compiled import CompiledGrid
from fluxops.ops.ports import SwitchingStore
from fluxops.ops.switching import (
    ACTION_STATE,
    ORDER_STATUSES,
    SWITCH_ACTIONS,
    SwitchingOrder,
    SwitchingStep,
    SwitchOperation,
    SwitchState,
    device_states,
    parse_reason,
    parse_steps,
    transition,
)
from fluxops.ops.switching_validation import SwitchingCheck, SwitchingLimits, validate_steps

MAX_TITLE_CHARS = 200


@dataclass(frozen=True)
class LiveConfiguration:
    """The grid as switched now: ``grid`` (``devices.state`` = live states), compiled, and the content
    hash of the grid as loaded (the key of its switch states)."""

    base_hash: str
    grid: Grid
    cg: CompiledGrid
    critical_by_bus: Mapping[int, tuple[str, ...]]


Live = Callable[[], LiveConfiguration]


class SwitchingService:
    def __init__(self, store: SwitchingStore, *, limits: SwitchingLimits | None = None) -> None:
        self.store = store
        self.limits = (limits or SwitchingLimits()).validate()
        self._lock = threading.Lock()

    # --- reading ---------------------------------------------------------------------------------
    def switch_states(self, grid_hash: str) -> list[SwitchState]:
        return self.store.list_switch_states(grid_hash)

    def operations(
        self, *, grid_hash: str | None = None, device_id: str | None = None, limit: int = 500
    ) -> list[SwitchOperation]:
        return self.store.list_switch_operations(grid_hash=grid_hash, device_id=device_id, limit=limit)

    def get_order(self, order_id: str) -> SwitchingOrder:
        order = self.store.get_order(order_id)
        if order is None:
            raise NotFoundError(f"no switching order {order_id!r}", details={"order_id": order_id})
        return order

    def list_orders(
        self, *, statuses: tuple[str, ...] | None = None, limit: int = 500
    ) -> list[SwitchingOrder]:
        bad = [s for s in statuses or () if s not in ORDER_STATUSES]
        if bad:
            raise InvalidInputError(f"status must be one of {ORDER_STATUSES}", field="status")
        return self.store.list_orders(statuses=statuses, limit=limit)

    def check(
        self, cfg: LiveConfiguration, steps: Iterable[Mapping[str, Any]], *, load_multiplier: float = 1.0
    ) -> SwitchingCheck:
        """Validate steps against ``cfg`` without changing anything."""
        parsed = parse_steps(cfg.grid, steps)
        return self._validate(cfg, parsed, load_multiplier)

    def _validate(
        self, cfg: LiveConfiguration, steps: tuple[SwitchingStep, ...], load_multiplier: float
    ) -> SwitchingCheck:
        return validate_steps(
            cfg.cg,
            steps,
            critical_by_bus=cfg.critical_by_bus,
            load_multiplier=load_multiplier,
            limits=self.limits,
        )

    # --- operating one device --------------------------------------------------------------------
    def operate(
        self,
        live: Live,
        *,
        device_id: str,
        action: str,
        actor: str,
        reason: str,
        force: bool = False,
        load_multiplier: float = 1.0,
    ) -> tuple[SwitchOperation, SwitchingCheck]:
        """Open or close ``device_id`` now. The step is validated first; a step that islands a critical
        customer or overloads an element is refused (`ConflictError`) unless ``force`` (emergency
        switching: applied, and recorded as forced with its check)."""
        if action not in SWITCH_ACTIONS:
            raise InvalidInputError("action must be open or close", field="action")
        why = parse_reason(reason)
        with self._lock:
            cfg = live()
            recorded = device_states(cfg.grid)
            if device_id not in recorded:
                raise NotFoundError(f"no switching device {device_id!r}", details={"device_id": device_id})
            step = SwitchingStep(device_id, action)
            check = self._validate(cfg, (step,), load_multiplier)
            before = recorded[device_id]
            if before == step.to_state:
                raise ConflictError(
                    f"{device_id} is already {before}", details={"device_id": device_id, "state": before}
                )
            if not check.ok and not force:
                raise ConflictError(
                    f"refused: {check.first_problem()} (send force=true for emergency switching)",
                    details={"device_id": device_id, "field": "device_id", "check": check.to_dict()},
                )
            now = utc_now()
            op = SwitchOperation(
                op_id=f"SWOP-{uuid.uuid4().hex[:12]}",
                grid_hash=cfg.base_hash,
                device_id=device_id,
                action=action,
                from_state=before,
                to_state=step.to_state,
                changed_by=actor,
                reason=why,
                at_utc=now,
                forced=bool(force and not check.ok),
                check_json=json.dumps(check.to_dict(), allow_nan=False),
            )
            with self.store.transaction():
                self.store.save_switch_states(
                    [SwitchState(cfg.base_hash, device_id, step.to_state, actor, why, now, None)]
                )
                self.store.append_switch_operations([op])
            return op, check

    # --- switching orders ------------------------------------------------------------------------
    def create_order(
        self,
        cfg: LiveConfiguration,
        *,
        title: str,
        reason: str,
        steps: Iterable[Mapping[str, Any]],
        actor: str,
        load_multiplier: float = 1.0,
    ) -> SwitchingOrder:
        """A ``draft`` order, validated step by step against ``cfg``: a failing step is refused as
        `InvalidInputError` naming ``steps[i]`` (the check is in ``details.validation``)."""
        if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE_CHARS:
            raise InvalidInputError(f"title must be 1..{MAX_TITLE_CHARS} characters", field="title")
        why = parse_reason(reason)
        parsed = parse_steps(cfg.grid, steps)
        check = self._validate(cfg, parsed, load_multiplier)
        if not check.ok:
            n = check.failed_step or 1
            raise InvalidInputError(
                f"refused at validation: {check.first_problem()}",
                field=f"steps[{n - 1}]",
                details={"step": n, "device_id": parsed[n - 1].device_id, "validation": check.to_dict()},
            )
        order = SwitchingOrder(
            order_id=f"SO-{uuid.uuid4().hex[:10]}",
            grid_hash=cfg.base_hash,
            title=title.strip(),
            reason=why,
            status="draft",
            steps=parsed,
            load_multiplier=float(load_multiplier),
            created_by=actor,
            created_utc=utc_now(),
            validation=check.to_dict(),
        )
        self.store.save_order(order)
        return order

    def validate_order(self, order_id: str, live: Live) -> SwitchingCheck:
        order = self.get_order(order_id)
        cfg = live()
        self._same_grid(order, cfg)
        return self._validate(cfg, order.steps, order.load_multiplier)

    def approve(self, order_id: str, live: Live, *, actor: str) -> SwitchingOrder:
        """draft → approved, after re-validating against the live configuration (`ConflictError`
        naming the failing step when the grid has changed under the order)."""
        with self._lock:
            order = self.get_order(order_id)
            nxt = transition(order, "approve", actor=actor, now_utc=utc_now())
            cfg = live()
            self._same_grid(order, cfg)
            check = self._validated_or_conflict(order, cfg)
            nxt = replace(nxt, validation=check.to_dict())
            if not self.store.replace_order_if(nxt, expected_status=order.status):
                raise self._raced(order_id)
            return nxt

    def cancel(self, order_id: str, *, actor: str) -> SwitchingOrder:
        with self._lock:
            order = self.get_order(order_id)
            nxt = transition(order, "cancel", actor=actor, now_utc=utc_now())
            if not self.store.replace_order_if(nxt, expected_status=order.status):
                raise self._raced(order_id)
            return nxt

    def execute(self, order_id: str, live: Live, *, actor: str) -> SwitchingOrder:
        """approved → executed: re-validate every step against the configuration live now, then write
        every step's state, its log row and the order's status in ONE store transaction."""
        with self._lock:
            order = self.get_order(order_id)
            now = utc_now()
            nxt = transition(order, "execute", actor=actor, now_utc=now)
            cfg = live()
            self._same_grid(order, cfg)
            check = self._validated_or_conflict(order, cfg)
            nxt = replace(nxt, validation=check.to_dict())
            states = device_states(cfg.grid)
            step_checks = nxt.validation["steps"]
            final: dict[str, SwitchState] = {}
            ops: list[SwitchOperation] = []
            for i, step in enumerate(order.steps):
                to_state = ACTION_STATE[step.action]
                reason = f"{order.title} (order {order.order_id}, step {i + 1}): {order.reason}"
                ops.append(
                    SwitchOperation(
                        op_id=f"SWOP-{uuid.uuid4().hex[:12]}",
                        grid_hash=cfg.base_hash,
                        device_id=step.device_id,
                        action=step.action,
                        from_state=states[step.device_id],
                        to_state=to_state,
                        changed_by=actor,
                        reason=reason,
                        at_utc=now,
                        order_id=order.order_id,
                        check_json=json.dumps(step_checks[i], allow_nan=False),
                    )
                )
                states[step.device_id] = to_state
                final[step.device_id] = SwitchState(
                    cfg.base_hash, step.device_id, to_state, actor, reason, now, order.order_id
                )
            with self.store.transaction():
                if not self.store.replace_order_if(nxt, expected_status="approved"):
                    raise self._raced(order_id)
                self.store.save_switch_states(list(final.values()))
                self.store.append_switch_operations(ops)
            return nxt

    # --- helpers ---------------------------------------------------------------------------------
    @staticmethod
    def _same_grid(order: SwitchingOrder, cfg: LiveConfiguration) -> None:
        if order.grid_hash != cfg.base_hash:
            raise ConflictError(
                f"switching order {order.order_id} was written for another grid (a new grid was loaded)",
                details={"order_id": order.order_id, "grid_hash": order.grid_hash},
            )

    def _validated_or_conflict(self, order: SwitchingOrder, cfg: LiveConfiguration) -> SwitchingCheck:
        check = self._validate(cfg, order.steps, order.load_multiplier)
        if not check.ok:
            n = check.failed_step or 1
            raise ConflictError(
                f"switching order {order.order_id} no longer validates: {check.first_problem()}",
                details={
                    "order_id": order.order_id,
                    "step": n,
                    "device_id": order.steps[n - 1].device_id,
                    "field": f"steps[{n - 1}]",
                    "validation": check.to_dict(),
                },
            )
        return check

    @staticmethod
    def _raced(order_id: str) -> ConflictError:
        return ConflictError(
            f"switching order {order_id} was changed by another request; reload it",
            details={"order_id": order_id},
        )
