"""`CascadeRunTableStore`: stored cascade runs (with their inputs) through the store's generic tables.

One table, ``cascade_runs``; inputs, summary and result are JSON text so both DuckDB and PostgreSQL
keep them without dialect-specific JSON types. Writes are keyed upserts: saving a run twice is harmless.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import pyarrow as pa

from fluxops.cascade.ports import RunSummary, StoredRun
from fluxops.core.errors import InvalidInputError

TABLE = "cascade_runs"
SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("name", pa.string(), nullable=False),
        pa.field("created_utc", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("grid_name", pa.string(), nullable=False),
        pa.field("grid_hash", pa.string(), nullable=False),
        pa.field("inputs_json", pa.string(), nullable=False),
        pa.field("summary_json", pa.string(), nullable=False),
        pa.field("result_json", pa.string(), nullable=False),
    ]
)


class GenericTables(Protocol):
    def query_arrow(
        self, sql: str, params: Sequence[Any] = (), *, schema: pa.Schema | None = None
    ) -> pa.Table: ...

    def ensure_table(self, name: str, schema: pa.Schema, primary_key: tuple[str, ...] = ()) -> None: ...

    def upsert_arrow(self, name: str, table: pa.Table, key: tuple[str, ...]) -> int: ...


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, allow_nan=False)


def _utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).astimezone(UTC)


class CascadeRunTableStore:
    """Implements `fluxops.cascade.ports.CascadeRunStore`."""

    def __init__(self, store: GenericTables) -> None:
        self.store = store

    def ensure_tables(self) -> None:
        self.store.ensure_table(TABLE, SCHEMA, ("run_id",))

    def save_run(self, run: StoredRun) -> None:
        row = {
            "run_id": run.run_id,
            "kind": run.kind,
            "name": run.name,
            "created_utc": run.created_utc,
            "grid_name": run.grid_name,
            "grid_hash": run.grid_hash,
            "inputs_json": _dumps(run.inputs),
            "summary_json": _dumps(run.summary),
            "result_json": _dumps(run.result),
        }
        self.store.upsert_arrow(TABLE, pa.Table.from_pylist([row], schema=SCHEMA), ("run_id",))

    def get_run(self, run_id: str) -> StoredRun | None:
        t = self.store.query_arrow(f"SELECT * FROM {TABLE} WHERE run_id = ?", [run_id])
        if t.num_rows == 0:
            return None
        r = t.to_pylist()[0]
        return StoredRun(
            run_id=r["run_id"],
            kind=r["kind"],
            name=r["name"],
            created_utc=_utc(r["created_utc"]),
            grid_name=r["grid_name"],
            grid_hash=r["grid_hash"],
            inputs=json.loads(r["inputs_json"]),
            summary=json.loads(r["summary_json"]),
            result=json.loads(r["result_json"]),
        )

    def list_runs(self, *, kind: str | None = None, limit: int = 10) -> list[RunSummary]:
        if not (1 <= limit <= 1000):
            raise InvalidInputError("limit must be within [1, 1000]", field="limit")
        where, params = ("WHERE kind = ?", [kind]) if kind else ("", [])
        t = self.store.query_arrow(
            f"SELECT run_id, kind, name, created_utc, grid_name, summary_json FROM {TABLE} {where} "
            "ORDER BY created_utc DESC, run_id LIMIT ?",
            [*params, limit],
        )
        return [
            RunSummary(
                run_id=r["run_id"],
                kind=r["kind"],
                name=r["name"],
                created_utc=_utc(r["created_utc"]),
                grid_name=r["grid_name"],
                summary=json.loads(r["summary_json"]),
            )
            for r in t.to_pylist()
        ]
