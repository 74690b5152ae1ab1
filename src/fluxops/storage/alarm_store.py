"""`AlarmAckTableStore`: acknowledgements of alarms (`fluxops.ops.alarms`) in the store's generic Arrow
tables, so one adapter serves DuckDB and PostgreSQL alike. The table is created when the API starts
(`ensure_tables`, `CREATE TABLE IF NOT EXISTS`); the first acknowledgement of an alarm wins."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any, Protocol

import pyarrow as pa

from fluxops.ops.alarms import ALARM_ACKS_SCHEMA, ALARM_TABLES, AlarmAck


class GenericTables(Protocol):
    def query_arrow(
        self, sql: str, params: Sequence[Any] = (), *, schema: pa.Schema | None = None
    ) -> pa.Table: ...

    def ensure_table(self, name: str, schema: pa.Schema, primary_key: tuple[str, ...] = ()) -> None: ...

    def upsert_arrow(self, name: str, table: pa.Table, key: tuple[str, ...]) -> int: ...


def _ack(row: dict[str, Any]) -> AlarmAck:
    t = row["acknowledged_utc"]
    t = t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
    return AlarmAck(row["alarm_id"], row["acknowledged_by"], t, row.get("note"))


class AlarmAckTableStore:
    def __init__(self, store: GenericTables) -> None:
        self.store = store

    def ensure_tables(self) -> None:
        for name, (schema, key) in ALARM_TABLES.items():
            self.store.ensure_table(name, schema, key)

    def list_acks(self) -> dict[str, AlarmAck]:
        t = self.store.query_arrow("SELECT * FROM alarm_acks", schema=ALARM_ACKS_SCHEMA)
        return {r["alarm_id"]: _ack(r) for r in t.to_pylist()}

    def get_ack(self, alarm_id: str) -> AlarmAck | None:
        t = self.store.query_arrow(
            "SELECT * FROM alarm_acks WHERE alarm_id = ?", [alarm_id], schema=ALARM_ACKS_SCHEMA
        )
        rows = t.to_pylist()
        return _ack(rows[0]) if rows else None

    def put_ack(self, ack: AlarmAck) -> AlarmAck:
        """Record ``ack`` unless the alarm is already acknowledged; returns the stored one."""
        existing = self.get_ack(ack.alarm_id)
        if existing is not None:
            return existing
        row = {
            "alarm_id": ack.alarm_id,
            "acknowledged_by": ack.acknowledged_by,
            "acknowledged_utc": ack.acknowledged_utc.astimezone(UTC),
            "note": ack.note,
        }
        self.store.upsert_arrow(
            "alarm_acks", pa.Table.from_pylist([row], schema=ALARM_ACKS_SCHEMA), ("alarm_id",)
        )
        return ack
