"""`AssetGeoIndex`: the stored ``assets`` rows in memory, indexed by position, for the point tiles, the
k-nearest search and the polygon selection.

Why (issue 13, performance): on houston (866 K assets) a DuckDB point tile, a k-nearest search and a
10 K-asset polygon were each a statement that scanned and encoded under DuckDB's per-statement costs;
under 16 concurrent clients they queued (uncached tile p95 1.2-3.3 s; k-nearest p50 53 ms). The
``assets`` table only changes with a grid load, which changes the grid's content hash: so it is read
once per content hash (~1 s on houston) and kept as Arrow string columns plus NumPy coordinates:
* every asset sorted by longitude, for k-nearest (the same haversine and tie order as the SQL: growing
  radii, then distance, asset id) and polygons (shapely ``intersects_xy`` on the longitude slab: the
  same boundary-included test as ``ST_Intersects``);
* per point tile layer, its assets sorted by Web Mercator x with their property codes, so a tile is a
  `searchsorted`, a mask and `fluxops.geo.mvt_points.encode_point_layer`.
Answers equal the SQL paths' (tests/geo/test_asset_geo_index.py compares them on both stores).

The content hash is asked of the store per call, except on a store that counts its writes (DuckDB:
`write_generation`), where an unchanged count means an unchanged grid.
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

from fluxops.geo import mvt_points
from fluxops.geo import tiles as geo_tiles
from fluxops.geo.spatial import EARTH_RADIUS_M, SpatialHit, haversine_m, hits_from_columns, radius_box
from fluxops.grid.models import ASSET_TYPES

PROPS = ("id", "type", "name", "feeder_id", "substation_id")  # the asset tiles' properties, in order
_COLS = ("asset_id", "asset_type", "name", "feeder_id", "substation_id")
_TYPE_CODE = {t: i for i, t in enumerate(ASSET_TYPES)}
Floats = np.ndarray[Any, np.dtype[np.float64]]
Ints = np.ndarray[Any, np.dtype[np.int64]]


def to_mercator(lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    """The closed form the DuckDB tile statement uses (`fluxops.storage.tiles_duckdb`)."""
    x = lon * 111319.49079327357
    y = np.log(np.tan(np.radians(90.0 + lat) / 2.0)) * 6378137.0
    return x, y


@dataclass
class _PointLayer:
    x: Floats  # sorted
    y: Floats
    types: Ints  # codes into ASSET_TYPES
    codes: Ints  # (n, len(PROPS)) global value ids, -1 for null


@dataclass
class _Index:
    table: pa.Table  # _COLS + lon, lat, in the lon order
    lon: Floats  # sorted
    lat: Floats
    types: Ints
    layers: dict[str, _PointLayer]
    value_messages: pa.LargeBinaryArray  # global value id -> encoded Layer.values entry


def _build(store: Any) -> _Index:
    t = store.query_arrow(
        "SELECT asset_id, asset_type, name, feeder_id, substation_id, lon, lat FROM assets "
        "WHERE lon IS NOT NULL AND lat IS NOT NULL"
    )
    lon = np.asarray(t["lon"].to_numpy(zero_copy_only=False), dtype=np.float64)
    order = np.argsort(lon, kind="stable")
    t = t.take(pa.array(order))
    lon = lon[order]
    lat = np.asarray(t["lat"].to_numpy(zero_copy_only=False), dtype=np.float64)
    type_names = np.asarray(t["asset_type"].to_numpy(zero_copy_only=False).astype(str))
    type_codes = np.full(len(type_names), -1, dtype=np.int64)
    for name, code in _TYPE_CODE.items():
        type_codes[type_names == name] = code
    codes, dictionary = _value_codes(t)
    value_messages = string_value_messages(dictionary)
    x, y = to_mercator(lon, lat)
    layers: dict[str, _PointLayer] = {}
    for layer in geo_tiles.LAYERS.values():
        if layer.geometry != "point":
            continue
        wanted = np.array([_TYPE_CODE[s] for s in layer.asset_types], dtype=np.int64)
        rows = np.flatnonzero(np.isin(type_codes, wanted))
        by_x = rows[np.argsort(x[rows], kind="stable")]
        layers[layer.name] = _PointLayer(x[by_x], y[by_x], type_codes[by_x], codes[by_x])
    return _Index(t, lon, lat, type_codes, layers, value_messages)


def _value_codes(t: pa.Table) -> tuple[Ints, pa.LargeStringArray]:
    """Every property of every asset as an id into one dictionary of strings (-1: null)."""
    codes = np.full((t.num_rows, len(_COLS)), -1, dtype=np.int64)
    parts: list[pa.Array] = []
    size = 0
    for j, col in enumerate(_COLS):
        enc = pc.dictionary_encode(t[col]).combine_chunks()
        idx = enc.indices.to_numpy(zero_copy_only=False)
        valid = ~np.asarray(enc.indices.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        codes[valid, j] = np.asarray(idx[valid], dtype=np.int64) + size
        parts.append(enc.dictionary.cast(pa.large_string()))
        size += len(enc.dictionary)
    return codes, pa.concat_arrays(parts)


def string_value_messages(strings: pa.LargeStringArray) -> pa.LargeBinaryArray:
    """Each string as an encoded Layer.values entry (`fluxops.geo.mvt_points.value_messages`)."""
    strings = pc.fill_null(strings, "")
    _, off_buf, data_buf = strings.buffers()
    n = len(strings)
    offsets = np.frombuffer(off_buf, dtype=np.int64)[strings.offset : strings.offset + n + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    out, out_off = mvt_points.value_messages(data, offsets)
    return pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), n, [None, pa.py_buffer(out_off), pa.py_buffer(out)]
    )


class AssetGeoIndex:
    """One store's index, rebuilt when the stored grid's content hash changes (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snap: tuple[str, _Index] | None = None
        self._gen: tuple[int, str] | None = None  # (write generation, content hash) seen together

    def _grid_hash(self, store: Any) -> str | None:
        fn = getattr(store, "write_generation", None)
        gen = fn() if callable(fn) else None
        seen = self._gen
        if isinstance(gen, int) and seen is not None and seen[0] == gen:
            return seen[1]
        info = store.get_grid_info()
        if info is None:
            return None
        if isinstance(gen, int):
            self._gen = (gen, info.content_hash)
        return str(info.content_hash)

    def get(self, store: Any, grid_hash: str | None = None) -> _Index | None:
        """The index of the stored grid (``grid_hash`` when the caller knows it); None: no grid."""
        digest = grid_hash or self._grid_hash(store)
        if digest is None:
            return None
        snap = self._snap
        if snap is not None and snap[0] == digest:
            return snap[1]
        with self._lock:
            snap = self._snap
            if snap is not None and snap[0] == digest:
                return snap[1]
            index = _build(store)
            after = store.get_grid_info()
            if after is None or after.content_hash != digest:  # a load landed while reading
                return None
            self._snap = (digest, index)
            return index


_indexes: weakref.WeakKeyDictionary[Any, AssetGeoIndex] = weakref.WeakKeyDictionary()
_indexes_lock = threading.Lock()


def index_of(store: Any) -> AssetGeoIndex:
    with _indexes_lock:
        idx = _indexes.get(store)
        if idx is None:
            idx = AssetGeoIndex()
            _indexes[store] = idx
        return idx


# --- point tiles ---------------------------------------------------------------------------------


def point_tile(index: _Index, layer: geo_tiles.TileLayer, tile: geo_tiles.Tile) -> bytes:
    """The layer's tile as the DuckDB ``ST_AsMVT`` statement encodes it (empty: nothing here)."""
    types = layer.types_at(tile.z)
    data = index.layers.get(layer.name)
    if not types or data is None:
        return b""
    bounds = geo_tiles.tile_bounds_mercator(tile)
    pad = (bounds[2] - bounds[0]) * (geo_tiles.BUFFER + 1) / geo_tiles.EXTENT
    lo, hi = np.searchsorted(data.x, [bounds[0] - pad, bounds[2] + pad], side="left")
    sl = slice(int(lo), int(hi))
    y = data.y[sl]
    near = (y >= bounds[1] - pad) & (y <= bounds[3] + pad)
    if len(types) != len(layer.asset_types):
        near &= np.isin(data.types[sl], [_TYPE_CODE[t] for t in types])
    rows = np.flatnonzero(near) + int(lo)
    px, py, keep = mvt_points.tile_points(
        data.x[rows], data.y[rows], bounds, geo_tiles.EXTENT, geo_tiles.BUFFER
    )
    rows, px, py = rows[keep], px[keep], py[keep]
    if len(rows) == 0:
        return b""
    codes = data.codes[rows]
    valid = codes >= 0
    uniq, inverse = np.unique(codes[valid], return_inverse=True)
    local = np.full(codes.shape, -1, dtype=np.int64)
    local[valid] = inverse
    taken = index.value_messages.take(pa.array(uniq))
    offsets = np.frombuffer(taken.buffers()[1], dtype=np.int64)[: len(uniq) + 1]
    values = taken.buffers()[2].to_pybytes()[int(offsets[0]) : int(offsets[-1])]
    return mvt_points.encode_point_layer(layer.name, PROPS, px, py, local, values, geo_tiles.EXTENT)


# --- nearest and polygons ------------------------------------------------------------------------


def _ids(index: _Index, rows: Ints) -> np.ndarray[Any, Any]:
    """The rows' asset ids (str: byte order for ASCII ids, as the SQL ``ORDER BY``)."""
    return np.asarray(index.table["asset_id"].take(pa.array(rows)).to_numpy(zero_copy_only=False).astype(str))


def _slab(index: _Index, min_lon: float, max_lon: float) -> slice:
    lo = np.searchsorted(index.lon, min_lon, side="left")
    hi = np.searchsorted(index.lon, max_lon, side="right")
    return slice(int(lo), int(hi))


def _type_mask(index: _Index, sl: slice, types: tuple[str, ...] | None) -> np.ndarray[Any, Any]:
    if not types:
        return np.ones(sl.stop - sl.start, dtype=bool)
    return np.isin(index.types[sl], [_TYPE_CODE.get(t, -2) for t in types])


def hits(index: _Index, rows: Ints, dist: Floats | None) -> list[SpatialHit]:
    return hits_from_columns(index.table.take(pa.array(rows)).to_pydict(), len(rows), dist)


def nearest(index: _Index, lon: float, lat: float, k: int, types: tuple[str, ...] | None) -> list[SpatialHit]:
    """As `fluxops.storage.spatial_queries.nearest`: growing boxes until ``k`` lie within the radius."""
    radius = 250.0
    while True:
        whole = radius >= np.pi * EARTH_RADIUS_M
        box = (-180.0, -90.0, 180.0, 90.0) if whole else radius_box(lon, lat, radius)
        sl = _slab(index, box[0], box[2])
        la = index.lat[sl]
        mask = (la >= box[1]) & (la <= box[3]) & _type_mask(index, sl, types)
        rows = np.flatnonzero(mask) + sl.start
        d = haversine_m(lon, lat, index.lon[rows], index.lat[rows])
        if not whole:
            inside = d <= radius
            rows, d = rows[inside], d[inside]
        if len(rows) >= k or whole:
            order = np.lexsort((_ids(index, rows), d))[:k]
            return hits(index, rows[order], d[order])
        radius *= 4


def within_polygon(index: _Index, polygon: Any, types: tuple[str, ...] | None) -> Ints:
    """Rows of every asset whose point meets the polygon (boundary included), in asset id order."""
    min_lon, min_lat, max_lon, max_lat = polygon.bounds
    sl = _slab(index, min_lon, max_lon)
    la = index.lat[sl]
    mask = (la >= min_lat) & (la <= max_lat) & _type_mask(index, sl, types)
    rows = np.flatnonzero(mask) + sl.start
    shapely.prepare(polygon)
    inside = shapely.intersects_xy(polygon, index.lon[rows], index.lat[rows])
    rows = rows[inside]
    ordered: Ints = rows[np.argsort(_ids(index, rows), kind="stable")]
    return ordered


def type_counts(index: _Index, rows: Ints) -> dict[str, int]:
    counts = np.bincount(index.types[rows], minlength=len(ASSET_TYPES))
    return {t: int(counts[i]) for t, i in sorted(_TYPE_CODE.items()) if counts[i]}
