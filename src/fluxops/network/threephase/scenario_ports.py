"""Many load scenarios solved together on the load ports of one compiled feeder (``solve_scenarios``).

A load scale makes every element inject (constant Z included: Y holds its nominal admittance), so all
energized elements are ports. Each iteration is one load evaluation over ports × scenarios and one
``Z @ comp`` product (ports × ports by ports × scenarios); node voltages and the node-voltage step are
formed together, with one product with ``W``, only when every scenario's port voltages have settled.
Same start (no-load voltages), same iterates and stopping test as the sparse path.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.sparse import linalg as sla

from fluxops.network.threephase.ports import build_ports, injection, single_thread_blas
from fluxops.network.threephase.ybus import CompiledThreePhase

ComplexArray = npt.NDArray[np.complex128]


def solve_scenarios_ports(
    c: CompiledThreePhase,
    scale: npt.NDArray[np.float64],
    *,
    tol_pu: float,
    max_iter: int,
    lu: sla.SuperLU | None,
) -> tuple[ComplexArray, npt.NDArray[np.bool_], int] | None:
    """``(v (K, n), converged (K,), iterations)`` or ``None`` when the port matrices would be too large."""
    ps = build_ports(c, lu, constant_z=True)
    if ps is None:
        return None
    k = scale.shape[0]
    scale_pk = (
        np.broadcast_to(scale[None, :], (len(ps.ports), k)) if scale.ndim == 1 else scale[:, ps.ports].T
    )
    ld = ps.loads
    vd0 = ps.vd0[:, None]
    vd = np.repeat(vd0, k, axis=1)
    comp_prev = np.zeros_like(vd)
    delta = np.full(k, np.inf)
    v = np.repeat(ps.v0[:, None], k, axis=1)
    it = 0
    with single_thread_blas():
        for it in range(1, max_iter + 1):
            comp = injection(ld, vd, scale_pk)
            vd_new = vd0 + ps.z @ comp
            elem = np.max(np.abs(vd_new - vd) * ld.inv_vn[:, None], axis=0, initial=0.0)
            vd = vd_new
            if bool(np.all(elem < tol_pu)) or it == max_iter:
                both = ps.w @ np.concatenate([comp, comp - comp_prev], axis=1)
                v = ps.v0[:, None] + both[:, :k]
                delta = np.max(np.abs(both[:, k:]) / ps.base[:, None], axis=0)
                comp_prev = comp
                if bool(np.all(delta < tol_pu)):
                    break
                continue
            comp_prev = comp
    v[~ps.live] = 0.0
    return np.ascontiguousarray(v.T), np.asarray(delta < tol_pu), it
