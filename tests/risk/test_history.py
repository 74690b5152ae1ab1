from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fluxops.cascade.restoration import RestorationConfig
from fluxops.core.errors import InvalidInputError
from fluxops.grid.models import Grid
from fluxops.grid.topology import GridTopology
from fluxops.risk.assets import RISK_ASSET_TYPES
from fluxops.risk.hazard import HazardParams, base_rate_per_y
from fluxops.risk.history import FAILURE_COLUMNS, History, generate_history

from .conftest import END, scaled_params


def test_assets_cover_every_failing_type_once(small_grid: Grid, small_assets: pd.DataFrame) -> None:
    assert small_assets["asset_id"].is_unique
    assert set(small_assets["asset_type"]) == set(RISK_ASSET_TYPES)
    n_dev = (
        small_grid.devices["device_type"]
        .isin(["fuse", "recloser", "sectionalizer", "breaker", "switch"])
        .sum()
    )
    expected = (
        len(small_grid.transformers)
        + len(small_grid.line_segments)
        + len(small_grid.poles)
        + n_dev
        + len(small_grid.substation_transformers)
    )
    assert len(small_assets) == expected


def test_same_seed_same_history_other_seed_other(small_assets: pd.DataFrame) -> None:
    a = generate_history(small_assets, end_utc=END, years=5, seed=3, params=scaled_params())
    b = generate_history(small_assets, end_utc=END, years=5, seed=3, params=scaled_params())
    c = generate_history(small_assets, end_utc=END, years=5, seed=4, params=scaled_params())
    pd.testing.assert_frame_equal(a.failures, b.failures)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    assert not a.failures["asset_id"].equals(c.failures["asset_id"])


def test_expected_fleet_failures_are_the_published_rates(small_history: History) -> None:
    """The drivers are normalised: per type, Σ Λ over the history = rate × exposure × years."""
    h = small_history
    lam = h.truth.groupby("asset_id")["expected_failures"].sum().reindex(h.assets["asset_id"]).to_numpy()
    want = base_rate_per_y(h.assets, h.params) * h.n_days / 365.25
    t = h.assets["asset_type"].to_numpy()
    for typ in np.unique(t):
        assert lam[t == typ].sum() == pytest.approx(want[t == typ].sum(), rel=1e-9)
    # and the draw agrees with its expectation (Poisson: within 4 sigma)
    total = lam.sum()
    assert abs(len(h.failures) - total) < 4 * np.sqrt(total)


def test_failures_fall_in_their_year_and_carry_oms_fields(small_grid: Grid, small_history: History) -> None:
    f = small_history.failures
    assert list(f.columns) == list(FAILURE_COLUMNS)
    bounds = small_history.year_bounds()
    lo = pd.to_datetime([bounds[y][0] for y in f["year_index"]], utc=True)
    hi = pd.to_datetime([bounds[y][1] for y in f["year_index"]], utc=True)
    assert ((f["start_utc"].to_numpy() >= lo.to_numpy()) & (f["start_utc"].to_numpy() < hi.to_numpy())).all()
    assert (f["restored_utc"] > f["start_utc"]).all()
    assert (f["customer_minutes"] == f["customers_affected"] * f["duration_h"] * 60).all()
    # repair hours from the cascade repair model (RBTS and stated assumptions)
    cfg = RestorationConfig()
    seg = f.merge(small_history.assets[["asset_id", "construction"]], on="asset_id")
    ug = seg[(seg["asset_type"] == "line_segment") & (seg["construction"] == "underground")]
    assert (ug["duration_h"] == cfg.repair_h_underground_line).all() and len(ug)
    assert (f.loc[f["asset_type"] == "transformer", "duration_h"] == cfg.repair_h_transformer).all()
    # a segment's failure operates the nearest protective device upstream and takes its customers
    topo = GridTopology.build(small_grid)
    row = f[f["asset_type"] == "line_segment"].iloc[0]
    assert row["protective_device_id"] == topo.protective_device_of(
        small_grid.line_segments.set_index("segment_id").loc[row["asset_id"], "to_bus_id"]
    )
    assert row["customers_affected"] == topo.edge_totals().loc[row["protective_device_id"], "customers"]


def test_overhead_failures_follow_the_wind(small_assets: pd.DataFrame) -> None:
    """With the wind driver the overhead failures concentrate on windy days; without it they do not."""
    from dataclasses import replace

    from fluxops.risk.hazard import daily_weather, days_utc, wind_multiplier

    for gamma in (0.35, 0.0):
        p = replace(scaled_params(200.0), wind_gamma_per_m_s=gamma)
        h = generate_history(small_assets, end_utc=END, years=5, seed=5, params=p)
        ov = h.failures[h.failures["asset_type"] == "pole"]
        day = ((ov["start_utc"] - pd.Timestamp(h.start_utc)).dt.days).to_numpy()
        wind = daily_weather(days_utc(h.start_utc, h.n_days), p)["wind_max_m_s"].to_numpy()
        m = wind_multiplier(wind, p)
        expected = float((wind * m).sum() / m.sum())  # mean wind of a failure day under the process
        assert abs(wind[day].mean() - expected) < 4 * wind.std() / np.sqrt(len(day))
        if gamma > 0:
            assert expected > wind.mean() + 0.1
        else:
            assert expected == pytest.approx(wind.mean())


def test_bad_windows_are_refused(small_assets: pd.DataFrame) -> None:
    with pytest.raises(InvalidInputError) as e:
        generate_history(small_assets, end_utc=END, years=1)
    assert e.value.field == "years"
    with pytest.raises(InvalidInputError):
        generate_history(small_assets, end_utc=END.replace(tzinfo=None), years=5)
    with pytest.raises(InvalidInputError) as e2:
        HazardParams(pole_per_y=-1.0)
    assert e2.value.field == "hazard_params"


def test_reliability_of_the_history_follows_ieee_1366(small_history: History) -> None:
    """SAIFI = Σ customers interrupted / customers served; SAIDI = Σ customer-minutes / served."""
    h = small_history
    rel = h.reliability_by_year()
    served = h.assets.loc[h.assets["asset_type"] == "substation_transformer", "customers_affected"].sum()
    y0 = h.failures[h.failures["year_index"] == 0]
    assert rel[0]["saifi"] == pytest.approx(y0["customers_affected"].sum() / served)
    assert rel[0]["saidi_min"] == pytest.approx(y0["customer_minutes"].sum() / served)
    assert rel[0]["caidi_min"] == pytest.approx(rel[0]["saidi_min"] / rel[0]["saifi"])  # type: ignore[operator]
    assert len(rel) == h.years and h.meta()["reliability_by_year"] == rel


def test_a_feeder_breaker_failure_takes_out_its_feeder(small_grid: Grid, small_assets: pd.DataFrame) -> None:
    topo = GridTopology.build(small_grid)
    brk = small_assets[small_assets["asset_type"] == "breaker"].iloc[0]
    assert brk["protective_device_id"] == brk["asset_id"]
    assert brk["customers_affected"] == topo.edge_totals().loc[brk["asset_id"], "customers"] > 0
