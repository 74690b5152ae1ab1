"""Polygon geo-layer tiles from memory (`fluxops.geo.mvt_polygons`), for layers drawn only at street
zoom, where a tile is never simplified (from z14: quantization is all it needs): the buildings.

Why: on DuckDB a houston z15 buildings tile took 150-700 ms, nearly all of it in ``ST_AsMVTGeom``'s
per-polygon work (not the scan, not PROJ: `fluxops.storage.tiles_projected`), and at 16 concurrent
clients that one layer set every tile's latency. The layer's rows are read once per stored version
(`fluxops.storage.geo_layers_store`: each save makes a new one) into Arrow columns sorted by west edge;
a tile takes the same rows as the SQL (layer, minimum zoom, box overlap with the buffered tile, the
sub-pixel rule), decodes their WKB, projects them in closed form and encodes them.

The same features and properties as the database's tile (tests/geo/test_geo_polygon_tiles.py); the
polygons are the same shapes on the 4096 grid, those crossing the tile's buffer clipped by GEOS.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from fluxops.geo import mvt_polygons
from fluxops.geo import tiles as geo_tiles
from fluxops.geo.layers import GeoLayer
from fluxops.storage.asset_geo_index import string_value_messages
from fluxops.storage.tiles_generalized import to_mercator

MEMORY_LAYERS = ("buildings",)  # polygon layers whose minimum zoom is past any simplification


@dataclass
class _Layer:
    version: str
    min_lon: np.ndarray[Any, Any]  # sorted
    max_lon: np.ndarray[Any, Any]
    min_lat: np.ndarray[Any, Any]
    max_lat: np.ndarray[Any, Any]
    min_zoom: np.ndarray[Any, Any]
    max_width: float
    wkb: pa.Array
    codes: np.ndarray[Any, Any]  # (n, keys) value ids, -1 null
    value_messages: pa.LargeBinaryArray
    keys: tuple[str, ...]


def _values(col: pa.ChunkedArray) -> tuple[np.ndarray[Any, Any], pa.LargeBinaryArray]:
    """The column's dictionary codes (-1: null) and each dictionary value as a Layer.values entry:
    strings as string values, numbers as double values (what ``ST_AsMVT`` writes for DOUBLE)."""
    enc = pc.dictionary_encode(col).combine_chunks()
    idx = np.asarray(enc.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    d = enc.dictionary
    if not (pa.types.is_floating(d.type) or pa.types.is_integer(d.type)):
        return idx, string_value_messages(d.cast(pa.large_string()))
    nums = np.asarray(d.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype="<f8")
    out = np.empty((len(nums), 11), dtype=np.uint8)
    out[:, :3] = (0x22, 0x09, 0x19)  # Layer.values entry of 9 bytes: Value.double_value, 64-bit
    out[:, 3:] = nums.view(np.uint8).reshape(-1, 8)
    offsets = np.arange(len(nums) + 1, dtype=np.int64) * 11
    msgs = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(nums), [None, pa.py_buffer(offsets), pa.py_buffer(out.tobytes())]
    )
    return idx, msgs


def _build(store: Any, layer: GeoLayer, version: str) -> _Layer:
    cols = [c for _, c, _ in layer.props]
    t = store.query_arrow(
        f"SELECT feature_id, {', '.join(dict.fromkeys(cols))}, min_zoom, min_lon, max_lon, min_lat, "
        "max_lat, geometry_wkb FROM geo_features WHERE layer = ?",
        [layer.name],
    )
    t = t.take(pa.array(np.argsort(t["min_lon"].to_numpy(), kind="stable")))
    keys = ("id", *(p for p, _, _ in layer.props))
    codes = np.full((t.num_rows, len(keys)), -1, dtype=np.int64)
    parts: list[pa.Array] = []
    size = 0
    for j, col in enumerate(("feature_id", *cols)):
        idx, msgs = _values(t[col])
        codes[:, j] = np.where(idx >= 0, idx + size, -1)
        parts.append(msgs)
        size += len(msgs)

    def floats(c: str) -> np.ndarray[Any, Any]:
        return np.asarray(t[c].to_numpy(), dtype=np.float64)

    min_lon, max_lon = floats("min_lon"), floats("max_lon")
    return _Layer(
        version=version,
        min_lon=min_lon,
        max_lon=max_lon,
        min_lat=floats("min_lat"),
        max_lat=floats("max_lat"),
        min_zoom=np.asarray(t["min_zoom"].to_numpy(), dtype=np.int64),
        max_width=float((max_lon - min_lon).max()) if t.num_rows else 0.0,
        wkb=t["geometry_wkb"].combine_chunks(),
        codes=codes,
        value_messages=pa.concat_arrays(parts) if parts else pa.array([], pa.large_binary()),
        keys=keys,
    )


_lock = threading.Lock()
_cache: weakref.WeakKeyDictionary[Any, dict[str, _Layer]] = weakref.WeakKeyDictionary()


def _layer(store: Any, layer: GeoLayer, version: str) -> _Layer:
    held = _cache.get(store, {}).get(layer.name)
    if held is not None and held.version == version:
        return held
    with _lock:
        held = _cache.get(store, {}).get(layer.name)
        if held is not None and held.version == version:
            return held
        built = _build(store, layer, version)
        _cache.setdefault(store, {})[layer.name] = built
        return built


def render(store: Any, layer: GeoLayer, tile: geo_tiles.Tile, version: str) -> bytes:
    """The layer's tile (empty: nothing here), as `fluxops.storage.geo_tiles.render_geo_tile`."""
    if tile.z < layer.min_zoom:
        return b""
    data = _layer(store, layer, version)
    box = geo_tiles.query_bounds_lonlat(tile)
    unit_deg = 360.0 / (1 << tile.z) / geo_tiles.EXTENT
    lo = int(np.searchsorted(data.min_lon, box[0] - data.max_width, side="left"))
    hi = int(np.searchsorted(data.min_lon, box[2], side="right"))
    sl = slice(lo, hi)
    mask = (data.max_lon[sl] >= box[0]) & (data.min_lat[sl] <= box[3]) & (data.max_lat[sl] >= box[1])
    mask &= data.min_zoom[sl] <= tile.z
    mask &= ((data.max_lon[sl] - data.min_lon[sl]) >= unit_deg) | (
        (data.max_lat[sl] - data.min_lat[sl]) >= unit_deg
    )
    rows = np.flatnonzero(mask) + lo
    if len(rows) == 0:
        return b""
    geoms = shapely.from_wkb(data.wkb.take(pa.array(rows)).to_numpy(zero_copy_only=False))
    geoms = shapely.transform(geoms, to_mercator)
    bounds = geo_tiles.tile_bounds_mercator(tile)
    tiled = mvt_polygons.to_tile(geoms, bounds, geo_tiles.EXTENT, geo_tiles.BUFFER)
    keep = np.array([g is not None for g in tiled], dtype=bool)
    rows, tiled = rows[keep], tiled[keep]
    if len(rows) == 0:
        return b""
    tokens, owner = mvt_polygons.commands(tiled)
    has = np.bincount(owner, minlength=len(rows)) > 0
    if not has.all():  # every ring collapsed on the grid
        remap = np.cumsum(has) - 1
        rows, owner = rows[has], remap[owner]
        if len(rows) == 0:
            return b""
    codes = data.codes[rows]
    valid = codes >= 0
    uniq, inverse = np.unique(codes[valid], return_inverse=True)
    local = np.full(codes.shape, -1, dtype=np.int64)
    local[valid] = inverse
    values = b"".join(data.value_messages.take(pa.array(uniq)).to_pylist())
    return mvt_polygons.encode_polygon_layer(
        layer.name, data.keys, local, tokens, owner, values, geo_tiles.EXTENT
    )
