"""Hardening portfolio by net present value (issue 9 §1).

Before: the knapsack maximised gross avoided cost and ignored capital cost, so it recommended a $73,783
tie for $5.24 of benefit. Now it maximises total NPV within the budget and never takes NPV <= 0.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from golden import build_golden

from fluxops.cascade.context import build_context
from fluxops.cascade.hardening import HardeningConfig, _knapsack, evaluate_hardening
from fluxops.cascade.scenarios import resolve_scenario
from fluxops.core.errors import InvalidInputError


def _brute_force(costs: list[float], values: list[float], budget: float) -> float:
    best = 0.0
    for r in range(len(costs) + 1):
        for combo in itertools.combinations(range(len(costs)), r):
            if sum(costs[i] for i in combo) <= budget:
                best = max(best, sum(values[i] for i in combo))
    return best


@pytest.mark.parametrize("seed", range(25))
def test_knapsack_maximises_npv_like_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 11))
    costs = [1000.0 * float(c) for c in rng.integers(1, 400, n)]  # whole $1K: the DP is exact there
    npv = [float(v) for v in rng.normal(20_000.0, 60_000.0, n)]  # some negative
    budget = 1000.0 * float(rng.integers(0, 1500))
    chosen = _knapsack(costs, npv, budget)
    assert sum(costs[i] for i in chosen) <= budget
    assert all(npv[i] > 0 for i in chosen)
    assert sum(npv[i] for i in chosen) == pytest.approx(_brute_force(costs, npv, budget))


def test_knapsack_never_buys_a_negative_npv_item() -> None:
    # the case: a $73,783 tie worth $5.24 has NPV < 0 and is left out whatever the budget
    assert _knapsack([73_783.0], [5.24 - 73_783.0], 10_000_000.0) == []
    # costs not in whole $1K are rounded up: the set still fits the budget
    assert _knapsack([999.5, 500.2], [10.0, 10.0], 1_499.0) == [0]


def test_annuity_factor_and_validation() -> None:
    # 5 years at 7 %: sum 1.07^-t, t = 1..5 = 4.1002
    assert HardeningConfig().annuity_factor() == pytest.approx(4.100197, rel=1e-6)
    assert HardeningConfig(discount_rate=0.0, years=5).annuity_factor() == 5.0
    with pytest.raises(InvalidInputError):
        HardeningConfig(discount_rate=1.5).validate()


def test_recommended_investments_have_positive_npv() -> None:
    ctx = build_context(build_golden(sub_rating_mva=0.2))
    sc = resolve_scenario("custom", {"load_multiplier": 1.0})
    res = evaluate_hardening(ctx, element_ids=["T1", "L2"], scenario=sc, budget_usd=5_000_000)
    hc = HardeningConfig()
    assert res.discount_rate == hc.discount_rate
    for inv in res.investments:
        annual = inv.cost_avoided_usd / hc.years
        assert inv.cost_avoided_pv_usd == pytest.approx(annual * hc.annuity_factor(), abs=0.05)
        assert inv.npv_usd == pytest.approx(inv.cost_avoided_pv_usd - inv.cost_usd, abs=0.05)
    assert all(res.investments[i].npv_usd > 0 for i in res.best_set)
    # every measure avoids some cost, none pays back its capital at these failure rates (T1 0.015/yr,
    # L2 0.065/yr): gross avoided cost would have bought them all; NPV recommends none
    assert any(i.cost_avoided_usd > 0 for i in res.investments)
    assert all(i.npv_usd < 0 for i in res.investments) and res.best_set == []
    assert res.best_set_npv_usd == pytest.approx(sum(res.investments[i].npv_usd for i in res.best_set))
    costs = [i.cost_usd for i in res.investments]
    npv = [i.npv_usd for i in res.investments]
    assert res.best_set_npv_usd == pytest.approx(_brute_force(costs, npv, 5_000_000), abs=1.0)
