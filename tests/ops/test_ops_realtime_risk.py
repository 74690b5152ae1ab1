"""The realtime risk index's terms (issue 9 §1): the thermal term's ambient comes from the weather model,
and the N-1 term counts tie transfer capacity, so a well-tied station scores low."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import numpy as np
import pytest

from fluxops.ami.weather import WeatherParams, temperature_c
from fluxops.cascade.context import EngineContext, build_context
from fluxops.cascade.risk import current_ambient_c, risk_index, tie_transfer_mva
from fluxops.grid.generator import generate_grid


@pytest.fixture(scope="module")
def ctx() -> EngineContext:
    # `tiny`: two substations (two 10 MVA transformers, and one), one 600 A normally-open tie between them
    return build_context(generate_grid("tiny", seed=0))


def _untied(ctx: EngineContext) -> EngineContext:
    cg = dataclasses.replace(ctx.cg, normally_closed=np.ones_like(ctx.cg.normally_closed))
    return dataclasses.replace(ctx, cg=cg)


def _index(ctx: EngineContext, source_pct: float, ambient_c: float = 20.0) -> dict[str, float]:
    cg = ctx.cg
    ri = risk_index(
        ctx,
        xfmr_loading_pct=np.full(len(cg.xfmr_ids), 10.0),
        source_loading_pct=np.full(cg.n_source, source_pct),
        ambient_c=ambient_c,
        customers_out=0,
        load_source="test",
    )
    return {
        "index": ri.index,
        **ri.terms,
        **{k: v for k, v in ri.inputs.items() if isinstance(v, int | float)},
    }


def test_tiny_grid_has_a_single_transformer_station_and_one_tie(ctx: EngineContext) -> None:
    cg = ctx.cg
    assert np.bincount(cg.source_substation).tolist() == [2, 1]
    assert np.allclose(cg.source_rating_mva, 10.0)
    spare = np.full(2, 9.0)
    tie_mva = np.sqrt(3) * 12.47 * 600 / 1000  # 12.96 MVA
    # each side can move up to min(tie rating, the other side's spare capacity)
    assert np.allclose(tie_transfer_mva(ctx, spare), min(tie_mva, 9.0), rtol=0.01)


def test_a_well_tied_single_transformer_station_scores_zero_n1(ctx: EngineContext) -> None:
    # 10 % load: 2 MVA at the two-unit station (its second unit carries it), 1 MVA at the single-unit
    # one, which the tie moves to the neighbour (12.96 MVA tie, 18 MVA spare there)
    calm = _index(ctx, 10.0)
    assert calm["n1"] == 0.0 and calm["substations_secured_by_ties"] == 1
    assert calm["substations_without_n1_margin"] == 0
    # before, the single-unit station always counted: 25 × 1/2 = 12.5 points whatever its ties
    assert calm["index"] < 12.5
    # without the tie its 1 MVA is lost on a transformer failure: 1 of 3 MVA at risk
    untied = _index(_untied(ctx), 10.0)
    assert untied["n1"] == pytest.approx(1 / 3, abs=1e-4) and untied["substations_without_n1_margin"] == 1


def test_n1_is_the_share_of_load_the_ties_cannot_carry(ctx: EngineContext) -> None:
    # 80 % load: 16 MVA at the two-unit station (10 left after a loss, + 2 MVA spare across the tie:
    # 4 at risk), 8 MVA at the single-unit one (0 left, + 4 MVA spare across the tie: 4 at risk)
    heavy = _index(ctx, 80.0)
    assert heavy["n1_load_at_risk_mva"] == pytest.approx(8.0, abs=0.01)
    assert heavy["n1"] == pytest.approx(8.0 / 24.0, abs=1e-4)


def test_live_ambient_is_the_weather_model_for_the_current_hour() -> None:
    weather = WeatherParams()
    jan_night = datetime(2026, 1, 15, 11, 20, tzinfo=UTC)  # 05:20 in Houston
    aug_afternoon = datetime(2026, 8, 10, 21, 40, tzinfo=UTC)  # 15:40 in Houston
    cold, hot = current_ambient_c(jan_night, weather), current_ambient_c(aug_afternoon, weather)
    mid = int(datetime(2026, 1, 15, 11, 30, tzinfo=UTC).timestamp())
    assert cold == pytest.approx(float(temperature_c(np.array([mid]), weather)[0]))
    assert cold < 15.0 < 30.0 < hot  # not the scenario's fixed 25 °C


def test_thermal_term_follows_the_ambient(ctx: EngineContext) -> None:
    weather = WeatherParams()
    jan = current_ambient_c(datetime(2026, 1, 15, 11, 0, tzinfo=UTC), weather)
    aug = current_ambient_c(datetime(2026, 8, 10, 21, 0, tzinfo=UTC), weather)
    # a substation load whose C57.91 hot spot crosses 110 °C between the two ambients
    from fluxops.cascade.config import ThermalConfig
    from fluxops.cascade.thermal import steady_hot_spot_c

    ks = np.linspace(0.5, 2.0, 301)
    between = ks[
        (steady_hot_spot_c(ThermalConfig(), jan, ks) < 110)
        & (steady_hot_spot_c(ThermalConfig(), aug, ks) > 110)
    ]
    k = float(between[len(between) // 2])
    assert _index(ctx, 100 * k, jan)["thermal"] == 0.0
    assert _index(ctx, 100 * k, aug)["thermal"] == 1.0
