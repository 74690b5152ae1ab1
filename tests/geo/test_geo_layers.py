"""Geo layers, pure parts: synthetic hydrography and terrain agree, flood exposure and freeboard tiers,
building footprints per site, canopy by land use, the one vegetation risk and the trim plan."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from fluxops.core.errors import InvalidInputError
from fluxops.geo import buildings, canopy, flood, hydrography, trim_plan
from fluxops.geo import vegetation as veg
from fluxops.grid.models import Grid

HOUSTON_BOX = (-95.8, 29.5, -95.0, 30.1)


@pytest.fixture(scope="module")
def hydro() -> hydrography.Hydrography:
    return hydrography.generate_hydrography(HOUSTON_BOX, seed=0)


def test_hydrography_is_deterministic_named_and_valid(hydro: hydrography.Hydrography) -> None:
    again = hydrography.generate_hydrography(HOUSTON_BOX, seed=0)
    pd.testing.assert_frame_equal(hydro.flood_zones, again.flood_zones)
    names = set(hydro.water.name)
    assert {"Buffalo Bayou", "Brays Bayou", "White Oak Bayou", "Addicks Reservoir", "Lake Houston"} <= names
    zones = shapely.from_wkb(hydro.flood_zones.geometry_wkb.to_numpy())
    assert shapely.is_valid(zones).all() and not shapely.is_empty(zones).any()
    assert set(hydro.flood_zones.kind) == {"AE", "X500"}
    ae = hydro.flood_zones[hydro.flood_zones.kind == "AE"]
    x500 = hydro.flood_zones[hydro.flood_zones.kind == "X500"]
    assert (ae.num_b == 1.0).all() and (x500.num_b == 0.2).all()
    assert (ae.num_a == ae.num_c).all()  # in AE the flood elevation is the BFE
    assert (x500.num_c >= x500.num_a).all()  # the 0.2 % flood stands higher than the 1 %
    assert (hydro.flood_zones.num_a == np.round(hydro.flood_zones.num_a)).all()  # whole feet


def test_terrain_agrees_with_the_zones(hydro: hydrography.Hydrography) -> None:
    """Inside an AE zone the ground is below its BFE (that is why it floods), except at the edge."""
    zones = hydro.flood_zones[hydro.flood_zones.feature_id.str.startswith("FLD-S")]
    ae = zones[zones.kind == "AE"].iloc[:40]
    polys = shapely.from_wkb(ae.geometry_wkb.to_numpy())
    centres = shapely.point_on_surface(polys)
    lon, lat = shapely.get_x(centres), shapely.get_y(centres)
    ground = hydrography.ground_elev_ft(lon, lat)
    assert (ground < ae.num_a.to_numpy() + 1.0).mean() > 0.9
    far = hydrography.ground_elev_ft(np.array([-95.7]), np.array([30.09]))
    near_bay = hydrography.ground_elev_ft(np.array([-95.0]), np.array([29.56]))
    assert far[0] > near_bay[0] + 50  # the plain rises to the north-west


def test_flood_exposure_and_tiers() -> None:
    square = shapely.box(-95.30, 29.70, -95.29, 29.71)
    zones = pd.DataFrame(
        {
            "feature_id": ["Z-AE", "Z-X"],
            "kind": ["AE", "X500"],
            "name": ["Test Bayou"] * 2,
            "num_a": [40.0, 40.0],
            "num_b": [1.0, 0.2],
            "num_c": [40.0, 44.0],
            "geometry_wkb": [shapely.to_wkb(square), shapely.to_wkb(square.buffer(0.01))],
        }
    )
    sites = pd.DataFrame(
        {
            "asset_id": ["S1", "T1", "T2", "OUT"],
            "asset_type": ["substation", "transformer", "transformer", "transformer"],
            "lon": [-95.295, -95.2955, -95.285, -95.20],
            "lat": [29.705, 29.705, 29.705, 29.705],
        }
    )
    ground = np.array([38.0, 41.0, 47.0, 0.0])
    got = flood.exposure(sites, zones, ground).set_index("asset_id")
    assert "OUT" not in got.index
    assert got.loc["S1", "zone"] == "AE" and got.loc["S1", "freeboard_ft"] == pytest.approx(-1.0)
    assert got.loc["S1", "tier"] == "high"
    assert got.loc["T1", "freeboard_ft"] == pytest.approx(1.5) and got.loc["T1", "tier"] == "medium"
    assert got.loc["T2", "zone"] == "X500" and got.loc["T2", "freeboard_ft"] == pytest.approx(3.5)
    assert got.loc["T2", "tier"] == "low"
    unknown = flood.exposure(sites, zones, None)
    assert unknown.freeboard_ft.isna().all() and set(unknown.tier) == {"unknown"}
    assert set(flood.flooded(got.reset_index(), above_bfe_ft=0.0)) == {"S1"}
    assert set(flood.flooded(got.reset_index(), above_bfe_ft=2.0)) == {"S1", "T1"}


def test_buildings_one_per_site_linked_to_meters(tiny_grid: Grid) -> None:
    frame, shrunk = buildings.generate_buildings(tiny_grid, seed=0)
    assert set(frame.ref_id) <= set(tiny_grid.meters.meter_id)
    assert frame.num_b.sum() == len(tiny_grid.meters)  # every meter is a unit of one building
    geoms = shapely.from_wkb(frame.geometry_wkb.to_numpy())
    assert shapely.is_valid(geoms).all()
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="overlaps")
    assert (a == b).all()  # no footprint overlaps another
    by_use = frame.groupby("kind").num_a.median()
    if "commercial" in by_use and shrunk < len(frame):
        unshrunk = frame[frame.num_a > 0]
        assert (
            unshrunk.groupby("kind").num_a.max()["commercial"]
            > unshrunk.groupby("kind").num_a.max()["residential"]
        )


def test_canopy_by_land_use(tiny_grid: Grid) -> None:
    cells = canopy.generate_canopy(tiny_grid, seed=0)
    assert len(cells) and set(cells.kind) <= set(canopy.COVER_BY_LAND_USE)
    assert cells.num_a.between(0, 0.95).all()
    again = canopy.generate_canopy(tiny_grid, seed=0)
    assert cells.num_a.tolist() == again.num_a.tolist()


def test_span_risk_is_one_definition() -> None:
    risk = veg.span_risk(np.array([0.0, np.nan, 12.0, np.nan]), np.array([0.0, 0.0, 0.0, 5.0]))
    assert risk[0] == pytest.approx(0.1)  # encroaching now, nothing can fall in
    assert risk[1] == 0.0
    assert risk[2] == pytest.approx(0.1 * np.exp(-1))
    assert risk[3] == pytest.approx(0.9 * (1 - np.exp(-5)))


def _trees_and_spans() -> tuple[pd.DataFrame, pd.DataFrame]:
    spans = pd.DataFrame(
        {
            "segment_id": ["A", "B"],
            "feeder_id": ["F1", "F1"],
            "v_kv": [12.47, 12.47],
            "conductor_height_m": [10.0, 10.0],
            "length_km": [0.05, 0.05],
            "geometry_wkb": [b"", b""],
        }
    )
    trees = pd.DataFrame(
        {
            "segment_id": ["A", "A", "B"],
            "offset_m": [3.0, 6.0, 25.0],
            "crown_radius_m": [2.5, 2.0, 3.0],
            "height_m": [14.0, 18.0, 8.0],
            "growth_m_per_yr": [0.5, 0.5, 0.3],
        }
    )
    return trees, spans


def test_trim_plan_orders_by_risk_reduced_per_dollar() -> None:
    trees, spans = _trees_and_spans()
    result = trim_plan.trim_plan(trees, spans, "prc4293", budget_usd=10_000, costs=trim_plan.TrimCosts())
    plan = result["plan"]
    assert list(plan.segment_id) == ["A"]  # B has nothing a trim improves
    row = plan.iloc[0]
    assert row.risk_after < row.risk_before and row.trees_felled == 2  # both strike-capable
    assert row.cost_usd == pytest.approx(400 + 2 * 900)
    assert bool(row.selected) and result["cost_selected_usd"] == pytest.approx(row.cost_usd)
    poor = trim_plan.trim_plan(trees, spans, "prc4293", budget_usd=100, costs=trim_plan.TrimCosts())
    assert poor["spans_selected"] == 0 and not poor["plan"].selected.any()
    with pytest.raises(InvalidInputError):
        trim_plan.trim_plan(trees, spans, "prc4293", budget_usd=-1, costs=trim_plan.TrimCosts())
    with pytest.raises(InvalidInputError):
        trim_plan.trim_plan(trees, spans, "prc4293", budget_usd=1, costs=trim_plan.TrimCosts(per_tree_usd=-5))
