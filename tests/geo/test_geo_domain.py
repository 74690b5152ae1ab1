"""The pure geo domain: tile math and validation, zoom rules, ETags, the LRU, input validation, H3."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fluxops.core.errors import InvalidInputError, NotFoundError
from fluxops.geo import hexbins
from fluxops.geo import tiles as gt
from fluxops.geo.spatial import haversine_m, parse_line, parse_polygon, radius_box


def test_tile_bounds_match_the_xyz_grid() -> None:
    whole = gt.tile_bounds_lonlat(gt.validate_tile(0, 0, 0))
    assert whole[0] == -180 and whole[2] == 180
    assert whole[3] == pytest.approx(gt.MAX_LAT) and whole[1] == pytest.approx(-gt.MAX_LAT)
    t = gt.validate_tile(14, 3765, 6772)
    lon0, lat0, lon1, lat1 = gt.tile_bounds_lonlat(t)
    x0, y0, x1, y1 = gt.tile_bounds_mercator(t)
    assert gt.mercator_to_lon(x0) == pytest.approx(lon0) and gt.mercator_to_lat(y1) == pytest.approx(lat1)
    assert gt.mercator_to_lat(y0) == pytest.approx(lat0) and gt.mercator_to_lon(x1) == pytest.approx(lon1)
    qb = gt.query_bounds_lonlat(t)
    assert qb[0] < lon0 and qb[1] < lat0 and qb[2] > lon1 and qb[3] > lat1


@pytest.mark.parametrize(
    ("z", "x", "y", "field"),
    [(-1, 0, 0, "z"), (23, 0, 0, "z"), (3, 8, 0, "x"), (3, 0, 8, "y"), (0, 1, 0, "x"), (5, -1, 0, "x")],
)
def test_tile_out_of_range_names_the_coordinate(z: int, x: int, y: int, field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        gt.validate_tile(z, x, y)
    assert err.value.details["field"] == field


def test_unknown_layer_lists_the_layers() -> None:
    with pytest.raises(NotFoundError) as err:
        gt.get_layer("trees")
    assert err.value.details["layers"] == list(gt.LAYERS)


def test_zoom_rules_thin_low_zoom_tiles() -> None:
    assert gt.LAYERS["meters"].types_at(14) == () and gt.LAYERS["meters"].types_at(15) == ("meter",)
    assert gt.LAYERS["poles"].types_at(14) == ()
    assert gt.LAYERS["substations"].types_at(0) == ("substation",)
    dev = gt.LAYERS["devices"]
    assert dev.types_at(10) == ()
    assert "fuse" not in dev.types_at(12) and "recloser" in dev.types_at(12)
    assert "fuse" in dev.types_at(13)
    assert gt.simplify_tolerance_m(10) == pytest.approx(2 * gt.WEB_MERCATOR_HALF / 1024 / 4096)
    assert gt.simplify_tolerance_m(gt.SIMPLIFY_BELOW_ZOOM) == 0


def test_etag_changes_with_grid_layer_and_address() -> None:
    t = gt.validate_tile(12, 1, 2)
    base = gt.tile_etag("abc", "meters", t)
    assert base == gt.tile_etag("abc", "meters", t)
    assert base != gt.tile_etag("abd", "meters", t)
    assert base != gt.tile_etag("abc", "poles", t)
    assert base != gt.tile_etag("abc", "meters", gt.validate_tile(12, 1, 3))


def test_tile_cache_is_a_byte_bounded_lru() -> None:
    cache = gt.TileCache(max_bytes=10)
    cache.put(("a",), b"12345")
    cache.put(("b",), b"12345")
    assert cache.get(("a",)) == b"12345"  # a is now the most recent
    cache.put(("c",), b"123")
    assert cache.get(("b",)) is None and cache.get(("a",)) == b"12345" and cache.get(("c",)) == b"123"
    cache.put(("big",), b"x" * 11)  # larger than the whole cache: not kept
    assert cache.get(("big",)) is None
    assert cache.stats()["bytes"] <= 10


def test_tilejson_document() -> None:
    doc = gt.tilejson(
        gt.LAYERS["meters"], tiles_url="http://h/{z}/{x}/{y}.mvt", bounds=(1, 2, 3, 4), version="v"
    )
    assert (
        doc["tilejson"] == "3.0.0" and doc["minzoom"] == 15 and doc["tiles"] == ["http://h/{z}/{x}/{y}.mvt"]
    )
    assert doc["vector_layers"][0]["id"] == "meters" and doc["bounds"] == [1, 2, 3, 4]


def _ring(*pts: tuple[float, float]) -> dict[str, object]:
    return {"type": "Polygon", "coordinates": [[list(p) for p in (*pts, pts[0])]]}


def test_polygon_validation() -> None:
    ok = parse_polygon(_ring((-95.4, 29.7), (-95.3, 29.7), (-95.3, 29.8), (-95.4, 29.8)))
    assert ok.is_valid
    with pytest.raises(InvalidInputError, match="Self-intersection"):
        parse_polygon(_ring((-95.4, 29.7), (-95.3, 29.8), (-95.3, 29.7), (-95.4, 29.8)))  # a bow tie
    with pytest.raises(InvalidInputError, match="larger than"):
        parse_polygon(_ring((-100, 25), (-90, 25), (-90, 35), (-100, 35)))
    with pytest.raises(InvalidInputError, match="closed"):
        parse_polygon({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]})
    with pytest.raises(InvalidInputError, match="Polygon is expected"):
        parse_polygon({"type": "Point", "coordinates": [0, 0]})
    with pytest.raises(InvalidInputError, match="not a valid"):
        parse_polygon(_ring((0, 0), (1, 0), (2, 0)))


def test_line_validation() -> None:
    assert parse_line({"type": "LineString", "coordinates": [[-95.4, 29.7], [-95.3, 29.7]]}).length > 0
    with pytest.raises(InvalidInputError, match="distinct"):
        parse_line({"type": "LineString", "coordinates": [[1, 1], [1, 1]]})
    with pytest.raises(InvalidInputError, match="longer than"):
        parse_line({"type": "LineString", "coordinates": [[-100, 30], [-90, 30]]})


def test_haversine_and_radius_box() -> None:
    # one degree of latitude on the mean sphere
    assert haversine_m(0, 0, 0, 1) == pytest.approx(math.radians(1) * 6371008.8)
    rng = np.random.default_rng(0)
    lon = -95.4 + rng.uniform(-0.2, 0.2, 5000)
    lat = 29.7 + rng.uniform(-0.2, 0.2, 5000)
    inside = haversine_m(-95.4, 29.7, lon, lat) <= 5000
    b = radius_box(-95.4, 29.7, 5000)
    in_box = (lon >= b[0]) & (lon <= b[2]) & (lat >= b[1]) & (lat <= b[3])
    assert inside.any() and not (inside & ~in_box).any()


def test_h3_aggregation_matches_per_point_cells() -> None:
    import h3

    rng = np.random.default_rng(1)
    lon = -95.4 + rng.uniform(-0.1, 0.1, 2000)
    lat = 29.7 + rng.uniform(-0.1, 0.1, 2000)
    w = rng.uniform(1, 5, 2000)
    for res in range(hexbins.MIN_RESOLUTION, hexbins.MAX_RESOLUTION + 1):
        cells_in = hexbins.cells_at(lon, lat, res)
        n, total, cells = hexbins.aggregate(cells_in, w, limit=10**6, boundaries=res == 6)
        assert total == pytest.approx(w.sum())
        assert sum(c.points for c in cells) == 2000 and len(cells) == n
        assert [c.value for c in cells] == sorted((c.value for c in cells), reverse=True)
        expected: dict[str, float] = {}
        for lo, la, wi in zip(lon, lat, w, strict=True):
            key = h3.latlng_to_cell(la, lo, res)
            expected[key] = expected.get(key, 0.0) + wi
        assert {c.cell: c.value for c in cells} == pytest.approx(expected)
        if res == 6:
            ring = cells[0].boundary
            assert ring is not None and ring[0] == ring[-1] and len(ring) >= 7
        else:
            assert cells[0].boundary is None
    _, _, top = hexbins.aggregate(hexbins.cells_at(lon, lat, 8), w, limit=3, boundaries=False)
    assert len(top) == 3
    with pytest.raises(InvalidInputError):
        hexbins.check_resolution(11)
