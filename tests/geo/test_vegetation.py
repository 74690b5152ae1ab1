"""Vegetation: clearance by voltage, grow-in clock, fall-in geometry, the generated inventory, storage."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import shapely

from fluxops.core.errors import InvalidInputError
from fluxops.geo import vegetation as veg
from fluxops.geo.spatial import LocalProjection
from fluxops.grid.models import Grid
from fluxops.storage import vegetation_store

FT = 0.3048


def test_required_clearance_by_voltage_class() -> None:
    got = veg.required_clearance_m(np.array([12.47, 34.5, 69.0, 72.0, 100.0, 138.0]), "prc4293")
    assert got.tolist() == pytest.approx([4 * FT, 4 * FT, 4 * FT, 6 * FT, 6 * FT, 10 * FT])
    assert veg.required_clearance_m(np.array([12.47]), "go95_minimum").tolist() == pytest.approx([0.4572])
    with pytest.raises(InvalidInputError):
        veg.required_clearance_m(np.array([34.5]), "go95_minimum")
    assert veg.time_of_trim_clearance_m(np.array([12.47])).tolist() == pytest.approx([6.5 * FT])
    assert veg.conductor_height_m(np.array([12.192])).tolist() == pytest.approx([12.192 * 0.9 - 2 * FT])


def test_months_to_encroachment_closed_forms() -> None:
    need = np.full(4, 4 * FT)
    hc = np.full(4, 10.0)
    offset = np.array([5.0, 2.0, 1.0, 40.0])
    crown = np.array([2.0, 3.0, 1.0, 1.0])
    height = np.array([20.0, 5.0, 12.0, 5.0])
    growth = np.array([0.5, 0.5, 0.5, 0.01])
    months = veg.months_to_encroachment(offset, crown, height, growth, hc, need)
    # beside the line and taller than it: the crown closes the horizontal gap
    assert months[0] == pytest.approx(12 * (3.0 - 4 * FT) / 0.5, abs=0.02)
    # under the line: the top rises toward it (the crown already spans the offset)
    assert months[1] == pytest.approx(12 * (5.0 - 4 * FT) / 0.5, abs=0.02)
    assert months[2] == 0 and math.isinf(months[3])


def test_fall_in_reach_geometry() -> None:
    share = veg.fall_in_reach(
        np.array([10.0, 10.0, 5.0, 10.0]), np.array([4.0, 9.0, 1.0, 0.0]), np.full(4, 6.0)
    )
    assert share[0] == pytest.approx(math.acos(0.5) / math.pi)  # reach 8 m, offset 4 m: a third
    assert share[1] == 0 and share[2] == 0  # out of reach; shorter than the conductor height
    assert share[3] == pytest.approx(0.5)  # right under the line: every fall toward it
    # Monte Carlo: random fall directions strike at the predicted rate
    rng = np.random.default_rng(0)
    theta = rng.uniform(-math.pi, math.pi, 200_000)
    assert (8.0 * np.cos(theta) >= 4.0).mean() == pytest.approx(share[0], abs=0.005)


def test_generated_inventory(tiny_grid: Grid) -> None:
    params = veg.VegetationParams(seed=3)
    trees = veg.generate_trees(tiny_grid, params)
    again = veg.generate_trees(tiny_grid, params)
    assert trees.equals(again) and len(trees) > 0
    overhead = set(tiny_grid.line_segments.segment_id[tiny_grid.line_segments.construction == "overhead"])
    assert set(trees.segment_id) <= overhead
    assert trees.offset_m.between(0, params.corridor_m).all()
    assert set(trees.species_group) <= {s.name for s in veg.SPECIES}
    assert (trees.crown_radius_m <= trees.height_m * 0.4 + 0.01).all()  # both rounded to cm
    days = (params.as_of - trees.last_trim_date).map(lambda d: d.days)
    assert days.between(0, 5 * 366).all()
    # each tree stands its offset away from its span (measured in metres)
    geoms = tiny_grid.line_segments.set_index("segment_id").geometry_wkb.loc[trees.segment_id]
    lines = shapely.from_wkb(geoms.to_numpy())
    dist = []
    for line, lon, lat in zip(lines, trees.lon, trees.lat, strict=True):
        proj = LocalProjection(lon, lat)
        dist.append(proj.project(line).distance(shapely.Point(0, 0)))
    assert np.all(np.asarray(dist) <= trees.offset_m.to_numpy() + 0.05)
    assert np.median(np.asarray(dist) / np.maximum(trees.offset_m.to_numpy(), 1e-6)) == pytest.approx(
        1, abs=0.02
    )
    spans = veg.span_context(tiny_grid)
    table = veg.span_exposure(trees, spans, "prc4293")
    assert table.trees.sum() == len(trees)
    assert (table.required_clearance_m == round(4 * FT, 3)).all()
    assert ((table.months_to_encroachment == 0) == (table.encroaching_now > 0)).all()


def test_inventory_store_round_trip(store: Any, tiny_grid: Grid) -> None:
    store.load_grid(tiny_grid)
    params = veg.VegetationParams(seed=1)
    trees = veg.generate_trees(tiny_grid, params)
    assert vegetation_store.get_meta(store) is None
    assert vegetation_store.save_trees(store, trees, grid_hash="h1", params=params) == len(trees)
    assert vegetation_store.save_trees(store, trees, grid_hash="h2", params=params) == len(trees)  # replaces
    meta = vegetation_store.get_meta(store)
    assert meta is not None and meta["grid_hash"] == "h2" and meta["params"]["seed"] == 1
    back = vegetation_store.read_trees(store)
    assert back.tree_id.tolist() == trees.tree_id.tolist()
    assert np.allclose(back.height_m, trees.height_m) and (back.last_trim_date == trees.last_trim_date).all()
    one = trees.feeder_id.iloc[0]
    assert set(vegetation_store.read_trees(store, feeder_id=one).feeder_id) == {one}
