"""The production store: PostgreSQL 15 + PostGIS, schema through migrations, bulk load via COPY.

Connections: one per thread (autocommit; explicit transactions), ``search_path`` set to the store's
schema then ``public`` (where PostGIS lives), ``TimeZone`` UTC.

Atomic load: the new grid is COPYed into tables of a staging schema (``<schema>_stage``), indexed
and analyzed, then — still in the same transaction — ``grid_meta`` and every live grid table are
locked, dropped, and the staged tables moved in with ``ALTER TABLE ... SET SCHEMA``. Readers that
touch several tables (`_read`) first take a share lock on ``grid_meta`` inside a REPEATABLE READ
transaction, before their snapshot exists, so they see the old grid or the new one, never a mix;
single-statement readers wait for the swap and then resolve names to the new tables.

Generic tables for other domains: see `fluxops.storage.duckdb_store` (same methods, ``?`` placeholders
here too, rewritten to psycopg's ``%s``; a literal ``?`` operator cannot be used).
``with store.transaction():`` (`SqlStore.transaction`) runs a thread's generic-table calls on its
connection inside one READ COMMITTED transaction; concurrent writers of other threads are ordered by
PostgreSQL's row locks, and readers see all of its writes or none.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from fluxops.core.errors import CapabilityError, ConflictError, FluxOpsError, StorageError
from fluxops.grid.ports import BBox
from fluxops.storage import loading
from fluxops.storage.migrations import apply_migrations, assets_index_ddl, grid_table_ddl
from fluxops.storage.schema import SWAPPED_TABLES, Dialect, ident
from fluxops.storage.sql_store import SqlStore

try:
    import psycopg
except ImportError:  # pragma: no cover - the [postgres] extra
    psycopg = None  # type: ignore[assignment]

_COPY_BATCH_ROWS = 100_000


def to_pyformat(sql: str) -> str:
    """Rewrite ``?`` placeholders (outside quotes) to ``%s`` and escape literal ``%`` for psycopg."""
    out: list[str] = []
    quote: str | None = None
    for ch in sql:
        if quote is not None:
            if ch == quote:
                quote = None
            out.append("%%" if ch == "%" else ch)
        elif ch in ("'", '"'):
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        else:
            out.append("%%" if ch == "%" else ch)
    return "".join(out)


def _translate(exc: Exception) -> FluxOpsError:
    """Driver errors become domain errors (the API maps those; a raw driver error would be a 500)."""
    if isinstance(exc, psycopg.errors.IntegrityError):
        return ConflictError(f"constraint violated: {exc}")
    return StorageError(f"PostgreSQL: {exc}")


def _has(schema: pa.Schema, pred: Any) -> bool:
    return any(pred(f.type) for f in schema)


class _PgSession:
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def _run(self, sql: str, params: Sequence[Any]) -> Any:
        cur = self.conn.cursor()
        try:
            if params:
                cur.execute(to_pyformat(sql), list(params))
            else:
                cur.execute(sql)
        except psycopg.Error as exc:
            raise _translate(exc) from exc
        return cur

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return int(self._run(sql, params).rowcount)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._run(sql, params).fetchall())

    def arrow(self, sql: str, params: Sequence[Any] = (), schema: pa.Schema | None = None) -> pa.Table:
        if not params and schema is not None and not _has(schema, pa.types.is_timestamp):
            # Whole-table reads (read_grid) stream through COPY, parsed by Arrow: no Python rows.
            buf = bytearray()
            try:
                with self.conn.cursor().copy(f"COPY ({sql}) TO STDOUT (FORMAT csv, HEADER true)") as cp:
                    for chunk in cp:
                        buf += chunk
            except psycopg.Error as exc:
                raise _translate(exc) from exc
            return loading.from_copy_csv(bytes(buf), schema)
        cur = self._run(sql, params)
        names = [d.name for d in cur.description]
        columns = list(zip(*cur.fetchall(), strict=True)) or [()] * len(names)
        if schema is not None:
            arrays = [
                pa.array(list(col), type=schema.field(n).type) for n, col in zip(names, columns, strict=True)
            ]
            return pa.table(arrays, schema=schema)
        return pa.table({n: pa.array(list(col)) for n, col in zip(names, columns, strict=True)})

    def bulk_insert(self, table: str, data: pa.Table) -> int:
        cols = ", ".join(ident(c) for c in data.column_names)
        name = ".".join(ident(p) for p in table.split("."))
        opts = pacsv.WriteOptions(include_header=False)
        try:
            with self.conn.cursor().copy(f"COPY {name} ({cols}) FROM STDIN (FORMAT csv)") as cp:
                for start in range(0, data.num_rows, _COPY_BATCH_ROWS):
                    cp.write(loading.to_copy_csv(data.slice(start, _COPY_BATCH_ROWS), opts))
        except psycopg.Error as exc:
            raise _translate(exc) from exc
        return int(data.num_rows)


class PostgresStore(SqlStore):
    """GridStore + SecurityStore + generic tables in one PostgreSQL schema."""

    backend = "postgres"
    dialect: Dialect = "postgres"

    def __init__(self, dsn: str, schema: str = "fluxops") -> None:
        if psycopg is None:
            raise CapabilityError("PostgreSQL support needs the [postgres] extra (psycopg)")
        self.dsn = dsn
        self.schema = ident(schema)
        self.stage_schema = ident(f"{schema}_stage")
        self._local = threading.local()
        self._conns: list[tuple[threading.Thread, Any]] = []  # (owning thread, its connection)
        self._conns_lock = threading.Lock()
        self._closed = False
        conn = self._conn(init_schema=True)
        with self._write() as s:
            s.execute("SELECT pg_advisory_xact_lock(?)", [self._lock_key("migrate")])
            try:
                apply_migrations(s, "postgres")
            except psycopg.errors.FeatureNotSupported as exc:  # pragma: no cover - no PostGIS
                raise CapabilityError(f"PostGIS is not available on this server: {exc}") from exc
        del conn

    def _lock_key(self, what: str) -> int:
        return zlib.crc32(f"fluxops:{self.schema}:{what}".encode())

    def _conn(self, *, init_schema: bool = False) -> Any:
        if self._closed:
            raise StorageError("store is closed")
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            try:
                conn = psycopg.connect(self.dsn, autocommit=True)
            except psycopg.OperationalError as exc:
                raise StorageError(f"cannot connect to PostgreSQL: {exc}") from exc
            if init_schema:
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
            conn.execute(f"SET search_path TO {self.schema}, public")
            conn.execute("SET TimeZone TO 'UTC'")
            conn.execute("SET synchronize_seqscans TO off")  # whole-table reads return load order
            self._local.conn = conn
            with self._conns_lock:
                # A server's request threads come and go (the thread pool retires idle ones): close the
                # connections of threads that ended, or they stay open until the server runs out of
                # them ("too many clients" under load with several workers).
                kept = []
                for thread, c in self._conns:
                    if thread.is_alive():
                        kept.append((thread, c))
                    else:
                        c.close()
                kept.append((threading.current_thread(), conn))
                self._conns = kept
        return conn

    @contextmanager
    def _session(self) -> Iterator[_PgSession]:
        session = _PgSession(self._conn())
        if self._in_transaction():  # the thread's connection is inside its open transaction
            with self._joined(session) as joined:
                yield joined
            return
        yield session

    @contextmanager
    def _read(self) -> Iterator[_PgSession]:
        conn = self._conn()
        if self._in_transaction():
            # Inside this thread's write transaction: read its state (a BEGIN here would only warn,
            # and the COMMIT below would commit the caller's transaction half-way).
            with self._joined(_PgSession(conn)) as joined:
                yield joined
            return
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            # LOCK takes no snapshot: the snapshot starts after a concurrent swap has committed.
            conn.execute("LOCK TABLE grid_meta IN ACCESS SHARE MODE")
            yield _PgSession(conn)
        finally:
            conn.execute("COMMIT")

    @contextmanager
    def _write(self) -> Iterator[_PgSession]:
        conn = self._conn()
        if self._in_transaction():
            with self._joined(_PgSession(conn)) as joined:
                yield joined
            return
        conn.execute("BEGIN")
        self._local.in_write = True
        self._local.doomed = False
        try:
            yield _PgSession(conn)
            self._check_not_doomed()
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            try:
                conn.execute("COMMIT")
            except psycopg.Error as exc:
                raise _translate(exc) from exc
        finally:
            self._local.in_write = False
            self._local.doomed = False

    def _bbox_sql(self, alias: str) -> str:
        """GiST finds candidates (``&&``: float4 boxes, rounded outward), min/max makes it exact."""
        return f"{alias}.geom && ST_MakeEnvelope(?, ?, ?, ?, 4326) AND {super()._bbox_sql(alias)}"

    @staticmethod
    def _bbox_params(b: BBox) -> list[float]:
        return [b.min_lon, b.min_lat, b.max_lon, b.max_lat, b.min_lon, b.max_lon, b.min_lat, b.max_lat]

    def _stage_and_swap(self, s: Any, tables: dict[str, pa.Table], meta_row: list[Any]) -> None:
        session: _PgSession = s
        session.execute("SELECT pg_advisory_xact_lock(?)", [self._lock_key("load")])
        stage = self.stage_schema
        session.execute(f"CREATE SCHEMA IF NOT EXISTS {stage}")
        for name, data in tables.items():
            session.execute(f"DROP TABLE IF EXISTS {stage}.{ident(name)}")
            session.execute(grid_table_ddl(name, "postgres", qualifier=stage)[0])  # table only
            session.bulk_insert(f"{stage}.{ident(name)}", data)
            if name == "assets":
                for stmt in assets_index_ddl("postgres", qualifier=stage):
                    session.execute(stmt)
            session.execute(f"ANALYZE {stage}.{ident(name)}")
        session.execute("LOCK TABLE grid_meta IN ACCESS EXCLUSIVE MODE")
        live = ", ".join(ident(n) for n in SWAPPED_TABLES)
        session.execute(f"LOCK TABLE {live} IN ACCESS EXCLUSIVE MODE")
        for name in SWAPPED_TABLES:
            session.execute(f"DROP TABLE {ident(name)}")
            session.execute(f"ALTER TABLE {stage}.{ident(name)} SET SCHEMA {self.schema}")
        self._finish_swap(session, meta_row)

    def health(self) -> dict[str, Any]:
        info = self.get_grid_info()
        with self._session() as s:
            postgis = s.rows("SELECT postgis_lib_version()")[0][0]
            server = s.rows("SHOW server_version")[0][0]
        return {
            "ok": True,
            "backend": self.backend,
            "schema": self.schema,
            "server_version": server,
            "postgis_version": postgis,
            "grid_loaded": info is not None,
            "grid": info.name if info else None,
            "content_hash": info.content_hash if info else None,
            "counts": self.counts() if info else {},
        }

    def drop_schema(self) -> None:
        """Drop this store's schemas and everything in them (tests and `fluxops` resets)."""
        with self._write() as s:
            s.execute(f"DROP SCHEMA IF EXISTS {self.stage_schema} CASCADE")
            s.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self._conns_lock:
            for _thread, conn in self._conns:
                conn.close()
            self._conns.clear()
