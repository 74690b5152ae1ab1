"""Per-phase primary voltage for the synthetic AMI: a meter reads the voltage of its own phase.

Why a derived drop model instead of 96 three-phase flows a day: the balanced sweep already gives each
transformer's primary voltage per interval (one factorization, 96 cheap solves). What it misses is the
phase: single-phase laterals load A, B and C unequally (`fluxops.grid.generator.phasing`), so a heavily
loaded phase sags below the balanced answer and a light one sits above it. That deviation is computed
once per grid with the three-phase solver (`fluxops.network.threephase.from_grid`) at the design load:

    δ_x = mean over x's phases of |V_φ(bus_x)|  −  |V_balanced(bus_x)|        (per unit)

and, because voltage drops scale with the currents that cause them, applied per interval in proportion
to the feeder's load level: ``v_x(t) = v_balanced_x(t) + δ_x · L_f(t) / L_f,design``. At the design load
this is exactly the three-phase answer; elsewhere the error is second order in the drop (the
nonlinearity of constant-power loads), the same order as the LTC emulation around it. PV export
(negative feeder load) reverses the deviation, as reversed currents do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from fluxops.grid.models import Grid
from fluxops.grid.phases import phase_matrix
from fluxops.network.compiled import CompiledGrid
from fluxops.network.energization import EnergizationResult
from fluxops.network.powerflow import run_powerflow
from fluxops.network.threephase.from_grid import bus_phase_share, bus_phase_voltages, edge_phases
from fluxops.network.threephase.from_grid_batched import compile_islands
from fluxops.network.threephase.solver import solve_compiled

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class PhaseDeviation:
    """Per compiled transformer: the per-phase deviation at design load and its feeder's design load."""

    delta_pu: F64  # (transformers,)
    feeder_code: npt.NDArray[np.int64]  # (transformers,), −1: none
    feeder_design_kw: F64  # (feeders,)
    converged: bool


def phase_deviation(
    grid: Grid, cg: CompiledGrid, energization: EnergizationResult, v_source_pu: float
) -> PhaseDeviation:
    """δ per transformer from one three-phase and one balanced flow at the design load (module docstring).
    All source islands are solved three-phase together (`network.threephase.from_grid_batched`: one
    array-built system, one factorization; 94 per-island models took 8–14 s of start-up on `demo`).
    Transformers in islands without a source keep δ = 0 (they are dark anyway)."""
    p, q = np.asarray(cg.bus_p_kw, np.float64), np.asarray(cg.bus_q_kvar, np.float64)
    share = bus_phase_share(cg, grid)
    phases = edge_phases(grid, cg)
    bal = run_powerflow(cg, p_kw=p, q_kvar=q, v_source_pu=v_source_pu)
    islands = compile_islands(
        cg, energization, phases, p[:, None] * share, q[:, None] * share, v_source_pu=v_source_pu
    )
    v3 = np.full((cg.n_bus, 3), np.nan)
    ok = True
    if islands.sources.size:
        res = solve_compiled(islands.compiled, tol_pu=1e-8)
        ok = bool(res.converged)
        v3 = np.abs(bus_phase_voltages(islands.bus_node, res.v_pu))
    xf = grid.transformers.set_index("transformer_id").reindex(cg.xfmr_ids.astype(object))
    on = phase_matrix(xf["phase"].to_numpy(dtype=object))
    xbus = np.asarray(cg.xfmr_bus)
    vx = np.where(on, v3[xbus], np.nan)
    finite = np.isfinite(vx)
    cnt = finite.sum(axis=1)  # 0 on a dark transformer: its mean stays unknown (nanmean would warn)
    mean_v = np.where(cnt > 0, np.where(finite, vx, 0.0).sum(axis=1) / np.maximum(cnt, 1), np.nan)
    delta = np.nan_to_num(mean_v - np.nan_to_num(bal.vm_pu[xbus], nan=v_source_pu), nan=0.0)
    feeders = pd.Index(pd.unique(xf["feeder_id"].dropna()))
    code = feeders.get_indexer(pd.Index(xf["feeder_id"])).astype(np.int64)
    design = np.bincount(
        code[code >= 0], weights=np.asarray(cg.xfmr_p_kw, np.float64)[code >= 0], minlength=len(feeders)
    )
    return PhaseDeviation(np.asarray(delta, np.float64), code, design.astype(np.float64), ok)


def apply_deviation(dev: PhaseDeviation, vprim: F64, xfmr_kw: F64) -> F64:
    """(transformers, intervals) primary voltages with each transformer's phase deviation added,
    scaled by its feeder's load level per interval."""
    n_f = len(dev.feeder_design_kw)
    if n_f == 0:
        return vprim
    has = dev.feeder_code >= 0
    load = np.zeros((n_f, xfmr_kw.shape[1]))
    np.add.at(load, dev.feeder_code[has], xfmr_kw[has])
    level = load / np.where(dev.feeder_design_kw > 0, dev.feeder_design_kw, np.inf)[:, None]
    scale = np.where(has[:, None], level[np.maximum(dev.feeder_code, 0)], 0.0)
    out: F64 = vprim + dev.delta_pu[:, None] * scale
    return out
