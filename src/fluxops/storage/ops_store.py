"""`OpsTableStore`: the ops domain's tables (outages, their log and meters, work orders, crews) kept
through the store's generic Arrow table API, so one adapter serves DuckDB and PostgreSQL alike.

Tables are declared once in `fluxops.ops.models.OPS_TABLES` (pyarrow schemas + primary keys); every
write is an Arrow bulk upsert keyed by the primary key, so replaying a step changes nothing. One
engine step (`save_delta`) is written in one store transaction: a crash or a failed write between its
tables can no longer leave the outage log a step ahead of the outage records.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any, Protocol, TypeVar

import pyarrow as pa

from fluxops.ops.models import (
    CREWS_SCHEMA,
    OPS_TABLES,
    OUTAGE_EVENTS_SCHEMA,
    OUTAGE_METERS_SCHEMA,
    OUTAGES_SCHEMA,
    WORK_ORDERS_SCHEMA,
    Crew,
    OutageDelta,
    OutageEventRecord,
    OutageRecord,
    WorkOrder,
)
from fluxops.ops.ports import OutageQuery, WorkOrderQuery

R = TypeVar("R")


class GenericTables(Protocol):
    """The generic table access both stores offer (`fluxops.storage.sql_store.SqlStore`)."""

    def query_arrow(
        self, sql: str, params: Sequence[Any] = (), *, schema: pa.Schema | None = None
    ) -> pa.Table: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...

    def ensure_table(self, name: str, schema: pa.Schema, primary_key: tuple[str, ...] = ()) -> None: ...

    def upsert_arrow(self, name: str, table: pa.Table, key: tuple[str, ...]) -> int: ...

    def transaction(self) -> AbstractContextManager[None]: ...


def _to_arrow(records: Sequence[Any], schema: pa.Schema) -> pa.Table:
    rows = [asdict(r) for r in records]
    return pa.Table.from_pylist([{c: row.get(c) for c in schema.names} for row in rows], schema=schema)


def _from_arrow(table: pa.Table, cls: type[R]) -> list[R]:
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return [cls(**{k: v for k, v in row.items() if k in names}) for row in table.to_pylist()]


def _in(column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
    return f"{column} IN ({', '.join('?' for _ in values)})", list(values)


class OpsTableStore:
    """Implements `fluxops.ops.ports.OpsStore` over a store's generic tables."""

    def __init__(self, store: GenericTables) -> None:
        self.store = store

    def ensure_tables(self) -> None:
        for name, (schema, key) in OPS_TABLES.items():
            self.store.ensure_table(name, schema, key)
        # additive: ``outages.synthetic`` came after the table (issue 9); older rows were all real
        have = set(self.store.query_arrow("SELECT * FROM outages LIMIT 0").schema.names)
        if "synthetic" not in have:
            self.store.execute("ALTER TABLE outages ADD COLUMN synthetic BOOLEAN DEFAULT FALSE")
        if "cause_code" not in have:  # additive (issue 10): no cause recorded for older outages
            self.store.execute("ALTER TABLE outages ADD COLUMN cause_code VARCHAR")
        if "historical" not in have:  # additive (issue 12): older rows all came from the live engine
            self.store.execute("ALTER TABLE outages ADD COLUMN historical BOOLEAN DEFAULT FALSE")
        # additive: ``crews.skills`` came after the table (issue 10); older crews' skills are unknown
        if "skills" not in set(self.store.query_arrow("SELECT * FROM crews LIMIT 0").schema.names):
            self.store.execute("ALTER TABLE crews ADD COLUMN skills VARCHAR")

    # --- outages ---------------------------------------------------------------------------

    def transaction(self) -> AbstractContextManager[None]:
        """The store's transaction (`fluxops.storage.Store.transaction`): this thread's ops writes
        inside it commit together or not at all."""
        return self.store.transaction()

    def save_delta(self, delta: OutageDelta) -> None:
        """One engine step, atomically: merged proposals' meter rows dropped, meter rows, log events
        and outage records upserted — all committed together or (on any failure) none of them."""
        events = _to_arrow(delta.events, OUTAGE_EVENTS_SCHEMA) if delta.events else None
        outages = _to_arrow(delta.outages, OUTAGES_SCHEMA) if delta.outages else None
        with self.store.transaction():
            if delta.dropped_meter_outage_ids:
                cond, params = _in("outage_id", delta.dropped_meter_outage_ids)
                self.store.execute(f"DELETE FROM outage_meters WHERE {cond}", params)
            if delta.meter_rows.num_rows:
                self.store.upsert_arrow("outage_meters", delta.meter_rows, ("outage_id", "meter_id"))
            if events is not None:
                self.store.upsert_arrow("outage_events", events, ("event_id",))
            if outages is not None:
                self.store.upsert_arrow("outages", outages, ("outage_id",))

    def _where(self, q: OutageQuery) -> tuple[str, list[Any]]:
        conds: list[str] = []
        params: list[Any] = []
        if q.statuses:
            c, p = _in("status", q.statuses)
            conds.append(c)
            params += p
        else:
            conds.append("status <> 'merged'")
        if q.kinds:
            c, p = _in("kind", q.kinds)
            conds.append(c)
            params += p
        for col, val in (
            ("feeder_id", q.feeder_id),
            ("substation_id", q.substation_id),
            ("device_id", q.device_id),
            ("parent_outage_id", q.parent_outage_id),
        ):
            if val is not None:
                conds.append(f"{col} = ?")
                params.append(val)
        if q.since_utc is not None:
            conds.append("start_utc >= ?")
            params.append(q.since_utc)
        if q.until_utc is not None:
            conds.append("start_utc < ?")
            params.append(q.until_utc)
        return " AND ".join(conds), params

    def list_outages(self, query: OutageQuery) -> list[OutageRecord]:
        where, params = self._where(query)
        sql = f"SELECT * FROM outages WHERE {where} ORDER BY start_utc DESC, outage_id DESC LIMIT ? OFFSET ?"
        table = self.store.query_arrow(sql, [*params, query.limit, query.offset], schema=OUTAGES_SCHEMA)
        return _from_arrow(table, OutageRecord)

    def count_outages(self, query: OutageQuery) -> int:
        where, params = self._where(query)
        t = self.store.query_arrow(f"SELECT COUNT(*) AS n FROM outages WHERE {where}", params)
        return int(t.column(0)[0].as_py())

    def get_outage(self, outage_id: str) -> OutageRecord | None:
        t = self.store.query_arrow(
            "SELECT * FROM outages WHERE outage_id = ?", [outage_id], schema=OUTAGES_SCHEMA
        )
        got = _from_arrow(t, OutageRecord)
        return got[0] if got else None

    def list_outage_events(self, outage_id: str) -> list[OutageEventRecord]:
        t = self.store.query_arrow(
            "SELECT * FROM outage_events WHERE outage_id = ? ORDER BY event_id",
            [outage_id],
            schema=OUTAGE_EVENTS_SCHEMA,
        )
        return _from_arrow(t, OutageEventRecord)

    def outage_meter_ids(self, outage_id: str, *, out_only: bool = False) -> list[str]:
        extra = " AND restored_utc IS NULL" if out_only else ""
        t = self.store.query_arrow(
            f"SELECT meter_id FROM outage_meters WHERE outage_id = ?{extra} ORDER BY meter_id", [outage_id]
        )
        return [str(v) for v in t.column(0).to_pylist()]

    def open_outage_state(self) -> tuple[list[OutageRecord], pa.Table, dict[str, int]]:
        records = self.list_outages(OutageQuery(statuses=("proposed", "confirmed"), limit=10_000_000))
        meters = self.store.query_arrow(
            "SELECT m.* FROM outage_meters m JOIN outages o ON o.outage_id = m.outage_id "
            "WHERE o.status IN ('proposed', 'confirmed') AND m.restored_utc IS NULL",
            schema=OUTAGE_METERS_SCHEMA,
        )
        counts = self.store.query_arrow(
            "SELECT e.outage_id, COUNT(*) AS n FROM outage_events e "
            "JOIN outages o ON o.outage_id = e.outage_id "
            "WHERE o.status IN ('proposed', 'confirmed') GROUP BY e.outage_id"
        )
        n = {
            str(k): int(v)
            for k, v in zip(counts.column(0).to_pylist(), counts.column(1).to_pylist(), strict=True)
        }
        return records, meters, n

    def restoration_steps(
        self, since_utc: datetime, until_utc: datetime, *, include_synthetic: bool = False
    ) -> pa.Table:
        real = "" if include_synthetic else " AND NOT coalesce(o.synthetic, FALSE)"
        return self.store.query_arrow(
            "SELECT e.* FROM outage_events e JOIN outages o ON o.outage_id = e.outage_id "
            "WHERE e.event_type IN ('restored', 'partial_restore') "
            f"AND e.start_utc >= ? AND e.start_utc < ?{real}",
            [since_utc, until_utc],
            schema=OUTAGE_EVENTS_SCHEMA,
        )

    def restored_outages(self, since_utc: datetime, *, include_synthetic: bool = False) -> pa.Table:
        real = "" if include_synthetic else " AND NOT coalesce(synthetic, FALSE)"
        return self.store.query_arrow(
            "SELECT kind, device_type, start_utc, restored_utc FROM outages "
            f"WHERE status = 'restored' AND restored_utc >= ?{real}",
            [since_utc],
            schema=pa.schema(
                [OUTAGES_SCHEMA.field(c) for c in ("kind", "device_type", "start_utc", "restored_utc")]
            ),
        )

    def meter_interruptions(
        self, since_utc: datetime, until_utc: datetime, *, include_synthetic: bool = False
    ) -> pa.Table:
        real = "" if include_synthetic else " AND NOT coalesce(o.synthetic, FALSE)"
        return self.store.query_arrow(
            "SELECT m.meter_id, m.out_utc, m.restored_utc, o.feeder_id, o.substation_id "
            "FROM outage_meters m JOIN outages o ON o.outage_id = m.outage_id "
            f"WHERE o.status <> 'merged' AND m.out_utc >= ? AND m.out_utc < ?{real}",
            [since_utc, until_utc],
            schema=pa.schema(
                [
                    OUTAGE_METERS_SCHEMA.field("meter_id"),
                    OUTAGE_METERS_SCHEMA.field("out_utc"),
                    OUTAGE_METERS_SCHEMA.field("restored_utc"),
                    OUTAGES_SCHEMA.field("feeder_id"),
                    OUTAGES_SCHEMA.field("substation_id"),
                ]
            ),
        )

    def _max_seq(self, table: str, column: str, prefix: str) -> int:
        t = self.store.query_arrow(f"SELECT {column} FROM {table} WHERE {column} LIKE ?", [f"{prefix}%"])
        best = 0
        for v in t.column(0).to_pylist():
            tail = str(v)[len(prefix) :]
            if tail.isdigit():
                best = max(best, int(tail))
        return best

    def max_outage_seq(self) -> int:
        return self._max_seq("outages", "outage_id", "OUT-")

    # --- work orders and crews ---------------------------------------------------------------

    def save_work_order(self, wo: WorkOrder) -> None:
        self.store.upsert_arrow("work_orders", _to_arrow([wo], WORK_ORDERS_SCHEMA), ("work_order_id",))

    def get_work_order(self, work_order_id: str) -> WorkOrder | None:
        t = self.store.query_arrow(
            "SELECT * FROM work_orders WHERE work_order_id = ?", [work_order_id], schema=WORK_ORDERS_SCHEMA
        )
        got = _from_arrow(t, WorkOrder)
        return got[0] if got else None

    def list_work_orders(self, query: WorkOrderQuery) -> list[WorkOrder]:
        conds: list[str] = ["1 = 1"]
        params: list[Any] = []
        if query.statuses:
            c, p = _in("status", query.statuses)
            conds.append(c)
            params += p
        for col, val in (
            ("priority", query.priority),
            ("crew_id", query.crew_id),
            ("outage_id", query.outage_id),
            ("asset_id", query.asset_id),
        ):
            if val is not None:
                conds.append(f"{col} = ?")
                params.append(val)
        order = (
            "CASE priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, "
            "created_utc DESC"
        )
        sql = f"SELECT * FROM work_orders WHERE {' AND '.join(conds)} ORDER BY {order} LIMIT ?"
        t = self.store.query_arrow(sql, [*params, query.limit], schema=WORK_ORDERS_SCHEMA)
        return _from_arrow(t, WorkOrder)

    def delete_work_order(self, work_order_id: str) -> bool:
        return self.store.execute("DELETE FROM work_orders WHERE work_order_id = ?", [work_order_id]) > 0

    def max_work_order_seq(self) -> int:
        return self._max_seq("work_orders", "work_order_id", "WO-")

    def save_crews(self, crews: list[Crew]) -> None:
        if crews:
            self.store.upsert_arrow("crews", _to_arrow(crews, CREWS_SCHEMA), ("crew_id",))

    def list_crews(self) -> list[Crew]:
        t = self.store.query_arrow("SELECT * FROM crews ORDER BY crew_id", schema=CREWS_SCHEMA)
        return _from_arrow(t, Crew)
