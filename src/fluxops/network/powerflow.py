"""Balanced three-phase AC power flow: vectorized backward/forward sweep with loop compensation.

Method (Shirmohammadi et al., "A compensation-based power flow method for weakly meshed distribution
and transmission networks", IEEE Trans. Power Systems 3(2), 1988):

1. Breadth-first search from the sources over the energized graph gives a spanning forest; each bus has
   one parent edge. Edges left over (closed ties, parallel paths) are *loop breakpoints*.
2. In BFS order the tree is a unit lower-triangular matrix ``L`` (``L[k,k]=1``, ``L[k,parent(k)]=-1``).
   Backward sweep (branch currents = subtree sums of load currents) is ``Lᵀ I = J``; forward sweep
   (voltage = parent voltage − Z·I) is ``L V = b``. ``L`` is factorized once (SuperLU, natural order, no
   fill-in), so each sweep is two sparse triangular solves in C — linear time, no Python loop per bus.
3. Radial case: fixed point ``J = conj(S / V)`` (constant-power loads) until the power mismatch
   ``max |V·conj(J) − S|`` is below ``tol_mva`` (pandapower's ``tolerance_mva`` convention, 1e-8).
4. Meshed case: breakpoint currents ``c`` are solved exactly each iteration from the k×k loop impedance
   matrix ``(Z_break + Bᵀ M B)`` (``M`` = tree transfer impedance, from k triangular solves, done once),
   so closing ties keeps the same sweep and converges in the same few iterations.

Per-unit on S_base = 1 MVA and each bus's nominal kV. Sources are ideal voltages (``v_source_pu``,
angle 0) behind each substation transformer's series impedance. Line shunt capacitance and
transformer magnetizing branches are not modelled (see docs/physics.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse import csgraph
from scipy.sparse import linalg as sla

from fluxops.core.errors import InvalidInputError
from fluxops.network.compiled import BoolArray, CompiledGrid, FloatArray, IntArray
from fluxops.network.energization import EnergizationResult, energize

ComplexArray = npt.NDArray[np.complex128]
_SQRT3 = float(np.sqrt(3.0))


@dataclass(frozen=True, eq=False)
class SweepPlan:
    """Topology-dependent part of a power flow (BFS tree, factorized ``L``, loop matrix), reusable for
    any loads on the same switch states and failures (cascade waves, Monte Carlo load draws)."""

    cg: CompiledGrid
    energization: EnergizationResult
    free_bus: IntArray  # bus position of each free node, BFS order
    z_pu: ComplexArray  # parent-edge impedance per free node
    parent_src: IntArray  # per free node: source position when its parent is a source node, else −1
    parent_edge: IntArray  # per free node: edge position of the parent edge (−1 for a source edge)
    parent_sign: npt.NDArray[np.float64]  # +1 when the edge's from_bus is the parent, else −1
    lu: sla.SuperLU
    chord_edge: IntArray  # loop breakpoint edges
    chord_a: IntArray  # free-node position of the chord's from_bus
    chord_b: IntArray  # free-node position of the chord's to_bus
    chord_z_pu: ComplexArray
    loop_zinv: ComplexArray  # k×k inverse of the loop impedance matrix (0×0 when radial)
    loop_b: FloatArray  # n_free×k breakpoint incidence (+1 at the chord's from end, −1 at its to end)
    src_node_of_free: IntArray  # per free node, the source at the root of its tree

    @property
    def n_loops(self) -> int:
        return len(self.chord_edge)


@dataclass(frozen=True)
class PowerFlowResult:
    """A power-flow solution. A non-converged flow is a result (``converged=False``), not an error.

    Per bus: ``v_pu`` complex (NaN where de-energized), ``vm_pu`` magnitude. Per edge: ``i_edge_a``
    (magnitude, 0 where not energized), ``loading_pct`` (100·I/ampacity_a; NaN where the rating is not
    positive), ``p_from_kw``/``q_from_kvar`` (flow leaving ``from_bus``; negative = reverse flow). Per
    source: ``p_source_kw``, ``q_source_kvar`` (delivered into the bus section, after transformer losses
    are taken on the transmission side... i.e. measured at the ideal source), ``i_source_a`` (LV side),
    ``source_loading_pct`` (100·I/I_rated,LV). ``losses_kw``: series I²R losses of lines and substation
    transformers. ``max_mismatch_mva``: final ``max |V·conj(I) − S|`` over buses.
    """

    converged: bool
    iterations: int
    max_mismatch_mva: float
    method: str  # "radial" | "meshed"
    n_loops: int
    v_pu: ComplexArray
    vm_pu: FloatArray
    i_edge_a: FloatArray
    loading_pct: FloatArray
    p_from_kw: FloatArray
    q_from_kvar: FloatArray
    p_source_kw: FloatArray
    q_source_kvar: FloatArray
    i_source_a: FloatArray
    source_loading_pct: FloatArray
    losses_kw: float
    bus_energized: BoolArray
    edge_energized: BoolArray


def prepare_sweep(cg: CompiledGrid, energization: EnergizationResult) -> SweepPlan:
    """Build the BFS forest, factorize ``L`` and (when loops exist) the loop impedance matrix."""
    en = energization
    nb, ns = cg.n_bus, cg.n_source
    root = nb + ns
    live_src = np.flatnonzero(en.source_live & en.bus_energized[cg.source_bus])
    e_idx = np.flatnonzero(en.edge_energized)
    # graph: buses, source nodes (nb + s), a super-root joined to every live source node
    u = np.concatenate([cg.from_bus[e_idx], nb + live_src, np.full(len(live_src), root)])
    v = np.concatenate([cg.to_bus[e_idx], cg.source_bus[live_src], nb + live_src])
    tag = np.concatenate([e_idx, -1 - live_src, np.full(len(live_src), -(10**12))])
    n_nodes = root + 1
    g = sparse.coo_matrix((np.ones(len(u), np.int8), (u, v)), shape=(n_nodes, n_nodes)).tocsr()
    order, pred = csgraph.breadth_first_order(g, root, directed=False, return_predecessors=True)
    order = order.astype(np.int64)
    free = order[order < nb]  # buses in BFS order
    parent = pred[free].astype(np.int64)

    # identify the graph edge used for each tree link (first edge of that unordered pair)
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    key = lo * n_nodes + hi
    srt = np.argsort(key, kind="stable")
    tree_key = np.minimum(parent, free) * n_nodes + np.maximum(parent, free)
    hit = srt[np.searchsorted(key[srt], tree_key)]
    used = np.zeros(len(u), dtype=bool)
    used[hit] = True
    tree_tag = tag[hit]

    pos = np.full(n_nodes, -1, dtype=np.int64)
    pos[free] = np.arange(len(free))
    nf = len(free)
    parent_is_src = parent >= nb
    parent_src = np.where(parent_is_src, parent - nb, -1)
    parent_edge = np.where(tree_tag >= 0, tree_tag, -1)
    z_base = cg.v_base_kv[free] ** 2  # ohm per pu on 1 MVA
    pe = np.maximum(parent_edge, 0)
    z_line = (cg.r_ohm[pe] + 1j * cg.x_ohm[pe]) / z_base
    ps = np.maximum(parent_src, 0)
    z_src = (cg.source_r_ohm[ps] + 1j * cg.source_x_ohm[ps]) / z_base
    z_pu = np.where(parent_is_src, z_src, z_line).astype(np.complex128)
    sign = np.where(parent_is_src, 1.0, np.where(cg.from_bus[pe] == parent, 1.0, -1.0))

    rows = np.arange(nf)
    child = rows[~parent_is_src]
    ppos = pos[parent[~parent_is_src]]
    lmat = sparse.csc_matrix(
        (np.r_[np.ones(nf), -np.ones(len(child))], (np.r_[rows, child], np.r_[rows, ppos])), shape=(nf, nf)
    )
    lu = sla.splu(lmat, permc_spec="NATURAL", diag_pivot_thresh=0.0, options={"SymmetricMode": True})

    # root source of every free node: solve L x = s with s = source id + 1 at tree roots, since
    # x_k = x_parent(k) + s_k hands every node its root's id
    src_node = np.rint(lu.solve(np.where(parent_is_src, parent_src + 1.0, 0.0))).astype(np.int64) - 1

    chords = ~used & (tag >= 0)
    chord_edge = tag[chords]
    chord_a = pos[cg.from_bus[chord_edge]]
    chord_b = pos[cg.to_bus[chord_edge]]
    chord_z = (
        (cg.r_ohm[chord_edge] + 1j * cg.x_ohm[chord_edge]) / cg.v_base_kv[cg.from_bus[chord_edge]] ** 2
    ).astype(np.complex128)
    plan_no_loops = SweepPlan(
        cg=cg,
        energization=en,
        free_bus=free,
        z_pu=z_pu,
        parent_src=parent_src,
        parent_edge=parent_edge,
        parent_sign=sign,
        lu=lu,
        chord_edge=chord_edge,
        chord_a=chord_a,
        chord_b=chord_b,
        chord_z_pu=chord_z,
        loop_zinv=np.zeros((0, 0), np.complex128),
        loop_b=np.zeros((nf, 0)),
        src_node_of_free=src_node,
    )
    if len(chord_edge) == 0:
        return plan_no_loops
    k = len(chord_edge)
    bmat = np.zeros((nf, k))
    bmat[chord_a, np.arange(k)] += 1.0
    bmat[chord_b, np.arange(k)] -= 1.0
    mb = _tree_drop(plan_no_loops, bmat.astype(np.complex128))
    zloop = np.diag(chord_z) + bmat.T @ mb
    zinv = np.linalg.pinv(zloop)
    return SweepPlan(**{**plan_no_loops.__dict__, "loop_zinv": zinv.astype(np.complex128), "loop_b": bmat})


def _solve(lu: sla.SuperLU, b: ComplexArray, trans: str) -> ComplexArray:
    two_d = b.ndim == 2
    bb = b if two_d else b[:, None]
    stacked = np.concatenate([bb.real, bb.imag], axis=1)
    x = lu.solve(np.ascontiguousarray(stacked), trans=trans)
    h = bb.shape[1]
    out: ComplexArray = x[:, :h] + 1j * x[:, h:]
    return out if two_d else out[:, 0]


def _tree_drop(plan: SweepPlan, inj: ComplexArray) -> ComplexArray:
    """Voltage drop ``M·inj`` from the sources for current injections ``inj`` (load convention)."""
    i_branch = _solve(plan.lu, inj, "T")
    zi = plan.z_pu[:, None] * i_branch if inj.ndim == 2 else plan.z_pu * i_branch
    return _solve(plan.lu, zi, "N")


def run_powerflow(
    cg: CompiledGrid,
    *,
    closed: npt.ArrayLike | None = None,
    p_kw: npt.ArrayLike | None = None,
    q_kvar: npt.ArrayLike | None = None,
    v_source_pu: float | npt.ArrayLike | None = None,
    failed_edges: npt.ArrayLike | None = None,
    failed_buses: npt.ArrayLike | None = None,
    failed_sources: npt.ArrayLike | None = None,
    c_nf: npt.ArrayLike | None = None,
    f_hz: float | None = None,
    tol_mva: float = 1e-8,
    max_iter: int = 50,
    plan: SweepPlan | None = None,
) -> PowerFlowResult:
    """Solve the energized network. ``p_kw``/``q_kvar``: per-bus load (three-phase, consumption
    positive), default ``cg.bus_p_kw``/``cg.bus_q_kvar``. ``v_source_pu``: scalar or per source; None →
    ``cg.source_v_pu`` (1.0 for generated grids, the import's setpoint/tap voltage for real ones).
    ``closed``/``failed_*`` as in `energize`; or pass a ``plan`` from `prepare_sweep` to reuse topology
    work across load cases (then ``closed``/``failed_*`` are ignored). ``c_nf``: line
    capacitance per edge (total nF, π model at ``f_hz``); None → ``cg.edge_c_nf`` (0 for generated
    grids, pandapower's for imported ones). With charging, ``i_edge_a``/``loading_pct`` are the larger
    terminal current, as pandapower reports. Inputs are never modified."""
    if plan is None:
        plan = prepare_sweep(
            cg,
            energize(
                cg,
                closed=closed,
                failed_edges=failed_edges,
                failed_buses=failed_buses,
                failed_sources=failed_sources,
            ),
        )
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

    half_b = half_b_pu(cg, cg.edge_c_nf if c_nf is None else c_nf, cg.f_hz if f_hz is None else f_hz)
    half_b = np.where(plan.energization.edge_energized, half_b, 0.0)  # failed/open lines carry no charge
    y_all = 1j * (
        np.bincount(cg.from_bus, weights=half_b, minlength=cg.n_bus)
        + np.bincount(cg.to_bus, weights=half_b, minlength=cg.n_bus)
    )
    free = plan.free_bus
    y = y_all[free]
    s_pu = (p[free] + 1j * q[free]) / 1000.0
    v0 = np.where(plan.src_node_of_free >= 0, vs[np.maximum(plan.src_node_of_free, 0)], 1.0).astype(
        np.complex128
    )
    v = v0.copy()
    meshed = plan.n_loops > 0
    c = np.zeros(plan.n_loops, np.complex128)
    mismatch = np.inf
    it = 0
    converged = False
    with np.errstate(all="ignore"):
        for it in range(1, max_iter + 1):  # noqa: B007 — iteration count is reported
            j = np.conj(s_pu / v) + y * v
            v_tree = v0 - _tree_drop(plan, j)
            if meshed:
                c = plan.loop_zinv @ (plan.loop_b.T @ v_tree)
                v_new = v_tree - _tree_drop(plan, plan.loop_b @ c)
            else:
                v_new = v_tree
            if not np.isfinite(v_new).all():
                v = v_new
                mismatch = np.inf
                break
            drawn = s_pu + np.conj(y) * np.abs(v_new) ** 2  # loads + shunts at the new voltage
            mismatch = float(np.max(np.abs(v_new * np.conj(j) - drawn), initial=0.0))
            v = v_new
            if mismatch < tol_mva:
                converged = True
                break
        j = np.conj(s_pu / v) + y * v
        inj = j + plan.loop_b @ c if meshed else j
        i_branch = _solve(plan.lu, inj, "T")
    return _assemble(plan, v, i_branch, c, vs, converged, it, mismatch, meshed, half_b)


def _assemble(
    plan: SweepPlan,
    v: ComplexArray,
    i_branch: ComplexArray,
    c: ComplexArray,
    vs: FloatArray,
    converged: bool,
    it: int,
    mismatch: float,
    meshed: bool,
    half_b: FloatArray,
) -> PowerFlowResult:
    cg = plan.cg
    free = plan.free_bus
    v_bus = np.full(cg.n_bus, np.nan + 1j * np.nan, dtype=np.complex128)
    v_bus[free] = v
    i_base_a = 1000.0 / (_SQRT3 * cg.v_base_kv)  # A per pu current on 1 MVA
    i_edge = np.zeros(cg.n_edge, np.complex128)  # pu, positive from_bus → to_bus
    is_edge = plan.parent_edge >= 0
    i_edge[plan.parent_edge[is_edge]] = i_branch[is_edge] * plan.parent_sign[is_edge]
    i_edge[plan.chord_edge] = c
    fb = cg.from_bus
    with np.errstate(invalid="ignore", divide="ignore"):
        # terminal currents of the π model (equal to the series current without charging)
        live = plan.energization.edge_energized
        i_from = np.where(live, i_edge + 1j * half_b * v_bus[fb], 0.0)
        i_to = np.where(live, i_edge - 1j * half_b * v_bus[cg.to_bus], 0.0)
        i_a = np.maximum(np.abs(i_from), np.abs(i_to)) * i_base_a[fb]
        loading = np.where(cg.ampacity_a > 0, 100.0 * i_a / cg.ampacity_a, np.nan)
        s_from = np.where(live, v_bus[fb] * np.conj(i_from), 0.0)
    losses = float(np.sum(np.abs(i_edge) ** 2 * cg.r_ohm / cg.v_base_kv[fb] ** 2))

    src = plan.parent_src >= 0
    s_idx = plan.parent_src[src]
    i_src = np.zeros(cg.n_source, np.complex128)
    i_src[s_idx] = i_branch[src]
    z_src_pu = (cg.source_r_ohm + 1j * cg.source_x_ohm) / cg.v_base_kv[cg.source_bus] ** 2
    losses += float(np.sum(np.abs(i_src) ** 2 * z_src_pu.real))
    s_src = vs * np.conj(i_src)
    i_src_a = np.abs(i_src) * i_base_a[cg.source_bus]
    i_rated = cg.source_rating_mva * 1000.0 / (_SQRT3 * cg.v_base_kv[cg.source_bus])
    with np.errstate(invalid="ignore", divide="ignore"):
        src_loading = np.where(i_rated > 0, 100.0 * i_src_a / i_rated, np.nan)
    return PowerFlowResult(
        converged=converged,
        iterations=it,
        max_mismatch_mva=mismatch,
        method="meshed" if meshed else "radial",
        n_loops=plan.n_loops,
        v_pu=v_bus,
        vm_pu=np.abs(v_bus),
        i_edge_a=i_a,
        loading_pct=loading,
        p_from_kw=s_from.real * 1000.0,
        q_from_kvar=s_from.imag * 1000.0,
        p_source_kw=s_src.real * 1000.0,
        q_source_kvar=s_src.imag * 1000.0,
        i_source_a=i_src_a,
        source_loading_pct=src_loading,
        losses_kw=losses * 1000.0,
        bus_energized=plan.energization.bus_energized,
        edge_energized=plan.energization.edge_energized,
    )


def half_b_pu(cg: CompiledGrid, c_nf: npt.ArrayLike, f_hz: float) -> FloatArray:
    """Half of each edge's charging susceptance ``B = 2π·f·C`` in pu on 1 MVA (π model ends)."""
    c = np.asarray(c_nf, np.float64)
    if c.shape != (cg.n_edge,) or not np.isfinite(c).all() or (c < 0).any():
        raise InvalidInputError(f"c_nf must be {cg.n_edge} non-negative values", field="c_nf")
    if not f_hz > 0:
        raise InvalidInputError("f_hz must be positive", field="f_hz")
    return np.asarray(0.5 * 2.0 * np.pi * f_hz * c * 1e-9 * cg.v_base_kv[cg.from_bus] ** 2, np.float64)
