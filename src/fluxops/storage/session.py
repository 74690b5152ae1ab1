"""The few SQL primitives both stores provide, so the grid and security logic is written once.

SQL handed to a `Session` uses ``?`` placeholders on both backends (DuckDB's native style; the
PostgreSQL session rewrites them to psycopg's ``%s`` outside quoted text). Values are always bound
parameters; identifiers come from declared schemas and pass `fluxops.storage.schema.ident`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import pyarrow as pa


class Session(Protocol):
    """One connection, inside or outside a transaction, as the store hands it to shared code."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return the number of rows it affected (-1 when not applicable)."""
        ...

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def arrow(self, sql: str, params: Sequence[Any] = (), schema: pa.Schema | None = None) -> pa.Table:
        """Run a query and return Arrow; with ``schema``, cast to it (and use it for empty results)."""
        ...

    def bulk_insert(self, table: str, data: pa.Table) -> int:
        """Insert every row of ``data`` into ``table`` (columns by name) in one bulk operation."""
        ...
