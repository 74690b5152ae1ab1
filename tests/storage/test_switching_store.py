"""`SwitchingTableStore` on both backends: the tables exist from the store's open (migration 2), switch
states upsert by (grid, device), the log reads newest first, orders round-trip exactly, and a
conditional order replace lets only one of two racing transitions win."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fluxops.core.errors import StorageError
from fluxops.ops.switching import SwitchingOrder, SwitchingStep, SwitchOperation, SwitchState
from fluxops.storage.switching_store import SwitchingTableStore, read_switch_states

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _order(order_id: str = "SO-1", status: str = "draft", at: datetime = T0) -> SwitchingOrder:
    return SwitchingOrder(
        order_id=order_id,
        grid_hash="h1",
        title="transfer lateral",
        reason="maintenance on FUS-1",
        status=status,
        steps=(SwitchingStep("FUS-1", "open"), SwitchingStep("TIE-1", "close")),
        load_multiplier=1.0,
        created_by="op-a",
        created_utc=at,
        validation={"ok": True, "steps": [{"step": 1}, {"step": 2}]},
    )


def test_switch_states_upsert_per_grid_and_device(store: Any) -> None:
    tables = SwitchingTableStore(store)
    assert read_switch_states(store, "h1") == []  # the table exists without ensure_tables
    a = SwitchState("h1", "SW-2", "open", "op-a", "work on span", T0, None)
    b = SwitchState("h1", "SW-1", "open", "op-a", "why", T0, "SO-1")
    tables.save_switch_states([a, b])
    tables.save_switch_states(
        [replace(a, state="closed", changed_by="op-b", changed_utc=T0 + timedelta(hours=1))]
    )
    tables.save_switch_states([SwitchState("h2", "SW-1", "closed", "op-c", "other grid", T0, None)])
    got = tables.list_switch_states("h1")
    assert [s.device_id for s in got] == ["SW-1", "SW-2"]  # ordered by id
    assert got[0] == b
    assert got[1].state == "closed" and got[1].changed_by == "op-b"
    assert got[1].changed_utc == T0 + timedelta(hours=1)
    assert [s.changed_by for s in tables.list_switch_states("h2")] == ["op-c"]


def test_log_newest_first_and_filtered(store: Any) -> None:
    tables = SwitchingTableStore(store)
    ops = [
        SwitchOperation(
            f"SWOP-{i}", "h1", dev, "open", "closed", "open", "op", "r", T0 + timedelta(minutes=i)
        )
        for i, dev in enumerate(["SW-1", "SW-2", "SW-1"])
    ]
    tables.append_switch_operations(ops)
    assert [o.op_id for o in tables.list_switch_operations(grid_hash="h1")] == ["SWOP-2", "SWOP-1", "SWOP-0"]
    assert [o.op_id for o in tables.list_switch_operations(device_id="SW-1", limit=1)] == ["SWOP-2"]
    assert tables.list_switch_operations(grid_hash="nope") == []


def test_orders_round_trip_and_conditional_replace(store: Any) -> None:
    tables = SwitchingTableStore(store)
    o = _order()
    tables.save_order(o)
    tables.save_order(_order("SO-2", at=T0 + timedelta(minutes=5)))
    assert tables.get_order("SO-1") == o
    assert tables.get_order("SO-x") is None
    assert [x.order_id for x in tables.list_orders()] == ["SO-2", "SO-1"]
    approved = replace(o, status="approved", approved_by="op-b", approved_utc=T0 + timedelta(minutes=1))
    assert tables.replace_order_if(approved, expected_status="draft") is True
    # a second transition that read the order as a draft loses
    cancelled = replace(o, status="cancelled", cancelled_by="op-c", cancelled_utc=T0)
    assert tables.replace_order_if(cancelled, expected_status="draft") is False
    assert tables.get_order("SO-1") == approved
    assert [x.order_id for x in tables.list_orders(statuses=("approved",))] == ["SO-1"]


def test_states_and_log_commit_together(store: Any) -> None:
    tables = SwitchingTableStore(store)
    with pytest.raises(StorageError), tables.transaction():
        tables.save_switch_states([SwitchState("h1", "SW-1", "open", "op", "r", T0, None)])
        tables.append_switch_operations(
            [SwitchOperation("SWOP-1", "h1", "SW-1", "open", "closed", "open", "op", "r", T0)]
        )
        store.execute("INSERT INTO no_such_table VALUES (1)")
    assert tables.list_switch_states("h1") == []
    assert tables.list_switch_operations() == []
