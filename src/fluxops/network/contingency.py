"""N-1 screening: one power flow per single-element outage, batched when the base case is radial.

Why batched: in a radial network (ties open) losing an energized edge removes exactly the subtree below
it; the rest keeps the base case's tree. All contingencies are then columns of one fixed point
(`fluxops.network.contingency_batch`: subtrees are row intervals in preorder, both sweeps cumulative
sums in C, no per-outage Python). The result per contingency equals a separate `run_powerflow` with
that edge failed (tested). The topology part (`prepare_n_minus_1`) is separate from the solve
(`solve_n_minus_1`), so screening other loads on the same switch states reuses it. When the base case
has loops (closed ties or couplers) each contingency is solved separately with `run_powerflow`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from fluxops.core.errors import InvalidInputError
from fluxops.network.compiled import BoolArray, CompiledGrid, FloatArray, IntArray
from fluxops.network.contingency_batch import (
    ComplexArray,
    Forest,
    Sweep,
    branch_sums,
    build_forest,
    fixed_point,
    make_sweep,
)
from fluxops.network.energization import EnergizationResult, energize
from fluxops.network.powerflow import half_b_pu, prepare_sweep, run_powerflow

_SQRT3 = float(np.sqrt(3.0))
# cap on complex entries per batch (rows × contingencies): 4 MB per array, cache-sized
_MAX_BATCH_CELLS = 262_144
# consecutive small trees share a batch while the cells it computes for nothing stay below this
_WASTE_CELLS = 2_048
# the base case rides in the batch as one more column when the only batch is this small
_FUSE_CELLS = 65_536


@dataclass(frozen=True)
class ContingencyResult:
    """Per contingency (edge ``edges[k]`` out of service): did the flow converge, the worst branch loading
    (%, over energized lines and devices with a positive rating) and which edge, the lowest bus voltage
    (pu, energized buses), customers and critical customers without supply, unserved load (kW), the
    highest substation transformer loading (%). ``method``: "batched-radial" or "per-contingency"."""

    edges: IntArray
    converged: BoolArray
    iterations: IntArray
    max_loading_pct: FloatArray
    worst_edge: IntArray
    min_vm_pu: FloatArray
    customers_out: IntArray
    critical_out: IntArray
    unserved_kw: FloatArray
    max_source_loading_pct: FloatArray
    method: str
    # with ``reference=`` (a base-case flow): per contingency, elements newly above 100 % of a known
    # rating, buses newly below `V_MIN_PU`, and energized elements without a known rating that carry current
    new_overloads: IntArray | None = None
    new_undervoltage: IntArray | None = None
    unrated_loaded: IntArray | None = None


V_MIN_PU = 0.95  # ANSI C84.1 Range A service voltage lower limit
TOL_PCT = 1e-6  # % above a limit that counts as a new overload


@dataclass(frozen=True, eq=False)
class _Group:
    """Consecutive source trees solved as one batch: rows ``[lo, hi)``, reduced rows ``[rlo, rhi)``,
    trees ``[t0, t1)``, the contingencies (positions in the edge list) whose outage falls in them."""

    lo: int
    hi: int
    rlo: int
    rhi: int
    t0: int
    t1: int
    cols: IntArray
    sweep: Sweep
    agg: sparse.csr_matrix | None  # reduced rows × rows (None: no zero-impedance device to merge)


@dataclass(frozen=True, eq=False)
class NMinus1Plan:
    """The topology part of a batched radial N-1 (`prepare_n_minus_1`), reusable for any loads and source
    voltages on the same switch states and edge list: the base case's forest, the sweeps and the outage
    intervals. ``None`` groups: the base case has loops (each contingency is then solved on its own)."""

    cg: CompiledGrid
    edges: IntArray
    closed: npt.NDArray[np.bool_] | None
    base_en: EnergizationResult
    forest: Forest | None
    groups: list[_Group]
    all_rows: _Group | None  # every row as one group (the base case's own solve)
    fusable: bool  # one small group holds every tree: the base case rides in it as a column
    child: IntArray  # per contingency: row below the failed edge (−1: the edge carries nothing)
    bus_row: IntArray  # per row: its bus
    edge_row: IntArray  # per row: its parent edge (−1 for a source edge)
    half_b: FloatArray  # per edge: half the charging susceptance of energized lines (pu)
    b_row: FloatArray  # per row: charging susceptance at the bus
    hb_row: FloatArray  # per row: half the parent line's susceptance
    scale_row: FloatArray  # per row: loading % per pu of parent-edge current (NaN: unrated)
    src_row: IntArray  # per row: the source feeding its tree
    sub_cust: FloatArray  # per row: customers / critical customers in its subtree
    sub_crit: FloatArray

    @property
    def meshed(self) -> bool:
        return self.forest is None


def prepare_n_minus_1(
    cg: CompiledGrid, *, edges: npt.ArrayLike | None = None, closed: npt.ArrayLike | None = None
) -> NMinus1Plan:
    """Topology work of `run_n_minus_1`, done once: energization, the base case's spanning forest in
    preorder, the sweeps of each group of trees and each outage's subtree interval."""
    e_list = np.flatnonzero(cg.edge_kind == 0) if edges is None else np.asarray(edges, np.int64).ravel()
    if len(e_list) and (e_list.min() < 0 or e_list.max() >= cg.n_edge):
        raise InvalidInputError("edges holds positions outside the grid", field="edges")
    closed_arr = None if closed is None else np.asarray(closed, dtype=bool)
    base_en = energize(cg, closed=closed_arr)
    plan = prepare_sweep(cg, base_en)
    empty_f, empty_i = np.zeros(0), np.zeros(0, np.int64)
    if plan.n_loops > 0:
        return NMinus1Plan(
            cg, e_list, closed_arr, base_en, None, [], None, False, empty_i, empty_i, empty_i, empty_f,
            empty_f, empty_f, empty_f, empty_i, empty_f, empty_f,
        )  # fmt: skip
    f = build_forest(plan)
    free = plan.free_bus[f.node]
    half_b = np.where(base_en.edge_energized, half_b_pu(cg, cg.edge_c_nf, cg.f_hz), 0.0)
    b_bus = np.bincount(cg.from_bus, weights=half_b, minlength=cg.n_bus) + np.bincount(
        cg.to_bus, weights=half_b, minlength=cg.n_bus
    )
    edge_row = plan.parent_edge[f.node]
    has_edge = edge_row >= 0
    er = np.maximum(edge_row, 0)
    amp = np.where(has_edge, cg.ampacity_a[er], np.nan)
    i_base = 1000.0 / (_SQRT3 * cg.v_base_kv[free])
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(has_edge & (amp > 0), 100.0 * i_base / amp, np.nan)
    node_of_edge = np.full(cg.n_edge, -1, dtype=np.int64)
    node_of_edge[edge_row[has_edge]] = np.flatnonzero(has_edge)
    child = node_of_edge[e_list]
    groups, all_rows, fusable = _groups(f, child, len(e_list))
    ones = np.ones((f.n_rows, 2))
    ones[:, 0] = cg.bus_customer_count[free]
    ones[:, 1] = cg.bus_critical_count[free]
    sub = branch_sums(ones.astype(np.complex128), f.hi).real
    return NMinus1Plan(
        cg=cg,
        edges=e_list,
        closed=closed_arr,
        base_en=base_en,
        forest=f,
        groups=groups,
        all_rows=all_rows,
        fusable=fusable,
        child=child,
        bus_row=free,
        edge_row=edge_row,
        half_b=half_b,
        b_row=np.asarray(b_bus[free], np.float64),
        hb_row=np.where(has_edge, half_b[er], 0.0),
        scale_row=scale,
        src_row=plan.src_node_of_free[f.node],
        sub_cust=sub[:, 0],
        sub_crit=sub[:, 1],
    )


def _groups(f: Forest, child: IntArray, k_all: int) -> tuple[list[_Group], _Group, bool]:
    """Trees with outages, consecutive ones merged while the cells they waste stay below
    ``_WASTE_CELLS`` (small trees: a batch's fixed cost outweighs the extra rows)."""
    n_tree = len(f.roots)
    cols = np.flatnonzero(child >= 0)
    tree_k = f.tree_of_row(child[cols])
    k_per = np.bincount(tree_k, minlength=n_tree)
    r_rows = f.ckeep[f.tree_end] - f.ckeep[f.roots]
    spans: list[list[int]] = []
    r = c = u = 0
    for t in range(n_tree):
        rt, kt = int(r_rows[t]), int(k_per[t])
        if spans and (r + rt) * (c + kt) - (u + rt * kt) <= _WASTE_CELLS:
            spans[-1][1] = t + 1
            r, c, u = r + rt, c + kt, u + rt * kt
        else:
            spans.append([t, t + 1])
            r, c, u = rt, kt, rt * kt
    order = np.argsort(tree_k, kind="stable")
    bounds = np.searchsorted(tree_k[order], np.arange(n_tree + 1))
    groups = []
    for t0, t1 in spans:
        gcols = cols[order[bounds[t0] : bounds[t1]]]
        if len(gcols) == 0:
            continue
        lo, hi = int(f.roots[t0]), int(f.tree_end[t1 - 1])
        groups.append(_group(f, lo, hi, t0, t1, gcols))
    fused = len(groups) == 1 and groups[0].lo == 0 and groups[0].hi == f.n_rows
    fused &= (groups[0].rhi if fused else 0) * (k_all + 1) <= _FUSE_CELLS
    all_rows = _group(f, 0, f.n_rows, 0, n_tree, np.zeros(0, np.int64))
    return groups, all_rows, bool(fused)


def _group(f: Forest, lo: int, hi: int, t0: int, t1: int, cols: IntArray) -> _Group:
    rlo, rhi = int(f.ckeep[lo]), int(f.ckeep[hi])
    agg = None
    if rhi - rlo < hi - lo:
        agg = sparse.csr_matrix(
            (np.ones(hi - lo), (f.rep[lo:hi] - rlo, np.arange(hi - lo))), shape=(rhi - rlo, hi - lo)
        )
    return _Group(lo, hi, rlo, rhi, t0, t1, cols, make_sweep(f, rlo, rhi), agg)


def _flows(
    pl: NMinus1Plan,
    g: _Group,
    child: IntArray,
    s_row: ComplexArray,
    v_init: ComplexArray,
    v0_red: FloatArray,
    tol: float,
    max_iter: int,
    tree_local: bool,
) -> dict[str, npt.NDArray[np.generic]]:
    """One batch: columns are outages with ``child`` rows (−1: nothing out, the base case) in group ``g``.
    Returns per row and column the voltages, branch currents, terminal currents and the live mask, and
    per column the iterations and convergence."""
    f = pl.forest
    assert f is not None
    lo, hi = g.lo, g.hi
    rows = np.arange(lo, hi)[:, None]
    has = child >= 0
    c = np.maximum(child, 0)
    d_lo = np.where(has, c, hi)
    d_hi = np.where(has, f.hi[c], hi)
    dead = (rows >= d_lo) & (rows < d_hi)
    live = ~dead
    if tree_local:  # the column's own tree only (FLISR packs independent configurations)
        t = f.tree_of_row(c)
        live &= (rows >= np.where(has, f.roots[t], lo)) & (rows < np.where(has, f.tree_end[t], hi))
    s_full = s_row[lo:hi, None] * live
    s = s_full if g.agg is None else g.agg @ s_full
    charging = bool(pl.hb_row.any())
    b_full = pl.b_row[lo:hi, None] * live if charging else None
    if b_full is not None:  # the failed line's charging at its live (parent) end goes out with it
        k = np.flatnonzero(has & (f.par[c] >= 0))
        b_full[f.par[c[k]] - lo, k] -= pl.hb_row[c[k]]
    ym: ComplexArray | None = None
    if b_full is not None:
        ym = np.asarray(-1j * (b_full if g.agg is None else g.agg @ b_full), np.complex128)
    v_red, iters, conv = fixed_point(g.sweep, v0_red[g.rlo : g.rhi], s, ym, v_init, tol, max_iter)
    v = v_red[f.rep[lo:hi] - g.rlo]  # zero-impedance devices carry their upstream node's voltage
    with np.errstate(all="ignore"):
        jc = s_full / v if b_full is None else s_full / v - 1j * b_full * np.conj(v)
        i_br = np.conj(branch_sums(jc, f.hi[lo:hi] - lo))
        if charging:
            par = f.par[lo:hi] - lo
            v_par = np.where(par[:, None] >= 0, v[np.maximum(par, 0)], 0.0)
            hb = pl.hb_row[lo:hi, None]
            i_term = np.maximum(np.abs(i_br + 1j * hb * v_par), np.abs(i_br - 1j * hb * v))
        else:
            i_term = np.abs(i_br)
    return {"v": v, "i_br": i_br, "i_term": i_term, "live": live, "iters": iters, "conv": conv}


def _column_stats(
    pl: NMinus1Plan,
    g: _Group,
    child: IntArray,
    fl: dict[str, npt.NDArray[np.generic]],
    src_pct_of: FloatArray,
    ref: tuple[FloatArray, FloatArray] | None,
    tree_local: bool,
) -> dict[str, npt.NDArray[np.generic]]:
    """Per column: worst loading and its edge, lowest voltage, source loading, and (with ``ref``) new
    violations, over the column's live rows."""
    f = pl.forest
    assert f is not None
    lo, hi = g.lo, g.hi
    live = np.asarray(fl["live"], bool)
    i_term = np.asarray(fl["i_term"], np.float64)
    vm = np.abs(np.asarray(fl["v"], np.complex128))
    kk = np.arange(len(child))
    with np.errstate(invalid="ignore"):
        loading = i_term * pl.scale_row[lo:hi, None]
        loading = np.where(live & np.isfinite(loading), loading, -np.inf)
    worst = np.argmax(loading, axis=0)
    best = loading[worst, kk]
    roots = f.roots[g.t0 : g.t1]
    src_i = np.abs(np.asarray(fl["i_br"], np.complex128)[roots - lo]) * src_pct_of[pl.src_row[roots], None]
    if tree_local and len(roots) > 1:
        t = f.tree_of_row(np.maximum(child, 0)) - g.t0
        src = src_i[t, kk]
    else:
        src = src_i.max(axis=0)
    out: dict[str, npt.NDArray[np.generic]] = {
        "max_loading_pct": best,
        "worst_edge": np.where(np.isfinite(best), pl.edge_row[lo:hi][worst], -1),
        "min_vm_pu": np.where(live, vm, np.inf).min(axis=0),
        "src_pct": src,
    }
    if ref is not None:
        er = pl.edge_row[lo:hi]
        has = er >= 0
        ref_load = np.nan_to_num(np.where(has, ref[0][np.maximum(er, 0)], 0.0), nan=0.0)
        ref_vm = np.nan_to_num(ref[1][pl.bus_row[lo:hi]], nan=np.inf)
        unrated = has & ~(pl.scale_row[lo:hi] > 0)
        lim = np.maximum(100.0, ref_load)[:, None] + TOL_PCT
        out["new_over"] = (loading > lim).sum(axis=0)
        out["new_uv"] = (live & (vm < V_MIN_PU) & (vm < ref_vm[:, None] - 1e-9)).sum(axis=0)
        out["unrated"] = (live & unrated[:, None] & (i_term > 1e-9)).sum(axis=0)
    return out


def run_n_minus_1(
    cg: CompiledGrid,
    *,
    edges: npt.ArrayLike | None = None,
    closed: npt.ArrayLike | None = None,
    p_kw: npt.ArrayLike | None = None,
    q_kvar: npt.ArrayLike | None = None,
    v_source_pu: float | npt.ArrayLike | None = None,
    tol_mva: float = 1e-8,
    max_iter: int = 50,
    reference: tuple[FloatArray, FloatArray] | None = None,
    tree_local: bool = False,
) -> ContingencyResult:
    """Screen single-edge outages (default: every line segment). Inputs are never modified.
    ``reference``: (per-edge loading %, per-bus vm pu) of a flow to count new violations against (the
    pre-fault case, when FLISR checks a transfer configuration); radial base cases only. ``tree_local``:
    loading, voltage and source figures over the contingency's own source tree only (FLISR packs
    several independent transfer configurations into one run). Same as `prepare_n_minus_1` then
    `solve_n_minus_1`."""
    pl = prepare_n_minus_1(cg, edges=edges, closed=closed)
    return solve_n_minus_1(
        pl,
        p_kw=p_kw,
        q_kvar=q_kvar,
        v_source_pu=v_source_pu,
        tol_mva=tol_mva,
        max_iter=max_iter,
        reference=reference,
        tree_local=tree_local,
    )


def solve_n_minus_1(
    pl: NMinus1Plan,
    *,
    p_kw: npt.ArrayLike | None = None,
    q_kvar: npt.ArrayLike | None = None,
    v_source_pu: float | npt.ArrayLike | None = None,
    tol_mva: float = 1e-8,
    max_iter: int = 50,
    reference: tuple[FloatArray, FloatArray] | None = None,
    tree_local: bool = False,
) -> ContingencyResult:
    """The base case and every contingency of a prepared plan for these loads and source voltages
    (arguments as in `run_n_minus_1`)."""
    cg, f = pl.cg, pl.forest
    p = cg.bus_p_kw if p_kw is None else np.asarray(p_kw, np.float64)
    q = cg.bus_q_kvar if q_kvar is None else np.asarray(q_kvar, np.float64)
    if p.shape != (cg.n_bus,):
        raise InvalidInputError(f"p_kw must have length {cg.n_bus}", field="p_kw")
    if q.shape != (cg.n_bus,):
        raise InvalidInputError(f"q_kvar must have length {cg.n_bus}", field="q_kvar")
    vs = np.broadcast_to(
        np.asarray(cg.source_v_pu if v_source_pu is None else v_source_pu, np.float64), (cg.n_source,)
    )
    if not (np.isfinite(vs).all() and (vs > 0).all()):
        raise InvalidInputError("v_source_pu must be positive", field="v_source_pu")
    if max_iter < 1:
        raise InvalidInputError("max_iter must be at least 1", field="max_iter")
    if f is None:
        return _one_by_one(cg, pl.edges, pl.closed, p, q, vs, tol_mva, max_iter)
    e_list, k_all = pl.edges, len(pl.edges)
    dead0 = ~pl.base_en.bus_energized
    out: dict[str, npt.NDArray[Any]] = {
        "converged": np.zeros(k_all, bool),
        "iterations": np.zeros(k_all, np.int64),
        "max_loading_pct": np.full(k_all, np.nan),
        "worst_edge": np.full(k_all, -1, np.int64),
        "min_vm_pu": np.full(k_all, np.nan),
        "customers_out": np.full(k_all, int(cg.bus_customer_count[dead0].sum()), np.int64),
        "critical_out": np.full(k_all, int(cg.bus_critical_count[dead0].sum()), np.int64),
        "unserved_kw": np.full(k_all, float(p[dead0].sum())),
        "max_source_loading_pct": np.full(k_all, np.nan),
        "new_overloads": np.zeros(k_all, np.int64),
        "new_undervoltage": np.zeros(k_all, np.int64),
        "unrated_loaded": np.zeros(k_all, np.int64),
    }
    s_row: ComplexArray = ((p[pl.bus_row] + 1j * q[pl.bus_row]) / 1000.0).astype(np.complex128)
    v0_red = vs[pl.src_row][f.kept]
    rated = cg.source_rating_mva * 1000.0 / (_SQRT3 * cg.v_base_kv[cg.source_bus])
    with np.errstate(divide="ignore", invalid="ignore"):
        src_pct_of = np.where(
            rated > 0, 100.0 * 1000.0 / (_SQRT3 * cg.v_base_kv[cg.source_bus]) / rated, np.nan
        )
    fused = pl.fusable and not tree_local
    base = None if fused else _base(pl, s_row, v0_red, src_pct_of, tol_mva, max_iter)
    sub_p = branch_sums(p[pl.bus_row][:, None].astype(np.complex128), f.hi).real[:, 0]
    for g in pl.groups:
        col_batch = max(1, _MAX_BATCH_CELLS // (g.hi - g.lo))
        for start in range(0, len(g.cols), col_batch):
            ks = g.cols[start : start + col_batch]
            child = pl.child[ks]
            if fused:
                child = np.r_[-1, child]
            r_base = v0_red if base is None or base.v_red is None else base.v_red
            r_base = r_base[g.rlo : g.rhi]
            v_init = np.repeat(r_base[:, None].astype(np.complex128), len(child), axis=1)
            fl = _flows(pl, g, child, s_row, v_init, v0_red, tol_mva, max_iter, tree_local)
            st = _column_stats(pl, g, child, fl, src_pct_of, reference, tree_local)
            st["converged"], st["iterations"] = fl["conv"], fl["iters"]
            if fused:
                base = _BaseFigures.from_column(st)
                st = {key: val[1:] for key, val in st.items()}
                child = child[1:]
            assert base is not None
            _combine(out, ks, st, base, g, tree_local)
            out["customers_out"][ks] += np.rint(pl.sub_cust[child]).astype(np.int64)
            out["critical_out"][ks] += np.rint(pl.sub_crit[child]).astype(np.int64)
            out["unserved_kw"][ks] += sub_p[child]
            if reference is not None:
                out["new_overloads"][ks] = st["new_over"]
                out["new_undervoltage"][ks] = st["new_uv"]
                out["unrated_loaded"][ks] = st["unrated"]
    if base is None:  # no outage falls in the energized forest
        base = _base(pl, s_row, v0_red, src_pct_of, tol_mva, max_iter)
    unchanged = np.flatnonzero(pl.child < 0)  # outage of an edge that carries nothing in the base case
    out["converged"][unchanged] = base.converged
    out["max_loading_pct"][unchanged] = base.max_loading
    out["worst_edge"][unchanged] = base.worst_edge
    out["min_vm_pu"][unchanged] = base.min_vm
    out["max_source_loading_pct"][unchanged] = base.src_max
    for key in ("max_loading_pct", "min_vm_pu", "max_source_loading_pct"):
        v = out[key]
        out[key] = np.where(np.isfinite(v), v, np.nan)
    if reference is None:
        for key in ("new_overloads", "new_undervoltage", "unrated_loaded"):
            del out[key]
    return ContingencyResult(edges=e_list, method="batched-radial", **out)


@dataclass(frozen=True, eq=False)
class _BaseFigures:
    """The base case: its voltages (reduced rows; warm start for the outages), convergence, whole-grid
    worst loading / lowest voltage / highest source loading, and the same per source tree (to combine a
    group's columns with the trees outside it, which an outage leaves as they are)."""

    converged: bool
    max_loading: float
    worst_edge: int
    min_vm: float
    src_max: float
    v_red: ComplexArray | None = None
    tree_max: FloatArray | None = None
    tree_arg: IntArray | None = None
    tree_vmin: FloatArray | None = None
    tree_src: FloatArray | None = None

    @staticmethod
    def from_column(st: Mapping[str, npt.NDArray[np.generic]]) -> _BaseFigures:
        best = float(np.asarray(st["max_loading_pct"], np.float64)[0])
        return _BaseFigures(
            converged=bool(st["converged"][0]),
            max_loading=best if np.isfinite(best) else np.nan,
            worst_edge=int(st["worst_edge"][0]),
            min_vm=float(np.asarray(st["min_vm_pu"], np.float64)[0]),
            src_max=max(float(np.asarray(st["src_pct"], np.float64)[0]), 0.0),
        )


def _base(
    pl: NMinus1Plan, s_row: ComplexArray, v0_red: FloatArray, src_pct_of: FloatArray, tol: float, mi: int
) -> _BaseFigures:
    f, g = pl.forest, pl.all_rows
    assert f is not None and g is not None
    child = np.full(1, -1, np.int64)
    fl = _flows(pl, g, child, s_row, v0_red[:, None].astype(np.complex128), v0_red, tol, mi, False)
    with np.errstate(invalid="ignore"):
        loading = np.asarray(fl["i_term"], np.float64)[:, 0] * pl.scale_row
    loading = np.where(np.isfinite(loading), loading, -np.inf)
    vm = np.abs(np.asarray(fl["v"], np.complex128)[:, 0])
    tree_max = np.maximum.reduceat(loading, f.roots)
    order = np.lexsort((loading, f.tree_of_row(np.arange(f.n_rows))))
    tree_arg = np.where(np.isfinite(tree_max), pl.edge_row[order[f.tree_end - 1]], -1)
    tree_vmin = np.minimum.reduceat(vm, f.roots)
    i_root = np.abs(np.asarray(fl["i_br"], np.complex128)[f.roots, 0])
    tree_src = np.nan_to_num(i_root * src_pct_of[pl.src_row[f.roots]], nan=-np.inf)
    best = int(np.argmax(tree_max))
    return _BaseFigures(
        converged=bool(fl["conv"][0]),
        max_loading=float(tree_max[best]) if np.isfinite(tree_max[best]) else np.nan,
        worst_edge=int(tree_arg[best]),
        min_vm=float(np.min(tree_vmin)),
        src_max=float(np.max(tree_src, initial=0.0)),
        v_red=np.asarray(fl["v"], np.complex128)[f.kept, 0],
        tree_max=tree_max,
        tree_arg=tree_arg,
        tree_vmin=tree_vmin,
        tree_src=tree_src,
    )


def _combine(
    out: dict[str, npt.NDArray[np.generic]],
    ks: IntArray,
    st: Mapping[str, npt.NDArray[np.generic]],
    base: _BaseFigures,
    g: _Group,
    tree_local: bool,
) -> None:
    """A group's columns are whole-grid figures once the trees outside the group (at their base-case
    values: a radial outage changes only its own tree) are folded in; tree-local columns stay as they are."""
    o_max, o_arg, o_vmin, o_src = -np.inf, -1, np.inf, 0.0
    if not tree_local and base.tree_max is not None:
        assert base.tree_arg is not None and base.tree_vmin is not None and base.tree_src is not None
        others = np.ones(len(base.tree_max), bool)
        others[g.t0 : g.t1] = False
        if others.any():
            o_max = float(np.max(base.tree_max[others]))
            o_arg = int(base.tree_arg[others][np.argmax(base.tree_max[others])])
            o_vmin = float(np.min(base.tree_vmin[others]))
            o_src = float(np.max(base.tree_src[others], initial=0.0))
    best = np.asarray(st["max_loading_pct"], np.float64)
    better = best >= o_max
    out["max_loading_pct"][ks] = np.where(better, best, o_max)
    out["worst_edge"][ks] = np.where(better, st["worst_edge"], o_arg)
    out["min_vm_pu"][ks] = np.minimum(np.asarray(st["min_vm_pu"], np.float64), o_vmin)
    out["max_source_loading_pct"][ks] = np.maximum(np.asarray(st["src_pct"], np.float64), o_src)
    out["converged"][ks] = st["converged"]
    out["iterations"][ks] = st["iterations"]


def _one_by_one(
    cg: CompiledGrid,
    e_list: IntArray,
    closed: npt.ArrayLike | None,
    p: FloatArray,
    q: FloatArray,
    v_source_pu: FloatArray,
    tol_mva: float,
    max_iter: int,
) -> ContingencyResult:
    k_all = len(e_list)
    res = {
        "converged": np.zeros(k_all, bool),
        "iterations": np.zeros(k_all, np.int64),
        "max_loading_pct": np.full(k_all, np.nan),
        "worst_edge": np.full(k_all, -1, np.int64),
        "min_vm_pu": np.full(k_all, np.nan),
        "customers_out": np.zeros(k_all, np.int64),
        "critical_out": np.zeros(k_all, np.int64),
        "unserved_kw": np.zeros(k_all),
        "max_source_loading_pct": np.full(k_all, np.nan),
    }
    for k, e in enumerate(e_list):  # loops in the base case: one full solve per contingency
        r = run_powerflow(
            cg,
            closed=closed,
            failed_edges=[e],
            p_kw=p,
            q_kvar=q,
            v_source_pu=v_source_pu,
            tol_mva=tol_mva,
            max_iter=max_iter,
        )
        live = r.edge_energized & np.isfinite(r.loading_pct)
        dead = ~r.bus_energized
        res["converged"][k] = r.converged
        res["iterations"][k] = r.iterations
        if live.any():
            w = int(np.flatnonzero(live)[np.argmax(r.loading_pct[live])])
            res["max_loading_pct"][k] = r.loading_pct[w]
            res["worst_edge"][k] = w
        if r.bus_energized.any():
            res["min_vm_pu"][k] = float(np.nanmin(r.vm_pu[r.bus_energized]))
        res["customers_out"][k] = int(cg.bus_customer_count[dead].sum())
        res["critical_out"][k] = int(cg.bus_critical_count[dead].sum())
        res["unserved_kw"][k] = float(p[dead].sum())
        res["max_source_loading_pct"][k] = float(np.nanmax(r.source_loading_pct, initial=0.0))
    return ContingencyResult(edges=e_list, method="per-contingency", **res)
