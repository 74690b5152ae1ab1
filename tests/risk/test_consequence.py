"""Simulated consequence per asset (tiny grid): each device's row is its own cascade priced by its own
restoration plan, segments of one section share one cascade, a pole takes its span's, a transformer is
its own customers for the replacement time; risk = −ln(1 − p) × consequence, unknown stays null."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from fluxops.cascade.context import EngineContext, build_context
from fluxops.cascade.economics import EconomicsConfig, economic_impact
from fluxops.cascade.engine import run_cascade
from fluxops.cascade.repair import plan_for, repair_hours
from fluxops.cascade.restoration import RestorationConfig
from fluxops.cascade.scenarios import resolve_scenario
from fluxops.grid.models import Grid
from fluxops.risk.assets import risk_assets
from fluxops.risk.consequence import asset_consequences, attach_risk, risk_rollup


@pytest.fixture(scope="module")
def ctx(tiny_grid: Grid) -> EngineContext:
    return build_context(tiny_grid)


@pytest.fixture(scope="module")
def cons(ctx: EngineContext, tiny_grid: Grid) -> pd.DataFrame:
    return asset_consequences(ctx, risk_assets(tiny_grid), resolve_scenario("summer_peak"))


def test_devices_are_their_own_cascade(ctx: EngineContext, tiny_grid: Grid, cons: pd.DataFrame) -> None:
    a = risk_assets(tiny_grid)
    assert list(cons["asset_id"]) == list(a["asset_id"])
    sc = dataclasses.replace(resolve_scenario("summer_peak"), wind_speed_mps=0.0)
    for dev in a.loc[a["asset_type"].isin(("recloser", "fuse")), "asset_id"].iloc[:3]:
        r = run_cascade(ctx, patient_zero=[dev], scenario=sc, restoration=RestorationConfig())
        e = economic_impact(r, plan_for(ctx, r, RestorationConfig()), cfg=EconomicsConfig())
        row = cons[cons["asset_id"] == dev].iloc[0]
        assert row["customer_minutes"] == pytest.approx(e.customer_minutes)
        assert row["ice_usd"] == pytest.approx(e.interruption_cost_usd + e.momentary_cost_usd)
        assert row["simulated_element"] == dev


def test_sections_poles_and_transformers(ctx: EngineContext, tiny_grid: Grid, cons: pd.DataFrame) -> None:
    a = risk_assets(tiny_grid)
    seg = cons[a["asset_type"].to_numpy() == "line_segment"]
    # one cascade per section: segments with the same representative have the same consequence
    per_rep = seg.groupby("simulated_element")["customer_minutes"].nunique()
    assert (per_rep == 1).all() and len(per_rep) < len(seg)
    poles = tiny_grid.poles.dropna(subset=["segment_id"]).iloc[:5]
    by_id = cons.set_index("asset_id")
    for p, s in zip(poles["pole_id"], poles["segment_id"], strict=True):
        assert by_id.loc[p, "simulated_element"] == by_id.loc[s, "simulated_element"]
    xf = a[a["asset_type"] == "transformer"]
    hours = repair_hours(RestorationConfig(), "transformer", "replace", "")
    got = by_id.loc[xf["asset_id"], "customer_minutes"].to_numpy()
    assert np.allclose(got, xf["customers_affected"].to_numpy() * hours * 60.0)
    assert (cons["customer_minutes"] >= 0).all() and (cons["ice_usd"] >= 0).all()


def test_risk_is_lambda_times_consequence(tiny_grid: Grid, cons: pd.DataFrame) -> None:
    a = risk_assets(tiny_grid)
    scores = a[["asset_id", "asset_type", "feeder_id", "substation_id"]].assign(probability=0.1)
    scores.loc[0, "probability"] = 0.0
    out = attach_risk(scores, cons)
    lam = -np.log(0.9)
    assert out["expected_failures_per_y"].iloc[1] == pytest.approx(lam)
    assert out["risk_customer_minutes_per_y"].iloc[1] == pytest.approx(lam * cons["customer_minutes"].iloc[1])
    assert out["risk_usd_per_y"].iloc[0] == 0.0
    roll = risk_rollup(out, "substation").set_index("id")
    want = out.groupby("substation_id")["risk_customer_minutes_per_y"].sum()
    assert roll["risk_customer_minutes_per_y"].to_dict() == pytest.approx(want.to_dict())
    # no consequence computed: the risk is unknown, not zero
    none = attach_risk(scores, None)
    assert none["risk_customer_minutes_per_y"].isna().all() and none["customer_minutes"].isna().all()
    assert risk_rollup(none, "feeder")["risk_usd_per_y"].isna().all()
