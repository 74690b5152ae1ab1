"""Import a geo layer from GeoJSON, GeoPackage, Shapefile (or a .zip holding one) or GeoParquet.

Reading goes through DuckDB spatial (``ST_Read``, GDAL inside the pip-packaged extension; GeoParquet
through ``read_parquet`` and its ``geo`` metadata) in a private in-memory DuckDB, whatever the store: the
rows then land in the store's ``geo_features`` in one transaction (`geo_layers_store.save_layer`), on
DuckDB and on PostgreSQL alike. PostgreSQL cannot read a client's file itself (no ``ogr_fdw`` assumed),
so the reading is the same on both backends.

Checks, each error naming the file, the feature (row number, and its id when mapped) and the field:
* the projection: the file's CRS must be known (an EPSG code, or OGC:CRS84); anything else is refused
  (a Shapefile without its .prj, a custom WKT). Known ones are transformed to WGS84 lon/lat;
* the mapping (JSON object ``{"property": "source field"}``): every source field must exist in the
  file; ``id`` is required; numbers must parse;
* every geometry: present, non-empty, valid (self-intersections are refused with GEOS's reason and
  location), of a type the layer takes, inside lon -180..180 / lat -90..90 after transforming.
Nothing is written unless every feature passes.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import shapely

from fluxops.core.errors import InvalidInputError
from fluxops.geo.layers import IMPORTABLE, feature_frame, get_geo_layer
from fluxops.storage import geo_layers_store
from fluxops.storage.duckdb_store import spatial_extension_path

SUFFIXES = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".shp": "Shapefile",
    ".zip": "zipped Shapefile",
    ".parquet": "GeoParquet",
    ".geoparquet": "GeoParquet",
}
GEOMETRY_TYPES = {
    "polygon": ("Polygon", "MultiPolygon"),
    "line": ("LineString", "MultiLineString"),
    "mixed": ("Polygon", "MultiPolygon", "LineString", "MultiLineString"),
}
MAX_FEATURES = 2_000_000


def _err(path: Path, message: str, field: str = "file", **details: Any) -> InvalidInputError:
    return InvalidInputError(f"{path.name}: {message}", field=field, details={"file": path.name, **details})


def parse_mapping(text: str | None, path: Path) -> dict[str, str]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _err(path, f"the mapping is not JSON ({exc.msg} at {exc.pos})", field="mapping") from None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise _err(
            path, 'the mapping must be a JSON object {"property": "source field", ...}', field="mapping"
        )
    return value


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"LOAD '{spatial_extension_path()}'")
    return con


def _crs_of_meta(con: duckdb.DuckDBPyConnection, src: str, path: Path) -> str:
    try:  # ST_Read first: ST_Read_Meta crashes the process on a file GDAL cannot open (spatial 1.5.5)
        con.execute("DESCRIBE SELECT * FROM ST_Read(?)", [src]).fetchall()
    except duckdb.Error as exc:
        raise _err(path, f"cannot be read as a GIS file ({str(exc).splitlines()[0][:200]})") from None
    try:
        meta = con.execute("SELECT layers FROM ST_Read_Meta(?)", [src]).fetchone()
    except duckdb.Error as exc:
        raise _err(path, f"cannot be read as a GIS file ({str(exc).splitlines()[0][:200]})") from None
    layers = meta[0] if meta else []
    fields = layers[0]["geometry_fields"] if layers else []
    crs = fields[0].get("crs") if fields else None
    if not crs or not crs.get("auth_name") or not crs.get("auth_code"):
        name = (crs or {}).get("name") or "none"
        raise _err(
            path,
            f"unknown projection ({name}): the file must name an EPSG code (a Shapefile needs its .prj)",
            field="crs",
        )
    return f"{crs['auth_name']}:{crs['auth_code']}"


def _crs_of_parquet(con: duckdb.DuckDBPyConnection, src: str, path: Path) -> tuple[str, str]:
    rows = con.execute("SELECT key, value FROM parquet_kv_metadata(?)", [src]).fetchall()
    geo = next((json.loads(v) for k, v in rows if (k.decode() if isinstance(k, bytes) else k) == "geo"), None)
    if geo is None:
        raise _err(path, "a Parquet file without GeoParquet 'geo' metadata", field="crs")
    column = geo.get("primary_column", "geometry")
    crs = geo.get("columns", {}).get(column, {}).get("crs", "absent")
    if crs == "absent":  # GeoParquet: an absent crs means OGC:CRS84
        return column, "OGC:CRS84"
    ident = crs.get("id") if isinstance(crs, dict) else None
    if not ident or "authority" not in ident or "code" not in ident:
        raise _err(path, "unknown projection (no authority code in the GeoParquet crs)", field="crs")
    return column, f"{ident['authority']}:{ident['code']}"


def read_features(path: Path) -> pd.DataFrame:
    """The file's attributes plus ``__wkb`` (geometry in WGS84 lon/lat) and ``__row`` (1-based)."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise _err(path, f"unsupported file type {suffix or '(none)'}; use {', '.join(sorted(SUFFIXES))}")
    if not path.exists():
        raise _err(path, "no such file")
    with tempfile.TemporaryDirectory() as tmp, _connect() as con:
        src = str(path)
        if suffix == ".zip":
            with zipfile.ZipFile(path) as z:
                shp = [n for n in z.namelist() if n.lower().endswith(".shp")]
                if len(shp) != 1:
                    raise _err(path, f"a .zip must hold exactly one .shp, it holds {len(shp)}")
                z.extractall(tmp)
            src = str(Path(tmp) / shp[0])
        if suffix in (".parquet", ".geoparquet"):
            column, crs = _crs_of_parquet(con, src, path)
            rel = f"read_parquet('{src.replace(chr(39), '')}')"
            types = dict(
                con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {rel})").fetchall()
            )
            # DuckDB spatial reads a GeoParquet column as GEOMETRY already; plain WKB needs decoding
            native = str(types.get(column, "")).upper().startswith("GEOMETRY")
            geom = f'"{column}"' if native else f'ST_GeomFromWKB("{column}")'
        else:
            crs = _crs_of_meta(con, src, path)
            column, geom, rel = "geom", "geom", f"ST_Read('{src.replace(chr(39), '')}')"
        if crs not in ("EPSG:4326", "OGC:CRS84"):
            geom = f"ST_Transform({geom}, '{crs}', 'EPSG:4326', true)"
        try:
            frame: pd.DataFrame = con.execute(
                f'SELECT * EXCLUDE ("{column}"), ST_AsWKB({geom}) AS __wkb FROM {rel} '
                f"LIMIT {MAX_FEATURES + 1}"
            ).df()
        except duckdb.Error as exc:
            raise _err(
                path,
                f"cannot be read ({str(exc).splitlines()[0][:200]})",
                field="crs" if "ransform" in str(exc) else "file",
            ) from None
    if frame.empty:
        raise _err(path, "holds no features (an import replaces the layer whole; nothing to replace it with)")
    if len(frame) > MAX_FEATURES:
        raise _err(path, f"more than {MAX_FEATURES:,} features")
    frame["__row"] = np.arange(1, len(frame) + 1)
    return frame


def _feature_label(frame: pd.DataFrame, i: int, id_field: str | None) -> str:
    row = int(frame["__row"].iloc[i])
    if id_field and id_field in frame.columns:
        return f"feature {row} (id {frame[id_field].iloc[i]!r})"
    return f"feature {row}"


def to_feature_rows(frame: pd.DataFrame, *, layer: str, mapping: dict[str, str], path: Path) -> pd.DataFrame:
    """The file's rows as `geo_features` rows of ``layer``, or an error naming file, feature and field."""
    spec = get_geo_layer(layer)
    if layer not in IMPORTABLE:
        raise _err(
            path, f"layer {layer} is not importable; importable: {', '.join(IMPORTABLE)}", field="layer"
        )
    mapping = {"id": "id", **mapping} if "id" not in mapping and "id" in frame.columns else mapping
    if "id" not in mapping:
        raise _err(
            path,
            "the mapping names no source field for 'id' (and the file has no 'id' field)",
            field="mapping",
        )
    for prop, source in mapping.items():
        if prop != "id":
            spec.column_of(prop)  # an unknown property: refused naming the mapping
        if source not in frame.columns:
            have = ", ".join(c for c in frame.columns if not c.startswith("__"))
            raise _err(
                path,
                f"mapping {prop!r} -> {source!r}: no field {source!r} in the file (fields: {have})",
                field=source,
            )
    id_field = mapping["id"]
    ids = frame[id_field].astype(str).to_numpy(dtype=object)
    blank = np.flatnonzero(frame[id_field].isna().to_numpy() | (pd.Series(ids).str.strip() == "").to_numpy())
    if len(blank):
        raise _err(
            path, f"{_feature_label(frame, int(blank[0]), None)}: field {id_field!r} is empty", field=id_field
        )
    dup = pd.Series(ids).duplicated().to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise _err(
            path,
            f"{_feature_label(frame, i, id_field)}: field {id_field!r} repeats an earlier id",
            field=id_field,
        )
    geoms = _geometries(frame, spec.geometry, path, id_field)
    columns: dict[str, Any] = {}
    for prop, source in mapping.items():
        if prop == "id":
            continue
        column = spec.column_of(prop)
        values = frame[source]
        if column.startswith("num_"):
            numbers = pd.to_numeric(values, errors="coerce")
            bad = np.flatnonzero(numbers.isna().to_numpy() & values.notna().to_numpy())
            if len(bad):
                i = int(bad[0])
                raise _err(
                    path,
                    f"{_feature_label(frame, i, id_field)}: field {source!r}: "
                    f"{values.iloc[i]!r} is not a number",
                    field=source,
                )
            columns[column] = numbers.to_numpy(dtype=np.float64)
        else:
            columns[column] = values.astype(object).where(values.notna(), None).to_numpy(dtype=object)
    return feature_frame(layer, ids, geoms, **columns)


def _geometries(frame: pd.DataFrame, kind: str, path: Path, id_field: str) -> np.ndarray:
    wkb = frame["__wkb"].to_numpy(dtype=object)
    missing = np.flatnonzero(pd.isna(frame["__wkb"]).to_numpy())
    if len(missing):
        raise _err(path, f"{_feature_label(frame, int(missing[0]), id_field)}: no geometry", field="geometry")
    geoms = shapely.from_wkb([bytes(w) for w in wkb])
    empty = np.flatnonzero(shapely.is_empty(geoms))
    if len(empty):
        raise _err(
            path, f"{_feature_label(frame, int(empty[0]), id_field)}: empty geometry", field="geometry"
        )
    types = shapely.get_type_id(geoms)
    names = np.array(
        [
            "Point",
            "LineString",
            "LinearRing",
            "Polygon",
            "MultiPoint",
            "MultiLineString",
            "MultiPolygon",
            "GeometryCollection",
        ],
        dtype=object,
    )[types]
    wrong = np.flatnonzero(~np.isin(names, GEOMETRY_TYPES[kind]))
    if len(wrong):
        i = int(wrong[0])
        raise _err(
            path,
            f"{_feature_label(frame, i, id_field)}: a {names[i]} where this layer takes "
            f"{' or '.join(GEOMETRY_TYPES[kind])}",
            field="geometry",
        )
    invalid = np.flatnonzero(~shapely.is_valid(geoms))
    if len(invalid):
        i = int(invalid[0])
        raise _err(
            path,
            f"{_feature_label(frame, i, id_field)}: invalid geometry ({shapely.is_valid_reason(geoms[i])})",
            field="geometry",
        )
    bounds = shapely.bounds(geoms)
    outside = np.flatnonzero(
        (np.abs(bounds[:, [0, 2]]) > 180).any(axis=1) | (np.abs(bounds[:, [1, 3]]) > 90).any(axis=1)
    )
    if len(outside):
        raise _err(
            path,
            f"{_feature_label(frame, int(outside[0]), id_field)}: coordinates outside lon -180..180 / "
            "lat -90..90 (a projected file whose projection is mislabelled?)",
            field="geometry",
        )
    return np.asarray(geoms, dtype=object)


def import_layer(
    store: Any, path: Path, *, layer: str, mapping: dict[str, str], source_name: str | None = None
) -> int:
    """Read, check and store ``path`` as ``layer`` (replacing it whole); returns the features stored."""
    rows = to_feature_rows(read_features(path), layer=layer, mapping=mapping, path=path)
    return geo_layers_store.save_layer(
        store,
        layer,
        rows,
        source="imported",
        source_name=source_name or path.name,
        grid_hash=None,
        note=f"imported from {source_name or path.name}",
        params={"mapping": mapping},
    )
