"""Worst-phase loading for the cascade's overload step (issue 11 §2): a conductor trips on its most
loaded phase, not on the average of three.

Why: the balanced sweep gives each segment the current of a balanced three-phase flow, |S|/(√3·V_LL).
On a North American feeder that is the phase current only where the load downstream is balanced: a
single-phase lateral carries its whole load on one conductor (3× the balanced figure), a trunk with
more laterals on A than on B and C carries more on A, and a blown single-pole fuse (`cascade.phases`)
moves the balance further. So the overload step takes, per segment, the loading of its most loaded phase.

How, bounded in time:

1. **Screen, vectorized.** Each bus's load is split over A/B/C by its live transformers' phases (a
   transformer out — a blown cutout — takes its share of the bus's load with it); the per-phase power
   downstream of every tree edge is one sparse triangular solve over the sweep plan's BFS forest. The
   ratio ``r = max_φ |S_φ| / (|ΣS|/3)`` scales the balanced loading to an estimate of the worst phase.
2. **Fast path.** A source island keeps the balanced answer when every energized edge in it has
   ``r ≤ 1 + BALANCED_TOL`` (2 %: all phases intact and the load balanced within 2 % everywhere), or when
   no edge's estimate reaches ``SCREEN_FRACTION`` (90 %) of the trip loading (nothing could trip).
3. **Three-phase solve** of the other islands (`network.threephase.from_grid`: the same loads per phase,
   Z0 = 3.2·Z1): each line's loading is its worst phase's current over its ampacity. Zero-impedance
   devices are merged in that model and keep the estimate of step 1. Solves are memoized per state; past
   the run's compute deadline, or where the three-phase solve does not converge, the estimate stands in
   for the solve (said in the result).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from time import perf_counter

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve_triangular

from fluxops.cascade.context import EngineContext
from fluxops.cascade.state import CascadeState
from fluxops.grid.phases import transformer_phase_share
from fluxops.network.compiled import CompiledGrid
from fluxops.network.energization import EnergizationResult
from fluxops.network.powerflow import PowerFlowResult, SweepPlan
from fluxops.network.threephase.from_grid import build_threephase, edge_phases, merged_buses
from fluxops.network.threephase.solver import solve_compiled
from fluxops.network.threephase.ybus import compile_threephase

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BALANCED_TOL = 0.02  # worst phase within 2 % of the balanced per-phase figure: balanced is exact enough
SCREEN_FRACTION = 0.9  # solve per phase only where the estimate reaches 90 % of the trip loading


@dataclass(frozen=True)
class PhaseLoading:
    """Per edge: loading % of the worst phase (balanced where the fast path held), that phase (0/1/2,
    −1 = balanced answer), and which islands were solved per phase / estimated past the deadline."""

    loading_pct: FloatArray
    phase: IntArray
    solved_sources: tuple[int, ...]
    estimated_sources: tuple[int, ...]


_XF: weakref.WeakKeyDictionary[CompiledGrid, tuple[FloatArray, FloatArray, FloatArray]] = (
    weakref.WeakKeyDictionary()
)


def _xfmr_phases(ctx: EngineContext) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(per transformer: phase shares (n, 3) and design-load weight; per bus: total weight), per grid."""
    hit = _XF.get(ctx.cg)
    if hit is None:
        cg, grid = ctx.cg, ctx.grid
        xf = grid.transformers.set_index("transformer_id")
        share = transformer_phase_share(grid)
        pos = pd.Index(xf.index).get_indexer(pd.Index(cg.xfmr_ids.astype(object)))
        s = np.asarray(np.where(pos[:, None] >= 0, share[np.maximum(pos, 0)], 1.0 / 3.0), np.float64)
        w = np.asarray(np.maximum(np.asarray(cg.xfmr_p_kw, np.float64), 0.0) + 1e-9, np.float64)
        tot = np.asarray(np.bincount(np.asarray(cg.xfmr_bus), weights=w, minlength=cg.n_bus), np.float64)
        hit = (s, w, tot)
        _XF[ctx.cg] = hit
    return hit


def phase_loads(
    ctx: EngineContext, p: FloatArray, q: FloatArray, xfmr_out: npt.NDArray[np.bool_]
) -> tuple[FloatArray, FloatArray]:
    """(buses, 3) per-phase P and Q: each bus's load over its live transformers' phases, weighted by
    their design load; a transformer out removes its share; a bus without transformers splits in thirds."""
    cg = ctx.cg
    s, w, tot = _xfmr_phases(ctx)
    live = np.zeros((cg.n_bus, 3))
    np.add.at(live, np.asarray(cg.xfmr_bus), s * (w * ~xfmr_out)[:, None])
    frac = np.where(tot[:, None] > 0, live / np.where(tot > 0, tot, 1.0)[:, None], 1.0 / 3.0)
    return np.asarray(p, np.float64)[:, None] * frac, np.asarray(q, np.float64)[:, None] * frac


def downstream_ratio(ctx: EngineContext, plan: SweepPlan, p3: FloatArray, q3: FloatArray) -> FloatArray:
    """Per edge: worst phase's downstream |S| over the three-phase mean (1 where not a tree edge)."""
    cg = ctx.cg
    fb = np.asarray(plan.free_bus, np.int64)
    nf = len(fb)
    ratio = np.ones(cg.n_edge)
    if nf == 0:
        return ratio
    pos = np.full(cg.n_bus, -1, np.int64)
    pos[fb] = np.arange(nf)
    pe = np.asarray(plan.parent_edge, np.int64)
    has = pe >= 0
    par_bus = np.where(plan.parent_sign > 0, cg.from_bus[np.maximum(pe, 0)], cg.to_bus[np.maximum(pe, 0)])
    par = np.where(has, pos[par_bus], -1)
    has &= (par >= 0) & (par < np.arange(nf))  # BFS order: a parent precedes its children
    kids = np.flatnonzero(has)
    m = sp.csr_matrix(
        (
            np.r_[np.ones(nf), -np.ones(len(kids))],
            (np.r_[np.arange(nf), par[kids]], np.r_[np.arange(nf), kids]),
        ),
        shape=(nf, nf),
    )
    down = spsolve_triangular(m, np.hstack([p3[fb], q3[fb]]), lower=False)
    s_ph = np.hypot(down[:, :3], down[:, 3:])
    s_mean = np.hypot(down[:, :3].sum(axis=1), down[:, 3:].sum(axis=1)) / 3.0
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(s_mean > 1e-9, s_ph.max(axis=1) / s_mean, 1.0)
    ratio[pe[has]] = r[has]
    return ratio


def worst_phase_loading(
    ctx: EngineContext,
    st: CascadeState,
    en: EnergizationResult,
    plan: SweepPlan,
    pf: PowerFlowResult,
    cold_factor: float,
    trip_pct: float,
    deadline: float,
    *,
    solve: bool = True,
) -> PhaseLoading:
    """The overload step's loading per edge (see the module docstring); memoized on the cascade state.
    ``solve=False``: steps 1–2 only, the estimate wherever the fast path does not hold (FLISR's pick-up
    checks, which try many switchings per wave)."""
    key = b"".join(
        (
            st._topology_key(),
            st.cold.tobytes(),
            st.failed_xfmr.tobytes(),
            np.array([cold_factor, trip_pct, float(solve)]).tobytes(),
        )
    )
    hit = st._memo.get(("pf3", key))
    if isinstance(hit, PhaseLoading):
        return hit
    cg = ctx.cg
    bal = np.nan_to_num(pf.loading_pct, nan=0.0)
    p, q = st.loads(cold_factor)
    p3, q3 = phase_loads(ctx, p, q, st.failed_xfmr)
    ratio = downstream_ratio(ctx, plan, p3, q3)
    est = bal * ratio
    live = np.asarray(en.edge_energized, bool)
    src_of_edge = np.asarray(en.bus_source)[cg.from_bus]
    need = live & (ratio > 1.0 + BALANCED_TOL) & (est >= SCREEN_FRACTION * trip_pct) & (src_of_edge >= 0)
    loading = bal.copy()
    phase = np.full(cg.n_edge, -1, np.int64)
    solved: list[int] = []
    estimated: list[int] = []
    islands = np.unique(src_of_edge[need]).tolist()
    if islands:
        phases = edge_phases(ctx.grid, cg)
        merged = merged_buses(cg, en)
        edge_pos = {str(x): i for i, x in enumerate(cg.edge_ids.tolist())}
        for s in islands:
            isl = live & (src_of_edge == s)
            loading[isl] = est[isl]  # devices (merged in the model), and the fallback past the deadline
            if not solve or perf_counter() > deadline:
                estimated.append(int(s))
                continue
            g3 = build_threephase(cg, en, int(s), phases, p3, q3, merged=merged)
            res = solve_compiled(compile_threephase(g3.model), tol_pu=1e-6)
            if not res.converged:  # a collapsing island: its currents mean nothing, the estimate stands
                estimated.append(int(s))
                continue
            for line in g3.model.lines:
                e = edge_pos[line.name]
                i = np.abs(res.branch_current(f"Line.{line.name}"))[: len(line.nodes1)]
                k = int(np.argmax(i))
                amp = float(cg.ampacity_a[e])
                loading[e] = 100.0 * float(i[k]) / amp if amp > 0 and np.isfinite(amp) else 0.0
                phase[e] = line.nodes1[k] - 1
            solved.append(int(s))
    out = PhaseLoading(loading, phase, tuple(solved), tuple(estimated) if solve else ())
    st._remember(("pf3", key), out)
    return out


def phase_note(pl: PhaseLoading, edge: int) -> str:
    """`` on phase B`` when the edge's loading is a solved phase's, else "" (balanced or estimated)."""
    k = int(pl.phase[edge])
    return f" on phase {'ABC'[k]}" if k >= 0 else ""
