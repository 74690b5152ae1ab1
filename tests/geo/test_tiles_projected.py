"""DuckDB's line and polygon tiles from the pre-projected copies (`fluxops.storage.tiles_projected`)
hold the same features at the same tile coordinates as the statement that projects every feature per
request: spans at z13-z18, every geo layer at z10-z18; a layer saved again (new version) is copied
again, and its tiles follow."""

from __future__ import annotations

import math
from typing import Any

import mapbox_vector_tile
import numpy as np

from fluxops.geo import tiles as gt
from fluxops.geo.layers import GEO_LAYERS
from fluxops.grid.models import Grid
from fluxops.storage import geo_generate, geo_layers_store
from fluxops.storage import spatial_queries as sq
from fluxops.storage.geo_tiles import PROJECTED_LAYERS, render_geo_tile


def _tile_at(lon: float, lat: float, z: int) -> gt.Tile:
    n = 2**z
    return gt.validate_tile(
        z, int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    )


def _features(body: bytes) -> list[tuple[Any, ...]]:
    if not body:
        return []
    (layer,) = mapbox_vector_tile.decode(body).values()
    return sorted((repr(sorted(f["properties"].items())), repr(f["geometry"])) for f in layer["features"])


def _tiles(grid: Grid, zooms: range) -> list[gt.Tile]:
    rng = np.random.default_rng(11)
    xy = grid.meters[["lon", "lat"]].to_numpy()
    out: dict[gt.Tile, None] = {}
    for i in rng.integers(0, len(xy), 5):
        for z in zooms:
            t = _tile_at(float(xy[i, 0]), float(xy[i, 1]), z)
            for dx, dy in ((0, 0), (1, 0), (0, 1)):
                out[gt.Tile(z, t.x + dx, t.y + dy)] = None
    return list(out)


def test_projected_tiles_equal_the_per_request_projection(duckdb_store: Any, tiny_grid: Grid) -> None:
    store = duckdb_store
    store.load_grid(tiny_grid)
    digest = store.get_grid_info().content_hash
    geo_generate.generate_layers(store, tiny_grid, grid_hash=digest, layers=geo_generate.GENERATED, seed=0)
    spans = gt.LAYERS["segments"]
    nonempty = 0
    for tile in _tiles(tiny_grid, range(13, 19)):
        old = sq.render_tile_sql(store, spans, tile, projected=False)
        new = sq.render_tile_sql(store, spans, tile, grid_hash=digest)
        assert _features(new) == _features(old), tile
        nonempty += bool(old)
    assert nonempty > 10
    for name in PROJECTED_LAYERS:
        layer = GEO_LAYERS[name]
        meta = geo_layers_store.get_meta(store, name)
        if meta is None:
            continue
        seen = 0
        for tile in _tiles(tiny_grid, range(max(10, layer.min_zoom), 19)):
            old = render_geo_tile(store, layer, tile)
            new = render_geo_tile(store, layer, tile, str(meta["version"]))
            assert _features(new) == _features(old), (name, tile)
            seen += bool(old)
        assert seen, name


def test_a_new_layer_version_is_copied_again(duckdb_store: Any, tiny_grid: Grid) -> None:
    store = duckdb_store
    store.load_grid(tiny_grid)
    digest = store.get_grid_info().content_hash
    geo_generate.generate_layers(store, tiny_grid, grid_hash=digest, layers=("water",), seed=0)
    layer = GEO_LAYERS["water"]
    frame = geo_layers_store.read_layer(store, "water")
    row = frame.iloc[0]
    lon, lat = (row.min_lon + row.max_lon) / 2, (row.min_lat + row.max_lat) / 2
    tile = _tile_at(lon, lat, 14)
    first = render_geo_tile(store, layer, tile, str(geo_layers_store.get_meta(store, "water")["version"]))
    assert first
    geo_generate.generate_layers(store, tiny_grid, grid_hash=digest, layers=("water",), seed=5)
    version = str(geo_layers_store.get_meta(store, "water")["version"])
    assert _features(render_geo_tile(store, layer, tile, version)) == _features(
        render_geo_tile(store, layer, tile)
    )
