"""The asset model: one radial-with-ties graph from substation to customer, as columnar tables.

Why columnar: the `houston` preset holds ~600K meters and ~90K transformers; per-element Python
objects would cost gigabytes and make every analysis a Python loop. Each element type is one
pandas DataFrame whose columns are declared once, here, as a pyarrow schema (`TABLES`). The
storage layer derives DuckDB and PostgreSQL DDL and Parquet schemas from the same declaration.

Electrical graph:
* nodes are ``buses`` (substation bus sections and primary junction points with coordinates);
* edges are ``line_segments`` (impedance) and ``devices`` (switching/protective, zero impedance);
* a feeder's head breaker is a device from the substation bus section to the feeder's first bus;
* ``substation_transformers`` feed one bus section each (their LV bus is the source / slack);
  ``bus_tie`` devices (normally open) join bus sections of the same substation;
* distribution ``transformers`` hang on a primary bus; ``meters`` hang on a transformer; each meter
  serves exactly one ``customers`` row.

Units are in column names (``length_km``, ``rating_kva``...). Coordinates are WGS84 lon/lat.
Every element carries a stable string id and, denormalized, its ``feeder_id`` and ``substation_id``
so that filtering never needs a graph walk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa

# --- enumerations -----------------------------------------------------------------------------

DEVICE_TYPES: tuple[str, ...] = (
    "breaker",  # feeder head breaker (substation), protective
    "recloser",  # protective, recloses (momentary interruptions)
    "sectionalizer",  # counts recloser operations, opens dead; protective for tracing
    "fuse",  # protective, lateral taps
    "switch",  # manual/automated load-break switch, normally closed (sectionalizing)
    "tie_switch",  # normally open, joins two feeders
    "bus_tie",  # normally open breaker between substation bus sections
)
PROTECTIVE_DEVICE_TYPES: tuple[str, ...] = ("breaker", "recloser", "sectionalizer", "fuse")
SWITCH_STATES: tuple[str, ...] = ("closed", "open")
CONSTRUCTION_TYPES: tuple[str, ...] = ("overhead", "underground")
CUSTOMER_CLASSES: tuple[str, ...] = ("residential", "commercial", "industrial")
CRITICAL_TYPES: tuple[str, ...] = ("hospital", "water", "emergency_services", "telecom")
# Phase sets an element connects, in canonical order: single-phase, two-phase (laterals, open-wye /
# two-phase transformers) and three-phase. `PHASE_MASK` gives each its bits (A=1, B=2, C=4).
PHASES: tuple[str, ...] = ("A", "B", "C", "AB", "AC", "BC", "ABC")
PHASE_MASK: dict[str, int] = {p: sum(1 << "ABC".index(c) for c in p) for p in PHASES}
BUS_TYPES: tuple[str, ...] = ("substation", "junction")

# Asset types as the API and the map name them. Devices are typed by ``device_type``.
ASSET_TYPES: tuple[str, ...] = (
    "substation",
    "substation_transformer",
    "feeder",
    "line_segment",
    *DEVICE_TYPES,
    "pole",
    "transformer",
    "meter",
)
# Counted as "map assets" (the seed's "66K+ assets"): everything but meters and sub-transformers.
MAP_ASSET_TYPES: tuple[str, ...] = (
    "substation",
    "feeder",
    "line_segment",
    *DEVICE_TYPES,
    "pole",
    "transformer",
)

# --- table declarations (the one schema) --------------------------------------------------------

_s = pa.string()
_f = pa.float64()
_i = pa.int32()
_b = pa.bool_()

TABLES: dict[str, pa.Schema] = {
    "substations": pa.schema(
        [
            pa.field("substation_id", _s, nullable=False),
            pa.field("name", _s, nullable=False),
            pa.field("lon", _f, nullable=False),
            pa.field("lat", _f, nullable=False),
            pa.field("v_hv_kv", _f, nullable=False),  # transmission side, e.g. 138 kV
            pa.field("v_lv_kv", _f, nullable=False),  # distribution bus, e.g. 12.47 kV
        ]
    ),
    "substation_transformers": pa.schema(
        [
            pa.field("transformer_id", _s, nullable=False),
            pa.field("substation_id", _s, nullable=False),
            pa.field("bus_id", _s, nullable=False),  # LV bus section it feeds
            pa.field("rating_mva", _f, nullable=False),
            pa.field("z_pct", _f, nullable=False),  # short-circuit impedance, % on own base
            pa.field("x_r_ratio", _f, nullable=False),
            pa.field("install_year", _i, nullable=False),
        ]
    ),
    "feeders": pa.schema(
        [
            pa.field("feeder_id", _s, nullable=False),
            pa.field("name", _s, nullable=False),
            pa.field("substation_id", _s, nullable=False),
            pa.field("transformer_id", _s, nullable=False),  # substation transformer feeding it
            pa.field("head_bus_id", _s, nullable=False),  # first bus downstream of the breaker
            pa.field("head_device_id", _s, nullable=False),  # the feeder breaker
            pa.field("v_nom_kv", _f, nullable=False),
        ]
    ),
    "buses": pa.schema(
        [
            pa.field("bus_id", _s, nullable=False),
            pa.field("bus_type", _s, nullable=False),  # BUS_TYPES
            pa.field("feeder_id", _s, nullable=True),  # null for substation bus sections
            pa.field("substation_id", _s, nullable=False),
            pa.field("lon", _f, nullable=False),
            pa.field("lat", _f, nullable=False),
            pa.field("v_nom_kv", _f, nullable=False),
        ]
    ),
    "line_segments": pa.schema(
        [
            pa.field("segment_id", _s, nullable=False),
            pa.field("feeder_id", _s, nullable=False),
            pa.field("substation_id", _s, nullable=False),
            pa.field("from_bus_id", _s, nullable=False),  # upstream end in the normal configuration
            pa.field("to_bus_id", _s, nullable=False),
            pa.field("construction", _s, nullable=False),  # CONSTRUCTION_TYPES
            pa.field("conductor", _s, nullable=False),
            pa.field("length_km", _f, nullable=False),
            pa.field("r_ohm_per_km", _f, nullable=False),
            pa.field("x_ohm_per_km", _f, nullable=False),
            pa.field("ampacity_a", _f, nullable=False),
            pa.field("install_year", _i, nullable=False),
            pa.field("geometry_wkb", pa.binary(), nullable=False),  # LineString, WGS84
            pa.field(
                "phases", _s, nullable=True
            ),  # PHASES it carries; null: unknown (a store before migration 4)
        ]
    ),
    "devices": pa.schema(
        [
            pa.field("device_id", _s, nullable=False),
            pa.field("device_type", _s, nullable=False),  # DEVICE_TYPES
            pa.field("feeder_id", _s, nullable=True),  # null for bus ties
            pa.field("substation_id", _s, nullable=False),
            pa.field("from_bus_id", _s, nullable=False),
            pa.field("to_bus_id", _s, nullable=False),
            pa.field("lon", _f, nullable=False),
            pa.field("lat", _f, nullable=False),
            pa.field("normal_state", _s, nullable=False),  # SWITCH_STATES
            pa.field("state", _s, nullable=False),  # SWITCH_STATES, as last known
            pa.field("rating_a", _f, nullable=True),  # continuous current rating; null: unknown (imports)
            pa.field("tie_feeder_id", _s, nullable=True),  # tie switches: the other feeder
            pa.field("phases", _s, nullable=True),  # PHASES it switches/protects; null: unknown
        ]
    ),
    "poles": pa.schema(
        [
            pa.field("pole_id", _s, nullable=False),
            pa.field("feeder_id", _s, nullable=False),
            pa.field("substation_id", _s, nullable=False),
            pa.field("bus_id", _s, nullable=True),  # bus it carries, if any (mid-span poles: null)
            pa.field("segment_id", _s, nullable=True),  # segment it carries
            pa.field("lon", _f, nullable=False),
            pa.field("lat", _f, nullable=False),
            pa.field("material", _s, nullable=False),
            pa.field("height_m", _f, nullable=False),
            pa.field("install_year", _i, nullable=False),
        ]
    ),
    "transformers": pa.schema(
        [
            pa.field("transformer_id", _s, nullable=False),
            pa.field("feeder_id", _s, nullable=False),
            pa.field("substation_id", _s, nullable=False),
            pa.field("bus_id", _s, nullable=False),  # primary bus it is tapped from
            pa.field("lon", _f, nullable=False),
            pa.field("lat", _f, nullable=False),
            pa.field("rating_kva", _f, nullable=False),
            pa.field("phase", _s, nullable=False),  # PHASES it is connected to (its "phases")
            pa.field("mounting", _s, nullable=False),  # pole | pad
            pa.field("z_pct", _f, nullable=False),
            pa.field("install_year", _i, nullable=False),
        ]
    ),
    "meters": pa.schema(
        [
            pa.field("meter_id", _s, nullable=False),
            pa.field("customer_id", _s, nullable=False),
            pa.field("transformer_id", _s, nullable=False),
            pa.field("feeder_id", _s, nullable=False),
            pa.field("substation_id", _s, nullable=False),
            pa.field("lon", _f, nullable=False),
            pa.field("lat", _f, nullable=False),
            pa.field("service_v", _f, nullable=False),  # nominal service voltage, 240 (120/240 split phase)
            pa.field("address", _s, nullable=True),  # premise street address, e.g. "1203 Elm St"
            pa.field("zip_code", _s, nullable=True),  # 5-digit ZIP (synthetic grids: per street-grid cell)
            pa.field("phases", _s, nullable=True),  # its transformer's phases; null: unknown
        ]
    ),
    "customers": pa.schema(
        [
            pa.field("customer_id", _s, nullable=False),
            pa.field("meter_id", _s, nullable=False),
            pa.field("name", _s, nullable=False),  # the account holder: a person or a business
            pa.field("account_id", _s, nullable=True),  # billing account number
            pa.field("customer_class", _s, nullable=False),  # CUSTOMER_CLASSES
            pa.field("is_critical", _b, nullable=False),
            pa.field("critical_type", _s, nullable=True),  # CRITICAL_TYPES
            pa.field("peak_kw", _f, nullable=False),  # design (diversified) peak demand
            pa.field("power_factor", _f, nullable=False),
            pa.field("annual_kwh", _f, nullable=False),
            pa.field("has_pv", _b, nullable=False),
            pa.field("pv_kw", _f, nullable=False),
        ]
    ),
}

# Primary key column per table.
ID_COLUMNS: dict[str, str] = {
    "substations": "substation_id",
    "substation_transformers": "transformer_id",
    "feeders": "feeder_id",
    "buses": "bus_id",
    "line_segments": "segment_id",
    "devices": "device_id",
    "poles": "pole_id",
    "transformers": "transformer_id",
    "meters": "meter_id",
    "customers": "customer_id",
}


@dataclass(frozen=True)
class GridMeta:
    """Where a grid came from, so a loaded grid can be reproduced."""

    name: str  # e.g. "demo", "mv_oberrhein"
    source: str  # "synthetic" | "pandapower" | "simbench"
    params: dict[str, Any] = field(default_factory=dict)  # generator params / import arguments


@dataclass(frozen=True)
class Grid:
    """A whole utility network. Tables follow `TABLES`; never mutated after construction."""

    meta: GridMeta
    substations: pd.DataFrame
    substation_transformers: pd.DataFrame
    feeders: pd.DataFrame
    buses: pd.DataFrame
    line_segments: pd.DataFrame
    devices: pd.DataFrame
    poles: pd.DataFrame
    transformers: pd.DataFrame
    meters: pd.DataFrame
    customers: pd.DataFrame

    def table(self, name: str) -> pd.DataFrame:
        if name not in TABLES:
            raise KeyError(name)
        df: pd.DataFrame = getattr(self, name)
        return df

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: self.table(name) for name in TABLES}

    def counts(self) -> dict[str, int]:
        return {name: len(self.table(name)) for name in TABLES}

    def to_arrow(self, name: str) -> pa.Table:
        """One table as Arrow with the declared schema (column order and types enforced)."""
        return pa.Table.from_pandas(self.table(name), schema=TABLES[name], preserve_index=False)


def empty_table(name: str) -> pd.DataFrame:
    """An empty DataFrame with the declared columns (for builders and importers)."""
    df: pd.DataFrame = TABLES[name].empty_table().to_pandas()
    return df


def grid_from_tables(meta: GridMeta, tables: dict[str, pd.DataFrame]) -> Grid:
    """Build a Grid, coercing each table to its declared columns and dtypes (extra columns dropped;
    a missing nullable column is all null, e.g. premise addresses an imported network does not have)."""
    coerced: dict[str, pd.DataFrame] = {}
    for name, schema in TABLES.items():
        df = tables.get(name)
        if df is None:
            df = empty_table(name)
        absent = [f.name for f in schema if f.nullable and f.name not in df.columns]
        if absent:
            df = df.assign(**dict.fromkeys(absent, None))
        missing = [c for c in schema.names if c not in df.columns]
        if missing:
            raise KeyError(f"table {name!r} lacks columns {missing}")
        arrow = pa.Table.from_pandas(df[schema.names], schema=schema, preserve_index=False)
        coerced[name] = arrow.to_pandas()
    coerced["meters"] = _meter_phases(coerced["meters"], coerced["transformers"])
    return Grid(meta=meta, **coerced)


def _meter_phases(meters: pd.DataFrame, transformers: pd.DataFrame) -> pd.DataFrame:
    """A meter is on its transformer's phases: fill the ones not given (importers, hand-built grids)."""
    missing = meters["phases"].isna()
    if not missing.any():
        return meters
    by_xf = pd.Series(transformers["phase"].to_numpy(), index=transformers["transformer_id"].to_numpy())
    by_xf = by_xf[~by_xf.index.duplicated()]
    filled = meters["transformer_id"].map(by_xf)
    return meters.assign(phases=meters["phases"].where(~missing, filled))
