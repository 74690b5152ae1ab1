"""Pre-projected geometry for the embedded store's line and polygon tiles: every span (z13 and up) and
every geo layer feature stored once in Web Mercator, so DuckDB's ``ST_AsMVT`` statement no longer calls
PROJ per feature per request.

Why: profiling a houston z15 buildings tile (300-1,100 polygons) on DuckDB spatial 1.5.5 gave 150-700
ms, of which ``ST_Transform(..., 'EPSG:4326', 'EPSG:3857')`` was ~70 % (the same statement on geometry
already in metres: 40-200 ms); spans at z13-z16 joined ``assets`` to ``line_segments`` and projected each
span the same way (p50 90 ms). The closed-form spherical Mercator (`tiles_generalized.to_mercator`) gives
PROJ's numbers, so the tiles hold the same features at the same tile coordinates (tested).

* ``segments_3857``: every span with its tile properties, lon/lat box and EPSG:3857 WKB, in Z-order of
  its box (row groups prune on the box), rebuilt when the grid's content hash changes;
* ``geo_features_3857``: the geo layers' rows with EPSG:3857 WKB, per layer and its stored version
  (`fluxops.storage.geo_layers_store`: every save changes it), rebuilt for a layer when its version moves.
PostgreSQL keeps its own path (PostGIS projects fast and its GiST index finds the rows).
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from fluxops.geo.tiles import BUFFER, EXTENT, Tile, TileLayer
from fluxops.storage.geo_layers_store import FEATURES
from fluxops.storage.schema import ident
from fluxops.storage.tiles_generalized import SCHEMA, to_mercator

SPANS = SCHEMA  # the generalized spans' columns: the same rows, projected once (no simplification)
GEO = pa.schema([pa.field("version", pa.string(), nullable=False), *FEATURES])
META = pa.schema(
    [pa.field("meta_key", pa.string(), nullable=False), pa.field("built_for", pa.string(), nullable=False)]
)
_lock = threading.Lock()
_built: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()


def _project(wkb: pa.Array) -> pa.Array:
    geoms = shapely.from_wkb(wkb.to_numpy(zero_copy_only=False))
    return pa.array(shapely.to_wkb(shapely.transform(geoms, to_mercator)).tolist(), type=pa.binary())


def _zorder(t: pa.Table) -> np.ndarray[Any, Any]:
    """Row order along a Z curve of the boxes' centres (16 bits a side), so row groups prune."""
    cx = (t["min_lon"].to_numpy() + t["max_lon"].to_numpy()) / 2
    cy = (t["min_lat"].to_numpy() + t["max_lat"].to_numpy()) / 2

    def scaled(v: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        lo, hi = float(v.min()), float(v.max())
        return ((v - lo) / max(hi - lo, 1e-12) * 65535).astype(np.uint64)

    x, y = scaled(cx), scaled(cy)
    code = np.zeros(len(x), dtype=np.uint64)
    for b in range(16):
        code |= ((x >> np.uint64(b)) & np.uint64(1)) << np.uint64(2 * b)
        code |= ((y >> np.uint64(b)) & np.uint64(1)) << np.uint64(2 * b + 1)
    return np.argsort(code, kind="stable")


def _ensure(store: Any, key: str, built_for: str, rebuild: Any) -> None:
    """Run ``rebuild`` unless the store's meta row ``key`` says ``built_for`` already."""
    done = _built.get(store)
    if done is not None and done.get(key) == built_for:
        return
    with _lock:
        done = _built.setdefault(store, {})
        if done.get(key) == built_for:
            return
        store.ensure_table("segments_3857", SPANS, ("segment_id",))
        store.ensure_table("geo_features_3857", GEO, ("layer", "feature_id"))
        store.ensure_table("tiles_projected_meta", META, ("meta_key",))
        row = store.query_arrow("SELECT built_for FROM tiles_projected_meta WHERE meta_key = ?", [key])
        if not (row.num_rows and row.column(0)[0].as_py() == built_for):
            meta = pa.table({"meta_key": [key], "built_for": [built_for]}, schema=META)
            with store.transaction():
                rebuild()
                store.execute("DELETE FROM tiles_projected_meta WHERE meta_key = ?", [key])
                store.append_arrow("tiles_projected_meta", meta)
        done[key] = built_for


def ensure_spans(store: Any, grid_hash: str) -> None:
    def rebuild() -> None:
        src = store.query_arrow(
            "SELECT s.segment_id, s.feeder_id, s.substation_id, s.construction, s.conductor, s.ampacity_a, "
            "a.min_lon, a.min_lat, a.max_lon, a.max_lat, s.geometry_wkb "
            "FROM line_segments s JOIN assets a ON a.asset_id = s.segment_id"
        )
        store.execute("DELETE FROM segments_3857")
        if src.num_rows == 0:
            return
        src = src.take(pa.array(_zorder(src)))
        cols = {f.name: src[f.name] for f in SPANS if f.name != "wkb_3857"}
        table = pa.table({**cols, "wkb_3857": _project(src["geometry_wkb"])}, schema=SPANS)
        store.append_arrow("segments_3857", table)

    _ensure(store, "segments", grid_hash, rebuild)


def ensure_geo_layer(store: Any, layer: str, version: str) -> None:
    def rebuild() -> None:
        src = store.query_arrow("SELECT * FROM geo_features WHERE layer = ?", [layer])
        store.execute("DELETE FROM geo_features_3857 WHERE layer = ?", [layer])
        if src.num_rows == 0:
            return
        src = src.take(pa.array(_zorder(src)))
        cols = {f.name: src[f.name] for f in FEATURES if f.name != "geometry_wkb"}
        table = pa.table(
            {
                "version": pc.cast(pa.array([version] * src.num_rows), pa.string()),
                **cols,
                "geometry_wkb": _project(src["geometry_wkb"]),
            },
            schema=GEO,
        )
        store.append_arrow("geo_features_3857", table)

    _ensure(store, f"geo:{layer}", version, rebuild)


def span_tile_sql(
    layer: TileLayer, tile: Tile, box: tuple[float, float, float, float], tol: float
) -> tuple[str, list[Any]]:
    """Every span of the tile (z13 and up: no mainline filter), from ``segments_3857``: the DuckDB
    statement of `fluxops.storage.tiles_duckdb` without the projection."""
    name = ident(layer.name)
    env = f"ST_Extent(ST_TileEnvelope({tile.z}, {tile.x}, {tile.y}))"
    geom = "ST_GeomFromWKB(s.wkb_3857)"
    if tol > 0:
        geom = f"ST_Simplify({geom}, ?)"
    sql = (
        f"SELECT ST_AsMVT({{'geometry': g, 'id': id, 'feeder_id': feeder_id, 'substation_id': substation_id, "
        f"'construction': construction, 'conductor': conductor, 'ampacity_a': ampacity_a}}, '{name}', "
        f"{EXTENT}, 'geometry') "
        f"FROM (SELECT ST_AsMVTGeom({geom}, {env}, {EXTENT}, {BUFFER}, true) AS g, "
        "s.segment_id AS id, s.feeder_id AS feeder_id, s.substation_id AS substation_id, "
        "s.construction AS construction, s.conductor AS conductor, s.ampacity_a AS ampacity_a "
        "FROM segments_3857 s "
        "WHERE s.max_lon >= ? AND s.min_lon <= ? AND s.max_lat >= ? AND s.min_lat <= ?) f "
        "WHERE g IS NOT NULL AND NOT ST_IsEmpty(g) HAVING COUNT(*) > 0"
    )
    return sql, [*([tol] if tol > 0 else []), box[0], box[2], box[1], box[3]]
