"""N-1 screening: one power flow per single-element outage, batched when the base case is radial.

Why batched: in a radial network (ties open) losing an energized edge removes exactly the subtree below
it; the rest keeps the same BFS tree, so the factorized ``L`` of the base case still describes it. All
contingencies are then one multi-column fixed point: column k carries the loads with contingency k's
subtree zeroed, and every sweep is one triangular solve with K right-hand sides (SuperLU, C). The
result per contingency equals a separate `run_powerflow` with that edge failed (tested), at a fraction
of the cost. When the base case has loops (closed ties or couplers) each contingency is solved
separately with `run_powerflow`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse import csgraph
from scipy.sparse import linalg as sla

from fluxops.core.errors import InvalidInputError
from fluxops.network.compiled import BoolArray, CompiledGrid, FloatArray, IntArray
from fluxops.network.energization import energize
from fluxops.network.powerflow import SweepPlan, half_b_pu, prepare_sweep, run_powerflow

_SQRT3 = float(np.sqrt(3.0))
# cap on complex entries held per batch (n_free × K): ~32 MB per matrix
_MAX_BATCH_CELLS = 2_000_000


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
_TOL_PCT = 1e-6


def _tree_parent(plan: SweepPlan) -> IntArray:
    """Parent position (free-node index) of each free node, −1 at tree roots."""
    cg = plan.cg
    nf = len(plan.free_bus)
    pos = np.full(cg.n_bus, -1, dtype=np.int64)
    pos[plan.free_bus] = np.arange(nf)
    pe = np.maximum(plan.parent_edge, 0)
    other = np.where(cg.from_bus[pe] == plan.free_bus, cg.to_bus[pe], cg.from_bus[pe])
    return np.where(plan.parent_edge >= 0, pos[other], -1)


def _ranges(parent: IntArray, lu: sla.SuperLU) -> tuple[IntArray, IntArray]:
    """(tin, size) of a tree given by ``parent`` (−1 at roots; parents precede children) and its
    factorized ``L``: node j is in the subtree of c iff tin[c] <= tin[j] < tin[c] + size[c]."""
    n = len(parent)
    root = n
    src = np.where(parent >= 0, parent, root)
    g = sparse.coo_matrix((np.ones(n), (src, np.arange(n))), shape=(n + 1, n + 1)).tocsr()
    order = csgraph.depth_first_order(g, root, directed=True, return_predecessors=False)
    tin = np.empty(n + 1, dtype=np.int64)
    tin[order] = np.arange(len(order)) - 1
    sizes = np.rint(lu.solve(np.ones(n), trans="T")).astype(np.int64)
    return tin[:n], sizes


def _subtree_ranges(plan: SweepPlan) -> tuple[IntArray, IntArray]:
    return _ranges(_tree_parent(plan), plan.lu)


def _subtree_matrix(tin: IntArray, size: IntArray) -> sparse.csr_matrix:
    """S with S[i, j] = 1 when j is in the subtree of i (itself included): the backward sweep is
    ``I = S·J`` and the forward drop ``Sᵀ·(Z∘I)``. nnz = Σ depth; sparse-times-dense in C beats K
    triangular solves when K (contingencies) is large."""
    n = len(tin)
    order = np.empty(n, dtype=np.int64)
    order[tin] = np.arange(n)
    indptr = np.r_[0, np.cumsum(size)]
    flat = np.arange(int(indptr[-1])) - np.repeat(indptr[:-1] - tin, size)
    return sparse.csr_matrix((np.ones(len(flat)), order[flat], indptr), shape=(n, n))


def _spmm(mat: sparse.csr_matrix, x: npt.NDArray[np.complex128]) -> npt.NDArray[np.complex128]:
    out: npt.NDArray[np.complex128] = mat @ x.real + 1j * (mat @ x.imag)
    return out


@dataclass(frozen=True, eq=False)
class _Reduced:
    """The impedance tree: free nodes joined to their parent by a zero-impedance device are merged into
    the nearest ancestor with a real impedance (their voltages are equal), so the iteration runs on
    ~1/3 of the nodes on switch-rich grids."""

    kept: IntArray  # free-node positions of the kept nodes (BFS order)
    rep_red: IntArray  # per free node: its kept representative's reduced position
    agg: sparse.csr_matrix  # n_kept × n_free, 1 where a free node's load lands on a kept node
    z_pu: npt.NDArray[np.complex128]
    lu: sla.SuperLU
    down: sparse.csr_matrix  # subtree matrix of the impedance tree (see `_subtree_matrix`)
    up: sparse.csr_matrix  # its transpose


def _reduce(plan: SweepPlan) -> _Reduced:
    nf = len(plan.free_bus)
    parent = _tree_parent(plan)
    keep = (plan.z_pu != 0) | (parent < 0)
    rep = np.where(keep, np.arange(nf), parent)
    for _ in range(64):  # pointer jumping: log2(depth) rounds
        nxt = np.where(keep[rep], rep, rep[rep])
        if (nxt == rep).all():
            break
        rep = nxt
    kept = np.flatnonzero(keep)
    ridx = np.full(nf, -1, dtype=np.int64)
    ridx[kept] = np.arange(len(kept))
    rep_red = ridx[rep]
    k_parent = parent[kept]
    has_p = k_parent >= 0
    rows = np.arange(len(kept))
    pr = rep_red[k_parent[has_p]]
    lmat = sparse.csc_matrix(
        (np.r_[np.ones(len(kept)), -np.ones(int(has_p.sum()))], (np.r_[rows, rows[has_p]], np.r_[rows, pr])),
        shape=(len(kept), len(kept)),
    )
    lu = sparse.linalg.splu(
        lmat, permc_spec="NATURAL", diag_pivot_thresh=0.0, options={"SymmetricMode": True}
    )
    agg = sparse.csr_matrix((np.ones(nf), (rep_red, np.arange(nf))), shape=(len(kept), nf))
    red_parent = np.full(len(kept), -1, dtype=np.int64)
    red_parent[has_p] = pr
    down = _subtree_matrix(*_ranges(red_parent, lu))
    return _Reduced(
        kept=kept, rep_red=rep_red, agg=agg, z_pu=plan.z_pu[kept], lu=lu, down=down, up=down.T.tocsr()
    )


def _restrict(plan: SweepPlan, idx: IntArray) -> SweepPlan:
    """The plan limited to the free nodes ``idx`` (one source tree: parents stay inside, BFS order kept)."""
    parent = _tree_parent(plan)
    local = np.full(len(plan.free_bus), -1, dtype=np.int64)
    local[idx] = np.arange(len(idx))
    lp = np.where(parent[idx] >= 0, local[np.maximum(parent[idx], 0)], -1)
    m = len(idx)
    rows = np.arange(m)
    has_p = lp >= 0
    lmat = sparse.csc_matrix(
        (np.r_[np.ones(m), -np.ones(int(has_p.sum()))], (np.r_[rows, rows[has_p]], np.r_[rows, lp[has_p]])),
        shape=(m, m),
    )
    lu = sla.splu(lmat, permc_spec="NATURAL", diag_pivot_thresh=0.0, options={"SymmetricMode": True})
    return replace(
        plan,
        free_bus=plan.free_bus[idx],
        z_pu=plan.z_pu[idx],
        parent_src=plan.parent_src[idx],
        parent_edge=plan.parent_edge[idx],
        parent_sign=plan.parent_sign[idx],
        lu=lu,
        chord_edge=np.zeros(0, np.int64),
        chord_a=np.zeros(0, np.int64),
        chord_b=np.zeros(0, np.int64),
        chord_z_pu=np.zeros(0, np.complex128),
        loop_zinv=np.zeros((0, 0), np.complex128),
        loop_b=np.zeros((m, 0)),
        src_node_of_free=plan.src_node_of_free[idx],
    )


def _solve_tree(
    plan: SweepPlan,
    child: IntArray,
    p: FloatArray,
    q: FloatArray,
    vs: FloatArray,
    half_b: FloatArray,
    tol_mva: float,
    max_iter: int,
    ref: tuple[FloatArray, FloatArray] | None = None,
    v_start: npt.NDArray[np.complex128] | None = None,
) -> dict[str, npt.NDArray[np.generic]]:
    """All outages of one source tree (``child``: the node below each failed edge) as one fixed point.
    ``half_b``: per edge, half the charging susceptance (pu) of energized lines (π-model ends). ``ref``:
    (per-edge loading %, per-bus vm pu) of a reference flow, to count new violations against."""
    cg = plan.cg
    red = _reduce(plan)
    nf = len(plan.free_bus)
    parent_local = _tree_parent(plan)
    b_bus = np.bincount(cg.from_bus, weights=half_b, minlength=cg.n_bus) + np.bincount(
        cg.to_bus, weights=half_b, minlength=cg.n_bus
    )
    b_free = b_bus[plan.free_bus]
    hb_node = np.where(plan.parent_edge >= 0, half_b[np.maximum(plan.parent_edge, 0)], 0.0)
    charging = bool(half_b.any())
    tin, size = _subtree_ranges(plan)
    full_down = _subtree_matrix(tin, size)
    free = plan.free_bus
    s_pu = (p[free] + 1j * q[free]) / 1000.0
    agg_p = red.agg.multiply(s_pu.real[None, :]).tocsr()
    agg_q = red.agg.multiply(s_pu.imag[None, :]).tocsr()
    src_of = plan.src_node_of_free
    v0 = np.where(src_of >= 0, vs[np.maximum(src_of, 0)], 1.0).astype(np.complex128)
    v0_red = v0[red.kept]
    # the iteration starts from the base case (an outage only removes load: a few sweeps from there)
    v_init = v0_red if v_start is None else np.where(np.isfinite(v_start[free]), v_start[free], v0)[red.kept]
    i_base = 1000.0 / (_SQRT3 * cg.v_base_kv)
    has_edge = plan.parent_edge >= 0
    edge_of_node = np.where(has_edge, plan.parent_edge, -1)
    amp = np.where(has_edge, cg.ampacity_a[np.maximum(edge_of_node, 0)], np.nan)
    scale = np.where(has_edge & (amp > 0), 100.0 * i_base[free] / np.where(amp > 0, amp, 1.0), np.nan)
    is_src = plan.parent_src >= 0
    rated = cg.source_rating_mva * 1000.0 / (_SQRT3 * cg.v_base_kv[cg.source_bus])
    cust = cg.bus_customer_count[free].astype(np.float64)
    crit = cg.bus_critical_count[free].astype(np.float64)
    p_free = p[free]
    k_all = len(child)
    out: dict[str, npt.NDArray[np.generic]] = {
        "converged": np.zeros(k_all, bool),
        "iterations": np.full(k_all, max_iter, np.int64),
        "max_loading_pct": np.full(k_all, -np.inf),
        "worst_edge": np.full(k_all, -1, np.int64),
        "min_vm_pu": np.full(k_all, np.inf),
        "customers": np.zeros(k_all, np.int64),
        "critical": np.zeros(k_all, np.int64),
        "unserved_kw": np.zeros(k_all),
        "src_pct": np.zeros(k_all),
        "new_over": np.zeros(k_all, np.int64),
        "new_uv": np.zeros(k_all, np.int64),
        "unrated": np.zeros(k_all, np.int64),
    }
    if ref is not None:
        ref_load = np.nan_to_num(np.where(has_edge, ref[0][np.maximum(edge_of_node, 0)], 0.0), nan=0.0)
        ref_vm = np.nan_to_num(ref[1][free], nan=np.inf)
        unrated_node = has_edge & ~(amp > 0)
    batch = max(1, min(k_all, _MAX_BATCH_CELLS // max(nf, 1)))
    for start in range(0, k_all, batch):
        ks = np.arange(start, min(start + batch, k_all))
        lo = tin[child[ks]]
        hi = lo + size[child[ks]]
        dead = (tin[:, None] >= lo[None, :]) & (tin[:, None] < hi[None, :])  # nf × K
        alive = (~dead).astype(np.float64)
        s_red = agg_p @ alive + 1j * (agg_q @ alive)  # loads summed onto the impedance tree
        b_mat = b_free[:, None] * alive
        if charging:  # the failed line's charging at its live (parent) end goes out with it
            cols = np.arange(len(ks))
            pk = parent_local[child[ks]]
            okp = pk >= 0
            b_mat[pk[okp], cols[okp]] -= hb_node[child[ks]][okp]
        y_red = red.agg @ b_mat  # susceptance summed onto the impedance tree
        v = np.repeat(v_init[:, None], len(ks), axis=1)
        done = np.zeros(len(ks), bool)
        iters = np.full(len(ks), max_iter, np.int64)
        with np.errstate(all="ignore"):
            for it in range(1, max_iter + 1):
                j = np.conj(s_red / v) + 1j * y_red * v
                v_new = v0_red[:, None] - _spmm(red.up, red.z_pu[:, None] * _spmm(red.down, j))
                drawn = s_red - 1j * y_red * np.abs(v_new) ** 2  # loads + line charging
                mism = np.max(np.abs(v_new * np.conj(j) - drawn), axis=0, initial=0.0)
                v = v_new
                newly = ~done & (mism < tol_mva)
                iters[newly] = it
                done |= newly
                if done.all() or not np.isfinite(v).all():
                    break
            v_full = v[red.rep_red]  # zero-impedance devices carry their upstream node's voltage
            i_br = _spmm(full_down, np.conj(s_pu[:, None] * alive / v_full) + 1j * b_mat * v_full)
            v_par = np.where(parent_local[:, None] >= 0, v_full[np.maximum(parent_local, 0)], 0.0)
            hb = hb_node[:, None]
            i_term = np.maximum(np.abs(i_br + 1j * hb * v_par), np.abs(i_br - 1j * hb * v_full))
        loading = i_term * scale[:, None]
        loading = np.where(dead | ~np.isfinite(loading), -np.inf, loading)
        if ref is not None:
            vm = np.abs(v_full)
            lim = np.maximum(100.0, ref_load)[:, None] + _TOL_PCT
            out["new_over"][ks] = (loading > lim).sum(axis=0)
            out["new_uv"][ks] = (~dead & (vm < V_MIN_PU) & (vm < ref_vm[:, None] - 1e-9)).sum(axis=0)
            out["unrated"][ks] = (~dead & unrated_node[:, None] & (i_term > 1e-9)).sum(axis=0)
        worst = np.argmax(loading, axis=0)
        best = loading[worst, np.arange(len(ks))]
        src_i = np.abs(i_br[is_src]).sum(axis=0) * i_base[cg.source_bus[plan.parent_src[is_src][0]]]
        out["converged"][ks] = done
        out["iterations"][ks] = iters
        out["max_loading_pct"][ks] = best
        out["worst_edge"][ks] = np.where(np.isfinite(best), edge_of_node[worst], -1)
        out["min_vm_pu"][ks] = np.where(dead, np.inf, np.abs(v_full)).min(axis=0)
        out["customers"][ks] = np.rint(cust @ dead).astype(np.int64)
        out["critical"][ks] = np.rint(crit @ dead).astype(np.int64)
        out["unserved_kw"][ks] = p_free @ dead
        out["src_pct"][ks] = 100.0 * src_i / rated[plan.parent_src[is_src][0]]
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
    several independent transfer configurations into one run)."""
    e_list = np.flatnonzero(cg.edge_kind == 0) if edges is None else np.asarray(edges, np.int64).ravel()
    if len(e_list) and (e_list.min() < 0 or e_list.max() >= cg.n_edge):
        raise InvalidInputError("edges holds positions outside the grid", field="edges")
    p = cg.bus_p_kw if p_kw is None else np.asarray(p_kw, np.float64)
    q = cg.bus_q_kvar if q_kvar is None else np.asarray(q_kvar, np.float64)
    base_en = energize(cg, closed=closed)
    plan = prepare_sweep(cg, base_en)
    if plan.n_loops > 0:
        return _one_by_one(cg, e_list, closed, p, q, v_source_pu, tol_mva, max_iter)
    vs = np.broadcast_to(
        np.asarray(cg.source_v_pu if v_source_pu is None else v_source_pu, np.float64), (cg.n_source,)
    )
    base = run_powerflow(cg, plan=plan, p_kw=p, q_kvar=q, v_source_pu=vs, tol_mva=tol_mva, max_iter=max_iter)
    dead0 = ~base_en.bus_energized
    half_b = np.where(base_en.edge_energized, half_b_pu(cg, cg.edge_c_nf, cg.f_hz), 0.0)
    k_all = len(e_list)
    out = {
        "converged": np.full(k_all, base.converged),
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
    # base-case figures per source tree: a radial outage only changes its own tree
    tree_of_bus = np.full(cg.n_bus, -1, dtype=np.int64)
    tree_of_bus[plan.free_bus] = plan.src_node_of_free
    e_tree = np.where(base.edge_energized, tree_of_bus[cg.from_bus], -1)
    ok_e = (e_tree >= 0) & np.isfinite(base.loading_pct)
    tree_max = np.full(cg.n_source, -np.inf)
    np.maximum.at(tree_max, e_tree[ok_e], base.loading_pct[ok_e])
    tree_arg = np.full(cg.n_source, -1, dtype=np.int64)
    hit = np.flatnonzero(ok_e)
    tree_arg[e_tree[hit]] = hit  # placeholder, fixed below to the argmax
    order_l = hit[np.argsort(base.loading_pct[hit], kind="stable")]
    tree_arg[e_tree[order_l]] = order_l  # last write = largest loading
    tree_vmin = np.full(cg.n_source, np.inf)
    on = tree_of_bus >= 0
    np.minimum.at(tree_vmin, tree_of_bus[on], base.vm_pu[on])
    src_pct = np.nan_to_num(base.source_loading_pct, nan=-np.inf)

    node_of_edge = np.full(cg.n_edge, -1, dtype=np.int64)
    has_edge = plan.parent_edge >= 0
    node_of_edge[plan.parent_edge[has_edge]] = np.flatnonzero(has_edge)
    child = node_of_edge[e_list]
    unchanged = np.flatnonzero(child < 0)  # outage of an edge that carries nothing in the base case
    if len(unchanged):
        best = int(np.argmax(tree_max)) if np.isfinite(tree_max).any() else -1
        out["max_loading_pct"][unchanged] = tree_max[best] if best >= 0 else np.nan
        out["worst_edge"][unchanged] = tree_arg[best] if best >= 0 else -1
        out["min_vm_pu"][unchanged] = np.min(tree_vmin) if np.isfinite(tree_vmin).any() else np.nan
        out["max_source_loading_pct"][unchanged] = np.max(src_pct, initial=0.0)
    tree_of_k = np.where(child >= 0, plan.src_node_of_free[np.maximum(child, 0)], -1)
    for s_id in np.unique(tree_of_k[tree_of_k >= 0]):
        ks = np.flatnonzero(tree_of_k == s_id)
        idx = np.flatnonzero(plan.src_node_of_free == s_id)
        local = np.full(len(plan.free_bus), -1, dtype=np.int64)
        local[idx] = np.arange(len(idx))
        sub = _restrict(plan, idx)
        r = _solve_tree(sub, local[child[ks]], p, q, vs, half_b, tol_mva, max_iter, reference, base.v_pu)
        others = np.arange(cg.n_source) != s_id
        o_max = np.max(tree_max[others], initial=-np.inf)
        o_arg = tree_arg[others][np.argmax(tree_max[others])] if others.any() else -1
        if tree_local:
            o_max, o_arg = -np.inf, -1
        better = r["max_loading_pct"] >= o_max
        out["max_loading_pct"][ks] = np.where(better, r["max_loading_pct"], o_max)
        out["worst_edge"][ks] = np.where(better, r["worst_edge"], o_arg)
        if tree_local:
            others = np.zeros(cg.n_source, bool)
        out["min_vm_pu"][ks] = np.minimum(r["min_vm_pu"], np.min(tree_vmin[others], initial=np.inf))
        out["max_source_loading_pct"][ks] = np.maximum(r["src_pct"], np.max(src_pct[others], initial=0.0))
        out["converged"][ks] = r["converged"]
        out["iterations"][ks] = r["iterations"]
        out["customers_out"][ks] += r["customers"]
        out["critical_out"][ks] += r["critical"]
        out["unserved_kw"][ks] += r["unserved_kw"]
        out["new_overloads"][ks] = r["new_over"]
        out["new_undervoltage"][ks] = r["new_uv"]
        out["unrated_loaded"][ks] = r["unrated"]
    for key in ("max_loading_pct", "min_vm_pu", "max_source_loading_pct"):
        v = out[key]
        out[key] = np.where(np.isfinite(v), v, np.nan)
    if reference is None:
        for key in ("new_overloads", "new_undervoltage", "unrated_loaded"):
            del out[key]
    return ContingencyResult(edges=e_list, method="batched-radial", **out)


def _one_by_one(
    cg: CompiledGrid,
    e_list: IntArray,
    closed: npt.ArrayLike | None,
    p: FloatArray,
    q: FloatArray,
    v_source_pu: float | npt.ArrayLike | None,
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
