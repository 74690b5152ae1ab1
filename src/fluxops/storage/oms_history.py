"""Writes the asset-risk failure history into the OMS tables (`fluxops.risk.oms_history` builds it).

One history per store: writing replaces the previous one (rows with ``HIST-`` ids) in one transaction,
and records what was written in ``oms_history`` (grid hash, window, seed, counts). The window's start is
when the utility's outage records begin: the reliability coverage reads it (`history_window_start`) so a
demo whose AMI lake holds days still reports its years of outage history.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import pyarrow as pa

from fluxops.ops.models import OUTAGE_EVENTS_SCHEMA, OUTAGES_SCHEMA, OutageDelta
from fluxops.risk.oms_history import HISTORY_PREFIX
from fluxops.storage.ops_store import OpsTableStore

OMS_HISTORY_SCHEMA = pa.schema(
    [
        pa.field("history_id", pa.string(), nullable=False),  # always "current": one history per store
        pa.field("grid_hash", pa.string(), nullable=False),
        pa.field("written_utc", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("start_utc", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("end_utc", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("years", pa.int64(), nullable=False),
        pa.field("seed", pa.int64(), nullable=False),
        pa.field("outages", pa.int64(), nullable=False),
        pa.field("customer_interruptions", pa.int64(), nullable=False),
    ]
)


class GenericTables(Protocol):
    def query_arrow(
        self, sql: str, params: Sequence[Any] = (), *, schema: pa.Schema | None = None
    ) -> pa.Table: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...

    def ensure_table(self, name: str, schema: pa.Schema, primary_key: tuple[str, ...] = ()) -> None: ...

    def upsert_arrow(self, name: str, table: pa.Table, key: tuple[str, ...]) -> int: ...

    def transaction(self) -> Any: ...


def _to_arrow(records: Sequence[Any], schema: pa.Schema) -> pa.Table:
    rows = [r.to_dict() for r in records]
    return pa.Table.from_pylist([{c: row.get(c) for c in schema.names} for row in rows], schema=schema)


def write_oms_history(
    store: GenericTables,
    delta: OutageDelta,
    *,
    grid_hash: str,
    start_utc: datetime,
    end_utc: datetime,
    years: int,
    seed: int,
) -> dict[str, Any]:
    """Replace the store's historical outages with ``delta`` (atomically) and record the window."""
    OpsTableStore(store).ensure_tables()  # type: ignore[arg-type]
    store.ensure_table("oms_history", OMS_HISTORY_SCHEMA, ("history_id",))
    like = [f"{HISTORY_PREFIX}%"]
    meta = {
        "history_id": "current",
        "grid_hash": grid_hash,
        "written_utc": datetime.now(UTC),
        "start_utc": start_utc,
        "end_utc": end_utc,
        "years": years,
        "seed": seed,
        "outages": len(delta.outages),
        "customer_interruptions": delta.meter_rows.num_rows,
    }
    with store.transaction():
        for table in ("outage_meters", "outage_events", "outages"):
            store.execute(f"DELETE FROM {table} WHERE outage_id LIKE ?", like)
        if delta.meter_rows.num_rows:
            store.upsert_arrow("outage_meters", delta.meter_rows, ("outage_id", "meter_id"))
        if delta.events:
            store.upsert_arrow("outage_events", _to_arrow(delta.events, OUTAGE_EVENTS_SCHEMA), ("event_id",))
        if delta.outages:
            store.upsert_arrow("outages", _to_arrow(delta.outages, OUTAGES_SCHEMA), ("outage_id",))
        store.upsert_arrow(
            "oms_history", pa.Table.from_pylist([meta], schema=OMS_HISTORY_SCHEMA), ("history_id",)
        )
    return meta


def oms_history_meta(store: GenericTables) -> dict[str, Any] | None:
    """What `write_oms_history` last wrote, or None (no history in this store)."""
    store.ensure_table("oms_history", OMS_HISTORY_SCHEMA, ("history_id",))
    t = store.query_arrow("SELECT * FROM oms_history WHERE history_id = 'current'", schema=OMS_HISTORY_SCHEMA)
    rows = t.to_pylist()
    return rows[0] if rows else None


def history_window_start(store: GenericTables) -> datetime | None:
    """When the written outage history begins (reliability coverage), or None."""
    meta = oms_history_meta(store)
    if meta is None:
        return None
    t: datetime = meta["start_utc"]
    return t if t.tzinfo else t.replace(tzinfo=UTC)
