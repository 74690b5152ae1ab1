"""ICE interruption cost by class, duration and annual energy (issue 9 §1; domain-facts §6.1).

Before: every commercial customer above 50 MWh/yr was charged the medium & large C&I *average* per-event
cost (a 7.2 GWh/yr customer), so 89 shops carried $6.09 M of a $6.31 M event.
"""

from __future__ import annotations

import numpy as np
import pytest

from fluxops.cascade.context import EngineContext
from fluxops.cascade.economics import (
    ICE_CLASSES,
    EconomicsConfig,
    class_mean_annual_kwh,
    cost_per_event,
    customer_cost_usd,
    economic_impact,
)
from fluxops.cascade.engine import run_cascade
from fluxops.cascade.repair import plan_for
from fluxops.cascade.restoration import RestorationConfig
from fluxops.cascade.scenarios import resolve_scenario

CFG = EconomicsConfig()


def test_a_shop_costs_far_less_than_a_large_customer() -> None:
    d = np.array([4.0])
    shop = float(customer_cost_usd(CFG, "medium_large_ci", d, 60_000.0)[0])
    plant = float(customer_cost_usd(CFG, "medium_large_ci", d, 5_000_000.0)[0])
    assert shop < 0.02 * plant  # 60 MWh vs 5 GWh: 1.2 %
    assert shop < 0.02 * float(cost_per_event(CFG, "medium_large_ci", d)[0])  # and far below the average
    # at the class's own average energy it is the Table ES-1 per-event figure (1 h: $17,804 in 2013 $)
    avg = class_mean_annual_kwh(CFG, "medium_large_ci")
    assert avg == pytest.approx(817.0 * 8760.0)
    one_h = customer_cost_usd(CFG, "medium_large_ci", np.array([1.0]), avg)[0]
    assert one_h == pytest.approx(17_804.0 * CFG.cpi_factor)
    # = the table's cost per unserved kWh x the customer's own unserved energy (21.8 $/kWh at 1 h)
    assert float(customer_cost_usd(CFG, "medium_large_ci", np.array([1.0]), 60_000.0)[0]) == pytest.approx(
        21.8 * 60_000.0 / 8760.0 * CFG.cpi_factor, rel=0.002
    )


@pytest.mark.parametrize("cls", ICE_CLASSES)
def test_cost_is_monotone_in_duration_and_energy(cls: str) -> None:
    d = np.linspace(0.0, 48.0, 193)
    for kwh in (5_000.0, 60_000.0, 5_000_000.0):
        c = customer_cost_usd(CFG, cls, d, kwh)
        assert np.all(np.diff(c) > 0)
    e = np.geomspace(1_000.0, 1e7, 50)
    for h in (0.0, 0.5, 3.0, 24.0):
        c = customer_cost_usd(CFG, cls, np.full(len(e), h), e)
        assert np.all(np.diff(c) > 0)


def test_event_cost_uses_each_customers_energy(tiny_ctx: EngineContext) -> None:
    """A distribution transformer feeding shops (medium/large C&I by the 50 MWh/yr split, far below the
    class average of 7.2 GWh/yr): the class cost of its failure is the sum of each customer's ICE cost
    from the customer table, not customers x the class average."""
    grid = tiny_ctx.grid
    cu = grid.customers.merge(grid.meters[["meter_id", "transformer_id"]], on="meter_id")
    ml = cu[(cu["customer_class"] != "residential") & (cu["annual_kwh"] >= 50_000.0)]
    big = set(ml.loc[ml["annual_kwh"] >= 1e6, "transformer_id"])
    xf = str(ml[~ml["transformer_id"].isin(big)].groupby("transformer_id").size().idxmax())
    mine = ml[ml["transformer_id"] == xf]
    r = run_cascade(tiny_ctx, patient_zero=[xf], scenario=resolve_scenario("summer_peak", {}))
    (g,) = [g for g in r.outage_groups if g.repair_element_id == xf]
    assert g.customers_by_class["medium_large_ci"] == len(mine)
    assert g.annual_kwh_by_class["medium_large_ci"] == pytest.approx(float(mine["annual_kwh"].sum()), abs=1.0)
    plan = plan_for(tiny_ctx, r, RestorationConfig())
    impact = economic_impact(r, plan, cfg=CFG)
    by = {c.customer_class: c for c in impact.by_class}
    hours = np.full(len(mine), plan.steps[0].restored_min / 60.0)
    expected = float(customer_cost_usd(CFG, "medium_large_ci", hours, mine["annual_kwh"].to_numpy()).sum())
    assert by["medium_large_ci"].cost_usd == pytest.approx(expected, rel=1e-6)
    average = len(mine) * float(cost_per_event(CFG, "medium_large_ci", hours[:1])[0])
    assert by["medium_large_ci"].cost_usd < 0.2 * average
