"""Low-zoom span tiles from the pre-generalized table, on both stores: the same spans as the direct
path (every mainline span meeting the tile), geometry within one z12 tile unit of the original, and the
table rebuilt when the grid changes."""

from __future__ import annotations

import math
from typing import Any

import mapbox_vector_tile
import numpy as np
import shapely

from fluxops.geo import tiles as gt
from fluxops.grid.models import Grid
from fluxops.storage import spatial_queries as sq
from fluxops.storage import tiles_generalized


def tile_at(lon: float, lat: float, z: int) -> gt.Tile:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return gt.validate_tile(z, x, y)


def test_low_zoom_spans_come_from_the_generalized_table(store: Any, tiny_grid: Grid) -> None:
    store.load_grid(tiny_grid)
    segs = tiny_grid.line_segments
    main = segs[segs.ampacity_a >= gt.MAINLINE_MIN_AMPACITY_A]
    geoms = shapely.from_wkb(main.geometry_wkb.to_numpy())
    sub = tiny_grid.substations.iloc[0]
    for z in (10, 11, 12):
        tile = tile_at(sub.lon, sub.lat, z)
        feats = mapbox_vector_tile.decode(sq.render_tile(store, gt.LAYERS["segments"], tile))["segments"][
            "features"
        ]
        got = {f["properties"]["id"] for f in feats}
        touching = set(main.segment_id[shapely.intersects(geoms, shapely.box(*gt.tile_bounds_lonlat(tile)))])
        assert touching <= got <= set(main.segment_id)
    rows = store.query_arrow(
        "SELECT segment_id, wkb_3857 FROM segments_lowzoom ORDER BY segment_id"
    ).to_pylist()
    assert [r["segment_id"] for r in rows] == sorted(main.segment_id)
    simple = shapely.from_wkb([r["wkb_3857"] for r in rows])
    exact = shapely.transform(
        shapely.from_wkb(main.sort_values("segment_id").geometry_wkb.to_numpy()),
        tiles_generalized.to_mercator,
    )
    assert np.max(shapely.hausdorff_distance(simple, exact)) <= gt.simplify_tolerance_m(12) * 1.01
    # a new grid: the table follows it on the next low-zoom tile
    from fluxops.grid.generator import generate_grid

    other = generate_grid("tiny", seed=1)
    store.load_grid(other)
    sq.render_tile(store, gt.LAYERS["segments"], tile_at(sub.lon, sub.lat, 11))
    meta = store.query_arrow("SELECT grid_hash FROM segments_lowzoom_meta").column(0)[0].as_py()
    assert meta == store.get_grid_info().content_hash
    ids = (
        store.query_arrow("SELECT segment_id FROM segments_lowzoom ORDER BY segment_id").column(0).to_pylist()
    )
    new_main = other.line_segments[other.line_segments.ampacity_a >= gt.MAINLINE_MIN_AMPACITY_A]
    assert ids == sorted(new_main.segment_id)
