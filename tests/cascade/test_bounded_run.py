"""Bounded, cancellable cascades (issue 9 §1).

Before: the hurricane with seed 0 on ``demo`` never finished (> 10 min): the restoration plan walked every
path of the repair-dependency DAG recursively (exponential in shared ancestors). Now each group's
restoration time is computed once, the wave loop has a time bound, and a caller can stop a run.
"""

from __future__ import annotations

import numpy as np
import pytest

from fluxops.cascade.config import CascadeConfig
from fluxops.cascade.context import EngineContext
from fluxops.cascade.engine import run_cascade
from fluxops.cascade.models import OutageGroup
from fluxops.cascade.restoration import RestorationConfig, plan_restoration, restored_times
from fluxops.cascade.scenarios import resolve_scenario
from fluxops.core.errors import InvalidInputError


def _g(gid: str, deps: list[str]) -> OutageGroup:
    return OutageGroup(
        gid, gid, "line_segment", "repair", -95.0, 29.7, 10, 0, 10.0,
        {"residential": 10, "small_ci": 0, "medium_large_ci": 0},
        {"residential": 10.0, "small_ci": 0.0, "medium_large_ci": 0.0},
        deps,
    )  # fmt: skip


@pytest.mark.timeout(60)
def test_restoration_of_a_deep_shared_dependency_dag_is_linear() -> None:
    # a ladder: group k waits on k-1 and k-2 (2^n paths to the root; the old recursion walked them all)
    n = 90
    groups = [_g(f"G{k}", [f"G{j}" for j in (k - 1, k - 2) if j >= 0]) for k in range(n)]
    finish = [float((k * 37) % 11) for k in range(n)]
    out = restored_times(groups, np.asarray(finish))
    running = 0.0
    for k in range(n):  # restored = running max of the finishes up the chain
        running = max(running, finish[k])
        assert out[k] == running
    plan = plan_restoration(groups, cfg=RestorationConfig(crews=3), depots=[(-95.0, 29.7)])
    by = {s.group_id: s for s in plan.steps}
    for k in range(1, n):
        assert by[f"G{k}"].restored_min >= by[f"G{k - 1}"].restored_min


def test_a_dependency_cycle_does_not_hang() -> None:
    groups = [_g("A", ["B"]), _g("B", ["A"])]
    out = restored_times(groups, np.asarray([1.0, 2.0]))
    assert list(out) == [2.0, 2.0]  # A waits on B; B's wait on A is cut where the search meets it


def test_hurricane_finishes_and_says_how(tiny_ctx: EngineContext) -> None:
    r = run_cascade(tiny_ctx, patient_zero=[], scenario=resolve_scenario("hurricane", {}), seed=0)
    assert r.extras["stopped_by"] in ("stable", "max_waves")
    assert r.totals.stable == (r.extras["stopped_by"] == "stable")


def test_a_cancelled_run_stops_and_is_flagged(tiny_ctx: EngineContext) -> None:
    sc = resolve_scenario("hurricane", {})
    full = run_cascade(tiny_ctx, patient_zero=[], scenario=sc, seed=0)
    polls: list[int] = []

    def stop() -> bool:
        polls.append(1)
        return True

    r = run_cascade(tiny_ctx, patient_zero=[], scenario=sc, seed=0, should_stop=stop)
    assert polls and r.extras["stopped_by"] == "cancelled" and not r.totals.stable
    assert r.totals.waves <= full.totals.waves


def test_time_bound_returns_a_flagged_partial_result(tiny_ctx: EngineContext) -> None:
    sc = resolve_scenario("hurricane", {})
    r = run_cascade(tiny_ctx, patient_zero=[], scenario=sc, seed=0, config=CascadeConfig(max_compute_s=0.001))
    assert r.extras["stopped_by"] == "time_limit" and not r.totals.stable
    with pytest.raises(InvalidInputError):
        CascadeConfig(max_compute_s=0.0).validate()
