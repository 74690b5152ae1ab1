"""Vector tiles: the XYZ tile grid (Web Mercator, EPSG:3857), the asset layers and their zoom rules,
ETags, an in-process LRU cache of encoded tiles, and TileJSON documents.

Why zoom rules: a z10 tile over a city holds every meter and span of hundreds of feeders; served raw
it is megabytes (Martin #1930: a 200 MB z0 tile). Each layer has a minimum zoom below which its tile
is empty (meters and poles only from z15, transformers from z14); the span layer shows only mainline
conductors (ampacity >= `MAINLINE_MIN_AMPACITY_A`) below z13, and spans are simplified to one tile
pixel below z14 before quantization. Devices: feeder-level devices (breakers, reclosers, ties) from
z11, lateral ones (fuses, switches, sectionalizers) from z13.

Tiles are built from the stored grid (the ``assets`` rows and the spans' geometry), so a tile's
identity is (grid content hash, layer, z, x, y); live states (switch positions, asset status) reach
the map over ``/api/stream``, not through tiles.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Literal

from fluxops.core.errors import InvalidInputError, NotFoundError

MAX_ZOOM = 22  # MapLibre's default maximum; a z22 tile is ~10 m wide
EXTENT = 4096  # MVT coordinate units per tile side
BUFFER = 64  # units of buffer around a tile (clipped features continue across tile borders)
WEB_MERCATOR_HALF = 20037508.342789244  # metres: half the EPSG:3857 world width (pi * 6378137)
MAX_LAT = 85.0511287798066  # Web Mercator's latitude limit
MAINLINE_MIN_AMPACITY_A = 400.0  # feeder mainline conductors (336.4 kcmil ACSR and up, >= 500 kcmil cable)
RENDER_VERSION = "1"  # bump when a layer's content rules change: every ETag changes with it

Geometry = Literal["point", "line", "polygon", "mixed"]


@dataclass(frozen=True)
class TileLayer:
    """One asset layer: which asset types it draws, from which zoom, with which attributes."""

    name: str
    description: str
    geometry: Geometry
    asset_types: tuple[str, ...]
    min_zoom: int
    # asset types shown only from a higher zoom than ``min_zoom`` (devices on laterals)
    late_types: tuple[str, ...] = ()
    late_zoom: int = MAX_ZOOM
    fields: tuple[tuple[str, str], ...] = (
        ("id", "Asset id"),
        ("type", "Asset type"),
        ("name", "Display name"),
        ("feeder_id", "Feeder id (null for substations)"),
        ("substation_id", "Substation id"),
    )

    def types_at(self, z: int) -> tuple[str, ...]:
        """The asset types drawn at zoom ``z`` (empty below the layer's minimum zoom)."""
        if z < self.min_zoom:
            return ()
        if z < self.late_zoom:
            return tuple(t for t in self.asset_types if t not in self.late_types)
        return self.asset_types


_SPAN_FIELDS = (
    ("id", "Segment id"),
    ("feeder_id", "Feeder id"),
    ("substation_id", "Substation id"),
    ("construction", "overhead | underground"),
    ("conductor", "Conductor type"),
    ("ampacity_a", "Conductor ampacity, A"),
)

LAYERS: dict[str, TileLayer] = {
    layer.name: layer
    for layer in (
        TileLayer("substations", "Substations", "point", ("substation",), min_zoom=0),
        TileLayer(
            "segments",
            f"Primary line segments (spans) with their feeder; below z13 only mainline conductors "
            f"(ampacity >= {MAINLINE_MIN_AMPACITY_A:g} A)",
            "line",
            ("line_segment",),
            min_zoom=10,
            fields=_SPAN_FIELDS,
        ),
        TileLayer(
            "devices",
            "Switching and protective devices; fuses, switches and sectionalizers from z13",
            "point",
            ("breaker", "recloser", "sectionalizer", "fuse", "switch", "tie_switch", "bus_tie"),
            min_zoom=11,
            late_types=("fuse", "switch", "sectionalizer"),
            late_zoom=13,
        ),
        TileLayer("transformers", "Distribution transformers", "point", ("transformer",), min_zoom=14),
        TileLayer("poles", "Poles", "point", ("pole",), min_zoom=15),
        TileLayer("meters", "Meters (one per customer premise)", "point", ("meter",), min_zoom=15),
    )
}
SEGMENTS_ALL_ZOOM = 13  # from this zoom every span, below it mainline only
SIMPLIFY_BELOW_ZOOM = 14  # below this zoom spans are simplified to one tile unit


def get_layer(name: str) -> TileLayer:
    layer = LAYERS.get(name)
    if layer is None:
        raise NotFoundError(
            f"no tile layer {name!r}; layers: {', '.join(LAYERS)}",
            details={"field": "layer", "layers": list(LAYERS)},
        )
    return layer


@dataclass(frozen=True)
class Tile:
    z: int
    x: int
    y: int

    @property
    def key(self) -> str:
        return f"{self.z}/{self.x}/{self.y}"


def validate_tile(z: int, x: int, y: int) -> Tile:
    """A tile address inside the XYZ grid, else `InvalidInputError` naming the coordinate."""
    if not 0 <= z <= MAX_ZOOM:
        raise InvalidInputError(f"zoom z={z} is outside 0..{MAX_ZOOM}", field="z")
    n = 1 << z
    for name, value in (("x", x), ("y", y)):
        if not 0 <= value < n:
            raise InvalidInputError(f"{name}={value} is outside 0..{n - 1} at zoom {z}", field=name)
    return Tile(z, x, y)


def tile_bounds_lonlat(tile: Tile) -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat) of a tile."""
    n = 1 << tile.z

    def lat(yy: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * yy / n))))

    return (tile.x / n * 360.0 - 180.0, lat(tile.y + 1), (tile.x + 1) / n * 360.0 - 180.0, lat(tile.y))


def tile_bounds_mercator(tile: Tile) -> tuple[float, float, float, float]:
    """(min_x, min_y, max_x, max_y) of a tile in EPSG:3857 metres."""
    size = 2 * WEB_MERCATOR_HALF / (1 << tile.z)
    min_x = -WEB_MERCATOR_HALF + tile.x * size
    max_y = WEB_MERCATOR_HALF - tile.y * size
    return (min_x, max_y - size, min_x + size, max_y)


def query_bounds_lonlat(tile: Tile, buffer: int = BUFFER) -> tuple[float, float, float, float]:
    """The tile's lon/lat box grown by ``buffer`` tile units on each side (the rows a tile reads)."""
    min_x, min_y, max_x, max_y = tile_bounds_mercator(tile)
    pad = (max_x - min_x) * buffer / EXTENT
    return (
        mercator_to_lon(min_x - pad),
        mercator_to_lat(max(min_y - pad, -WEB_MERCATOR_HALF)),
        mercator_to_lon(max_x + pad),
        mercator_to_lat(min(max_y + pad, WEB_MERCATOR_HALF)),
    )


def mercator_to_lon(x: float) -> float:
    return max(-180.0, min(180.0, x / WEB_MERCATOR_HALF * 180.0))


def mercator_to_lat(y: float) -> float:
    return math.degrees(2 * math.atan(math.exp(y / 6378137.0)) - math.pi / 2)


def simplify_tolerance_m(z: int) -> float:
    """One tile unit in EPSG:3857 metres at zoom ``z`` below `SIMPLIFY_BELOW_ZOOM`, else 0 (no
    simplification: quantization to the 4096 grid is all a high-zoom tile needs)."""
    if z >= SIMPLIFY_BELOW_ZOOM:
        return 0.0
    return 2 * WEB_MERCATOR_HALF / (1 << z) / EXTENT


def tile_etag(content_hash: str, layer: str, tile: Tile) -> str:
    """A strong ETag: the grid's content hash, the layer, the address and the renderer's version."""
    digest = hashlib.sha256(f"{content_hash}|{layer}|{tile.key}|{RENDER_VERSION}".encode()).hexdigest()
    return f'"{digest[:32]}"'


class TileCache:
    """A thread-safe LRU of encoded tiles, bounded in bytes (keys carry the grid's content hash, so a
    new grid never serves an old tile; its old entries age out)."""

    def __init__(self, max_bytes: int = 64 * 2**20) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[str, ...], bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[str, ...]) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: tuple[str, ...], value: bytes) -> None:
        if len(value) > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old)
            self._items[key] = value
            self._bytes += len(value)
            while self._bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped)

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"tiles": len(self._items), "bytes": self._bytes, "hits": self.hits, "misses": self.misses}


def tilejson(
    layer: TileLayer, *, tiles_url: str, bounds: tuple[float, float, float, float] | None, version: str
) -> dict[str, Any]:
    """A TileJSON 3.0.0 document for one layer (https://github.com/mapbox/tilejson-spec)."""
    doc: dict[str, Any] = {
        "tilejson": "3.0.0",
        "name": layer.name,
        "description": layer.description,
        "version": version,
        "scheme": "xyz",
        "tiles": [tiles_url],
        "minzoom": layer.min_zoom,
        "maxzoom": MAX_ZOOM,
        "vector_layers": [
            {
                "id": layer.name,
                "description": layer.description,
                "minzoom": layer.min_zoom,
                "maxzoom": MAX_ZOOM,
                "fields": dict(layer.fields),
            }
        ],
    }
    if bounds is not None:
        doc["bounds"] = [round(v, 6) for v in bounds]
        doc["center"] = [
            round((bounds[0] + bounds[2]) / 2, 6),
            round((bounds[1] + bounds[3]) / 2, 6),
            max(layer.min_zoom, 12),
        ]
    return doc
