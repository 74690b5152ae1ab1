"""Ordered schema migrations, applied at open by both stores and recorded in ``schema_migrations``.

Each migration is a function of the dialect returning its statements; DDL is generated from the
pyarrow declarations (`fluxops.storage.schema`), so a migration never spells a column type by hand.
Migration 1 creates the schema as declared when it was written; later changes to a declaration
need a new migration here (additive ALTERs), never an edit of an applied one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from fluxops.storage.schema import (
    GRID_TABLES,
    STORE_TABLES,
    Dialect,
    assets_geom_sql,
    create_table_sql,
    ident,
    sql_type,
)
from fluxops.storage.session import Session


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: Callable[[Dialect], list[str]]


def grid_table_ddl(name: str, dialect: Dialect, *, qualifier: str | None = None) -> list[str]:
    """DDL for one swapped grid table (plus the assets geometry column and indexes)."""
    schema, pk = GRID_TABLES[name]
    extra: tuple[str, ...] = ()
    if name == "assets":
        extra = (
            ("geom GEOMETRY NOT NULL",)
            if dialect == "duckdb"
            else (
                f"geom geometry(Geometry, 4326) GENERATED ALWAYS AS ({assets_geom_sql('postgres')}) STORED",
            )
        )
    stmts = [
        create_table_sql(name, schema, dialect, primary_key=pk, qualifier=qualifier, extra_columns=extra)
    ]
    if name == "assets":
        stmts.extend(assets_index_ddl(dialect, qualifier=qualifier))
    return stmts


def assets_index_ddl(dialect: Dialect, *, qualifier: str | None = None, table: str = "assets") -> list[str]:
    target = f"{qualifier}.{table}" if qualifier else table
    if dialect == "duckdb":
        return [f"CREATE INDEX IF NOT EXISTS assets_geom_rtree ON {target} USING RTREE (geom)"]
    return [
        f"CREATE INDEX IF NOT EXISTS assets_geom_gist ON {target} USING GIST (geom)",
        f"CREATE INDEX IF NOT EXISTS assets_feeder_idx ON {target} (feeder_id)",
        f"CREATE INDEX IF NOT EXISTS assets_substation_idx ON {target} (substation_id)",
        f"CREATE INDEX IF NOT EXISTS assets_type_idx ON {target} (asset_type)",
    ]


def _initial(dialect: Dialect) -> list[str]:
    stmts: list[str] = []
    if dialect == "postgres":
        stmts.append("CREATE EXTENSION IF NOT EXISTS postgis SCHEMA public")
    for name, (schema, pk) in STORE_TABLES.items():
        stmts.append(create_table_sql(name, schema, dialect, primary_key=pk))
    stmts.append("CREATE SEQUENCE IF NOT EXISTS audit_log_seq")
    for name in GRID_TABLES:
        stmts.extend(grid_table_ddl(name, dialect))
    return stmts


def _switching(dialect: Dialect) -> list[str]:
    """Switch states, the switching log and switching orders (`fluxops.ops.switching`): read by every
    API request (the live configuration), so they exist from the store's open on."""
    from fluxops.ops.switching import SWITCHING_TABLES

    return [
        create_table_sql(name, schema, dialect, primary_key=pk)
        for name, (schema, pk) in SWITCHING_TABLES.items()
    ]


# Columns added to a grid table after migration 1 (nullable: a stored grid reads them as null until the
# next load, which writes every table from the current declaration anyway).
PREMISE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("meters", "address"),
    ("meters", "zip_code"),
    ("customers", "account_id"),
)


def _premises(dialect: Dialect) -> list[str]:
    """Premise addresses and ZIP codes on meters, account numbers on customers (search by them)."""
    from fluxops.grid.models import TABLES

    stmts = []
    for table, column in PREMISE_COLUMNS:
        f = TABLES[table].field(column)
        stmts.append(
            f"ALTER TABLE {ident(table)} ADD COLUMN IF NOT EXISTS {ident(column)} {sql_type(f.type, dialect)}"
        )
    return stmts


# Phases (issue 11 §2): which of A/B/C each segment, device and meter is on (transformers already had
# ``phase``). Nullable like the premise columns: a grid stored before reads them as unknown until reloaded.
PHASE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("line_segments", "phases"),
    ("devices", "phases"),
    ("meters", "phases"),
)


def _phases(dialect: Dialect) -> list[str]:
    """``phases`` on line segments, devices and meters (single-, two- and three-phase elements)."""
    from fluxops.grid.models import TABLES

    return [
        f"ALTER TABLE {ident(table)} ADD COLUMN IF NOT EXISTS {ident(column)} "
        f"{sql_type(TABLES[table].field(column).type, dialect)}"
        for table, column in PHASE_COLUMNS
    ]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", _initial),
    Migration(2, "switching: switch_overrides, switching_log, switching_orders", _switching),
    Migration(3, "premises: meters.address, meters.zip_code, customers.account_id", _premises),
    Migration(4, "phases: line_segments.phases, devices.phases, meters.phases", _phases),
)


def apply_migrations(s: Session, dialect: Dialect) -> list[int]:
    """Apply pending migrations in order, each in the caller's transaction; returns versions applied."""
    s.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_utc TIMESTAMPTZ NOT NULL)"
    )
    done = {int(r[0]) for r in s.rows("SELECT version FROM schema_migrations")}
    applied: list[int] = []
    for m in MIGRATIONS:
        if m.version in done:
            continue
        for stmt in m.statements(dialect):
            s.execute(stmt)
        s.execute(
            "INSERT INTO schema_migrations (version, name, applied_utc) VALUES (?, ?, ?)",
            [m.version, m.name, datetime.now(UTC)],
        )
        applied.append(m.version)
    return applied
