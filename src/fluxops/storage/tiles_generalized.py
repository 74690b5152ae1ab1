"""Pre-generalized mainline spans for the low-zoom span tiles (z10-z12), on either store.

Why: a z10-z12 span tile over Houston holds thousands of mainline spans; projecting each to Web
Mercator (PROJ) and simplifying it on every request kept those tiles' p95 at 150-575 ms (docs/geo.md,
before). The anchors' remedy (geo-anchors.md §3.4: "pre-simplified geometry columns", OpenMapTiles'
zoom pre-filters): once per grid version, the mainline spans (ampacity >= `MAINLINE_MIN_AMPACITY_A`) are
projected in closed form and simplified to one z12 tile unit, and stored as EPSG:3857 WKB with their
lon/lat box in ``segments_lowzoom``; a low-zoom tile then reads that table with no per-request
projection. The table is rebuilt when the stored grid's content hash changes (the first low-zoom tile of
a new grid pays for it: ~1-2 s on houston).
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import numpy as np
import pyarrow as pa
import shapely

from fluxops.geo.tiles import (
    BUFFER,
    EXTENT,
    MAINLINE_MIN_AMPACITY_A,
    WEB_MERCATOR_HALF,
    Tile,
    TileLayer,
    simplify_tolerance_m,
)
from fluxops.storage.schema import ident

GENERALIZE_ZOOM = 12
SCHEMA = pa.schema(
    [
        pa.field("segment_id", pa.string(), nullable=False),
        pa.field("feeder_id", pa.string(), nullable=False),
        pa.field("substation_id", pa.string(), nullable=False),
        pa.field("construction", pa.string(), nullable=False),
        pa.field("conductor", pa.string(), nullable=False),
        pa.field("ampacity_a", pa.float64(), nullable=False),
        pa.field("min_lon", pa.float64(), nullable=False),
        pa.field("min_lat", pa.float64(), nullable=False),
        pa.field("max_lon", pa.float64(), nullable=False),
        pa.field("max_lat", pa.float64(), nullable=False),
        pa.field("wkb_3857", pa.binary(), nullable=False),
    ]
)
META = pa.schema([pa.field("meta_key", pa.string(), nullable=False), pa.field("grid_hash", pa.string())])
_lock = threading.Lock()
_built: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()  # store -> grid hash built


def to_mercator(xy: np.ndarray) -> np.ndarray:
    """lon/lat -> EPSG:3857 metres (closed form, the same numbers PROJ gives)."""
    x = xy[:, 0] * (WEB_MERCATOR_HALF / 180.0)
    y = np.log(np.tan(np.radians(90.0 + np.clip(xy[:, 1], -85.0511, 85.0511)) / 2.0)) * 6378137.0
    return np.column_stack([x, y])


def ensure_built(store: Any, grid_hash: str) -> None:
    """Build ``segments_lowzoom`` for ``grid_hash`` unless it holds that grid already."""
    if _built.get(store) == grid_hash:
        return
    with _lock:
        if _built.get(store) == grid_hash:
            return
        store.ensure_table("segments_lowzoom", SCHEMA, ("segment_id",))
        store.ensure_table("segments_lowzoom_meta", META, ("meta_key",))
        row = store.query_arrow("SELECT grid_hash FROM segments_lowzoom_meta WHERE meta_key = 'current'")
        if row.num_rows and row.column(0)[0].as_py() == grid_hash:
            _built[store] = grid_hash
            return
        table = _generalized(store)
        meta = pa.table({"meta_key": ["current"], "grid_hash": [grid_hash]}, schema=META)
        with store.transaction():
            store.execute("DELETE FROM segments_lowzoom")
            store.execute("DELETE FROM segments_lowzoom_meta")
            if table.num_rows:
                store.append_arrow("segments_lowzoom", table)
            store.append_arrow("segments_lowzoom_meta", meta)
        _built[store] = grid_hash


def _generalized(store: Any) -> pa.Table:
    src = store.query_arrow(
        "SELECT segment_id, feeder_id, substation_id, construction, conductor, ampacity_a, geometry_wkb "
        "FROM line_segments WHERE ampacity_a >= ? ORDER BY segment_id",
        [MAINLINE_MIN_AMPACITY_A],
    )
    if src.num_rows == 0:
        return SCHEMA.empty_table()
    geoms = shapely.from_wkb(src.column("geometry_wkb").to_numpy(zero_copy_only=False))
    bounds = shapely.bounds(geoms)
    merc = shapely.transform(geoms, to_mercator)
    simple = shapely.simplify(merc, simplify_tolerance_m(GENERALIZE_ZOOM), preserve_topology=False)
    cols = {
        c: src.column(c) for c in ("segment_id", "feeder_id", "substation_id", "construction", "conductor")
    }
    return pa.table(
        {
            **cols,
            "ampacity_a": src.column("ampacity_a"),
            "min_lon": bounds[:, 0],
            "min_lat": bounds[:, 1],
            "max_lon": bounds[:, 2],
            "max_lat": bounds[:, 3],
            "wkb_3857": pa.array(shapely.to_wkb(simple).tolist(), type=pa.binary()),
        },
        schema=SCHEMA,
    )


def tile_sql(
    store: Any, layer: TileLayer, tile: Tile, box: tuple[float, float, float, float], tol: float
) -> tuple[str, list[Any]]:
    """The low-zoom span tile from ``segments_lowzoom`` (one BLOB / bytea row)."""
    name = ident(layer.name)
    duck = store.dialect == "duckdb"
    geom = "ST_GeomFromWKB(s.wkb_3857)" if duck else "ST_SetSRID(ST_GeomFromWKB(s.wkb_3857), 3857)"
    params: list[Any] = []
    if tol > 0 and tile.z < GENERALIZE_ZOOM:
        geom = f"ST_Simplify({geom}, ?)"
        params.append(tol)
    env = (
        f"ST_Extent(ST_TileEnvelope({tile.z}, {tile.x}, {tile.y}))"
        if duck
        else f"ST_TileEnvelope({tile.z}, {tile.x}, {tile.y})"
    )
    inner = (
        f"SELECT ST_AsMVTGeom({geom}, {env}, {EXTENT}, {BUFFER}, true) AS g, s.segment_id AS id, "
        "s.feeder_id AS feeder_id, s.substation_id AS substation_id, s.construction AS construction, "
        "s.conductor AS conductor, s.ampacity_a AS ampacity_a FROM segments_lowzoom s "
        "WHERE s.max_lon >= ? AND s.min_lon <= ? AND s.max_lat >= ? AND s.min_lat <= ?"
    )
    params += [box[0], box[2], box[1], box[3]]
    if duck:
        sql = (
            "SELECT ST_AsMVT({'geometry': g, 'id': id, 'feeder_id': feeder_id, "
            "'substation_id': substation_id, "
            "'construction': construction, 'conductor': conductor, 'ampacity_a': ampacity_a}, "
            f"'{name}', {EXTENT}, 'geometry') FROM ({inner}) f "
            "WHERE g IS NOT NULL AND NOT ST_IsEmpty(g) HAVING COUNT(*) > 0"
        )
    else:
        sql = (
            f"SELECT ST_AsMVT(f, '{name}', {EXTENT}, 'g') FROM ({inner}) f "
            "WHERE f.g IS NOT NULL AND NOT ST_IsEmpty(f.g) HAVING COUNT(*) > 0"
        )
    return sql, params
