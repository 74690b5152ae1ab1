"""Inputs of the spatial queries (points, radii, GeoJSON polygons and lines), validated, plus the
distance conventions every store and test share.

Conventions:
* An asset's location is its representative point (``assets.lon/lat``: a span's midpoint, a feeder's
  head bus), so "within", "nearest" and "along" mean the same on every backend and for a NumPy
  brute force over the same columns.
* Distances are great-circle (haversine) metres on the IUGG mean Earth radius `EARTH_RADIUS_M`;
  within 0.5 % of the WGS84 geodesic.
* Distances to a line are measured in a local equirectangular projection centred on the line
  (`LocalProjection`): exact at its centre, within 0.1 % over the 100 km a line may span here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

from fluxops.core.errors import InvalidInputError
from fluxops.grid.models import ASSET_TYPES

EARTH_RADIUS_M = 6371008.8  # IUGG mean radius R1
MAX_RADIUS_M = 50_000.0
MAX_K = 1000
MAX_POLYGON_KM2 = 5_000.0  # about a large utility's whole metro service territory
MAX_VERTICES = 10_000
MAX_LINE_KM = 200.0
MAX_BUFFER_M = 5_000.0
MAX_ITEMS = 5000


@dataclass(frozen=True)
class SpatialHit:
    asset_id: str
    asset_type: str
    name: str
    feeder_id: str | None
    substation_id: str | None
    lon: float
    lat: float
    distance_m: float | None  # to the query point or line; None for a polygon selection


def hits_from_columns(cols: dict[str, list[Any]], n: int, dist: Any = None) -> list[SpatialHit]:
    """Rows of an asset selection (asset_id, asset_type, name, feeder_id, substation_id, lon, lat columns)
    as hits; ``dist``: per-row distance in metres, or None for a polygon selection. One conversion for the
    stores' SQL answers and the in-memory index's."""
    return [
        SpatialHit(
            asset_id=cols["asset_id"][i],
            asset_type=cols["asset_type"][i],
            name=cols["name"][i],
            feeder_id=cols["feeder_id"][i],
            substation_id=cols["substation_id"][i],
            lon=float(cols["lon"][i]),
            lat=float(cols["lat"][i]),
            distance_m=None if dist is None else round(float(dist[i]), 3),
        )
        for i in range(n)
    ]


@dataclass(frozen=True)
class SpatialSelection:
    """Every match counted (in total and by asset type); the first `items` returned, nearest first
    where a distance is defined, else by asset id."""

    count: int
    by_type: dict[str, int]
    items: list[SpatialHit]

    @property
    def truncated(self) -> bool:
        return len(self.items) < self.count


def check_types(types: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if not types:
        return None
    unknown = sorted(set(types) - set(ASSET_TYPES))
    if unknown:
        raise InvalidInputError(f"unknown asset type(s) {unknown}", field="type")
    return tuple(dict.fromkeys(types))


def check_point(lon: float, lat: float) -> None:
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise InvalidInputError(f"lon={lon} is outside -180..180", field="lon")
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise InvalidInputError(f"lat={lat} is outside -90..90", field="lat")


def haversine_m(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> Any:
    """Great-circle distance in metres (NumPy broadcasting); the stores' SQL computes the same."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(np.subtract(lon2, lon1)) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))


def radius_box(lon: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    """A lon/lat box holding every point within ``radius_m`` of (lon, lat) (a prefilter; padded)."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M) * 1.001 + 1e-9
    top = min(90.0, abs(lat) + dlat)
    if top >= 89.0:
        return (-180.0, max(-90.0, lat - dlat), 180.0, min(90.0, lat + dlat))
    dlon = math.degrees(radius_m / (EARTH_RADIUS_M * math.cos(math.radians(top)))) * 1.001 + 1e-9
    return (max(-180.0, lon - dlon), max(-90.0, lat - dlat), min(180.0, lon + dlon), min(90.0, lat + dlat))


@dataclass(frozen=True)
class LocalProjection:
    """Equirectangular metres around (lon0, lat0): x = (lon - lon0) * kx, y = (lat - lat0) * ky."""

    lon0: float
    lat0: float

    @property
    def kx(self) -> float:
        return math.radians(1.0) * EARTH_RADIUS_M * math.cos(math.radians(self.lat0))

    @property
    def ky(self) -> float:
        return math.radians(1.0) * EARTH_RADIUS_M

    def project(self, geom: Any) -> Any:
        return shapely.transform(geom, lambda xy: (xy - [self.lon0, self.lat0]) * [self.kx, self.ky])

    def project_xy(self, lon: Any, lat: Any) -> tuple[Any, Any]:
        return (np.subtract(lon, self.lon0) * self.kx, np.subtract(lat, self.lat0) * self.ky)


def _coords(value: Any, field: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"{field}: coordinates must be [lon, lat] number pairs", field=field
        ) from None
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise InvalidInputError(f"{field}: coordinates must be a list of [lon, lat] pairs", field=field)
    if len(arr) > MAX_VERTICES:
        raise InvalidInputError(f"{field}: more than {MAX_VERTICES} vertices", field=field)
    if not np.isfinite(arr).all() or (np.abs(arr[:, 0]) > 180).any() or (np.abs(arr[:, 1]) > 90).any():
        raise InvalidInputError(
            f"{field}: every vertex must be a finite lon in -180..180, lat in -90..90", field=field
        )
    return arr


def parse_polygon(geojson: dict[str, Any], *, field: str = "polygon") -> Polygon:
    """A GeoJSON Polygon (lon/lat, first ring outer, others holes), refused when it is not a simple,
    valid polygon (self-intersecting, unclosed, degenerate) or larger than `MAX_POLYGON_KM2`."""
    if geojson.get("type") != "Polygon":
        raise InvalidInputError(
            f"{field}: a GeoJSON Polygon is expected, got type {geojson.get('type')!r}", field=field
        )
    rings_in = geojson.get("coordinates")
    if not isinstance(rings_in, list) or not rings_in:
        raise InvalidInputError(f"{field}: coordinates must be a non-empty list of rings", field=field)
    if sum(len(r) if isinstance(r, list) else 0 for r in rings_in) > MAX_VERTICES:
        raise InvalidInputError(f"{field}: more than {MAX_VERTICES} vertices", field=field)
    rings = [_coords(r, field) for r in rings_in]
    for ring in rings:
        if len(ring) < 4 or not np.array_equal(ring[0], ring[-1]):
            raise InvalidInputError(
                f"{field}: each ring needs at least 4 positions and must end where it starts (closed)",
                field=field,
            )
    poly = Polygon(rings[0], rings[1:])
    if not poly.is_valid:
        raise InvalidInputError(
            f"{field}: not a valid simple polygon ({shapely.is_valid_reason(poly)})",
            field=field,
            details={"reason": shapely.is_valid_reason(poly)},
        )
    if poly.area == 0:
        raise InvalidInputError(f"{field}: the polygon has no area", field=field)
    c = poly.centroid
    km2 = LocalProjection(c.x, c.y).project(poly).area / 1e6
    if km2 > MAX_POLYGON_KM2:
        raise InvalidInputError(
            f"{field}: {km2:,.0f} km² is larger than the {MAX_POLYGON_KM2:,.0f} km² a selection may cover",
            field=field,
            details={"area_km2": round(km2, 1)},
        )
    return poly


def parse_line(geojson: dict[str, Any], *, field: str = "line") -> LineString:
    """A GeoJSON LineString (lon/lat) of at most `MAX_LINE_KM`."""
    if geojson.get("type") != "LineString":
        raise InvalidInputError(
            f"{field}: a GeoJSON LineString is expected, got type {geojson.get('type')!r}", field=field
        )
    arr = _coords(geojson.get("coordinates"), field)
    if len(arr) < 2 or np.all(arr == arr[0]):
        raise InvalidInputError(f"{field}: a line needs two distinct positions", field=field)
    line = LineString(arr)
    c = line.centroid
    km = LocalProjection(c.x, c.y).project(line).length / 1000
    if km > MAX_LINE_KM:
        raise InvalidInputError(
            f"{field}: {km:,.1f} km is longer than the {MAX_LINE_KM:,.0f} km a corridor may follow",
            field=field,
        )
    return line


def line_projection(line: LineString) -> LocalProjection:
    c = line.centroid
    return LocalProjection(c.x, c.y)


def buffered_box(geom: Any, buffer_m: float) -> tuple[float, float, float, float]:
    """The lon/lat bounds of ``geom`` grown by ``buffer_m`` (a prefilter; padded)."""
    min_lon, min_lat, max_lon, max_lat = shapely.bounds(geom).tolist()
    top = min(89.9, max(abs(min_lat), abs(max_lat)))
    dlat = math.degrees(buffer_m / EARTH_RADIUS_M) * 1.01 + 1e-9
    dlon = math.degrees(buffer_m / (EARTH_RADIUS_M * math.cos(math.radians(top + dlat)))) * 1.01 + 1e-9
    return (
        max(-180.0, min_lon - dlon),
        max(-90.0, min_lat - dlat),
        min(180.0, max_lon + dlon),
        min(90.0, max_lat + dlat),
    )
