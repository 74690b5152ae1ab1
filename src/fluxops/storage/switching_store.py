"""`SwitchingTableStore`: switch states, the switching log and switching orders through the store's
generic Arrow tables, so one adapter serves DuckDB and PostgreSQL alike.

The tables (`fluxops.ops.switching.SWITCHING_TABLES`) are created by migration 2
(`fluxops.storage.migrations`) when a store opens, because every API request reads the switch states
(`read_switch_states`) to know the live configuration. Writes are keyed upserts.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import pyarrow as pa

from fluxops.grid.models import Grid
from fluxops.grid.ports import GridInfo
from fluxops.ops.switching import (
    SWITCH_OVERRIDES_SCHEMA,
    SWITCHING_LOG_SCHEMA,
    SWITCHING_ORDERS_SCHEMA,
    SWITCHING_TABLES,
    SwitchingOrder,
    SwitchOperation,
    SwitchState,
    apply_switch_states,
    configuration_hash,
    differing_states,
)


class GenericTables(Protocol):
    def query_arrow(
        self, sql: str, params: Sequence[Any] = (), *, schema: pa.Schema | None = None
    ) -> pa.Table: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...

    def ensure_table(self, name: str, schema: pa.Schema, primary_key: tuple[str, ...] = ()) -> None: ...

    def upsert_arrow(self, name: str, table: pa.Table, key: tuple[str, ...]) -> int: ...

    def transaction(self) -> AbstractContextManager[None]: ...


def _utc(v: Any) -> Any:
    if isinstance(v, datetime) and v.tzinfo is None:
        return v.replace(tzinfo=UTC)
    return v.astimezone(UTC) if isinstance(v, datetime) else v


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    return [{k: _utc(v) for k, v in row.items()} for row in table.to_pylist()]


def _arrow(rows: Sequence[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist([{c: r.get(c) for c in schema.names} for r in rows], schema=schema)


def read_switch_states(store: Any, grid_hash: str) -> list[SwitchState]:
    """The switch states of ``grid_hash`` from any store with ``query_arrow`` (none otherwise)."""
    if not hasattr(store, "query_arrow"):
        return []
    return SwitchingTableStore(store).list_switch_states(grid_hash)


def read_live_grid(store: Any) -> tuple[Grid, GridInfo, str] | None:
    """The stored grid as switched now: (grid with the operated states, its info with the configuration
    hash as ``content_hash``, the stored content hash); None when no grid is loaded. For one-shot
    readers (the CLI); the API keeps the same thing cached (`fluxops.api.deps.GridCache`)."""
    info = store.get_grid_info()
    grid = store.read_grid()
    if info is None or grid is None:
        return None
    wanted = {s.device_id: s.state for s in read_switch_states(store, info.content_hash)}
    diff = differing_states(grid, wanted)
    live_info = replace(info, content_hash=configuration_hash(info.content_hash, diff))
    return apply_switch_states(grid, diff), live_info, info.content_hash


class SwitchingTableStore:
    """Implements `fluxops.ops.ports.SwitchingStore`."""

    def __init__(self, store: GenericTables) -> None:
        self.store = store

    def ensure_tables(self) -> None:
        """Create the tables if missing (a store opened before migration 2 gets them at its next open)."""
        for name, (schema, key) in SWITCHING_TABLES.items():
            self.store.ensure_table(name, schema, key)

    def transaction(self) -> AbstractContextManager[None]:
        return self.store.transaction()

    # --- switch states -----------------------------------------------------------------------------
    def list_switch_states(self, grid_hash: str) -> list[SwitchState]:
        t = self.store.query_arrow(
            "SELECT * FROM switch_overrides WHERE grid_hash = ? ORDER BY device_id",
            [grid_hash],
            schema=SWITCH_OVERRIDES_SCHEMA,
        )
        return [SwitchState(**r) for r in _rows(t)]

    def save_switch_states(self, states: Sequence[SwitchState]) -> None:
        if states:
            table = _arrow([asdict(s) for s in states], SWITCH_OVERRIDES_SCHEMA)
            self.store.upsert_arrow("switch_overrides", table, ("grid_hash", "device_id"))

    # --- the log -----------------------------------------------------------------------------------
    def append_switch_operations(self, ops: Sequence[SwitchOperation]) -> None:
        if ops:
            self.store.upsert_arrow(
                "switching_log", _arrow([asdict(o) for o in ops], SWITCHING_LOG_SCHEMA), ("op_id",)
            )

    def list_switch_operations(
        self, *, grid_hash: str | None = None, device_id: str | None = None, limit: int = 500
    ) -> list[SwitchOperation]:
        conds: list[str] = ["1 = 1"]
        params: list[Any] = []
        for col, val in (("grid_hash", grid_hash), ("device_id", device_id)):
            if val is not None:
                conds.append(f"{col} = ?")
                params.append(val)
        t = self.store.query_arrow(
            f"SELECT * FROM switching_log WHERE {' AND '.join(conds)} "
            "ORDER BY at_utc DESC, op_id DESC LIMIT ?",
            [*params, int(limit)],
            schema=SWITCHING_LOG_SCHEMA,
        )
        return [SwitchOperation(**r) for r in _rows(t)]

    # --- orders ------------------------------------------------------------------------------------
    def save_order(self, order: SwitchingOrder) -> None:
        self.store.upsert_arrow(
            "switching_orders", _arrow([order.to_row()], SWITCHING_ORDERS_SCHEMA), ("order_id",)
        )

    def get_order(self, order_id: str) -> SwitchingOrder | None:
        t = self.store.query_arrow(
            "SELECT * FROM switching_orders WHERE order_id = ?", [order_id], schema=SWITCHING_ORDERS_SCHEMA
        )
        rows = _rows(t)
        return SwitchingOrder.from_row(rows[0]) if rows else None

    def list_orders(
        self, *, statuses: tuple[str, ...] | None = None, limit: int = 500
    ) -> list[SwitchingOrder]:
        conds: list[str] = ["1 = 1"]
        params: list[Any] = []
        if statuses:
            conds.append(f"status IN ({', '.join('?' for _ in statuses)})")
            params.extend(statuses)
        t = self.store.query_arrow(
            f"SELECT * FROM switching_orders WHERE {' AND '.join(conds)} "
            "ORDER BY created_utc DESC, order_id DESC LIMIT ?",
            [*params, int(limit)],
            schema=SWITCHING_ORDERS_SCHEMA,
        )
        return [SwitchingOrder.from_row(r) for r in _rows(t)]

    def replace_order_if(self, order: SwitchingOrder, *, expected_status: str) -> bool:
        row = order.to_row()
        cols = [c for c in SWITCHING_ORDERS_SCHEMA.names if c != "order_id"]
        sets = ", ".join(f"{c} = ?" for c in cols)
        n = self.store.execute(
            f"UPDATE switching_orders SET {sets} WHERE order_id = ? AND status = ?",
            [*(row[c] for c in cols), order.order_id, expected_status],
        )
        return n == 1
