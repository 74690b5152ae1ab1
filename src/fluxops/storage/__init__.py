"""Storage adapters: the embedded DuckDB store (default) and PostgreSQL + PostGIS.

Both implement `fluxops.grid.ports.GridStore` and `fluxops.security.ports.SecurityStore` from one
schema declaration (`fluxops.storage.schema`), plus the generic Arrow table access of `Store`
below for other domains' tables. Only composition roots (api/app.py, cli, tests) call `open_store`.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Literal, Protocol

import pyarrow as pa

from fluxops.core.config import Settings
from fluxops.grid.ports import GridStore
from fluxops.security.ports import SecurityStore

__all__ = ["Store", "open_store"]


class Store(GridStore, SecurityStore, Protocol):
    """What `open_store` returns, on either backend.

    Generic tables (AMI, outages, work orders...): declare a pyarrow schema, ``ensure_table`` it at
    start-up, then write Arrow and query Arrow; group writes that must land together in
    ``transaction()``. SQL uses ``?`` placeholders on both backends (values
    always bound; the PostgreSQL store rewrites ``?`` to ``%s`` outside quoted text, so PostgreSQL's
    jsonb ``?`` operator is unavailable). ``dialect`` tells which SQL flavour runs it when a query
    must differ (e.g. DuckDB ``ST_MakeEnvelope(a, b, c, d)`` vs PostGIS ``ST_MakeEnvelope(a, b, c, d,
    4326)``). Timestamps are ``timestamp[us, tz=UTC]`` columns (``TIMESTAMPTZ``).
    """

    dialect: Literal["duckdb", "postgres"]

    def ensure_table(self, name: str, schema: pa.Schema, primary_key: tuple[str, ...] = ()) -> None:
        """CREATE TABLE IF NOT EXISTS from the pyarrow schema (never alters an existing table)."""
        ...

    def append_arrow(self, name: str, table: pa.Table) -> int:
        """Bulk insert (DuckDB: Arrow scan; PostgreSQL: COPY); returns rows written."""
        ...

    def upsert_arrow(self, name: str, table: pa.Table, key: tuple[str, ...]) -> int:
        """INSERT ... ON CONFLICT (key) DO UPDATE the non-key columns; keys unique within ``table``."""
        ...

    def query_arrow(
        self, sql: str, params: Sequence[Any] = (), *, schema: pa.Schema | None = None
    ) -> pa.Table:
        """A read query as Arrow; with ``schema`` the result is cast to it (also when empty)."""
        ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One write statement in its own transaction (or the thread's open one); returns rows affected."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """``with store.transaction():`` — this thread's ``append_arrow`` / ``upsert_arrow`` /
        ``execute`` / ``ensure_table`` calls inside the block are ONE database transaction: commit on
        normal exit, rollback on exception; reads inside see its writes, nobody else does before the
        commit. Nested ``transaction()`` joins the outer one (a no-op; only the outermost commits);
        an error inside dooms the whole, so a caught error still ends in rollback + `StorageError`.
        """
        ...

    def counts(self) -> dict[str, int]:
        """Row counts of every grid table and ``assets`` from one snapshot."""
        ...


def open_store(settings: Settings) -> Store:
    """Open the store ``settings.store.backend`` names (creating the data directory for DuckDB)."""
    if settings.store.backend == "postgres":
        from fluxops.storage.postgres_store import PostgresStore

        return PostgresStore(settings.store.postgres_dsn, schema=settings.store.postgres_schema)
    from fluxops.storage.duckdb_store import DuckDBStore

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return DuckDBStore(settings.duckdb_path)
