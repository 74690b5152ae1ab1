"""Switching on the real ``tiny`` grid: the live-configuration overlay, step-by-step validation by power
flow (critical customers, overloads, no-op steps) and the order state machine / service with a real
DuckDB store.

Grid facts used (tiny, seed 0): TIE-00002 joins FDR-0001-01 to a lateral of FDR-0001-02 behind fuse
FUS-0001-02-00011 (21 customers, none critical); FDR-0001-02's breaker BRK-0001-02 feeds two critical
customers (CUST-00000327, CUST-00000338). Closing TIE-00002 with the lateral still fed makes a loop
whose flow overloads the fuse (133 % at design peak)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fluxops.core.errors import ConflictError, InvalidInputError
from fluxops.grid.models import Grid
from fluxops.grid.topology import GridTopology
from fluxops.network.compiled import compile_grid
from fluxops.network.energization import energize
from fluxops.ops.switching import (
    SwitchingStep,
    apply_switch_states,
    configuration_hash,
    device_states,
    parse_states,
    parse_steps,
    transition,
)
from fluxops.ops.switching_service import LiveConfiguration, SwitchingService
from fluxops.ops.switching_validation import critical_customers_by_bus, validate_steps
from fluxops.storage.duckdb_store import DuckDBStore
from fluxops.storage.switching_store import SwitchingTableStore

FUSE, TIE, BRK = "FUS-0001-02-00011", "TIE-00002", "BRK-0001-02"
TRANSFER = [{"device_id": FUSE, "action": "open"}, {"device_id": TIE, "action": "close"}]


def _check(grid: Grid, steps: Sequence[SwitchingStep], **kw: Any) -> Any:
    cg = compile_grid(grid)
    return validate_steps(cg, steps, critical_by_bus=critical_customers_by_bus(grid, cg), **kw)


def test_overlay_changes_state_topology_and_energization(tiny_grid: Grid) -> None:
    assert apply_switch_states(tiny_grid, {FUSE: "closed"}) is tiny_grid  # nothing differs
    assert configuration_hash("h", {}) == "h"
    live = apply_switch_states(tiny_grid, {FUSE: "open"})
    assert device_states(live)[FUSE] == "open" and device_states(tiny_grid)[FUSE] == "closed"
    assert configuration_hash("h", {FUSE: "open"}) != "h"
    before, after = energize(compile_grid(tiny_grid)), energize(compile_grid(live))
    cg = compile_grid(live)
    lost = before.bus_energized & ~after.bus_energized
    assert int(cg.bus_customer_count[lost].sum()) == 21
    # the trace topology follows the operated state: the lateral has no source any more
    tie_bus = "BUS-0001-02-00023"
    assert GridTopology.build(tiny_grid).path_to_substation(tie_bus)[-1] == "SUB-0001"
    assert FUSE not in GridTopology.build(apply_switch_states(live, {TIE: "closed"})).path_to_substation(
        tie_bus
    )


def test_parse_errors_name_the_item(tiny_grid: Grid) -> None:
    with pytest.raises(InvalidInputError) as e:
        parse_steps(tiny_grid, [TRANSFER[0], {"device_id": "SEG-0001-02-00003", "action": "open"}])
    assert e.value.details["field"] == "steps[1].device_id"
    with pytest.raises(InvalidInputError) as e:
        parse_steps(tiny_grid, [{"device_id": FUSE, "action": "toggle"}])
    assert e.value.details["field"] == "steps[0].action"
    with pytest.raises(InvalidInputError) as e:
        parse_states(tiny_grid, [{"device_id": TIE, "state": "closed"}, {"device_id": TIE, "state": "open"}])
    assert e.value.details["field"] == "switch_states[1].device_id"


def test_break_before_make_transfer_validates(tiny_grid: Grid) -> None:
    check = _check(tiny_grid, parse_steps(tiny_grid, TRANSFER))
    assert check.ok and check.failed_step is None
    assert [s.customers_interrupted for s in check.steps] == [21, 0]  # picked up again by the tie


def test_islanding_a_critical_customer_is_refused_at_its_step(tiny_grid: Grid) -> None:
    steps = [SwitchingStep(FUSE, "open"), SwitchingStep(BRK, "open")]
    check = _check(tiny_grid, steps)
    assert not check.ok and check.failed_step == 2
    s2 = check.steps[1]
    assert set(s2.critical_islanded) == {"CUST-00000327", "CUST-00000338"}
    assert "critical" in check.first_problem() and "step 2" in check.first_problem()


def test_an_overload_is_refused_and_named(tiny_grid: Grid) -> None:
    check = _check(tiny_grid, [SwitchingStep(TIE, "close")])
    assert not check.ok and check.failed_step == 1
    over = check.steps[0].overloads
    assert over[0].element_id == FUSE and over[0].loading_pct > 100
    assert over[0].before_pct is not None and over[0].before_pct < 100
    # more load makes the otherwise valid transfer fail too
    assert not _check(
        tiny_grid, [SwitchingStep(FUSE, "open"), SwitchingStep(TIE, "close")], load_multiplier=5.0
    ).ok


def test_no_op_step_and_bad_multiplier(tiny_grid: Grid) -> None:
    check = _check(tiny_grid, [SwitchingStep(TIE, "open")])
    assert not check.ok and "already open" in check.steps[0].problems[0]
    with pytest.raises(InvalidInputError) as e:
        _check(tiny_grid, [SwitchingStep(TIE, "close")], load_multiplier=float("nan"))
    assert e.value.details["field"] == "load_multiplier"


def test_state_machine_records_who_and_when(tiny_grid: Grid, tmp_path: Path) -> None:
    svc, live = _service(tiny_grid, tmp_path)
    order = svc.create_order(live(), title="t", reason="r", steps=TRANSFER, actor="op-a")
    assert order.status == "draft" and order.created_by == "op-a"
    with pytest.raises(ConflictError):
        svc.execute(order.order_id, live, actor="op-b")  # not approved
    approved = svc.approve(order.order_id, live, actor="op-b")
    assert approved.approved_by == "op-b" and approved.approved_utc is not None
    cancelled = svc.cancel(order.order_id, actor="op-c")
    assert (cancelled.status, cancelled.cancelled_by) == ("cancelled", "op-c")
    with pytest.raises(ConflictError):
        transition(cancelled, "approve", actor="x", now_utc=cancelled.created_utc)


def _service(grid: Grid, tmp_path: Path) -> tuple[SwitchingService, Any]:
    store = DuckDBStore(tmp_path / "fluxops.duckdb")
    tables = SwitchingTableStore(store)
    svc = SwitchingService(tables)

    def live() -> LiveConfiguration:
        states = {s.device_id: s.state for s in tables.list_switch_states("h")}
        g = apply_switch_states(grid, states)
        cg = compile_grid(g)
        return LiveConfiguration("h", g, cg, critical_customers_by_bus(g, cg))

    return svc, live


def test_execute_applies_every_step_atomically_after_revalidation(tiny_grid: Grid, tmp_path: Path) -> None:
    svc, live = _service(tiny_grid, tmp_path)
    order = svc.create_order(live(), title="t", reason="r", steps=TRANSFER, actor="op-a")
    svc.approve(order.order_id, live, actor="op-b")
    # the live state changes under the approved order: its first step is now a no-op
    svc.operate(live, device_id=FUSE, action="open", actor="op-c", reason="fault on lateral")
    with pytest.raises(ConflictError) as e:
        svc.execute(order.order_id, live, actor="op-b")
    assert e.value.details["step"] == 1 and e.value.details["field"] == "steps[0]"
    assert svc.get_order(order.order_id).status == "approved"
    assert device_states(live().grid)[TIE] == "open"  # nothing of the order was applied
    svc.operate(live, device_id=FUSE, action="close", actor="op-c", reason="lateral repaired")
    done = svc.execute(order.order_id, live, actor="op-b")
    assert (done.status, done.executed_by) == ("executed", "op-b")
    states = device_states(live().grid)
    assert (states[FUSE], states[TIE]) == ("open", "closed")
    log = svc.operations(grid_hash="h")
    assert {(o.device_id, o.order_id, o.changed_by) for o in log[:2]} == {
        (FUSE, done.order_id, "op-b"),
        (TIE, done.order_id, "op-b"),
    }
    with pytest.raises(ConflictError):
        svc.execute(order.order_id, live, actor="op-b")  # executed once only


def test_operate_refuses_unsafe_steps_unless_forced(tiny_grid: Grid, tmp_path: Path) -> None:
    svc, live = _service(tiny_grid, tmp_path)
    with pytest.raises(ConflictError) as e:
        svc.operate(live, device_id=BRK, action="open", actor="op", reason="test")
    assert e.value.details["device_id"] == BRK and not e.value.details["check"]["ok"]
    with pytest.raises(InvalidInputError) as e2:
        svc.operate(live, device_id=BRK, action="open", actor="op", reason="  ")
    assert e2.value.details["field"] == "reason"
    op, check = svc.operate(live, device_id=BRK, action="open", actor="op", reason="fire", force=True)
    assert op.forced and not check.ok and op.from_state == "closed"
    assert device_states(live().grid)[BRK] == "open"
    with pytest.raises(ConflictError):
        svc.operate(live, device_id=BRK, action="open", actor="op", reason="again")


def test_validation_never_modifies_its_inputs(tiny_grid: Grid) -> None:
    cg = compile_grid(tiny_grid)
    closed = np.array(cg.closed_state, copy=True)
    validate_steps(cg, [SwitchingStep(TIE, "close")], critical_by_bus={}, closed=closed)
    assert (closed == cg.closed_state).all()
    assert replace(SwitchingStep(TIE, "close")).to_state == "closed"
