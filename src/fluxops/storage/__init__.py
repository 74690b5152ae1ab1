"""Storage adapters: the embedded DuckDB store (default) and PostgreSQL + PostGIS.

Both implement `fluxops.grid.ports.GridStore` and `fluxops.security.ports.SecurityStore` from one
schema declaration (`fluxops.storage.schema`), plus generic Arrow table access for other domains
(see `fluxops.storage.duckdb_store`). Only composition roots (api/app.py, cli, tests) call
`open_store`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fluxops.core.config import Settings

if TYPE_CHECKING:
    from fluxops.storage.duckdb_store import DuckDBStore
    from fluxops.storage.postgres_store import PostgresStore

    Store = DuckDBStore | PostgresStore

__all__ = ["open_store"]


def open_store(settings: Settings) -> DuckDBStore | PostgresStore:
    """Open the store ``settings.store.backend`` names (creating the data directory for DuckDB)."""
    if settings.store.backend == "postgres":
        from fluxops.storage.postgres_store import PostgresStore

        return PostgresStore(settings.store.postgres_dsn, schema=settings.store.postgres_schema)
    from fluxops.storage.duckdb_store import DuckDBStore

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return DuckDBStore(settings.duckdb_path)
