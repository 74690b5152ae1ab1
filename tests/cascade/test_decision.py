"""Decision-support pieces with figures checked by hand."""

from __future__ import annotations

import time

import numpy as np
import pytest

from fluxops.cascade.config import ThermalConfig
from fluxops.cascade.context import EngineContext
from fluxops.cascade.economics import EconomicsConfig, cost_per_event, tier_for
from fluxops.cascade.explain import explain
from fluxops.cascade.hardening import _knapsack
from fluxops.cascade.jobs import JobRunner
from fluxops.cascade.models import OutageGroup
from fluxops.cascade.playbook import max_load_within_limit
from fluxops.cascade.restoration import RestorationConfig, plan_restoration, road_km
from fluxops.cascade.risk import risk_index
from fluxops.cascade.thermal import aging_acceleration, steady_hot_spot_c, time_to_limit_min
from fluxops.core.errors import InvalidInputError, NotFoundError


def test_c57_91_reference_points() -> None:
    th = ThermalConfig()
    # rated load at 30 C ambient: 30 + 55 + 25 = 110 C, the normal-life reference; F_AA = 1 there
    assert steady_hot_spot_c(th, 30.0, [1.0])[0] == pytest.approx(110.0)
    assert aging_acceleration([110.0])[0] == pytest.approx(1.0)
    assert aging_acceleration([116.0])[0] == pytest.approx(2.0, rel=0.1)
    # no step, below the limit: never; already above: now
    assert time_to_limit_min(th, 30.0, [1.0], [1.0], 140.0)[0] == np.inf
    assert time_to_limit_min(th, 30.0, [2.0], [2.0], 140.0)[0] == 0.0
    # the inverted limit: the largest K that does not reach 140 C within the horizon (from K0 = 1)
    k = max_load_within_limit(th, 30.0, 1.0, 140.0)
    assert time_to_limit_min(th, 30.0, [1.0], [k], 140.0)[0] == np.inf
    assert time_to_limit_min(th, 30.0, [1.0], [k + 0.01], 140.0)[0] <= th.horizon_min
    assert steady_hot_spot_c(th, 30.0, [k])[0] > 140.0  # top oil (tau 3 h) is still warming at 4 h


def test_ice_costs_and_tiers() -> None:
    cfg = EconomicsConfig()
    # LBNL-6941E Table ES-1, 1 h residential $5.1 (2013) x 1.347 -> 2024 $
    assert cost_per_event(cfg, "residential", np.array([1.0]))[0] == pytest.approx(5.1 * 1.347)
    # halfway between 1 h and 4 h for medium/large C&I
    mid = (17804.0 + 39458.0) / 2 * 1.347
    assert cost_per_event(cfg, "medium_large_ci", np.array([2.5]))[0] == pytest.approx(mid)
    # beyond 16 h: the 8 -> 16 h slope continues
    slope = (32.4 - 17.2) / 8.0
    assert cost_per_event(cfg, "residential", np.array([24.0]))[0] == pytest.approx(
        (32.4 + 8 * slope) * 1.347
    )
    assert [tier_for(cfg, n) for n in (10, 1000, 20000, 60000)] == [
        "minor",
        "significant",
        "major",
        "catastrophic",
    ]


def _group(
    gid: str, lon: float, customers: int, critical: int = 0, deps: list[str] | None = None
) -> OutageGroup:
    return OutageGroup(
        gid,
        gid,
        "line_segment",
        "repair",
        lon,
        29.7,
        customers,
        critical,
        10.0 * customers,
        {"residential": customers, "small_ci": 0, "medium_large_ci": 0},
        {"residential": 10.0 * customers, "small_ci": 0.0, "medium_large_ci": 0.0},
        deps or [],
    )


def test_restoration_priority_beats_naive_and_respects_dependencies() -> None:
    # naive order repairs a 10-customer group first; the rule takes the 500-customer one first
    groups = [
        _group("small", -95.00, 10),
        _group("big", -95.00, 500),
        _group("child", -95.01, 100, deps=["big"]),
    ]
    cfg = RestorationConfig(crews=1)
    plan = plan_restoration(groups, cfg=cfg, depots=[(-95.0, 29.7)])
    assert plan.steps[0].group_id == "big"
    assert plan.customer_minutes < plan.naive_customer_minutes and plan.improvement_pct > 0
    by = {s.group_id: s for s in plan.steps}
    assert by["child"].restored_min >= by["big"].finish_min  # waits for the upstream repair
    # 5 h overhead repair, travel 0 from the depot
    assert by["big"].finish_min == pytest.approx(300.0)
    assert plan.milestones[-1].pct == 100.0 and plan.milestones[-1].customers_restored == 610
    # a critical facility outranks many customers
    crit = plan_restoration(
        [_group("many", -95.0, 300), _group("hospital", -95.0, 1, critical=1)],
        cfg=cfg,
        depots=[(-95.0, 29.7)],
    )
    assert crit.steps[0].group_id == "hospital"
    # 1 degree of longitude at 29.7 N ~ 96.7 km great-circle, x 1.417 road circuity
    assert road_km(-95.0, 29.7, [-94.0], [29.7], 1.417)[0] == pytest.approx(96.7 * 1.417, rel=0.01)
    with pytest.raises(InvalidInputError):
        plan_restoration(groups, cfg=RestorationConfig(crews=0), depots=[(-95.0, 29.7)])


def test_knapsack_exact() -> None:
    # budget 100K: items (60K, 50 value), (50K, 40), (50K, 40) -> the two 50K items (80) beat the 60K one
    assert _knapsack([60_000, 50_000, 50_000], [50, 40, 40], 100_000) == [1, 2]
    assert _knapsack([60_000], [50], 10_000) == []


def test_risk_index_bounds(tiny_ctx: EngineContext) -> None:
    cg = tiny_ctx.cg
    calm = risk_index(
        tiny_ctx,
        xfmr_loading_pct=np.full(len(cg.xfmr_ids), 10.0),
        source_loading_pct=np.full(cg.n_source, 10.0),
        ambient_c=20.0,
        customers_out=0,
        load_source="test",
    )
    hot = risk_index(
        tiny_ctx,
        xfmr_loading_pct=np.full(len(cg.xfmr_ids), 150.0),
        source_loading_pct=np.full(cg.n_source, 150.0),
        ambient_c=45.0,
        customers_out=cg.total_customers,
        load_source="test",
    )
    assert calm.index < hot.index and calm.level == "NORMAL" and hot.level == "CRITICAL"
    assert hot.index == pytest.approx(100.0 * sum(hot.weights[t] * hot.terms[t] for t in hot.terms))


def test_explain_rejects_non_results() -> None:
    with pytest.raises(InvalidInputError) as exc:
        explain({"nope": 1})
    assert exc.value.field == "result"


def test_job_runner_reports_failure_and_success() -> None:
    jobs = JobRunner(max_workers=1)
    try:
        ok = jobs.submit("t", lambda progress: (progress(0.5, "half"), "result-1")[1])
        bad = jobs.submit("t", lambda progress: (_ for _ in ()).throw(NotFoundError("gone")))
        for _ in range(200):
            if jobs.get(ok.job_id).state == "done" and jobs.get(bad.job_id).state == "failed":
                break
            time.sleep(0.02)
        assert jobs.get(ok.job_id).result_id == "result-1" and jobs.get(ok.job_id).progress == 1.0
        assert jobs.get(bad.job_id).error == "gone"
        with pytest.raises(NotFoundError):
            jobs.get("nope")
    finally:
        jobs.shutdown()
