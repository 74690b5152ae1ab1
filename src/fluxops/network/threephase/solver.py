"""Three-phase power flow by current injection on the factorized nodal admittance matrix.

``Y_tot V = I_src + Cᵀ (Y_eq·C V − I_load(C V))``: ``Y_tot`` holds lines, transformers, capacitors, the
source's Norton admittance and every load's nominal admittance ``Y_eq``; ``C`` maps node voltages to the
voltage across each load phase element (wye: phase − neutral, delta: phase − next phase). ``Y_tot`` is
LU-factorized once (SuperLU) and each iteration is one vectorized load evaluation and two triangular
solves — OpenDSS's own "normal" fixed-point, so loads near nominal converge in a handful of iterations.

Load phase element current (``S`` = nominal VA of the phase, ``Vn`` its nominal voltage, ``v = |V|/Vn``):

* model 1, constant PQ: ``conj(S/V)`` for ``vmin ≤ v ≤ vmax``; above vmax the impedance that draws ``S``
  at vmax (OpenDSS's ``Yeq105``); below vmin the current magnitude runs linearly from the vmin current
  down to the nominal-impedance current at ``vlow`` = 0.5 (OpenDSS's ``InterpolateY95_YLow``), and is
  the nominal impedance below that;
* model 2, constant Z: ``conj(S)/Vn² · V``;
* model 4, exponential: ``P·v^cvr_watts + jQ·v^cvr_vars`` (CVR);
* model 5, constant |I|: ``conj(S)/Vn · V/|V|``; above vmax the impedance drawing that current at vmax;
  below vmin OpenDSS's interpolation from ``Yeq·vmin·Vn`` at vmin to ``Yeq·vlow·Vn`` at vlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse import linalg as sla

from fluxops.network.threephase.model import FeederModel
from fluxops.network.threephase.ybus import (
    LOAD_MODEL_EXP,
    LOAD_MODEL_I,
    LOAD_MODEL_PQ,
    CompiledThreePhase,
    compile_threephase,
)

ComplexArray = npt.NDArray[np.complex128]
FloatArray = npt.NDArray[np.float64]
VLOW_PU = 0.5  # OpenDSS's vlowpu: below it every load is its nominal impedance


@dataclass(frozen=True, eq=False)
class ThreePhaseResult:
    """Node voltages (complex volts and per unit of the bus's line-to-neutral base) and convergence."""

    compiled: CompiledThreePhase
    v: ComplexArray
    converged: bool
    iterations: int
    max_mismatch_pu: float  # last iteration's largest node voltage change, per unit
    energized: npt.NDArray[np.bool_]  # nodes connected to the source (others are at 0 V)

    @property
    def v_pu(self) -> ComplexArray:
        out: ComplexArray = self.v / self.compiled.node_base_v
        return out

    def voltages_pu(self) -> dict[str, complex]:
        """``{"bus.k": complex pu}``."""
        return dict(zip(self.compiled.node_names, self.v_pu.tolist(), strict=True))

    def branch_currents(self) -> dict[str, ComplexArray]:
        """Current into each conductor of each line/transformer (A), terminal 1 then terminal 2."""
        return {br.name: self.branch_current(br.name) for br in self.compiled.branches}

    def branch_current(self, name: str) -> ComplexArray:
        """Current into each conductor of one branch (``"Line.x"`` / ``"Transformer.x"``), in A."""
        br = self.compiled.branch_by_name[name]
        vext = np.append(self.v, 0.0)
        idx = np.where(br.idx >= 0, br.idx, len(self.v))
        out: ComplexArray = br.yprim @ vext[idx]
        return out


class LoadArrays(Protocol):
    """Per-element load constants (a compiled feeder's, or the subset a port system iterates on)."""

    @property
    def load_s_va(self) -> ComplexArray: ...
    @property
    def load_vnom_v(self) -> FloatArray: ...
    @property
    def load_model(self) -> npt.NDArray[np.int64]: ...
    @property
    def load_vmin(self) -> FloatArray: ...
    @property
    def load_vmax(self) -> FloatArray: ...
    @property
    def load_cvr_p(self) -> FloatArray: ...
    @property
    def load_cvr_q(self) -> FloatArray: ...


def load_currents(c: LoadArrays, vd: ComplexArray, scale: FloatArray | None = None) -> ComplexArray:
    """Current drawn by each load phase element at element voltage ``vd`` (vectorized over elements).

    ``vd`` is ``(elements,)`` or ``(elements, scenarios)``; ``scale`` multiplies each element's nominal
    power (same shape as ``vd`` or broadcastable), for load scenarios on one compiled feeder.
    """

    def col(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return a[:, None] if vd.ndim == 2 else a

    s = col(c.load_s_va) * (1.0 if scale is None else scale)
    vn = col(c.load_vnom_v)
    m = col(c.load_model)
    vmag = np.abs(vd)
    vpu = vmag / vn
    yeq = np.conj(s) / vn**2
    safe = np.where(vmag > 0, vd, vn)
    out = yeq * vd  # model 2, constant Z; the others overwrite their elements
    is_pq = m == LOAD_MODEL_PQ
    is_i = m == LOAD_MODEL_I
    is_exp = m == LOAD_MODEL_EXP
    if is_pq.any():
        out = np.where(is_pq, np.conj(s / safe), out)
    if is_i.any():
        out = np.where(is_i, np.conj(s) / vn * safe / np.abs(safe), out)
    if is_exp.any():
        vpu_safe = np.where(vpu > 0, vpu, 1.0)
        s_exp = s.real * vpu_safe ** col(c.load_cvr_p) + 1j * s.imag * vpu_safe ** col(c.load_cvr_q)
        out = np.where(is_exp, np.conj(s_exp / safe), out)
    vmin = col(c.load_vmin)
    vmax = col(c.load_vmax)
    low = (vpu < vmin) & (is_pq | is_i)
    if low.any():
        # below vmin: OpenDSS interpolates the current magnitude linearly between vlow (constant Z,
        # Yeq) and vmin (the model's own current there); below vlow it is Yeq
        vlow_v = VLOW_PU * vn
        v95 = vmin * vn
        i_low = yeq * vlow_v
        vmag_safe = np.where(vmag > 0, vmag, 1.0)
        i95 = np.where(is_pq, yeq / vmin**2 * v95, yeq * v95)
        y_int = (i_low + (i95 - i_low) / (v95 - vlow_v) * (vmag - vlow_v)) / vmag_safe
        out = np.where(low, np.where(vpu < VLOW_PU, yeq * vd, y_int * vd), out)
    high = (vpu > vmax) & (is_pq | is_i)
    if high.any():
        out = np.where(high, np.where(is_pq, yeq / vmax**2, yeq / vmax) * vd, out)
    return np.asarray(out, dtype=np.complex128)


def solve_compiled(
    c: CompiledThreePhase,
    *,
    tol_pu: float = 1e-8,
    max_iter: int = 100,
    v0: ComplexArray | None = None,
    lu: sla.SuperLU | None = None,
    load_scale: float | FloatArray | None = None,
) -> ThreePhaseResult:
    """Fixed-point current injection on a compiled feeder; ``v0`` warm-starts (e.g. after a tap move).

    ``load_scale`` (scalar or per load phase element) multiplies the loads' power without touching Y
    (which keeps the compiled nominal admittance, so ``lu`` can be reused across load levels). Change
    load power this way, never by replacing ``load_s_va`` of a compiled feeder.
    """
    n = c.n_nodes
    live = c.energized
    all_live = bool(live.all())
    if lu is None:
        y = c.y if all_live else c.y[live][:, live]
        lu = sla.splu(sparse.csc_matrix(y))
    cmat, cmat_t = c.load_incidence
    live_ext = np.append(live, True)
    elem_live = live_ext[c.load_a] & live_ext[c.load_b]
    yeq = c.load_yeq
    base = np.where(np.isfinite(c.node_base_v), c.node_base_v, 1.0)

    def lin_solve(rhs: ComplexArray) -> ComplexArray:
        if all_live:
            return np.asarray(lu.solve(rhs), dtype=np.complex128)
        out = np.zeros(n, dtype=np.complex128)
        out[live] = lu.solve(rhs[live])
        return out

    scale = None if load_scale is None else np.asarray(load_scale, dtype=np.float64)
    v = lin_solve(c.i_source) if v0 is None else v0.copy()
    converged = False
    delta = np.inf
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - iteration count is reported
        vd = cmat @ np.append(v, 0.0)
        comp = np.where(elem_live, yeq * vd - load_currents(c, vd, scale), 0.0)
        v_new = lin_solve(c.i_source + cmat_t @ comp)
        delta = float(np.max(np.abs(v_new - v) / base))
        v = v_new
        if delta < tol_pu:
            converged = True
            break
    return ThreePhaseResult(c, v, converged, it, delta, live)


def solve_threephase(model: FeederModel, *, tol_pu: float = 1e-8, max_iter: int = 100) -> ThreePhaseResult:
    """Compile and solve a feeder at its transformers' present taps (no regulator control).

    ``tol_pu`` bounds the last iteration's node-voltage change (OpenDSS's default is 1e-4).
    """
    return solve_compiled(compile_threephase(model), tol_pu=tol_pu, max_iter=max_iter)


@dataclass(frozen=True, eq=False)
class ScenarioResult:
    """Node voltages of many load scenarios solved together: ``v[k]`` is scenario k (complex volts)."""

    compiled: CompiledThreePhase
    v: npt.NDArray[np.complex128]  # (scenarios, nodes)
    converged: npt.NDArray[np.bool_]
    iterations: int

    @property
    def v_pu(self) -> npt.NDArray[np.complex128]:
        out: npt.NDArray[np.complex128] = self.v / self.compiled.node_base_v
        return out


def solve_scenarios(
    c: CompiledThreePhase,
    load_scale: FloatArray,
    *,
    tol_pu: float = 1e-8,
    max_iter: int = 100,
    lu: sla.SuperLU | None = None,
) -> ScenarioResult:
    """Solve K load scenarios at once on one factorization (the batched form of ``solve_compiled``).

    ``load_scale``: ``(K,)`` one multiplier per scenario, or ``(K, elements)`` per load phase element
    (``c.load_owner`` maps elements to ``model.loads``). ``Y`` keeps the nominal load admittance; the
    iteration injects each scenario's difference, so the fixed point is exact for any scaling and every
    iteration is one ``(elements × K)`` load evaluation and one multi-right-hand-side LU solve.
    """
    from fluxops.network.threephase.scenario_ports import solve_scenarios_ports

    scale = np.asarray(load_scale, dtype=np.float64)
    on_ports = solve_scenarios_ports(c, scale, tol_pu=tol_pu, max_iter=max_iter, lu=lu)
    if on_ports is not None:  # feeders small enough for the dense port matrices
        return ScenarioResult(c, *on_ports)
    n = c.n_nodes
    k = scale.shape[0]
    scale_ek = np.broadcast_to(scale[:, None], (k, len(c.load_a))).T if scale.ndim == 1 else scale.T
    live = c.energized
    if lu is None:
        lu = sla.splu(sparse.csc_matrix(c.y if live.all() else c.y[live][:, live]))
    cmat, cmat_t = c.load_incidence
    live_ext = np.append(live, True)
    elem_live = (live_ext[c.load_a] & live_ext[c.load_b])[:, None]
    yeq = c.load_yeq[:, None]
    base = np.where(np.isfinite(c.node_base_v), c.node_base_v, 1.0)[:, None]

    def lin_solve(rhs: npt.NDArray[np.complex128]) -> npt.NDArray[np.complex128]:
        out = np.zeros((n, k), dtype=np.complex128)
        sub = np.asfortranarray(rhs[live])
        # column by column: SuperLU's multi-right-hand-side path goes through threaded BLAS and was
        # 5-100x slower than the loop on a busy machine
        out[live] = np.column_stack([lu.solve(sub[:, j]) for j in range(k)])
        return out

    i_src = np.repeat(c.i_source[:, None], k, axis=1)
    v = lin_solve(i_src)
    delta = np.full(k, np.inf)
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - iteration count is reported
        vd = cmat @ np.vstack([v, np.zeros((1, k))])
        comp = np.where(elem_live, yeq * vd - load_currents(c, vd, scale_ek), 0.0)
        v_new = lin_solve(i_src + cmat_t @ comp)
        delta = np.max(np.abs(v_new - v) / base, axis=0)
        v = v_new
        if bool(np.all(delta < tol_pu)):
            break
    return ScenarioResult(c, np.ascontiguousarray(v.T), np.asarray(delta < tol_pu), it)
