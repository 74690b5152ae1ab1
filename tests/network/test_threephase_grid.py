"""Three-phase power flow on generated demo feeders (issue 11 §2): the adapter from the asset model
converges, reproduces the balanced sweep when phases and loads are balanced (1e-6 pu), and spreads the
phase voltages when single-phase laterals load the phases unequally."""

from __future__ import annotations

import dataclasses
from functools import cache

import numpy as np
import pytest

from fluxops.cascade.context import EngineContext, build_context, scenario_loads
from fluxops.cascade.feeder_threephase import feeder_powerflow_threephase
from fluxops.core.errors import InvalidInputError, NotFoundError
from fluxops.grid.generator import generate_grid
from fluxops.grid.generator.params import PRESETS
from fluxops.network.energization import energize
from fluxops.network.powerflow import run_powerflow
from fluxops.network.threephase.from_grid import (
    build_threephase,
    bus_phase_share,
    bus_phase_voltages,
    edge_phases,
    node_positions,
    vuf_pct,
)
from fluxops.network.threephase.solver import solve_compiled
from fluxops.network.threephase.ybus import compile_threephase


@cache
def _ctx() -> EngineContext:
    params = dataclasses.replace(PRESETS["demo"], n_substations=3, target_meters=12_000)
    return build_context(generate_grid(params=params, seed=5))


def _solve(balanced: bool, mult: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    ctx = _ctx()
    cg = ctx.cg
    p, q = scenario_loads(ctx, mult, 1.0)
    en = energize(cg)
    phases = edge_phases(ctx.grid, cg)
    share = bus_phase_share(cg, ctx.grid)
    if balanced:
        phases[:] = True
        share[:] = 1.0 / 3.0
    out_v, out_b, isl_all, ok = [], [], [], True
    bal = run_powerflow(cg, p_kw=p, q_kvar=q)
    for s in range(cg.n_source):
        g3 = build_threephase(cg, en, s, phases, p[:, None] * share, q[:, None] * share)
        c = compile_threephase(g3.model)
        res = solve_compiled(c, tol_pu=1e-10)
        ok &= bool(res.converged)
        v = bus_phase_voltages(node_positions(g3, c.index), res.v_pu)
        isl = g3.bus_rep >= 0
        out_v.append(v[isl])
        out_b.append(bal.vm_pu[isl])
        isl_all.append(g3.bus_phases[isl])
    return np.concatenate(out_v), np.concatenate(out_b), np.concatenate(isl_all), ok


def test_balanced_phases_equal_the_balanced_solver() -> None:
    v, vb, present, ok = _solve(balanced=True)
    assert ok and present.all()
    assert np.max(np.abs(np.abs(v) - vb[:, None])) < 1e-6
    assert np.nanmax(vuf_pct(v)) < 1e-6
    assert vb.min() < 0.99  # a loaded feeder, not a trivial flat profile


def test_unbalanced_phases_spread_the_voltages() -> None:
    v, vb, present, ok = _solve(balanced=False)
    assert ok
    vm = np.where(present, np.abs(v), np.nan)
    spread = np.nanmax(vm, axis=1) - np.nanmin(vm, axis=1)
    assert np.nanmax(spread) > 2e-3  # phases differ somewhere by more than 0.2 %
    # the lowest phase is below the balanced answer somewhere, the highest above it
    assert np.nanmin(vm) < vb.min()
    three = present.all(axis=1)
    assert np.nanmax(vuf_pct(v[three])) > 0.05


def test_feeder_route_summary() -> None:
    ctx = _ctx()
    feeder = str(ctx.grid.feeders.feeder_id.iloc[0])
    out = feeder_powerflow_threephase(ctx, feeder, "summer_peak")
    assert out["converged"] and out["model"] == "three_phase"
    assert out["buses"] and set(out["buses"][0]["v_pu"]) == {"A", "B", "C"}
    single = [b for b in out["buses"] if len(b["phases"]) == 1]
    assert single and all(sum(x is not None for x in b["v_pu"].values()) == 1 for b in single)
    assert all(b["vuf_pct"] is None for b in single)
    s = out["summary"]
    assert s["vuf_limit_pct"] == 3.0 and s["vuf_max_pct"] is not None and s["vuf_max_pct"] >= 0
    assert min(x for x in s["v_min_pu"].values() if x is not None) <= s["v_min_pu_balanced"] + 1e-9
    assert sum(s["phase_load_kw"].values()) > 0
    assert out["edges"] and all(e["i_a"][e["phases"][0]] is not None for e in out["edges"])
    with pytest.raises(NotFoundError):
        feeder_powerflow_threephase(ctx, "FDR-NOPE", "normal")
    with pytest.raises(InvalidInputError):
        feeder_powerflow_threephase(ctx, feeder, "no-such-scenario")
