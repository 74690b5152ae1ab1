"""Feeder-breaker faults on the real mv_oberrhein network: healthy downstream sections come back through
normally-open ties wherever a power flow says the tie's feeder holds them.

A failed breaker fails open (docs/cascade.md, wave 0): the whole feeder loses supply and nothing else
needs isolating, so wave 1 must pick up the feeder through its ties — whole when it fits (FDR-001 via
SW-48), otherwise the largest part that fits after opening one switch (FDR-003 via SW-107: the whole
feeder gives 118 % / 0.87 pu, and at the manual split's 61 min the part comes back with cold-load ×1.3).
"""

from __future__ import annotations

import pytest

from fluxops.cascade.config import CascadeConfig
from fluxops.cascade.context import EngineContext, build_context
from fluxops.cascade.engine import run_cascade
from fluxops.cascade.models import CascadeResult
from fluxops.cascade.scenarios import get_scenario

pytest.importorskip("pandapower.networks")


@pytest.fixture(scope="module")
def oberrhein() -> EngineContext:
    from fluxops.grid.importers.pandapower import load_pandapower_network

    grid, _ = load_pandapower_network("mv_oberrhein")
    return build_context(grid)


def _flisr_wave_ok(res: CascadeResult, cfg: CascadeConfig) -> int:
    flisr = [w for w in res.waves if w.label == "flisr"]
    assert flisr, [n for w in res.waves for n in w.notes]
    w = flisr[0]
    assert w.powerflow_converged
    assert w.max_loading_pct <= cfg.flisr_max_loading_pct
    assert w.min_v_pu >= cfg.flisr_min_v_pu
    return w.customers_restored


def test_breaker_fault_whole_feeder_through_tie(oberrhein: EngineContext) -> None:
    cfg = CascadeConfig()
    res = run_cascade(oberrhein, patient_zero=["SW-265"], scenario=get_scenario("normal"), config=cfg)
    out = res.waves[0].customers_out
    assert out > 0
    assert _flisr_wave_ok(res, cfg) == out
    acts = [(a.device_id, a.action) for w in res.waves for a in w.switching]
    assert acts[0] == ("SW-48", "close")
    assert res.waves[-1].customers_out == 0


def test_breaker_fault_tie_too_small_picks_up_largest_part_that_fits(oberrhein: EngineContext) -> None:
    """FDR-003's only tie cannot carry the whole feeder; a split part must still be picked up."""
    cfg = CascadeConfig()
    res = run_cascade(oberrhein, patient_zero=["SW-321"], scenario=get_scenario("normal"), config=cfg)
    out = res.waves[0].customers_out
    restored = _flisr_wave_ok(res, cfg)
    assert 0 < restored < out
    acts = [(a.device_id, a.action, a.purpose) for w in res.waves for a in w.switching]
    assert [a for a in acts if a[2] == "split"] and ("SW-107", "close", "restore") in acts
    assert res.waves[-1].customers_out < out
