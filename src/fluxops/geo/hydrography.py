"""Synthetic hydrography, terrain and flood zones for the Houston geography the generator uses.

SYNTHETIC, modelled on Houston: the bayous (Buffalo, Brays, White Oak, Sims, Greens, Halls, Hunting,
Cypress Creek, Clear Creek, the San Jacinto River) follow a few approximate control points of their real
courses (read off a general map, not surveyed), densified with a seeded meander; the reservoirs (Addicks,
Barker, Lake Houston, Sheldon Lake) and Galveston Bay are ellipses near their real places. None of it
is the real NHD hydrography or FEMA's NFHL: a real utility imports those (`fluxops geo import`).

Terrain (`ground_elev_ft`): a plane rising from Galveston Bay (~5 ft) to the north-west (Katy prairie,
~130 ft over ~100 km, i.e. `SLOPE_FT_PER_KM`), cut by a valley along every stream: `VALLEY_DEPTH_FT` deep
at the channel, rising linearly to the plane at `VALLEY_WIDTH_FACTOR` x the 0.2 % zone's half-width.

Flood zones per stream reach (`REACH_KM`): the 1 % annual chance zone (FEMA AE) is the channel buffered
by a half-width that grows downstream (`W100_M`); the 0.2 % zone (FEMA shaded X, called X500 here) by
`W500_FACTOR` x that, nested (its polygon holds the 1 % area too: a site in both is in AE; a map draws
AE over X500). Each reach's flood elevation is the terrain at its zone edge
(the water surface meets the ground there), so the zones and the terrain agree: BFE = plane - valley
depth x (1 - w100 / valley width), rounded to whole feet as FIRMs print it. Reservoirs and the bay get a
1 % zone ring too. Every number here is a modelling choice, not a measurement.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Polygon
from shapely.ops import substring

from fluxops.geo.layers import feature_frame
from fluxops.geo.spatial import LocalProjection

SLOPE_FT_PER_KM = 1.25
BAY_POINT = (-94.95, 29.55)  # the terrain's low corner (Galveston Bay, Trinity Bay side)
BAY_ELEV_FT = 5.0
VALLEY_DEPTH_FT = 20.0
VALLEY_WIDTH_FACTOR = 1.6  # valley half-width / 0.2 % zone half-width
W100_M = (120.0, 600.0)  # 1 % zone half-width at a stream's head and mouth
W500_FACTOR = 1.8
REACH_KM = 3.0
RESERVOIR_RING_M = 400.0
_PROJ = LocalProjection(-95.37, 29.76)  # metres around downtown Houston (all of the preset's box)


@dataclass(frozen=True)
class Stream:
    name: str
    kind: str
    width_m: tuple[float, float]  # channel width at head and mouth
    points: tuple[tuple[float, float], ...]  # approximate course, upstream first (lon, lat)


STREAMS: tuple[Stream, ...] = (
    Stream(
        "Buffalo Bayou",
        "bayou",
        (20, 120),
        (
            (-95.64, 29.77),
            (-95.55, 29.762),
            (-95.45, 29.76),
            (-95.40, 29.762),
            (-95.36, 29.764),
            (-95.30, 29.750),
            (-95.20, 29.730),
            (-95.08, 29.730),
            (-95.00, 29.700),
        ),
    ),
    Stream(
        "Brays Bayou",
        "bayou",
        (10, 60),
        (
            (-95.65, 29.69),
            (-95.55, 29.690),
            (-95.45, 29.700),
            (-95.40, 29.710),
            (-95.35, 29.712),
            (-95.30, 29.720),
            (-95.27, 29.740),
        ),
    ),
    Stream(
        "White Oak Bayou",
        "bayou",
        (8, 45),
        ((-95.57, 29.88), (-95.50, 29.840), (-95.43, 29.800), (-95.38, 29.780), (-95.362, 29.764)),
    ),
    Stream(
        "Sims Bayou",
        "bayou",
        (8, 40),
        ((-95.50, 29.62), (-95.42, 29.650), (-95.35, 29.670), (-95.28, 29.690), (-95.24, 29.725)),
    ),
    Stream(
        "Greens Bayou",
        "bayou",
        (10, 70),
        ((-95.50, 29.97), (-95.40, 29.930), (-95.30, 29.870), (-95.20, 29.800), (-95.14, 29.745)),
    ),
    Stream(
        "Halls Bayou",
        "bayou",
        (6, 30),
        ((-95.50, 29.92), (-95.40, 29.880), (-95.30, 29.845), (-95.26, 29.835)),
    ),
    Stream(
        "Hunting Bayou",
        "bayou",
        (5, 25),
        ((-95.35, 29.81), (-95.28, 29.800), (-95.20, 29.770), (-95.16, 29.760)),
    ),
    Stream(
        "Cypress Creek",
        "creek",
        (8, 40),
        (
            (-95.85, 30.00),
            (-95.70, 30.020),
            (-95.55, 30.030),
            (-95.40, 30.020),
            (-95.25, 30.000),
            (-95.15, 29.990),
        ),
    ),
    Stream(
        "Clear Creek",
        "creek",
        (6, 40),
        ((-95.40, 29.55), (-95.25, 29.550), (-95.10, 29.520), (-95.02, 29.530)),
    ),
    Stream(
        "San Jacinto River",
        "river",
        (60, 200),
        (
            (-95.13, 30.10),
            (-95.13, 30.040),
            (-95.12, 29.900),
            (-95.10, 29.850),
            (-95.08, 29.790),
            (-95.07, 29.760),
        ),
    ),
)


@dataclass(frozen=True)
class WaterBody:
    name: str
    kind: str
    centre: tuple[float, float]
    half_axes_m: tuple[float, float]  # east-west, north-south
    rotation_deg: float


WATER_BODIES: tuple[WaterBody, ...] = (
    WaterBody("Addicks Reservoir", "reservoir", (-95.625, 29.815), (3200, 2000), 20),
    WaterBody("Barker Reservoir", "reservoir", (-95.665, 29.750), (3600, 1900), -10),
    WaterBody("Lake Houston", "lake", (-95.135, 29.965), (1500, 6500), 10),
    WaterBody("Sheldon Lake", "lake", (-95.170, 29.870), (1100, 1300), 0),
    WaterBody("Galveston Bay", "bay", (-94.900, 29.450), (16000, 22000), 25),
)


def plane_elev_ft(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The terrain before the valleys: rises north-west of the bay point at `SLOPE_FT_PER_KM`."""
    x, y = _PROJ.project_xy(lon, lat)
    bx, by = _PROJ.project_xy(BAY_POINT[0], BAY_POINT[1])
    along = ((bx - x) * 0.7071 + (y - by) * 0.7071) / 1000.0  # km towards the north-west
    return np.asarray(BAY_ELEV_FT + SLOPE_FT_PER_KM * np.maximum(along, 0.0), dtype=np.float64)


def _course(stream: Stream, rng: np.random.Generator) -> LineString:
    """The stream's course in local metres, densified every ~250 m with a seeded meander (±60 m)."""
    pts = np.array(stream.points)
    x, y = _PROJ.project_xy(pts[:, 0], pts[:, 1])
    line = LineString(np.column_stack([x, y]))
    n = max(int(line.length / 250.0), 2)
    d = np.linspace(0, line.length, n + 1)
    base = shapely.get_coordinates(shapely.line_interpolate_point(line, d))
    ahead = shapely.get_coordinates(shapely.line_interpolate_point(line, np.minimum(d + 1.0, line.length)))
    tangent = ahead - base
    tangent[-1] = tangent[-2]
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    normal /= np.maximum(np.hypot(normal[:, 0], normal[:, 1]), 1e-9)[:, None]
    wiggle = np.convolve(rng.normal(0, 60.0, n + 1), np.ones(5) / 5, mode="same")
    wiggle[0] = wiggle[-1] = 0.0
    return LineString(base + normal * wiggle[:, None])


def _to_lonlat(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geom, lambda xy: xy / [_PROJ.kx, _PROJ.ky] + [_PROJ.lon0, _PROJ.lat0])


def _ellipse(body: WaterBody) -> Polygon:
    t = np.linspace(0, 2 * np.pi, 73)[:-1]
    a, b = body.half_axes_m
    r = np.radians(body.rotation_deg)
    x, y = a * np.cos(t), b * np.sin(t)
    cx, cy = _PROJ.project_xy(body.centre[0], body.centre[1])
    return Polygon(np.column_stack([cx + x * np.cos(r) - y * np.sin(r), cy + x * np.sin(r) + y * np.cos(r)]))


@dataclass(frozen=True)
class Hydrography:
    water: pd.DataFrame  # feature rows of layer "water"
    flood_zones: pd.DataFrame  # feature rows of layer "flood_zones"


def generate_hydrography(
    bounds: tuple[float, float, float, float], *, seed: int = 0, pad_deg: float = 0.05
) -> Hydrography:
    """Water bodies and flood zones intersecting ``bounds`` (the grid's lon/lat box, padded)."""
    rng = np.random.default_rng([seed, 13])
    lo_x, lo_y = _PROJ.project_xy(bounds[0] - pad_deg, bounds[1] - pad_deg)
    hi_x, hi_y = _PROJ.project_xy(bounds[2] + pad_deg, bounds[3] + pad_deg)
    clip = shapely.box(float(lo_x), float(lo_y), float(hi_x), float(hi_y))
    water: list[tuple[str, str, str, float, shapely.Geometry]] = []
    zones: list[tuple[str, str, str, float, float, float, shapely.Geometry]] = []
    for i, stream in enumerate(STREAMS):
        course = _course(stream, rng)  # drawn for every stream, so clipping never shifts the draws
        if not course.intersects(clip.buffer(W100_M[1] * W500_FACTOR * VALLEY_WIDTH_FACTOR)):
            continue
        water.append((f"WTR-S{i:02d}", stream.kind, stream.name, float(np.mean(stream.width_m)), course))
        zones.extend(_stream_zones(i, stream, course))
    for j, body in enumerate(WATER_BODIES):
        shape = _ellipse(body)
        if not shape.intersects(clip):
            continue
        water.append((f"WTR-B{j:02d}", body.kind, body.name, np.nan, shape))
        cx, cy = shape.centroid.x, shape.centroid.y
        lon, lat = cx / _PROJ.kx + _PROJ.lon0, cy / _PROJ.ky + _PROJ.lat0
        bfe = float(np.round(plane_elev_ft(np.array([lon]), np.array([lat]))[0] + 2.0))
        ring = shape.buffer(RESERVOIR_RING_M).difference(shape)
        zones.append((f"FLD-B{j:02d}-AE", "AE", body.name, bfe, 1.0, bfe, ring))
    return Hydrography(_water_frame(water, clip), _zone_frame(zones, clip))


def _stream_zones(
    i: int, stream: Stream, course: LineString
) -> list[tuple[str, str, str, float, float, float, shapely.Geometry]]:
    """Per reach: the 1 % (AE) polygon and the 0.2 % (X500) band around it, each with its elevations."""
    n = max(int(np.ceil(course.length / (REACH_KM * 1000))), 1)
    out: list[tuple[str, str, str, float, float, float, shapely.Geometry]] = []
    for r in range(n):
        part = substring(course, r * course.length / n, (r + 1) * course.length / n)
        frac = (r + 0.5) / n
        w100 = W100_M[0] + (W100_M[1] - W100_M[0]) * frac
        w500 = w100 * W500_FACTOR
        valley = w500 * VALLEY_WIDTH_FACTOR
        mid = part.interpolate(0.5, normalized=True)
        lon, lat = mid.x / _PROJ.kx + _PROJ.lon0, mid.y / _PROJ.ky + _PROJ.lat0
        plane = float(plane_elev_ft(np.array([lon]), np.array([lat]))[0])
        bfe = round(plane - VALLEY_DEPTH_FT * (1 - w100 / valley))
        e500 = round(plane - VALLEY_DEPTH_FT * (1 - w500 / valley))
        inner = part.buffer(w100, cap_style="flat")
        outer = part.buffer(w500, cap_style="flat")  # nested: it holds the 1 % area too
        out.append((f"FLD-S{i:02d}-{r:03d}-AE", "AE", stream.name, float(bfe), 1.0, float(bfe), inner))
        out.append((f"FLD-S{i:02d}-{r:03d}-X500", "X500", stream.name, float(bfe), 0.2, float(e500), outer))
    return out


def _water_frame(rows: list[tuple[str, str, str, float, shapely.Geometry]], clip: Polygon) -> pd.DataFrame:
    geoms = np.array([_to_lonlat(g.intersection(clip)) for *_, g in rows], dtype=object)
    keep = ~shapely.is_empty(geoms) if len(geoms) else np.zeros(0, bool)
    return feature_frame(
        "water",
        np.array([r[0] for r in rows], dtype=object)[keep],
        geoms[keep],
        kind=np.array([r[1] for r in rows], dtype=object)[keep],
        name=np.array([r[2] for r in rows], dtype=object)[keep],
        num_a=np.array([r[3] for r in rows], dtype=np.float64)[keep],
    )


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygons of a valid geometry (an intersection can leave stray lines or points)."""
    geom = shapely.make_valid(geom)
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _zone_frame(
    rows: list[tuple[str, str, str, float, float, float, shapely.Geometry]], clip: Polygon
) -> pd.DataFrame:
    geoms = np.array([_polygonal(_to_lonlat(g.intersection(clip))) for *_, g in rows], dtype=object)
    keep = ~shapely.is_empty(geoms) if len(geoms) else np.zeros(0, bool)
    cols = list(zip(*rows, strict=True)) if rows else [()] * 7
    return feature_frame(
        "flood_zones",
        np.array(cols[0], dtype=object)[keep],
        geoms[keep],
        kind=np.array(cols[1], dtype=object)[keep],
        name=np.array(cols[2], dtype=object)[keep],
        num_a=np.array(cols[3], dtype=np.float64)[keep],
        num_b=np.array(cols[4], dtype=np.float64)[keep],
        num_c=np.array(cols[5], dtype=np.float64)[keep],
    )


def ground_elev_ft(lon: np.ndarray, lat: np.ndarray, seed: int = 0) -> np.ndarray:
    """The synthetic terrain at points: the plane minus the valley of the nearest stream reach."""
    rng = np.random.default_rng([seed, 13])
    courses = [_course(s, rng) for s in STREAMS]
    x, y = _PROJ.project_xy(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    pts = shapely.points(x, y)
    depth = np.zeros(len(pts))
    for course in courses:
        d = shapely.distance(pts, course)
        # the valley half-width grows downstream like the zones: take it at the nearest position
        frac = np.asarray(shapely.line_locate_point(course, pts), dtype=np.float64) / max(course.length, 1.0)
        valley = (W100_M[0] + (W100_M[1] - W100_M[0]) * frac) * W500_FACTOR * VALLEY_WIDTH_FACTOR
        depth = np.maximum(depth, VALLEY_DEPTH_FT * np.clip(1 - d / valley, 0.0, 1.0))
    out: np.ndarray = plane_elev_ft(np.asarray(lon), np.asarray(lat)) - depth
    return out
