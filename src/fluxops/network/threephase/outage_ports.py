"""Many branch outages iterated together on the load ports of the base case (``ports``, ``outages``).

Taking branch ``b`` out is ``Y' = Y − P S Pᵀ`` over its m ≤ 6 nodes; with ``G = Y⁻¹ P`` (m columns of the
base case's dense inverse) and ``M = (I − S G[P])⁻¹ S`` the push-through Woodbury form gives
``Y'⁻¹ r = x + G M x[P]``, ``x = Y⁻¹ r``. On the ports (``x = v₀ + W comp``):

    ``vd = vd₀ + Z comp + (C G) M (v₀[P] + W[P] comp)``

so every iteration of every outage is a p-element load evaluation plus, for the whole batch, one
``Z @ comp`` (ports × outages) and two batched products of width m — no triangular solve per outage.
Node voltages are formed once at the end. Dead ports (islanded loads) inject nothing, so an island's
block gets a zero right-hand side and its voltages are exactly zero; islands come from
``islands.tree_islands``. The base case's inverse (n solves, one multi-column call) and ports are built
here, inside the timed batch.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse import linalg as sla

from fluxops.network.threephase.islands import tree_islands
from fluxops.network.threephase.ports import (
    MAX_DENSE_ENTRIES,
    PortSystem,
    build_ports,
    injection,
    lu_solve_many,
    single_thread_blas,
)
from fluxops.network.threephase.solver import solve_compiled
from fluxops.network.threephase.ybus import CompiledThreePhase, restamp

ComplexArray = npt.NDArray[np.complex128]
BoolArray = npt.NDArray[np.bool_]
_COND_MAX = 1e12  # capacitance matrices worse than this are solved by refactorization instead
_POLISH_BELOW_PU = 1e-6  # tolerances this tight end with one residual-correction step on the sparse Y


def solve_outages_ports(
    c: CompiledThreePhase,
    names: list[str],
    *,
    tol_pu: float,
    max_iter: int,
    lu: sla.SuperLU | None,
) -> tuple[ComplexArray, BoolArray, BoolArray, int] | None:
    """``(v, energized, converged, iterations)`` per outage, or ``None`` when ``c`` is too large."""
    if c.n_nodes**2 > MAX_DENSE_ENTRIES:
        return None
    with single_thread_blas():
        return _solve_batch(c, names, tol_pu=tol_pu, max_iter=max_iter, lu=lu)


def _solve_batch(
    c: CompiledThreePhase,
    names: list[str],
    *,
    tol_pu: float,
    max_iter: int,
    lu: sla.SuperLU | None,
) -> tuple[ComplexArray, BoolArray, BoolArray, int] | None:
    n = c.n_nodes
    lu = lu or sla.splu(sparse.csc_matrix(c.y))
    # the inverse's transpose, so that Y⁻¹'s columns (what every update needs) are contiguous rows
    yinv_t = np.zeros((n + 1, n + 1), dtype=np.complex128)  # row and column n: ground / padding
    # (SuperLU's transposed multi-column solve was ~4x slower than solving and transposing the copy)
    yinv_t[:n, :n] = lu_solve_many(lu, np.eye(n, dtype=np.complex128, order="F")).T
    ps = build_ports(c, lu, yinv=yinv_t.T)
    if ps is None:  # pragma: no cover - n² bounds n × ports
        return None
    ii_all, s_all = _outage_stamps(c, names)
    live = tree_islands(c, ii_all, s_all)
    d_all = _island_grounded(ii_all, s_all, live)
    m_max = ii_all.shape[1]
    cap = np.eye(m_max) + d_all @ yinv_t[ii_all[:, None, :], ii_all[:, :, None]]
    inv = np.linalg.inv(cap)
    cond1 = np.abs(cap).sum(axis=1).max(axis=1) * np.abs(inv).sum(axis=1).max(axis=1)
    bad = ~np.isfinite(cond1) | (cond1 > _COND_MAX)
    m_all = -(inv @ d_all)  # Y'⁻¹ r = x + G M x[P]
    m_all[bad] = 0.0
    g = yinv_t[ii_all]  # (K, m, n+1) = (Y⁻¹ P)ᵀ, ground column 0
    v, converged, iterations = _iterate(ps, g, ii_all, m_all, live, tol_pu, max_iter)
    if tol_pu < _POLISH_BELOW_PU:
        v = _polish(ps, g, ii_all, (d_all, m_all), live, v)
    for j in np.flatnonzero(bad).tolist():  # numerically singular updates: refactorize those
        res = solve_compiled(restamp(c, names[j], None), tol_pu=tol_pu, max_iter=max_iter)
        v[j], live[j], converged[j] = res.v, res.energized, res.converged
    return v, live, converged, iterations


def _outage_stamps(c: CompiledThreePhase, names: list[str]) -> tuple[npt.NDArray[np.int64], ComplexArray]:
    """Each outage's live node indices (padded with n) and primitive over them (padded with zeros),
    stacked per conductor count (one copy per group, not per branch)."""
    n, k = c.n_nodes, len(names)
    prims = [c.branch_by_name[name] for name in names]
    m_max = max(int((b.idx >= 0).sum()) for b in prims)
    ii_all = np.full((k, m_max), n, dtype=np.int64)
    s_all = np.zeros((k, m_max, m_max), dtype=np.complex128)
    groups: dict[int, list[int]] = {}
    for j, b in enumerate(prims):
        groups.setdefault(len(b.idx), []).append(j)
    for size, members in groups.items():
        idx = np.stack([prims[j].idx for j in members])
        yp = np.stack([prims[j].yprim for j in members])
        if size <= m_max and bool((idx >= 0).all()):
            ii_all[members, :size] = idx
            s_all[members, :size, :size] = yp
            continue
        for row, j in enumerate(members):  # a conductor on ground: drop it from this one
            keep = np.flatnonzero(idx[row] >= 0)
            ii_all[j, : len(keep)] = idx[row, keep]
            s_all[j, : len(keep), : len(keep)] = yp[row][keep[:, None], keep[None, :]]
    return ii_all, s_all


def _island_grounded(ii_all: npt.NDArray[np.int64], s_all: ComplexArray, live: BoolArray) -> ComplexArray:
    """``D = −S`` plus a ground admittance at the outaged branch's islanded terminal nodes.

    An island is disconnected from the rest in ``Y'`` and gets a zero right-hand side, so its voltages are
    zero whatever admittance to ground it has; grounding it at the branch's own nodes (inside ``P``, the
    rank stays m) keeps ``Y'`` regular for a floating island and the capacitance matrix well conditioned
    (an island held only by its loads' admittance made it ~1e6 and cost ~1e-5 pu of round-off).
    """
    k, m = ii_all.shape
    live_ext = np.concatenate([live, np.ones((k, 1), dtype=np.bool_)], axis=1)
    dead = ~live_ext[np.arange(k)[:, None], ii_all]  # padded entries (index n) count as live
    scale = np.abs(s_all).max(axis=(1, 2), initial=0.0)
    d = -s_all.copy()
    diag = np.arange(m)
    d[:, diag, diag] += np.where(dead, scale[:, None], 0.0)
    return d


def _iterate(
    ps: PortSystem,
    g: ComplexArray,
    ii_all: npt.NDArray[np.int64],
    m_all: ComplexArray,
    live: BoolArray,
    tol_pu: float,
    max_iter: int,
) -> tuple[ComplexArray, BoolArray, int]:
    """The port fixed point of every outage at once (rows: outages; ``g``: (K, m, n+1) = (Y⁻¹ P)ᵀ)."""
    n = ps.compiled.n_nodes
    k = live.shape[0]
    p = len(ps.ports)
    ld = ps.loads
    rows = np.arange(k)[:, None]
    w_ext = np.concatenate([ps.w, np.zeros((1, p), dtype=np.complex128)])
    u = w_ext[ii_all]  # (K, m, p) = W[P]
    cg = g[:, :, ps.pa] - g[:, :, ps.pb]  # (K, m, p) = (C G)ᵀ
    wt = np.ascontiguousarray(ps.w.T)
    zt = np.ascontiguousarray(ps.z.T)
    vp0 = np.append(ps.v0, 0.0)[ii_all]  # (K, m)
    live_ext = np.concatenate([live, np.ones((k, 1), dtype=np.bool_)], axis=1)
    port_live = live_ext[:, ps.pa] & live_ext[:, ps.pb]  # (K, p)
    vd0 = ps.vd0[None, :] + _rows(m_all @ vp0[:, :, None], cg)
    safe_v = np.broadcast_to(ld.load_vnom_v[None, :].astype(np.complex128), port_live.shape)
    # each outage starts from its own no-load voltages, as ``solve_compiled`` does (starting from the
    # base case's solution took one iteration more: an islanded lateral moves the rest of the feeder)
    vd = vd0
    comp_prev = np.zeros((k, p), dtype=np.complex128)
    delta = np.full(k, np.inf)
    it = 0
    for it in range(1, max_iter + 1):
        comp = np.where(port_live, injection(ld, np.where(port_live, vd, safe_v).T).T, 0.0)
        vd_new = vd0 + comp @ zt + _rows(m_all @ (u @ comp[:, :, None]), cg)
        elem = np.max(np.abs(vd_new - vd) * ld.inv_vn[None, :], axis=1, initial=0.0)
        vd = vd_new
        if bool(np.all(elem < tol_pu)) or it == max_iter:
            # node voltages and this iteration's node step in one product with W (the largest here)
            both = np.concatenate([comp, comp - comp_prev]) @ wt
            v = _nodes(ps, g, ii_all, m_all, both[:k])
            dstep = np.concatenate([both[k:], np.zeros((k, 1), dtype=np.complex128)], axis=1)
            step = dstep[:, :n] + _rows(m_all @ dstep[rows, ii_all][:, :, None], g[:, :, :n])
            step[~live] = 0.0
            delta = np.max(np.abs(step) / ps.base[None, :], axis=1)
            comp_prev = comp
            if bool(np.all(delta < tol_pu)):
                break
            continue
        comp_prev = comp
    else:
        v = _nodes(ps, g, ii_all, m_all, comp_prev @ wt)
    v[~live] = 0.0
    return np.ascontiguousarray(v), np.asarray(delta < tol_pu), it


def _nodes(
    ps: PortSystem, g: ComplexArray, ii_all: npt.NDArray[np.int64], m_all: ComplexArray, wcomp: ComplexArray
) -> ComplexArray:
    """Node voltages per outage from ``W comp`` (K × n): ``x + G M x[P]`` with ``x = v₀ + W comp``."""
    k, n = wcomp.shape
    x = np.zeros((k, n + 1), dtype=np.complex128)
    x[:, :n] = ps.v0[None, :] + wcomp
    xp = x[np.arange(k)[:, None], ii_all]  # (K, m)
    return np.asarray(x[:, :n] + _rows(m_all @ xp[:, :, None], g[:, :, :n]), dtype=np.complex128)


def _rows(coef: ComplexArray, basis_t: ComplexArray) -> ComplexArray:
    """``Σ_m coef[k, m] · basis_t[k, m, :]`` per outage: (K, m, 1) and (K, m, N) → (K, N)."""
    return np.asarray((coef.transpose(0, 2, 1) @ basis_t)[:, 0, :], dtype=np.complex128)


def _polish(
    ps: PortSystem,
    g: ComplexArray,
    ii_all: npt.NDArray[np.int64],
    d_m: tuple[ComplexArray, ComplexArray],
    live: BoolArray,
    v: ComplexArray,
) -> ComplexArray:
    """One fixed-point step with the exact ``Y'`` in its residual (iterative refinement): the dense
    inverse carries Y's ~1e13 condition number, the residual on the sparse Y does not."""
    c = ps.compiled
    n, k = c.n_nodes, v.shape[0]
    d_all, m_all = d_m
    rows = np.arange(k)[:, None]
    vt = np.concatenate([v, np.zeros((k, 1), dtype=np.complex128)], axis=1)  # (K, n+1)
    live_ext = np.concatenate([live, np.ones((k, 1), dtype=np.bool_)], axis=1)
    port_live = live_ext[:, ps.pa] & live_ext[:, ps.pb]
    vd = vt[:, ps.pa] - vt[:, ps.pb]
    safe_v = np.broadcast_to(ps.loads.load_vnom_v[None, :].astype(np.complex128), vd.shape)
    comp = np.where(port_live, injection(ps.loads, np.where(port_live, vd, safe_v).T).T, 0.0)
    rhs = np.zeros((n + 1, k), dtype=np.complex128)
    rhs[:n] = np.where(live.T, c.i_source[:, None], 0.0)
    np.add.at(rhs, ps.pa, comp.T)
    np.add.at(rhs, ps.pb, -comp.T)
    rhs[:n] -= c.y @ v.T
    vp = vt[rows, ii_all]  # (K, m)
    np.add.at(rhs, (ii_all, np.broadcast_to(rows, ii_all.shape)), -(d_all @ vp[:, :, None])[:, :, 0])
    rhs[:n][~live.T] = 0.0
    x = np.zeros((k, n + 1), dtype=np.complex128)
    x[:, :n] = lu_solve_many(ps.lu, rhs[:n]).T
    xp = x[rows, ii_all]
    out = v + x[:, :n] + _rows(m_all @ xp[:, :, None], g[:, :, :n])
    out[~live] = 0.0
    return np.ascontiguousarray(out)
