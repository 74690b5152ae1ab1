"""Three-phase power flow by current injection on the factorized nodal admittance matrix.

``Y_tot V = I_src + Cᵀ (Y_eq·C V − I_load(C V))``: ``Y_tot`` holds lines, transformers, capacitors, the
source's Norton admittance and every load's nominal admittance ``Y_eq``; ``C`` maps node voltages to the
voltage across each load phase element (wye: phase − neutral, delta: phase − next phase). ``Y_tot`` is
LU-factorized once (SuperLU) and each iteration is one vectorized load evaluation and two triangular
solves — OpenDSS's own "normal" fixed-point, so loads near nominal converge in a handful of iterations.

Load phase element current (``S`` = nominal VA of the phase, ``Vn`` its nominal voltage, ``v = |V|/Vn``):

* model 1, constant PQ: ``conj(S/V)`` for ``vmin ≤ v ≤ vmax``, else the impedance that draws ``S`` at the
  violated limit (OpenDSS's ``Yeq95``/``Yeq105``);
* model 2, constant Z: ``conj(S)/Vn² · V``;
* model 4, exponential: ``P·v^cvr_watts + jQ·v^cvr_vars`` (CVR);
* model 5, constant |I|: ``conj(S)/Vn · V/|V|`` (same limits as model 1, continuous at them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse import linalg as sla

from fluxops.network.threephase.model import FeederModel
from fluxops.network.threephase.ybus import (
    LOAD_MODEL_EXP,
    LOAD_MODEL_I,
    LOAD_MODEL_Z,
    CompiledThreePhase,
    compile_threephase,
)

ComplexArray = npt.NDArray[np.complex128]
FloatArray = npt.NDArray[np.float64]


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


def load_currents(c: CompiledThreePhase, vd: ComplexArray) -> ComplexArray:
    """Current drawn by each load phase element at element voltage ``vd`` (vectorized over elements)."""
    s = c.load_s_va
    vn = c.load_vnom_v
    vmag = np.abs(vd)
    vpu = vmag / vn
    yeq = np.conj(s) / vn**2
    safe = np.where(vmag > 0, vd, vn)
    i_pq = np.conj(s / safe)
    low = vpu < c.load_vmin
    high = vpu > c.load_vmax
    i_pq = np.where(low, yeq / c.load_vmin**2 * vd, i_pq)
    i_pq = np.where(high, yeq / c.load_vmax**2 * vd, i_pq)
    i_z = yeq * vd
    vpu_safe = np.where(vpu > 0, vpu, 1.0)
    s_exp = s.real * vpu_safe**c.load_cvr_p + 1j * s.imag * vpu_safe**c.load_cvr_q
    i_exp = np.conj(s_exp / safe)
    i_i = np.conj(s) / vn * safe / np.abs(safe)
    i_i = np.where(low, yeq / c.load_vmin * vd, i_i)
    i_i = np.where(high, yeq / c.load_vmax * vd, i_i)
    m = c.load_model
    out = np.where(m == LOAD_MODEL_Z, i_z, i_pq)
    out = np.where(m == LOAD_MODEL_EXP, i_exp, out)
    out = np.where(m == LOAD_MODEL_I, i_i, out)
    return np.asarray(out, dtype=np.complex128)


def solve_compiled(
    c: CompiledThreePhase,
    *,
    tol_pu: float = 1e-9,
    max_iter: int = 100,
    v0: ComplexArray | None = None,
    lu: sla.SuperLU | None = None,
) -> ThreePhaseResult:
    """Fixed-point current injection on a compiled feeder; ``v0`` warm-starts (e.g. after a tap move)."""
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

    v = lin_solve(c.i_source) if v0 is None else v0.copy()
    converged = False
    delta = np.inf
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - iteration count is reported
        vd = cmat @ np.append(v, 0.0)
        comp = np.where(elem_live, yeq * vd - load_currents(c, vd), 0.0)
        v_new = lin_solve(c.i_source + cmat_t @ comp)
        delta = float(np.max(np.abs(v_new - v) / base))
        v = v_new
        if delta < tol_pu:
            converged = True
            break
    return ThreePhaseResult(c, v, converged, it, delta, live)


def solve_threephase(model: FeederModel, *, tol_pu: float = 1e-9, max_iter: int = 100) -> ThreePhaseResult:
    """Compile and solve a feeder at its transformers' present taps (no regulator control).

    ``tol_pu`` bounds the last iteration's node-voltage change (OpenDSS's default is 1e-4).
    """
    return solve_compiled(compile_threephase(model), tol_pu=tol_pu, max_iter=max_iter)
