"""Building tiles from memory (`fluxops.storage.geo_polygon_tiles`) against the database's own
``ST_AsMVT`` tile, on both stores, z15-z18 around the grid (tiles and their neighbours): the same
features with the same properties (ids, strings and numbers); a footprint inside the tile's buffer the
same ring on the 4096 grid (up to where the ring starts); one clipped at the buffer's edge within one
unit of the database's (the cut lies outside the drawn tile). The encoder's commands decode back to
the rings they were made from, holes and multipolygons included."""

from __future__ import annotations

import itertools
import math
from typing import Any

import mapbox_vector_tile
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape

from fluxops.geo import mvt_polygons
from fluxops.geo import tiles as gt
from fluxops.geo.layers import GEO_LAYERS
from fluxops.grid.models import Grid
from fluxops.storage import geo_generate, geo_layers_store, geo_polygon_tiles
from fluxops.storage.geo_tiles import render_geo_tile


def _tile_at(lon: float, lat: float, z: int) -> gt.Tile:
    n = 2**z
    return gt.validate_tile(
        z, int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    )


def _features(body: bytes) -> dict[str, dict[str, Any]]:
    if not body:
        return {}
    decoded = mapbox_vector_tile.decode(body)
    assert list(decoded) == ["buildings"]
    return {f["properties"]["id"]: f for f in decoded["buildings"]["features"]}


def test_building_tiles_equal_the_database_tiles(store: Any, tiny_grid: Grid) -> None:
    store.load_grid(tiny_grid)
    digest = store.get_grid_info().content_hash
    geo_generate.generate_layers(store, tiny_grid, grid_hash=digest, layers=("buildings",), seed=0)
    layer = GEO_LAYERS["buildings"]
    version = str(geo_layers_store.get_meta(store, "buildings")["version"])
    rng = np.random.default_rng(2)
    xy = tiny_grid.meters[["lon", "lat"]].to_numpy()
    same = clipped = 0
    for i in rng.integers(0, len(xy), 4):
        for z in (15, 16, 17, 18):
            t = _tile_at(float(xy[i, 0]), float(xy[i, 1]), z)
            for tile in (t, gt.Tile(z, t.x + 1, t.y), gt.Tile(z, t.x, t.y + 1)):
                db = _features(render_geo_tile(store, layer, tile))  # the database's statement
                mem = _features(geo_polygon_tiles.render(store, layer, tile, version))
                assert set(mem) == set(db), tile
                for fid, f in db.items():
                    assert mem[fid]["properties"] == f["properties"]
                    a, b = shape(f["geometry"]), shape(mem[fid]["geometry"])
                    if shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), 0):
                        same += 1
                    else:
                        clipped += 1
                        assert shapely.hausdorff_distance(a, b) <= 1.5, (fid, tile)
                        lo, hi = -gt.BUFFER, gt.EXTENT + gt.BUFFER
                        assert min(a.bounds[:2]) <= lo or max(a.bounds[2:]) >= hi  # cut at the buffer
    assert same > 100 and clipped < same / 10


def _decode_polygons(tokens: np.ndarray[Any, Any]) -> list[list[list[tuple[int, int]]]]:
    """Commands -> polygons (exterior first, then holes), by the spec's rules."""
    out: list[list[list[tuple[int, int]]]] = []
    i, x, y = 0, 0, 0
    ring: list[tuple[int, int]] = []

    def unzig(v: int) -> int:
        return (v >> 1) ^ -(v & 1)

    while i < len(tokens):
        cmd, count = int(tokens[i]) & 7, int(tokens[i]) >> 3
        i += 1
        if cmd == 7:
            ring.append(ring[0])
            area = sum(a[0] * b[1] - b[0] * a[1] for a, b in itertools.pairwise(ring))
            if area > 0:
                out.append([ring])
            else:
                out[-1].append(ring)
            ring = []
            continue
        for _ in range(count):
            x, y = x + unzig(int(tokens[i])), y + unzig(int(tokens[i + 1]))
            i += 2
            ring.append((x, y))
    return out


def test_commands_round_trip_holes_and_multipolygons() -> None:
    square = Polygon([(0, 0), (100, 0), (100, 100), (0, 100)], [[(20, 20), (20, 40), (40, 40), (40, 20)]])
    multi = MultiPolygon(
        [Polygon([(200, 200), (260, 200), (260, 230)]), Polygon([(300, 10), (330, 10), (300, 40)])]
    )
    geoms = np.array([square, multi], dtype=object)
    bounds = (0.0, 0.0, 4096.0, 4096.0)  # tile units = metres, y flipped
    tiled = mvt_polygons.to_tile(geoms, bounds, 4096, 64)
    tokens, owner = mvt_polygons.commands(tiled)
    assert list(np.unique(owner)) == [0, 1]
    first = _decode_polygons(tokens[owner == 0])
    assert len(first) == 1 and len(first[0]) == 2  # exterior and its hole
    assert shapely.equals(Polygon(first[0][0], first[0][1:]), tiled[0])
    second = _decode_polygons(tokens[owner == 1])
    assert len(second) == 2 and shapely.equals(MultiPolygon([Polygon(p[0]) for p in second]), tiled[1])
