"""`SqlStore`: the GridStore / SecurityStore logic shared by the DuckDB and PostgreSQL stores.

Subclasses supply sessions (`_read` for a consistent snapshot, `_write` for a serialized
transaction, `_session` for a single statement) and the backend-specific grid swap
(`_stage_and_swap`). Everything here is plain parameterized SQL valid in both dialects.

Transactions are per thread (``self._local.in_write``): while a thread has one open, its `_write`,
`_read` and `_session` calls run inside it (`_joined`) instead of starting their own, which is what
makes `transaction` group several generic-table calls into one commit.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import pandas as pd
import pyarrow as pa

from fluxops.core.errors import ConflictError, InvalidInputError, StorageError
from fluxops.grid.models import ASSET_TYPES, ID_COLUMNS, TABLES, Grid, GridMeta, grid_from_tables
from fluxops.grid.ports import (
    ASSET_STATUSES,
    MAX_PAGE_SIZE,
    AssetPage,
    AssetQuery,
    AssetRow,
    BBox,
    GridInfo,
    LoadReport,
)
from fluxops.storage import loading
from fluxops.storage.schema import ASSET_STATUS, Dialect, create_table_sql, ident
from fluxops.storage.security_tables import SecurityTables, utc
from fluxops.storage.session import Session

_ASSET_COLS = (
    "a.asset_id, a.asset_type, a.name, a.feeder_id, a.substation_id, a.lon, a.lat, "
    "COALESCE(s.status, 'normal') AS status"
)
_ASSET_FROM = "assets a LEFT JOIN asset_status s ON s.asset_id = a.asset_id"
_META_COLS = "name, source, params_json, loaded_utc, content_hash, counts_json"
CURRENT = "current"
S = TypeVar("S")


def _info(row: tuple[Any, ...]) -> GridInfo:
    name, source, params_json, loaded_utc, content_hash, counts_json = row
    return GridInfo(
        name=name,
        source=source,
        params=json.loads(params_json),
        loaded_utc=utc(loaded_utc),
        counts=json.loads(counts_json),
        content_hash=content_hash,
    )


def _asset(row: tuple[Any, ...]) -> AssetRow:
    return AssetRow(
        asset_id=row[0],
        asset_type=row[1],
        name=row[2],
        feeder_id=row[3],
        substation_id=row[4],
        lon=float(row[5]),
        lat=float(row[6]),
        status=row[7],
    )


class SqlStore(SecurityTables):
    """Shared implementation of `GridStore` and `SecurityStore` over `Session`s."""

    backend: str
    dialect: Dialect
    _local: threading.local  # per thread: in_write (a transaction is open), doomed (it must not commit)

    # --- transactions -------------------------------------------------------------------------
    def _in_transaction(self) -> bool:
        return bool(getattr(self._local, "in_write", False))

    @contextmanager
    def _joined(self, session: S) -> Iterator[S]:
        """Statements run inside this thread's open transaction. A failure dooms it: both databases
        refuse further statements in an aborted transaction, and PostgreSQL answers a COMMIT there
        with a silent ROLLBACK — so the outermost `_write` must roll back and raise instead of
        reporting success, even when the caller caught the error."""
        try:
            yield session
        except BaseException:
            self._local.doomed = True
            raise

    def _check_not_doomed(self) -> None:
        """Called by the outermost `_write` before COMMIT (it rolls back when this raises)."""
        if getattr(self._local, "doomed", False):
            raise StorageError(
                "transaction rolled back: a statement inside it failed and the error was caught "
                "before the transaction ended"
            )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run this thread's generic-table writes (`append_arrow`, `upsert_arrow`, `execute`, and
        ``ensure_table``) as ONE database transaction: committed when the block exits normally,
        rolled back when it raises. Reads (`query_arrow`) inside it see its own uncommitted writes;
        other threads and processes see none of them until the commit.

        Per thread: calls made from other threads are not part of it (on DuckDB their writes wait
        for the commit, since this holds the store's write lock; keep the block short). Nesting
        joins: an inner ``transaction()`` is a no-op that runs inside the outer one, and only the
        outermost commits. An exception inside the transaction dooms all of it — if the caller
        catches it and carries on, the outermost exit rolls back and raises `StorageError` instead
        of committing a partial step.
        """
        with self._write():
            yield

    # --- supplied by the backend -------------------------------------------------------------
    def _session(self) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def _stage_and_swap(self, s: Session, tables: dict[str, pa.Table], meta_row: list[Any]) -> None:
        raise NotImplementedError

    def _bbox_sql(self, alias: str) -> str:
        """Filter "the asset's bounding box meets the query box" on table ``alias``.

        Takes eight ``?`` parameters, `_bbox_params` order. Backends differ in how they find the
        candidates fast (see docs/benchmarks/bbox.md); the min/max columns make it exact in doubles.
        """
        return (
            f"{alias}.max_lon >= ? AND {alias}.min_lon <= ? AND {alias}.max_lat >= ? AND {alias}.min_lat <= ?"
        )

    @staticmethod
    def _bbox_params(b: BBox) -> list[float]:
        return [b.min_lon, b.max_lon, b.min_lat, b.max_lat]

    # --- grid ---------------------------------------------------------------------------------
    def get_grid_info(self) -> GridInfo | None:
        with self._session() as s:
            rows = s.rows(f"SELECT {_META_COLS} FROM grid_meta WHERE grid_key = ?", [CURRENT])
        return _info(rows[0]) if rows else None

    def load_grid(self, grid: Grid) -> LoadReport:
        """Replace the stored grid atomically; a grid with the loaded content hash changes nothing."""
        started = time.perf_counter()
        digest = loading.content_hash(grid)
        current = self.get_grid_info()
        if current is not None and current.content_hash == digest:
            return LoadReport(info=current, changed=False, seconds=time.perf_counter() - started)
        tables = {name: loading.canonical_arrow(grid, name) for name in TABLES}
        tables["assets"] = loading.asset_table(grid)
        counts = {name: t.num_rows for name, t in tables.items()}
        info = GridInfo(
            name=grid.meta.name,
            source=grid.meta.source,
            params=json.loads(loading.meta_json(grid)),
            loaded_utc=datetime.now(UTC),
            counts=counts,
            content_hash=digest,
        )
        meta_row = [
            CURRENT,
            info.name,
            info.source,
            json.dumps(info.params, sort_keys=True),
            info.loaded_utc,
            digest,
            json.dumps(counts),
        ]
        with self._write() as s:
            self._stage_and_swap(s, tables, meta_row)
        return LoadReport(info=info, changed=True, seconds=time.perf_counter() - started, rows=counts)

    def _finish_swap(self, s: Session, meta_row: list[Any]) -> None:
        """Inside the swap transaction: statuses reset to normal, meta points at the new grid."""
        s.execute("DELETE FROM asset_status")
        s.execute("DELETE FROM grid_meta")
        s.execute(f"INSERT INTO grid_meta (grid_key, {_META_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)", meta_row)

    def read_grid(self) -> Grid | None:
        """The loaded grid, rows in load order (grid tables are never updated in place)."""
        with self._read() as s:
            rows = s.rows("SELECT name, source, params_json FROM grid_meta WHERE grid_key = ?", [CURRENT])
            if not rows:
                return None
            name, source, params_json = rows[0]
            frames: dict[str, pd.DataFrame] = {}
            for table, schema in TABLES.items():
                cols = ", ".join(ident(c) for c in schema.names)
                frames[table] = s.arrow(f"SELECT {cols} FROM {ident(table)}", schema=schema).to_pandas()
        return grid_from_tables(GridMeta(name=name, source=source, params=json.loads(params_json)), frames)

    def list_assets(self, query: AssetQuery) -> AssetPage:
        if not 1 <= query.limit <= MAX_PAGE_SIZE:
            raise InvalidInputError(f"limit must be between 1 and {MAX_PAGE_SIZE}", field="limit")
        where: list[str] = []
        params: list[Any] = []
        if query.types:
            unknown = sorted(set(query.types) - set(ASSET_TYPES))
            if unknown:
                raise InvalidInputError(f"unknown asset type(s) {unknown}", field="type")
            where.append(f"a.asset_type IN ({', '.join('?' * len(query.types))})")
            params.extend(query.types)
        if query.statuses:
            unknown = sorted(set(query.statuses) - set(ASSET_STATUSES))
            if unknown:
                raise InvalidInputError(f"unknown status(es) {unknown}", field="status")
            where.append(f"COALESCE(s.status, 'normal') IN ({', '.join('?' * len(query.statuses))})")
            params.extend(query.statuses)
        if query.feeder_id is not None:
            where.append("a.feeder_id = ?")
            params.append(query.feeder_id)
        if query.substation_id is not None:
            where.append("a.substation_id = ?")
            params.append(query.substation_id)
        if query.transformer_id is not None:
            where.append("a.asset_id IN (SELECT meter_id FROM meters WHERE transformer_id = ?)")
            params.append(query.transformer_id)
        if query.bbox is not None:
            where.append(self._bbox_sql("a"))
            params.extend(self._bbox_params(query.bbox))
        if query.cursor is not None:
            where.append("a.asset_id > ?")
            params.append(query.cursor)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        sql = f"SELECT {_ASSET_COLS} FROM {_ASSET_FROM} {clause} ORDER BY a.asset_id LIMIT ?"
        params.append(query.limit + 1)
        with self._session() as s:
            rows = s.rows(sql, params)
        items = [_asset(r) for r in rows[: query.limit]]
        next_cursor = items[-1].asset_id if len(rows) > query.limit else None
        return AssetPage(items=items, next_cursor=next_cursor)

    def get_asset(self, asset_id: str) -> AssetRow | None:
        with self._session() as s:
            rows = s.rows(f"SELECT {_ASSET_COLS} FROM {_ASSET_FROM} WHERE a.asset_id = ?", [asset_id])
        return _asset(rows[0]) if rows else None

    def get_element(self, table: str, element_id: str) -> dict[str, Any] | None:
        if table not in TABLES:
            raise InvalidInputError(f"unknown element table {table!r}", field="table")
        cols = TABLES[table].names
        sql = f"SELECT {', '.join(cols)} FROM {ident(table)} WHERE {ident(ID_COLUMNS[table])} = ?"
        with self._session() as s:
            rows = s.rows(sql, [element_id])
        if not rows:
            return None
        return {
            c: (bytes(v) if isinstance(v, bytes | memoryview) else v)
            for c, v in zip(cols, rows[0], strict=True)
        }

    def count_assets_by_type(self) -> dict[str, int]:
        with self._session() as s:
            rows = s.rows("SELECT asset_type, COUNT(*) FROM assets GROUP BY asset_type ORDER BY asset_type")
        return {str(t): int(n) for t, n in rows}

    def set_asset_status(self, statuses: dict[str, str]) -> int:
        """Upsert statuses; unknown ids or statuses raise and write nothing. Returns rows changed."""
        if not statuses:
            return 0
        bad = sorted({v for v in statuses.values() if v not in ASSET_STATUSES})
        if bad:
            raise InvalidInputError(f"unknown status(es) {bad}", field="status")
        now = datetime.now(UTC)
        data = pa.table(
            {
                "asset_id": list(statuses),
                "status": list(statuses.values()),
                "updated_utc": pa.array([now] * len(statuses), type=ASSET_STATUS.field("updated_utc").type),
            },
            schema=ASSET_STATUS,
        )
        with self._write() as s:
            s.execute("DROP TABLE IF EXISTS tmp_status_in")
            # Copy the column types (and PostgreSQL collations) of the target table.
            s.execute("CREATE TEMP TABLE tmp_status_in AS SELECT * FROM asset_status WHERE 1 = 0")
            s.bulk_insert("tmp_status_in", data)
            unknown = s.rows(
                "SELECT i.asset_id FROM tmp_status_in i LEFT JOIN assets a ON a.asset_id = i.asset_id "
                "WHERE a.asset_id IS NULL ORDER BY i.asset_id LIMIT 100"
            )
            if unknown:
                ids = [r[0] for r in unknown]
                raise InvalidInputError(
                    f"unknown asset id(s) {ids[:5]}", field="asset_id", details={"ids": ids}
                )
            changed = s.rows(
                "SELECT COUNT(*) FROM tmp_status_in i LEFT JOIN asset_status s ON s.asset_id = i.asset_id "
                "WHERE COALESCE(s.status, 'normal') <> i.status"
            )[0][0]
            s.execute(
                "INSERT INTO asset_status (asset_id, status, updated_utc) "
                "SELECT asset_id, status, updated_utc FROM tmp_status_in "
                "ON CONFLICT (asset_id) DO UPDATE "
                "SET status = excluded.status, updated_utc = excluded.updated_utc"
            )
            s.execute("DROP TABLE tmp_status_in")
        return int(changed)

    def _counts(self, s: Session) -> dict[str, int]:
        names = [*TABLES, "assets"]
        sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {ident(n)})" for n in names)
        return dict(zip(names, (int(v) for v in s.rows(sql)[0]), strict=True))

    def counts(self) -> dict[str, int]:
        """Row counts of every grid table and ``assets``, from one consistent snapshot."""
        with self._read() as s:
            return self._counts(s)

    # --- generic tables for other domains ---------------------------------------------------
    def query_arrow(
        self, sql: str, params: Sequence[Any] = (), *, schema: pa.Schema | None = None
    ) -> pa.Table:
        """Run a read query (``?`` placeholders on both backends) and return Arrow."""
        with self._session() as s:
            return s.arrow(sql, params, schema)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one write statement (``?`` placeholders) in its own serialized transaction (or in
        this thread's open `transaction`)."""
        with self._write() as s:
            return s.execute(sql, params)

    def ensure_table(self, name: str, schema: pa.Schema, primary_key: tuple[str, ...] = ()) -> None:
        """Create a domain table from its pyarrow schema if absent (never alters an existing one)."""
        sql = create_table_sql(name, schema, self.dialect, primary_key=primary_key)
        try:
            with self._write() as s:
                s.execute(sql)
        except ConflictError:
            # Another process created it at the same moment (`fluxops serve --workers N` starting up):
            # PostgreSQL's IF NOT EXISTS is not atomic across sessions, the loser hits pg_type's unique
            # index. The table exists now, so the same statement is a no-op.
            with self._write() as s:
                s.execute(sql)

    def append_arrow(self, name: str, table: pa.Table) -> int:
        """Bulk-append rows (columns matched by name) in one transaction (or this thread's open
        `transaction`); returns rows written."""
        with self._write() as s:
            return s.bulk_insert(ident(name), table)

    def upsert_arrow(self, name: str, table: pa.Table, key: tuple[str, ...]) -> int:
        """Insert rows, updating non-key columns of rows whose ``key`` exists (keys unique in ``table``).

        ``key`` must be the table's primary key (or another unique constraint). Returns rows written.
        """
        cols = [ident(c) for c in table.column_names]
        keys = [ident(k) for k in key]
        if not keys or any(k not in cols for k in keys):
            raise InvalidInputError(f"upsert key {list(key)} must be columns of the data", field="key")
        rest = [c for c in cols if c not in keys]
        action = "DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in rest) if rest else "DO NOTHING"
        tmp = ident(f"tmp_upsert_{name}"[:63])
        col_list = ", ".join(cols)
        with self._write() as s:
            s.execute(f"DROP TABLE IF EXISTS {tmp}")
            s.execute(f"CREATE TEMP TABLE {tmp} AS SELECT {col_list} FROM {ident(name)} WHERE 1 = 0")
            s.bulk_insert(tmp, table)
            written = s.execute(
                f"INSERT INTO {ident(name)} ({col_list}) SELECT {col_list} FROM {tmp} "
                f"ON CONFLICT ({', '.join(keys)}) {action}"
            )
            s.execute(f"DROP TABLE {tmp}")
        return written
