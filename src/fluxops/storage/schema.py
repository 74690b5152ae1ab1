"""One schema declaration, two SQL dialects.

Every stored table is declared once as a pyarrow schema: the grid tables in
`fluxops.grid.models.TABLES`, the store's own tables below (`STORE_TABLES`), and other domains'
tables wherever those domains declare them. `create_table_sql` turns any of them into DuckDB or
PostgreSQL DDL, so the two backends cannot drift apart (the seed's lesson: pandapower keeps two
sources of table structure and they disagree).

Identifiers in generated SQL come only from these declarations and are checked by `ident`; values
never appear in SQL text (they travel as bound parameters).
"""

from __future__ import annotations

import re
from typing import Literal

import pyarrow as pa

from fluxops.grid.models import ID_COLUMNS, TABLES

Dialect = Literal["duckdb", "postgres"]
DIALECTS: tuple[Dialect, ...] = ("duckdb", "postgres")

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

_s = pa.string()
_f = pa.float64()
_ts = pa.timestamp("us", tz="UTC")

# --- the store's own tables ---------------------------------------------------------------------

# One row: the grid currently loaded. ``params_json``/``counts_json`` are JSON text (portable across
# both dialects; nobody queries inside them).
GRID_META = pa.schema(
    [
        pa.field("grid_key", _s, nullable=False),  # always "current"
        pa.field("name", _s, nullable=False),
        pa.field("source", _s, nullable=False),
        pa.field("params_json", _s, nullable=False),
        pa.field("loaded_utc", _ts, nullable=False),
        pa.field("content_hash", _s, nullable=False),
        pa.field("counts_json", _s, nullable=False),
    ]
)

# Every addressable element with its type, a representative point and its bounding box. Produced by
# `fluxops.grid.assets.asset_index`; the store adds a spatially indexed geometry column (`geom`, the
# bounding box as a geometry) that is not part of this Arrow schema.
ASSETS = pa.schema(
    [
        pa.field("asset_id", _s, nullable=False),
        pa.field("asset_type", _s, nullable=False),
        pa.field("name", _s, nullable=False),
        pa.field("feeder_id", _s, nullable=True),
        pa.field("substation_id", _s, nullable=True),
        pa.field("lon", _f, nullable=False),
        pa.field("lat", _f, nullable=False),
        pa.field("min_lon", _f, nullable=False),
        pa.field("min_lat", _f, nullable=False),
        pa.field("max_lon", _f, nullable=False),
        pa.field("max_lat", _f, nullable=False),
    ]
)

ASSET_STATUS = pa.schema(
    [
        pa.field("asset_id", _s, nullable=False),
        pa.field("status", _s, nullable=False),  # fluxops.grid.ports.ASSET_STATUSES
        pa.field("updated_utc", _ts, nullable=False),
    ]
)

API_KEYS = pa.schema(
    [
        pa.field("key_id", _s, nullable=False),
        pa.field("key_hash", _s, nullable=False),
        pa.field("role", _s, nullable=False),
        pa.field("label", _s, nullable=False),
        pa.field("created_utc", _ts, nullable=False),
        pa.field("revoked", pa.bool_(), nullable=False),
    ]
)

AUDIT_LOG = pa.schema(
    [
        pa.field("seq", pa.int64(), nullable=False),  # insertion order, assigned by the store
        pa.field("at_utc", _ts, nullable=False),
        pa.field("actor", _s, nullable=False),
        pa.field("role", _s, nullable=False),
        pa.field("method", _s, nullable=False),
        pa.field("path", _s, nullable=False),
        pa.field("status_code", pa.int32(), nullable=False),
        pa.field("detail_json", _s, nullable=False),
    ]
)

# name -> (schema, primary key). Grid tables are swapped as a whole on every load; the others persist.
STORE_TABLES: dict[str, tuple[pa.Schema, tuple[str, ...]]] = {
    "grid_meta": (GRID_META, ("grid_key",)),
    "asset_status": (ASSET_STATUS, ("asset_id",)),
    "api_keys": (API_KEYS, ("key_id",)),
    "audit_log": (AUDIT_LOG, ("seq",)),
}
GRID_TABLES: dict[str, tuple[pa.Schema, tuple[str, ...]]] = {
    **{name: (schema, (ID_COLUMNS[name],)) for name, schema in TABLES.items()},
    "assets": (ASSETS, ("asset_id",)),
}
# Tables replaced atomically by a grid load, in a fixed order (also the lock order).
SWAPPED_TABLES: tuple[str, ...] = tuple(GRID_TABLES)

# --- DDL generation -------------------------------------------------------------------------------


def ident(name: str) -> str:
    """Return ``name`` if it is a plain lower-case SQL identifier, else raise ValueError.

    Identifiers cannot be bound as parameters, so every one spliced into SQL passes through here.
    """
    if not _IDENT.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name


def sql_type(dtype: pa.DataType, dialect: Dialect) -> str:
    """The column type for an Arrow type (the subset the product declares)."""
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        # Byte-order collation on PostgreSQL, as DuckDB: same ORDER BY (and cursor pages) on both.
        return "VARCHAR" if dialect == "duckdb" else 'TEXT COLLATE "C"'
    if pa.types.is_float64(dtype):
        return "DOUBLE" if dialect == "duckdb" else "DOUBLE PRECISION"
    if pa.types.is_float32(dtype):
        return "FLOAT" if dialect == "duckdb" else "REAL"
    if pa.types.is_int64(dtype):
        return "BIGINT"
    if pa.types.is_int32(dtype):
        return "INTEGER"
    if pa.types.is_int16(dtype) or pa.types.is_int8(dtype):
        return "SMALLINT"
    if pa.types.is_boolean(dtype):
        return "BOOLEAN"
    if pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype):
        return "BLOB" if dialect == "duckdb" else "BYTEA"
    if pa.types.is_timestamp(dtype):
        if dtype.tz is None:
            raise ValueError("timestamps must be tz-aware UTC (names end in _utc)")
        return "TIMESTAMPTZ"
    if pa.types.is_date32(dtype):
        return "DATE"
    raise ValueError(f"no SQL type declared for Arrow type {dtype}")


def create_table_sql(
    name: str,
    schema: pa.Schema,
    dialect: Dialect,
    *,
    primary_key: tuple[str, ...] = (),
    qualifier: str | None = None,
    extra_columns: tuple[str, ...] = (),
    if_not_exists: bool = True,
) -> str:
    """``CREATE TABLE`` for a pyarrow schema: column order, types and NOT NULL follow the schema.

    ``qualifier`` is a schema name (PostgreSQL); ``extra_columns`` are dialect-specific column
    definitions appended verbatim (the store's own geometry column; never user input).
    """
    cols = [f"{ident(f.name)} {sql_type(f.type, dialect)}{'' if f.nullable else ' NOT NULL'}" for f in schema]
    cols.extend(extra_columns)
    if primary_key:
        missing = [c for c in primary_key if c not in schema.names]
        if missing:
            raise ValueError(f"primary key columns {missing} not in table {name!r}")
        cols.append(f"PRIMARY KEY ({', '.join(ident(c) for c in primary_key)})")
    target = f"{ident(qualifier)}.{ident(name)}" if qualifier else ident(name)
    exists = "IF NOT EXISTS " if if_not_exists else ""
    return f"CREATE TABLE {exists}{target} (\n  " + ",\n  ".join(cols) + "\n)"


def assets_geom_sql(dialect: Dialect) -> str:
    """SQL expression of an asset's bounding box as a geometry (from the min/max columns).

    A point when the box is degenerate in both axes, a line when in one, else a rectangle, so that
    ``ST_Intersects(geom, box)`` means exactly "the asset's bounding box meets the box" on both
    backends (and matches a NumPy comparison of the min/max columns).
    """
    if dialect == "duckdb":
        point, env = "ST_Point(min_lon, min_lat)", "ST_MakeEnvelope(min_lon, min_lat, max_lon, max_lat)"
        line = "ST_MakeLine(ST_Point(min_lon, min_lat), ST_Point(max_lon, max_lat))"
    else:
        point = "ST_SetSRID(ST_MakePoint(min_lon, min_lat), 4326)"
        env = "ST_MakeEnvelope(min_lon, min_lat, max_lon, max_lat, 4326)"
        line = "ST_SetSRID(ST_MakeLine(ST_MakePoint(min_lon, min_lat), ST_MakePoint(max_lon, max_lat)), 4326)"
    return (
        f"CASE WHEN min_lon = max_lon AND min_lat = max_lat THEN {point} "
        f"WHEN min_lon = max_lon OR min_lat = max_lat THEN {line} ELSE {env} END"
    )


def asset_columns() -> list[str]:
    return list(ASSETS.names)
