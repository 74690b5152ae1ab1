"""asset_index: one row per addressable asset with a consistent location and bbox."""

from __future__ import annotations

import shapely

from fluxops.grid.assets import ASSET_INDEX_COLUMNS, asset_index
from fluxops.grid.models import ASSET_TYPES, Grid


def test_asset_index_covers_every_asset(tiny_grid: Grid) -> None:
    idx = asset_index(tiny_grid)
    assert list(idx.columns) == list(ASSET_INDEX_COLUMNS)
    assert idx.asset_id.is_unique
    assert set(idx.asset_type) <= set(ASSET_TYPES)
    expected = sum(
        len(tiny_grid.table(t))
        for t in (
            "substations",
            "substation_transformers",
            "feeders",
            "line_segments",
            "devices",
            "poles",
            "transformers",
            "meters",
        )
    )
    assert len(idx) == expected
    assert idx.name.notna().all() and (idx.name.str.len() > 0).all()
    inside = (
        (idx.min_lon <= idx.lon)
        & (idx.lon <= idx.max_lon)
        & (idx.min_lat <= idx.lat)
        & (idx.lat <= idx.max_lat)
    )
    assert inside.all()


def test_feeder_bbox_contains_its_segments(tiny_grid: Grid) -> None:
    idx = asset_index(tiny_grid).set_index("asset_id")
    seg = tiny_grid.line_segments
    b = shapely.bounds(shapely.from_wkb(seg.geometry_wkb.to_numpy()))
    f = idx.loc[seg.feeder_id]
    assert (f.min_lon.to_numpy() <= b[:, 0]).all() and (f.max_lon.to_numpy() >= b[:, 2]).all()
    assert (f.min_lat.to_numpy() <= b[:, 1]).all() and (f.max_lat.to_numpy() >= b[:, 3]).all()
    devices = idx[idx.index.isin(tiny_grid.devices.device_id)]
    assert set(devices.asset_type) == set(tiny_grid.devices.device_type)
