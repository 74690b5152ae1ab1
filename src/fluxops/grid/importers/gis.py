"""The network itself from GIS files (GeoJSON, GeoPackage, Shapefile, GeoParquet): one file per grid
table, a mapping file for field names and units, topology from explicit bus fields or endpoint snapping.

Pure: it takes each file's features as read by `fluxops.storage.geo_import.read_features` (attributes,
``__wkb`` in WGS84 lon/lat after the projection check, ``__row``) and builds a `Grid`; the caller
validates it and loads it with the store's one-transaction `load_grid`, so an import lands whole or not
at all. Every error names the file, the feature (row, and its id) and the field.

Mapping (JSON)::

    {"name": "my utility",
     "snap_tolerance_m": 1.0,
     "tables": {"line_segments": {"file": "spans.geojson",
                                  "fields": {"segment_id": "SEG_ID", "length_km": "LEN_FT"},
                                  "units": {"length_km": "ft"}}, ...}}

* a table's file is ``file`` (a name among the files given) or, when absent, the file named after the
  table (``line_segments.parquet``); a table with no file is empty (poles, say);
* ``fields`` maps our column to the file's field; unmapped columns are read from a field of the same
  name when the file has one; ``lon``/``lat`` come from the geometry unless mapped; a span's geometry
  is its ``geometry_wkb``;
* ``units`` states the file's unit for a column whose name carries ours (``_km``, ``_kv``, ``_v``,
  ``_kva``, ``_mva``, ``_m``, ``_ohm_per_km``, ``_kw``, ``_a``); values are converted;
* topology: ``from_bus_id``/``to_bus_id`` of spans, and ``bus_id`` of transformers, where the file has
  them; where not, each span end (each transformer) is snapped to the nearest bus within
  ``snap_tolerance_m`` (default 1 m, great-circle); an end with no bus that near is an error.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from scipy.spatial import cKDTree

from fluxops.core.errors import InvalidInputError
from fluxops.grid.models import ID_COLUMNS, TABLES, Grid, GridMeta, grid_from_tables

EARTH_RADIUS_M = 6_371_008.8
DEFAULT_SNAP_M = 1.0
# our column's unit (by name suffix) -> {the file's unit: factor to ours}
UNITS: dict[str, dict[str, float]] = {
    "_ohm_per_km": {"ohm/km": 1.0, "ohm/m": 1000.0, "ohm/mi": 1 / 1.609344, "ohm/kft": 1 / 0.3048},
    "_km": {"km": 1.0, "m": 1e-3, "ft": 0.3048e-3, "kft": 0.3048, "mi": 1.609344},
    "_kva": {"kVA": 1.0, "VA": 1e-3, "MVA": 1e3},
    "_mva": {"MVA": 1.0, "kVA": 1e-3},
    "_kv": {"kV": 1.0, "V": 1e-3},
    "_kw": {"kW": 1.0, "W": 1e-3, "MW": 1e3},
    "_v": {"V": 1.0, "kV": 1e3},
    "_m": {"m": 1.0, "ft": 0.3048},
    "_a": {"A": 1.0, "kA": 1e3},
}


def _err(file: str, message: str, field: str, **details: Any) -> InvalidInputError:
    return InvalidInputError(f"{file}: {message}", field=field, details={"file": file, **details})


def parse_network_mapping(text: str, name: str = "mapping") -> dict[str, Any]:
    """The mapping as a dict, its shape checked (every error names the mapping file and the key)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _err(name, f"not JSON ({exc.msg} at {exc.pos})", "mapping") from None
    if not isinstance(value, dict) or not isinstance(value.get("tables", {}), dict):
        raise _err(name, 'the mapping must be {"tables": {"<table>": {...}}, ...}', "mapping")
    for table, spec in value.get("tables", {}).items():
        if table not in TABLES:
            raise _err(name, f"unknown table {table!r} (one of {', '.join(TABLES)})", f"tables.{table}")
        if not isinstance(spec, dict) or not set(spec) <= {"file", "fields", "units"}:
            raise _err(name, "a table takes 'file', 'fields' and 'units'", f"tables.{table}")
        for col in {**spec.get("fields", {}), **spec.get("units", {})}:
            if col not in TABLES[table].names:
                raise _err(name, f"{table} has no column {col!r}", f"tables.{table}.{col}")
        for col, unit in spec.get("units", {}).items():
            _factor(name, table, col, unit)
    tol = value.get("snap_tolerance_m", DEFAULT_SNAP_M)
    if isinstance(tol, bool) or not isinstance(tol, int | float) or not 0 <= tol <= 100:
        raise _err(name, "snap_tolerance_m must be a number of metres in 0..100", "snap_tolerance_m")
    return value


def _factor(file: str, table: str, col: str, unit: str) -> float:
    for suffix, units in UNITS.items():
        if col.endswith(suffix):
            if unit not in units:
                raise _err(file, f"unit {unit!r} for {col}: use one of {', '.join(units)}", f"{table}.{col}")
            return units[unit]
    raise _err(file, f"{col} carries no unit to convert", f"{table}.{col}")


def files_by_table(mapping: dict[str, Any], names: list[str]) -> dict[str, str]:
    """Which of the given file names holds each table."""
    out: dict[str, str] = {}
    specs = mapping.get("tables", {})
    for table in TABLES:
        want = specs.get(table, {}).get("file")
        if want is not None:
            if want not in names:
                raise _err(
                    str(want), f"named for {table} in the mapping but not given", f"tables.{table}.file"
                )
            out[table] = want
            continue
        hit = [n for n in names if n.rsplit(".", 1)[0] == table]
        if hit:
            out[table] = hit[0]
    return out


def _label(frame: pd.DataFrame, i: int, id_col: str | None) -> str:
    row = int(frame["__row"].iloc[i])
    return f"feature {row}" + (f" (id {frame[id_col].iloc[i]!r})" if id_col else "")


def _column(frame: pd.DataFrame, table: str, col: str, spec: dict[str, Any], file: str) -> pd.Series | None:
    """Our column ``col`` from the file (mapped or same-named), typed and in our unit; None if absent."""
    source = spec.get("fields", {}).get(col, col)
    if source not in frame.columns:
        if col in spec.get("fields", {}):
            raise _err(file, f"no field {source!r} (mapped to {table}.{col})", source)
        return None
    raw = frame[source]
    kind = TABLES[table].field(col).type
    id_source = spec.get("fields", {}).get(ID_COLUMNS[table], ID_COLUMNS[table])
    id_col = id_source if id_source in frame.columns else None
    if not TABLES[table].field(col).nullable:
        bad = np.flatnonzero(raw.isna().to_numpy())
        if len(bad):
            raise _err(file, f"{_label(frame, int(bad[0]), id_col)}: {source} is empty", source)
    if pa.types.is_string(kind):
        text: pd.Series = (
            raw.astype(object).where(raw.notna(), None).map(lambda v: v if v is None else str(v))
        )
        return text
    if pa.types.is_boolean(kind):
        flags: pd.Series = raw.astype(bool)
        return flags
    num = pd.to_numeric(raw, errors="coerce")
    bad = np.flatnonzero((num.isna() & raw.notna()).to_numpy())
    if len(bad):
        i = int(bad[0])
        raise _err(file, f"{_label(frame, i, id_col)}: {source} is not a number ({raw.iloc[i]!r})", source)
    if col in spec.get("units", {}):
        num = num * _factor(file, table, col, spec["units"][col])
    typed: pd.Series = num.round().astype("int64") if pa.types.is_integer(kind) else num.astype(np.float64)
    return typed


def _table(frame: pd.DataFrame, table: str, spec: dict[str, Any], file: str) -> pd.DataFrame:
    out: dict[str, Any] = {}
    geoms = shapely.from_wkb([None if b is None else bytes(b) for b in frame["__wkb"]])
    for col in TABLES[table].names:
        if col in ("lon", "lat") and col not in spec.get("fields", {}):
            out[col] = shapely.get_x(geoms) if col == "lon" else shapely.get_y(geoms)
            continue
        if col == "geometry_wkb":
            kinds = shapely.get_type_id(geoms)
            bad = np.flatnonzero(kinds != shapely.GeometryType.LINESTRING)
            if len(bad):
                raise _err(
                    file, f"{_label(frame, int(bad[0]), None)}: a span must be a LineString", "geometry"
                )
            out[col] = [bytes(b) for b in shapely.to_wkb(geoms)]
            continue
        series = _column(frame, table, col, spec, file)
        if series is not None:
            out[col] = series.to_numpy()
    return pd.DataFrame(out)


def _snap(
    lon: np.ndarray, lat: np.ndarray, buses: pd.DataFrame, tol_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """(nearest bus position, its great-circle distance in m) per point: a KD-tree over a local
    equirectangular projection (metres; within 0.1 % at these distances), distances then re-measured
    by haversine."""
    blon, blat = buses.lon.to_numpy(np.float64), buses.lat.to_numpy(np.float64)
    k = np.cos(np.radians(float(np.mean(blat))))
    scale = np.radians(1.0) * EARTH_RADIUS_M

    def xy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.column_stack([x * k * scale, y * scale])

    _, best = cKDTree(xy(blon, blat)).query(xy(lon, lat), k=1)
    best = np.asarray(best, np.int64)
    return best, _haversine_m(lon, lat, blon[best], blat[best])


def _haversine_m(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0))), np.float64)


def _snapped_ids(
    frame: pd.DataFrame,
    lon: np.ndarray,
    lat: np.ndarray,
    buses: pd.DataFrame,
    tol: float,
    what: str,
    file: str,
) -> np.ndarray:
    if buses.empty:
        raise _err(file, f"{what}: no bus field and no buses to snap to", what)
    best, dist = _snap(lon, lat, buses, tol)
    bad = np.flatnonzero(dist > tol)
    if len(bad):
        i = int(bad[0])
        raise _err(file, f"{_label(frame, i, None)}: {what} has no bus within {tol:g} m", what, row=i + 1)
    return np.asarray(buses.bus_id.to_numpy(object)[best], object)


def _topology(
    frames: dict[str, pd.DataFrame], tables: dict[str, pd.DataFrame], files: dict[str, str], tol: float
) -> None:
    buses = tables.get("buses", pd.DataFrame({"bus_id": [], "lon": [], "lat": []}))
    seg = tables.get("line_segments")
    if seg is not None and ("from_bus_id" not in seg.columns or "to_bus_id" not in seg.columns):
        geoms = shapely.from_wkb(seg.geometry_wkb.to_numpy(object))
        for col, idx in (("from_bus_id", 0), ("to_bus_id", -1)):
            pts = shapely.get_point(geoms, idx)
            seg[col] = _snapped_ids(
                frames["line_segments"],
                shapely.get_x(pts),
                shapely.get_y(pts),
                buses,
                tol,
                col,
                files["line_segments"],
            )
    xf = tables.get("transformers")
    if xf is not None and "bus_id" not in xf.columns:
        xf["bus_id"] = _snapped_ids(
            frames["transformers"],
            xf.lon.to_numpy(),
            xf.lat.to_numpy(),
            buses,
            tol,
            "bus_id",
            files["transformers"],
        )


def build_network(frames: dict[str, pd.DataFrame], files: dict[str, str], mapping: dict[str, Any]) -> Grid:
    """The grid from each table's features (``frames``, keyed by table; ``files``: their file names)."""
    specs = mapping.get("tables", {})
    tables = {t: _table(frames[t], t, specs.get(t, {}), files[t]) for t in frames}
    _topology(frames, tables, files, float(mapping.get("snap_tolerance_m", DEFAULT_SNAP_M)))
    for t, df in tables.items():
        missing = [f.name for f in TABLES[t] if not f.nullable and f.name not in df.columns]
        if missing:
            raise _err(files[t], f"no field for {t}.{missing[0]} (map it in the mapping)", missing[0])
        ids = df[ID_COLUMNS[t]]
        dup = np.flatnonzero(ids.duplicated().to_numpy())
        if len(dup):
            raise _err(
                files[t],
                f"{_label(frames[t], int(dup[0]), None)}: duplicate id {ids.iloc[dup[0]]!r}",
                ID_COLUMNS[t],
            )
    meta = GridMeta(
        name=str(mapping.get("name", "gis import")),
        source="gis",
        params={
            "files": dict(sorted(files.items())),
            "snap_tolerance_m": mapping.get("snap_tolerance_m", DEFAULT_SNAP_M),
        },
    )
    return grid_from_tables(meta, tables)
