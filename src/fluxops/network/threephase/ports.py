"""The current-injection fixed point reduced to the load ports: Z-bus iteration on dense small matrices.

``solve_compiled`` iterates ``v = Y⁻¹ (I_src + Cᵀ comp(C v))`` with ``comp = Y_eq·vd − I_load(vd)`` the
injection correcting each load element's nominal admittance. Only elements whose current is not their
nominal admittance's inject (constant PQ, constant |I|, exponential: the *ports*; a constant-Z element's
``comp`` is identically zero), so with ``v₀ = Y⁻¹ I_src`` and ``W = Y⁻¹ Cᵀ`` (nodes × ports, one LU solve
per port, once per compiled feeder) the iteration is ``v = v₀ + W comp`` and, projected on the ports,

    ``vd = vd₀ + Z comp(vd)``,  ``Z = C W`` (ports × ports).

Each iteration is then a p-element load evaluation and one small dense product — no triangular solves,
no sparse products — and the node voltages are formed once, at the end. The iterates are the same as
``solve_compiled``'s (same fixed point, same start, same node-voltage stopping test), so results agree to
round-off.

A change of a few stamps (a regulator's tap, ``S`` over its m nodes ``P``: ``Y' = Y + P D Pᵀ``) keeps
everything: with ``G = Y⁻¹ P`` and ``M = (I + D Pᵀ G)⁻¹ D`` (push-through Woodbury, no ``D⁻¹``),
``Y'⁻¹ r = x − G M x[P]`` for ``x = Y⁻¹ r``, so ``Z' = Z − (C G) M W[P]`` and ``vd₀' = vd₀ − (C G) M
v₀[P]``: a tap move costs a p × m × p product, never a refactorization.

Dense ``W`` is nodes × ports: ``MAX_DENSE_ENTRIES`` bounds it (callers fall back to ``solve_compiled``).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse import linalg as sla

from fluxops.network.threephase.solver import VLOW_PU, ThreePhaseResult, load_currents
from fluxops.network.threephase.ybus import (
    LOAD_MODEL_EXP,
    LOAD_MODEL_I,
    LOAD_MODEL_PQ,
    LOAD_MODEL_Z,
    CompiledThreePhase,
)

ComplexArray = npt.NDArray[np.complex128]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
MAX_DENSE_ENTRIES = 4_000_000  # nodes × ports (64 MB complex); larger feeders keep the sparse path


@dataclass(frozen=True, eq=False)
class PortLoads:
    """The port elements' load constants (``LoadArrays``) plus the per-element constants of every band of
    ``load_currents``'s PQ and |I| models, computed once per port system instead of every iteration."""

    load_s_va: ComplexArray
    load_vnom_v: FloatArray
    load_model: IntArray
    load_vmin: FloatArray
    load_vmax: FloatArray
    load_cvr_p: FloatArray
    load_cvr_q: FloatArray
    yeq: ComplexArray
    s_conj: ComplexArray
    inv_vn: FloatArray
    is_pq: npt.NDArray[np.bool_]
    g_high: ComplexArray  # admittance above vmax
    i_low: ComplexArray  # current magnitude factor at vlow (times Yeq)
    slope: ComplexArray  # of the linear current interpolation between vlow and vmin
    vlow_v: FloatArray
    vmin_v: FloatArray  # band edges in volts (0 and ∞ on constant-Z elements: no band rules)
    vmax_v: FloatArray
    a_pq: ComplexArray  # S* on constant-PQ elements (else 0): I = vd·|vd|⁻¹·(a/|vd| + b)
    b_i: ComplexArray  # S*/Vn on constant-|I| elements (else 0)
    c_z: ComplexArray  # Yeq on constant-Z elements (else 0)
    exp_idx: IntArray  # exponential (CVR) elements: g = (P·v^cvr_p − jQ·v^cvr_q)/|vd|² on these
    simple: bool  # every element PQ, |I|, Z or exponential: ``injection``'s own formulas apply
    plain: bool  # only constant PQ and constant |I| (the single-solve path's shortest formula)


def port_loads(c: CompiledThreePhase, ports: IntArray) -> PortLoads:
    s = c.load_s_va[ports]
    vn = c.load_vnom_v[ports]
    model = c.load_model[ports]
    vmin, vmax = c.load_vmin[ports], c.load_vmax[ports]
    yeq = np.asarray(np.conj(s) / vn**2, dtype=np.complex128)
    is_pq = model == LOAD_MODEL_PQ
    is_z = (model == LOAD_MODEL_Z) | (model == LOAD_MODEL_EXP)  # no band rules on either
    i_low = yeq * VLOW_PU * vn
    i95 = np.where(is_pq, yeq * vn / vmin, yeq * vmin * vn)
    return PortLoads(
        load_s_va=s,
        load_vnom_v=vn,
        load_model=model,
        load_vmin=vmin,
        load_vmax=vmax,
        load_cvr_p=c.load_cvr_p[ports],
        load_cvr_q=c.load_cvr_q[ports],
        yeq=yeq,
        s_conj=np.conj(s),
        inv_vn=1.0 / vn,
        is_pq=is_pq,
        g_high=np.where(is_pq, yeq / vmax**2, yeq / vmax),
        i_low=i_low,
        slope=(i95 - i_low) / ((vmin - VLOW_PU) * vn),
        vlow_v=VLOW_PU * vn,
        vmin_v=np.where(is_z, 0.0, vmin * vn),
        vmax_v=np.where(is_z, np.inf, vmax * vn),
        a_pq=np.where(is_pq, np.conj(s), 0.0),
        b_i=np.where(model == LOAD_MODEL_I, np.conj(s) / vn, 0.0),
        c_z=np.where(model == LOAD_MODEL_Z, yeq, 0.0),
        exp_idx=np.flatnonzero(model == LOAD_MODEL_EXP).astype(np.int64),
        simple=bool(np.isin(model, (LOAD_MODEL_PQ, LOAD_MODEL_I, LOAD_MODEL_Z, LOAD_MODEL_EXP)).all()),
        plain=bool(np.isin(model, (LOAD_MODEL_PQ, LOAD_MODEL_I)).all()),
    )


def injection(ld: PortLoads, vd: ComplexArray, scale: FloatArray | None = None) -> ComplexArray:
    """``comp = Y_eq·vd − I_load(vd)`` per port (``vd``: ports, or ports × columns).

    PQ, |I| and Z elements draw ``I = scale·g·vd`` with one admittance per element: ``S*/|vd|²`` (PQ),
    ``S*/(Vn|vd|)`` (|I|), ``Yeq`` (Z), ``(P·v^a − jQ·v^b)/|vd|²`` (exponential) in the band, and
    ``load_currents``'s own rules outside it from the precomputed constants (every band's current is
    proportional to S, so a load scale multiplies ``g``).
    """
    if ld.plain and scale is None:
        mag = np.abs(vd)
        if vd.ndim == 1:
            if not (mag < ld.vmin_v).any():
                # above vmax PQ and |I| draw what the band formula gives at vmax (OpenDSS's Yeq105): clip
                inv = 1.0 / np.minimum(mag, ld.vmax_v)
                return np.asarray(vd * (ld.yeq - inv * (ld.a_pq * inv + ld.b_i)), dtype=np.complex128)
        elif not (mag < ld.vmin_v[:, None]).any():
            inv = 1.0 / np.minimum(mag, ld.vmax_v[:, None])
            g = inv * (ld.a_pq[:, None] * inv + ld.b_i[:, None])
            return np.asarray(vd * (ld.yeq[:, None] - g), dtype=np.complex128)
    if not ld.simple:
        return _injection_general(ld, vd, scale)
    col = vd.ndim == 2
    k: tuple[slice, None] | slice = (slice(None), None) if col else slice(None)
    mag = np.abs(vd)
    low = mag < ld.vmin_v[k]
    high = mag > ld.vmax_v[k]
    if not low.any() and not high.any():  # every element in its band (so |vd| > 0)
        inv = 1.0 / mag
        g = inv * (ld.a_pq[k] * inv + ld.b_i[k]) + ld.c_z[k]
    else:
        if not bool(mag.min(initial=1.0) > 0.0):
            return _injection_general(ld, vd, scale)
        inv = 1.0 / mag
        g = inv * (ld.a_pq[k] * inv + ld.b_i[k]) + ld.c_z[k]
        if high.any():
            g = np.where(high, ld.g_high[k], g)
        if low.any():
            vpu = mag * ld.inv_vn[k]
            g_low = np.where(
                vpu < VLOW_PU, ld.yeq[k], (ld.i_low[k] + ld.slope[k] * (mag - ld.vlow_v[k])) * inv
            )
            g = np.where(low, g_low, g)
    if len(ld.exp_idx):
        e = ld.exp_idx
        inv_e = inv[e]
        vpu = mag[e] * ld.inv_vn[e][k]
        s_e = ld.load_s_va[e][k]
        g_e = (
            (s_e.real * vpu ** ld.load_cvr_p[e][k] - 1j * s_e.imag * vpu ** ld.load_cvr_q[e][k])
            * inv_e
            * inv_e
        )
        g[e] = g_e
    if scale is not None:
        g = g * scale
    return np.asarray(vd * (ld.yeq[k] - g), dtype=np.complex128)


def _injection_general(ld: PortLoads, vd: ComplexArray, scale: FloatArray | None) -> ComplexArray:
    yeq = ld.yeq[:, None] if vd.ndim == 2 else ld.yeq
    return np.asarray(yeq * vd - load_currents(ld, vd, scale), dtype=np.complex128)


def lu_solve_many(lu: sla.SuperLU, rhs: ComplexArray, trans: str = "N") -> ComplexArray:
    """``lu.solve`` of many columns in one call, its BLAS held to one thread.

    SuperLU's multi-column solve goes through BLAS-3 on its supernodes; threaded BLAS on a radial
    feeder's tiny supernodes was 5-50x slower than one thread on a busy 2-core machine. Without
    ``threadpoolctl`` (an optional dependency) the columns are solved one by one.
    """
    if _blas_controller() is None:  # pragma: no cover - optional dependency
        cols = [lu.solve(np.ascontiguousarray(rhs[:, j]), trans=trans) for j in range(rhs.shape[1])]
        return np.column_stack(cols) if cols else np.zeros(rhs.shape, dtype=np.complex128)
    with single_thread_blas():
        return np.asarray(lu.solve(np.asfortranarray(rhs), trans=trans), dtype=np.complex128)


@contextlib.contextmanager
def single_thread_blas() -> Iterator[None]:
    """BLAS held to one thread: the batched products here are small (ports × outages), and threaded
    BLAS on them was 5-10x slower than one thread on a busy 2-core machine (no-op without threadpoolctl).
    """
    controller = _blas_controller()
    if controller is None:  # pragma: no cover - optional dependency
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        yield


@functools.cache
def _blas_controller() -> Any:
    """One ``threadpoolctl`` controller (finding the BLAS libraries scans the process: ~5 ms a time)."""
    try:
        from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - optional dependency
        return None
    return ThreadpoolController()


@dataclass(frozen=True, eq=False)
class PortSystem:
    """``Y⁻¹`` of one compiled feeder, as far as the load iteration needs it (see the module doc)."""

    compiled: CompiledThreePhase
    lu: sla.SuperLU  # of Y over the energized nodes
    live: npt.NDArray[np.bool_]
    ports: IntArray  # load element indices that inject
    pa: IntArray  # port ends (n = ground)
    pb: IntArray
    loads: PortLoads
    v0: ComplexArray  # (n,) no-injection voltages, dead nodes 0
    w: ComplexArray  # (n, p)
    z: ComplexArray  # (p, p)
    vd0: ComplexArray  # (p,)
    base: FloatArray  # per-unit base per node (1 where unknown)
    inv_base: FloatArray
    all_live: bool

    def solve_cols(self, rhs: ComplexArray) -> ComplexArray:
        """``Y⁻¹ rhs`` for node-space columns (n × k), dead rows zero."""
        out = np.zeros(rhs.shape, dtype=np.complex128)
        out[self.live] = lu_solve_many(self.lu, rhs[self.live])
        return out

    def at_ports(self, cols: ComplexArray) -> ComplexArray:
        """``C x`` for node-space vectors or columns: element voltage of every port."""
        ext = np.concatenate([cols, np.zeros((1, *cols.shape[1:]), dtype=np.complex128)])
        return np.asarray(ext[self.pa] - ext[self.pb], dtype=np.complex128)


def build_ports(
    c: CompiledThreePhase,
    lu: sla.SuperLU | None = None,
    *,
    yinv: ComplexArray | None = None,
    constant_z: bool = False,
) -> PortSystem | None:
    """Reduce ``c`` to its load ports; ``None`` when the dense ``W`` would pass ``MAX_DENSE_ENTRIES``.

    ``yinv``: the dense inverse (``(n+1) × (n+1)``, ground row and column zero) when the caller has it.
    ``constant_z``: constant-Z elements are ports too (a load scale makes them inject).
    """
    n = c.n_nodes
    live = c.energized
    live_ext = np.append(live, True)
    elem_live = live_ext[c.load_a] & live_ext[c.load_b]
    ports = np.flatnonzero(elem_live & ((c.load_model != LOAD_MODEL_Z) | constant_z)).astype(np.int64)
    if n * len(ports) > MAX_DENSE_ENTRIES:
        return None
    if lu is None:
        lu = sla.splu(sparse.csc_matrix(c.y if live.all() else c.y[live][:, live]))
    pa, pb = c.load_a[ports], c.load_b[ports]
    p = len(ports)
    ps = PortSystem(
        compiled=c,
        lu=lu,
        live=live,
        ports=ports,
        pa=pa,
        pb=pb,
        loads=port_loads(c, ports),
        v0=np.zeros(n, dtype=np.complex128),
        w=np.zeros((n, p), dtype=np.complex128),
        z=np.zeros((p, p), dtype=np.complex128),
        vd0=np.zeros(p, dtype=np.complex128),
        base=np.where(np.isfinite(c.node_base_v), c.node_base_v, 1.0),
        inv_base=1.0 / np.where(np.isfinite(c.node_base_v), c.node_base_v, 1.0),
        all_live=bool(live.all()),
    )
    if yinv is None:
        rhs = np.zeros((n + 1, p + 1), dtype=np.complex128)
        rhs[pa, np.arange(p)] += 1.0
        rhs[pb, np.arange(p)] -= 1.0
        rhs[:n, p] = c.i_source
        sol = ps.solve_cols(rhs[:n])
        ps.w[:] = sol[:, :p]
        ps.v0[:] = sol[:, p]
    else:  # columns of the inverse the caller already has (C is ±1 at the port ends)
        ps.w[:] = yinv[:n, pa] - yinv[:n, pb]
        ps.v0[:] = ps.solve_cols(c.i_source[:, None])[:, 0]
    ps.z[:] = ps.at_ports(ps.w)
    ps.vd0[:] = ps.at_ports(ps.v0)
    return ps


@dataclass(frozen=True, eq=False)
class TapBasis:
    """What a stamp change over ``nodes`` needs of the base system, computed once: ``G = Y⁻¹ P``, its rows
    at the nodes, ``C G``, and ``W`` and ``v₀`` at the nodes (only ``D`` changes from one change to the
    next)."""

    nodes: IntArray  # m node indices (repeats allowed)
    g: ComplexArray  # (n, m) = Y⁻¹ P
    gp: ComplexArray  # (m, m) = Pᵀ G
    cg: ComplexArray  # (p, m) = C G
    wp: ComplexArray  # (m, p) = W[P]
    vp0: ComplexArray  # (m,) = v₀[P]
    eye: npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class StampChange:
    """A low-rank change of Y over the basis's nodes (``Y' = Y + P D Pᵀ``) in Woodbury form."""

    basis: TapBasis
    m: ComplexArray  # (m, m) = (I + D Pᵀ G)⁻¹ D

    @property
    def nodes(self) -> IntArray:
        return self.basis.nodes

    @property
    def g(self) -> ComplexArray:
        return self.basis.g

    @property
    def cg(self) -> ComplexArray:
        return self.basis.cg


def tap_basis(ps: PortSystem, nodes: IntArray) -> TapBasis:
    """The basis for changes over ``nodes`` (one solve per node, once; reused for every change)."""
    rhs = np.zeros((ps.compiled.n_nodes, len(nodes)), dtype=np.complex128)
    rhs[nodes, np.arange(len(nodes))] = 1.0
    g = ps.solve_cols(rhs)
    return TapBasis(nodes, g, g[nodes], ps.at_ports(g), ps.w[nodes], ps.v0[nodes], np.eye(len(nodes)))


def stamp_change(basis: TapBasis, d: ComplexArray) -> StampChange:
    m = np.asarray(np.linalg.solve(basis.eye + d @ basis.gp, d), dtype=np.complex128)
    return StampChange(basis, m)


def solve_ports(
    ps: PortSystem,
    *,
    tol_pu: float = 1e-8,
    max_iter: int = 100,
    v0: ComplexArray | None = None,
    change: StampChange | None = None,
    compiled: CompiledThreePhase | None = None,
) -> ThreePhaseResult:
    """``solve_compiled`` on the port system (``change``: Y with a stamp change; ``compiled`` then names
    the compiled feeder the result belongs to, i.e. with the changed stamps)."""
    # BLAS held to one thread (~10 µs): on the busy 2-core machine threaded BLAS made these 76 × 76 and
    # 278 × 76 products 5-20x slower (a solve took 0.35 ms with one thread, 6 ms without, at load 38)
    with single_thread_blas():
        return _solve_ports(ps, tol_pu, max_iter, v0, change, compiled)


def _solve_ports(
    ps: PortSystem,
    tol_pu: float,
    max_iter: int,
    v0: ComplexArray | None,
    change: StampChange | None,
    compiled: CompiledThreePhase | None,
) -> ThreePhaseResult:
    z, vd0 = ps.z, ps.vd0
    if change is not None:
        cgm = change.cg @ change.m
        z = z - cgm @ change.basis.wp
        vd0 = vd0 - cgm @ change.basis.vp0

    def node_cols(cols: ComplexArray) -> ComplexArray:
        """``Y'⁻¹ Cᵀ cols`` for port-space columns: one product with ``W`` for all of them."""
        x = ps.w @ cols
        if change is not None:
            x = x - change.g @ (change.m @ x[change.nodes])
        return np.asarray(x, dtype=np.complex128)

    v0_nodes = ps.v0
    if change is not None:
        v0_nodes = ps.v0 - change.g @ (change.m @ change.basis.vp0)
    ld = ps.loads
    vd = vd0 if v0 is None else ps.at_ports(v0)
    comp_prev = np.zeros(len(ps.ports), dtype=np.complex128)
    pair = np.empty((len(ps.ports), 2), dtype=np.complex128)  # [comp, comp − comp_prev]
    converged = False
    delta = np.inf
    v: ComplexArray | None = None
    it = 0
    for it in range(1, max_iter + 1):
        comp = injection(ld, vd)
        vd_new = vd0 + z @ comp
        elem_delta = float(np.max(np.abs(vd_new - vd) * ld.inv_vn, initial=0.0))
        vd = vd_new
        if elem_delta < tol_pu or it == max_iter:
            # the node voltages and the node-voltage step of this iteration in one product
            pair[:, 0] = comp
            np.subtract(comp, comp_prev, out=pair[:, 1])
            x = node_cols(pair)
            v = v0_nodes + x[:, 0]
            step = v - v0 if it == 1 and v0 is not None else x[:, 1]
            delta = float(np.max(np.abs(step) * ps.inv_base))
            comp_prev = comp
            if delta < tol_pu:
                converged = True
                break
            v = None
            continue
        comp_prev = comp
    if v is None:  # pragma: no cover - only when max_iter ends between checks
        v = v0_nodes + node_cols(comp_prev[:, None])[:, 0]
    if not ps.all_live:
        v = v.copy()
        v[~ps.live] = 0.0
    return ThreePhaseResult(compiled or ps.compiled, v, converged, it, delta, ps.live)
