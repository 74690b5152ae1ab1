"""Tiles and spatial queries on both stores against a NumPy / shapely brute force over the asset index."""

from __future__ import annotations

import math
from typing import Any

import mapbox_vector_tile
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Polygon

from fluxops.geo import tiles as gt
from fluxops.geo.spatial import haversine_m, line_projection
from fluxops.grid.assets import asset_index
from fluxops.grid.models import Grid
from fluxops.storage import spatial_queries as sq


@pytest.fixture
def loaded(store: Any, tiny_grid: Grid) -> Any:
    store.load_grid(tiny_grid)
    return store


@pytest.fixture(scope="module")
def index(tiny_grid: Grid) -> pd.DataFrame:
    return asset_index(tiny_grid)


def tile_at(lon: float, lat: float, z: int) -> gt.Tile:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return gt.validate_tile(z, x, y)


def decode(body: bytes) -> dict[str, Any]:
    return mapbox_vector_tile.decode(body) if body else {}


def in_box(frame: pd.DataFrame, box: tuple[float, float, float, float]) -> pd.DataFrame:
    return frame[
        (frame.lon >= box[0]) & (frame.lon <= box[2]) & (frame.lat >= box[1]) & (frame.lat <= box[3])
    ]


def test_point_tile_holds_exactly_the_points_in_its_buffered_envelope(
    loaded: Any, index: pd.DataFrame
) -> None:
    meters = index[index.asset_type == "meter"]
    centre = meters.iloc[len(meters) // 2]
    for z in (15, 16, 17):
        tile = tile_at(centre.lon, centre.lat, z)
        features = decode(sq.render_tile(loaded, gt.LAYERS["meters"], tile))["meters"]["features"]
        got = {f["properties"]["id"] for f in features}
        expected = set(in_box(meters, gt.query_bounds_lonlat(tile)).asset_id)
        assert got == expected and got
        strictly_inside = set(in_box(meters, gt.tile_bounds_lonlat(tile)).asset_id)
        assert strictly_inside <= got
        for f in features:  # tile coordinates: inside the extent plus the buffer
            x, y = f["geometry"]["coordinates"]
            assert -gt.BUFFER <= x <= gt.EXTENT + gt.BUFFER and -gt.BUFFER <= y <= gt.EXTENT + gt.BUFFER
            assert f["properties"]["type"] == "meter" and f["properties"]["feeder_id"].startswith("FDR-")


def test_segment_tile_and_low_zoom_thinning(loaded: Any, tiny_grid: Grid, index: pd.DataFrame) -> None:
    sub = tiny_grid.substations.iloc[0]
    segs = tiny_grid.line_segments
    geoms = shapely.from_wkb(segs.geometry_wkb.to_numpy())
    for z in (13, 15):
        tile = tile_at(sub.lon, sub.lat, z)
        got = {
            f["properties"]["id"]
            for f in decode(sq.render_tile(loaded, gt.LAYERS["segments"], tile))["segments"]["features"]
        }
        env = shapely.box(*gt.tile_bounds_lonlat(tile))
        touching = set(segs.segment_id[shapely.intersects(geoms, env)])
        assert touching <= got  # every span crossing the tile is drawn (plus those in the buffer)
    low = tile_at(sub.lon, sub.lat, 11)
    features = decode(sq.render_tile(loaded, gt.LAYERS["segments"], low))["segments"]["features"]
    assert features and all(f["properties"]["ampacity_a"] >= gt.MAINLINE_MIN_AMPACITY_A for f in features)
    assert len(features) < (segs.ampacity_a >= 0).sum()  # laterals thinned out
    # below a layer's minimum zoom the tile is empty
    assert sq.render_tile(loaded, gt.LAYERS["meters"], tile_at(sub.lon, sub.lat, 14)) == b""
    assert sq.render_tile(loaded, gt.LAYERS["segments"], tile_at(sub.lon, sub.lat, 9)) == b""
    # a tile far from the grid is empty too
    assert sq.render_tile(loaded, gt.LAYERS["substations"], gt.validate_tile(16, 0, 0)) == b""
    assert "substations" in decode(
        sq.render_tile(loaded, gt.LAYERS["substations"], gt.validate_tile(0, 0, 0))
    )


def test_nearest_matches_brute_force(loaded: Any, index: pd.DataFrame) -> None:
    rng = np.random.default_rng(3)
    for _ in range(5):
        lon = index.lon.mean() + rng.normal(0, 0.01)
        lat = index.lat.mean() + rng.normal(0, 0.01)
        for types, k in ((None, 7), (("meter",), 25), (("transformer", "pole"), 5), (("substation",), 10)):
            frame = index if types is None else index[index.asset_type.isin(types)]
            d = haversine_m(lon, lat, frame.lon.to_numpy(), frame.lat.to_numpy())
            order = np.lexsort((frame.asset_id.to_numpy(), d))[:k]
            hits = sq.nearest(loaded, lon=lon, lat=lat, k=k, types=types)
            assert [h.asset_id for h in hits] == list(frame.asset_id.to_numpy()[order])
            assert [h.distance_m for h in hits] == pytest.approx(list(d[order]), abs=1e-3)


def test_within_radius_matches_brute_force(loaded: Any, index: pd.DataFrame) -> None:
    lon, lat = float(index.lon.median()), float(index.lat.median())
    for radius, types in ((150.0, None), (600.0, ("meter",)), (2500.0, None)):
        frame = index if types is None else index[index.asset_type.isin(types)]
        d = haversine_m(lon, lat, frame.lon.to_numpy(), frame.lat.to_numpy())
        sel = sq.within_radius(loaded, lon=lon, lat=lat, radius_m=radius, types=types, limit=50)
        expected = frame[d <= radius]
        assert sel.count == len(expected) > 0
        assert sel.by_type == expected.asset_type.value_counts().to_dict()
        assert len(sel.items) == min(50, len(expected))
        assert sel.truncated == (len(expected) > 50)
        ds = [h.distance_m for h in sel.items]
        assert ds == sorted(ds) and max(ds) <= radius


def test_within_polygon_matches_brute_force(loaded: Any, index: pd.DataFrame) -> None:
    lon, lat = float(index.lon.median()), float(index.lat.median())
    poly = Polygon(
        [
            (lon - 0.004, lat - 0.003),
            (lon + 0.005, lat - 0.002),
            (lon + 0.001, lat + 0.006),
            (lon - 0.003, lat + 0.002),
        ]
    )
    hole = Polygon([(lon - 0.001, lat - 0.001), (lon + 0.001, lat - 0.001), (lon, lat + 0.001)])
    holed = Polygon(poly.exterior.coords, [hole.exterior.coords])
    for shape, types in ((poly, None), (holed, ("meter", "transformer"))):
        frame = index if types is None else index[index.asset_type.isin(types)]
        mask = shapely.intersects_xy(shape, frame.lon.to_numpy(), frame.lat.to_numpy())
        sel = sq.within_polygon(loaded, polygon=shape, types=types, limit=5000)
        assert sel.count == int(mask.sum()) > 0
        assert sorted(h.asset_id for h in sel.items) == sorted(frame.asset_id[mask])


def test_along_line_matches_brute_force(loaded: Any, index: pd.DataFrame) -> None:
    lon, lat = float(index.lon.median()), float(index.lat.median())
    line = LineString([(lon - 0.01, lat - 0.004), (lon, lat + 0.002), (lon + 0.008, lat)])
    proj = line_projection(line)
    x, y = proj.project_xy(index.lon.to_numpy(), index.lat.to_numpy())
    d = shapely.distance(shapely.points(x, y), proj.project(line))
    sel = sq.along_line(loaded, line=line, buffer_m=120.0, types=None, limit=5000)
    assert sel.count == int((d <= 120.0).sum()) > 0
    assert sorted(h.asset_id for h in sel.items) == sorted(index.asset_id[d <= 120.0])


def test_h3_inputs(loaded: Any, tiny_grid: Grid) -> None:
    pts = sq.h3_points(loaded, "load_kw")
    assert pts.num_rows == len(tiny_grid.meters)
    assert pts.column("w").to_numpy().sum() == pytest.approx(tiny_grid.customers.peak_kw.sum())
    assert sq.h3_points(loaded, "customers").column("w").to_numpy().sum() == len(tiny_grid.customers)
    assert sq.h3_points(loaded, "outages").num_rows == 0  # no outage table yet: nothing to count
