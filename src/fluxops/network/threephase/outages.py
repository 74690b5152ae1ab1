"""Many branch outages solved together on the base case's one factorization (N-1 studies).

Taking branch ``b`` out changes Y by its primitive only: ``Y' = Y − P S Pᵀ`` (``S`` the m×m primitive
over its m ≤ 6 live conductors, ``P`` their node columns). With ``Z = Y⁻¹P`` (m columns of the base
case's inverse, shared by every outage touching those nodes) the push-through form of Woodbury's
identity gives ``Y'⁻¹ r = x + Z (I − S Pᵀ Z)⁻¹ S Pᵀ x`` with ``x = Y⁻¹ r``: no ``S⁻¹`` (a series-only
primitive is singular), no refactorization. Every outage then iterates the same current-injection fixed
point as ``solve_compiled``, all of them at once: one load evaluation over elements × outages and one
base-LU solve per outage column per iteration, plus a batched rank-m correction.

An outage that islands part of the feeder leaves ``Y'`` block diagonal; the island's block gets a zero
right-hand side (its loads are masked as in ``solve_compiled``), so its voltages are exactly zero and are
set so. Islands come from the connectivity of ``Y'``'s pattern, found on the base pattern with the
entries the outage cancels exactly removed (as ``restamp`` + ``energized`` would find them). An outage
whose update is numerically singular (an island with no path to ground) falls back to
``restamp`` + ``solve_compiled``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse import linalg as sla

from fluxops.network.threephase.islands import ExactIslands
from fluxops.network.threephase.outage_ports import solve_outages_ports
from fluxops.network.threephase.solver import load_currents, solve_compiled
from fluxops.network.threephase.ybus import CompiledThreePhase, restamp

ComplexArray = npt.NDArray[np.complex128]
_REFINE = 1  # refinement steps per solve (a second one gains nothing: the rest is conditioning)
_REFINE_BELOW_PU = 1e-5  # refine once the last step was this small (earlier steps are far larger)
_COND_MAX = 1e12  # capacitance matrices worse than this are solved by refactorization instead


@dataclass(frozen=True, eq=False)
class OutageResult:
    """Node voltages per outage: ``v[k]`` (complex volts, dead nodes 0) for ``names[k]`` taken out."""

    compiled: CompiledThreePhase  # the base case
    names: tuple[str, ...]
    v: ComplexArray  # (outages, nodes)
    energized: npt.NDArray[np.bool_]  # (outages, nodes)
    converged: npt.NDArray[np.bool_]
    iterations: int


def solve_outages(
    c: CompiledThreePhase,
    names: list[str],
    *,
    tol_pu: float = 1e-7,
    max_iter: int = 100,
    lu: sla.SuperLU | None = None,
) -> OutageResult:
    """Solve the base case ``c`` with each of ``names`` (``"Line.x"``) taken out in turn, all at once.

    ``tol_pu`` defaults to 1e-7, not ``solve_compiled``'s 1e-8: the stiff source makes Y's condition
    number ~1e13 (IEEE 123), so two exact solvers (this update, a fresh LU of the outaged Y) already
    differ by ~1e-8 pu and an iteration asked for 1e-8 can circle at that round-off instead of stopping.
    Feeders small enough for a dense ``Y⁻¹`` iterate on the load ports (``outage_ports``); larger ones on
    the sparse LU, one triangular solve pair per outage and iteration.
    """
    if not c.energized.all():
        raise ValueError("solve_outages needs a fully energized base case")
    if not names:
        n = c.n_nodes
        return OutageResult(
            c, (), np.zeros((0, n), np.complex128), np.zeros((0, n), np.bool_), np.zeros(0, np.bool_), 0
        )
    out = solve_outages_ports(c, names, tol_pu=tol_pu, max_iter=max_iter, lu=lu)
    if out is None:
        return _solve_outages_lu(c, names, tol_pu=tol_pu, max_iter=max_iter, lu=lu)
    v, live, converged, iterations = out
    return OutageResult(c, tuple(names), v, live, converged, iterations)


def _solve_outages_lu(
    c: CompiledThreePhase,
    names: list[str],
    *,
    tol_pu: float,
    max_iter: int,
    lu: sla.SuperLU | None,
) -> OutageResult:
    """``solve_outages`` on the sparse LU (feeders too large for the dense port matrices)."""
    n, k = c.n_nodes, len(names)
    lu = lu or sla.splu(sparse.csc_matrix(c.y))
    prims = [c.branch_by_name[name] for name in names]
    m_max = max(int((b.idx >= 0).sum()) for b in prims)
    need = np.unique(np.concatenate([b.idx[b.idx >= 0] for b in prims]))
    eye = np.zeros(n, dtype=np.complex128)
    zcols = {}
    for node in need.tolist():  # the base inverse's columns at the outaged branches' nodes
        eye[node] = 1.0
        zcols[node] = lu.solve(eye)
        eye[node] = 0.0
    # per outage, padded to m_max: node index (n = ghost), Z (n+1 × m), M = (I − S Zp)⁻¹ S
    ii_all = np.full((k, m_max), n, dtype=np.int64)
    z_all = np.zeros((k, n + 1, m_max), dtype=np.complex128)
    m_all = np.zeros((k, m_max, m_max), dtype=np.complex128)
    s_all = np.zeros((k, m_max, m_max), dtype=np.complex128)
    live = np.ones((k, n), dtype=np.bool_)
    fallback: dict[int, str] = {}
    islands = ExactIslands(c)
    for j, b in enumerate(prims):
        keep = b.idx >= 0
        ii = b.idx[keep]
        s = b.yprim[np.ix_(keep, keep)]
        m = len(ii)
        z = np.column_stack([zcols[int(a)] for a in ii])
        cap = np.eye(m) - s @ z[ii]
        if np.linalg.cond(cap) > _COND_MAX:
            fallback[j] = names[j]
            continue
        ii_all[j, :m] = ii
        z_all[j, :n, :m] = z
        m_all[j, :m, :m] = np.linalg.solve(cap, s)
        s_all[j, :m, :m] = s
        live[j] = islands.live(ii, s)
    v = _iterate(c, lu, ii_all, z_all, (m_all, s_all), live, tol_pu, max_iter)
    converged, iterations = v[1], v[2]
    vv = v[0]
    for j, name in fallback.items():
        res = solve_compiled(restamp(c, name, None), tol_pu=tol_pu, max_iter=max_iter)
        vv[j], live[j], converged[j] = res.v, res.energized, res.converged
    return OutageResult(c, tuple(names), vv, live, converged, iterations)


def _iterate(
    c: CompiledThreePhase,
    lu: sla.SuperLU,
    ii_all: npt.NDArray[np.int64],
    z_all: ComplexArray,
    m_s: tuple[ComplexArray, ComplexArray],
    live: npt.NDArray[np.bool_],
    tol_pu: float,
    max_iter: int,
) -> tuple[ComplexArray, npt.NDArray[np.bool_], int]:
    """The fixed point of ``solve_compiled`` for every outage column at once (rows: outages)."""
    n = c.n_nodes
    k = live.shape[0]
    rows = np.arange(k)[:, None]

    m_all, s_all = m_s
    ycsr = sparse.csr_matrix(c.y)

    def woodbury(rhs: ComplexArray) -> ComplexArray:
        x = np.zeros((k, n + 1), dtype=np.complex128)
        for j in range(k):
            x[j, :n] = lu.solve(rhs[j])
        corr = np.einsum("kab,kb->ka", m_all, x[rows, ii_all])
        x += np.einsum("knm,km->kn", z_all, corr)
        return x

    def lin_solve(rhs: ComplexArray, refine: bool) -> ComplexArray:
        # iterative refinement once the iteration is close (it doubles the solves): the update alone
        # leaves ~3e-6 pu of round-off on Y's ~1e13 condition number, one refinement step ~1e-8
        x = woodbury(rhs)
        for _ in range(_REFINE if refine else 0):
            x[:, :n][~live] = 0.0  # island voltages are exactly zero; their noise must not leak back
            ax = np.zeros((k, n + 1), dtype=np.complex128)
            ax[:, :n] = (ycsr @ x[:, :n].T).T
            ax[rows, ii_all] -= np.einsum("kab,kb->ka", s_all, x[rows, ii_all])
            x += woodbury(rhs - ax[:, :n])
        out = x[:, :n]
        out[~live] = 0.0
        return out

    live_ext = np.concatenate([live, np.ones((k, 1), dtype=np.bool_)], axis=1)
    elem_live = (live_ext[:, c.load_a] & live_ext[:, c.load_b]).T  # (elements, outages)
    yeq = c.load_yeq[:, None]
    base = np.where(np.isfinite(c.node_base_v), c.node_base_v, 1.0)
    i_src = np.where(live, c.i_source[None, :], 0.0)
    cmat, cmat_t = c.load_incidence
    v = lin_solve(i_src, False)
    delta = np.full(k, np.inf)
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - iteration count is reported
        vd = cmat @ np.concatenate([v, np.zeros((k, 1))], axis=1).T
        comp = np.where(elem_live, yeq * vd - load_currents(c, vd), 0.0)
        v_new = lin_solve(i_src + (cmat_t @ comp).T, bool(np.max(delta) < _REFINE_BELOW_PU))
        delta = np.max(np.abs(v_new - v) / base, axis=1)
        v = v_new
        if bool(np.all(delta < tol_pu)):
            break
    return np.ascontiguousarray(v), np.asarray(delta < tol_pu), it
