"""The batched radial N-1 kernel: every outage of a radial base case as one column of one fixed point.

Why this shape: losing an energized edge of a radial network removes exactly the subtree below it, and
the rest keeps the base case's tree. Numbered in depth-first preorder (trees contiguous), every subtree
is an interval of rows ``[r, hi[r])``, so

* the outage masks are two comparisons against the intervals (no per-outage Python);
* the backward sweep (branch current = subtree sum of injections) is one cumulative sum down the rows
  and one difference ``C[hi] − C[r]``;
* the forward sweep (voltage = source − Σ z·I over the path) is one cumulative sum of ``z·I`` minus the
  same amount again at the row where each subtree ends;

two cumulative sums and one sparse product (nnz ≤ 4 per row) per iteration, in C over a rows ×
contingencies array. Zero-impedance devices are merged into the node above them (their voltages are
equal), so the iteration runs on the impedance tree; loadings are read on the full tree.
The iteration is the current-injection fixed point of `fluxops.network.powerflow.run_powerflow`, with its
convergence test (``max |V·conj(I) − S| < tol_mva`` per column), so each column equals one full power
flow with that edge failed (tested).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse import csgraph

from fluxops.network.compiled import BoolArray, FloatArray, IntArray
from fluxops.network.powerflow import SweepPlan

ComplexArray = npt.NDArray[np.complex128]
# a tree this small (reduced rows) iterates with its dense path-impedance matrix: one small product
# (single-threaded BLAS at this size) instead of two prefix sums and a sparse product
_DENSE_MAX_ROWS = 48
# columns converged early leave the batch once a quarter of it is done (only where arrays are large)
_COMPACT_CELLS = 60_000


@dataclass(frozen=True, eq=False)
class Forest:
    """The base case's spanning forest in depth-first preorder (trees contiguous), full and reduced
    (zero-impedance children merged into their parent)."""

    node: IntArray  # per row: free-node position in the `SweepPlan`
    hi: IntArray  # per row: end (exclusive) of its subtree's rows
    par: IntArray  # per row: parent row (−1 at tree roots)
    rep: IntArray  # per row: reduced row of its nearest ancestor-or-self with an impedance
    ckeep: IntArray  # rows + 1: reduced rows before each row (maps row intervals to reduced intervals)
    kept: IntArray  # per reduced row: its row
    r_hi: IntArray  # per reduced row: end of its reduced subtree
    z: ComplexArray  # per reduced row: impedance to its parent (pu)
    roots: IntArray  # row of each tree root, ascending (tree t spans rows roots[t] .. tree_end[t])
    tree_end: IntArray

    @property
    def n_rows(self) -> int:
        return len(self.node)

    def tree_of_row(self, rows: IntArray) -> IntArray:
        return np.searchsorted(self.roots, rows, side="right").astype(np.int64) - 1


def build_forest(plan: SweepPlan) -> Forest:
    cg = plan.cg
    nf = len(plan.free_bus)
    pos = np.full(cg.n_bus, -1, dtype=np.int64)
    pos[plan.free_bus] = np.arange(nf)
    pe = np.maximum(plan.parent_edge, 0)
    other = np.where(cg.from_bus[pe] == plan.free_bus, cg.to_bus[pe], cg.from_bus[pe])
    parent = np.where(plan.parent_edge >= 0, pos[other], -1)
    g = sparse.coo_matrix(
        (np.ones(nf), (np.where(parent >= 0, parent, nf), np.arange(nf))), shape=(nf + 1, nf + 1)
    ).tocsr()
    order = csgraph.depth_first_order(g, nf, directed=True, return_predecessors=False)[1:].astype(np.int64)
    row_of = np.empty(nf, dtype=np.int64)
    row_of[order] = np.arange(nf)
    size = np.rint(plan.lu.solve(np.ones(nf), trans="T")).astype(np.int64)
    hi = np.arange(nf) + size[order]
    par = np.where(parent[order] >= 0, row_of[np.maximum(parent[order], 0)], -1)
    z_row = plan.z_pu[order]
    keep = (z_row != 0) | (par < 0)
    rep = np.where(keep, np.arange(nf), par)
    for _ in range(64):  # pointer jumping: log2(depth) rounds
        nxt = np.where(keep[rep], rep, rep[rep])
        if (nxt == rep).all():
            break
        rep = nxt
    ckeep = np.r_[0, np.cumsum(keep)].astype(np.int64)
    kept = np.flatnonzero(keep)
    roots = np.flatnonzero(par < 0)
    return Forest(
        node=order,
        hi=hi,
        par=par,
        rep=ckeep[rep],
        ckeep=ckeep,
        kept=kept,
        r_hi=ckeep[hi[kept]],
        z=z_row[kept],
        roots=roots,
        tree_end=np.r_[roots[1:], nf].astype(np.int64),
    )


@dataclass(frozen=True, eq=False)
class Sweep:
    """Backward/forward sweep over reduced rows ``[lo, hi)`` of a forest as one sparse operator on the
    prefix sums of the (conjugate) injections: ``C[r] = Σ_{t<r} jc_t`` gives branch currents
    ``C[hi] − C[r]``; the path drop is the prefix sum over rows of ``conj(z)·I`` at each row minus the
    same at the rows where a subtree ends. ``op @ C`` is that difference, nnz ≤ 4 per row."""

    op: sparse.csr_matrix  # rows × (rows + 1), complex
    dense: ComplexArray | None = None  # small trees: conj of the path-impedance matrix, one product

    def pbar(self, jc: ComplexArray, acc: ComplexArray) -> ComplexArray:
        """Conjugate path drops ``Σ conj(z)·conj(I)`` for conjugate injections ``jc`` (``acc``: a
        buffer of one more row, first row 0)."""
        if self.dense is not None:
            out: ComplexArray = self.dense @ jc
            return out
        np.cumsum(jc, axis=0, out=acc[1:])
        d: ComplexArray = self.op @ acc
        np.cumsum(d, axis=0, out=d)
        return d


def branch_sums(inj: ComplexArray, hi: IntArray) -> ComplexArray:
    """Subtree sums per row (preorder rows, subtree ``[r, hi[r])``): the backward sweep."""
    acc = np.empty((inj.shape[0] + 1, inj.shape[1]), dtype=inj.dtype)
    acc[0] = 0.0
    np.cumsum(inj, axis=0, out=acc[1:])
    out: ComplexArray = acc[hi] - acc[:-1]
    return out


def make_sweep(f: Forest, lo: int, hi: int) -> Sweep:
    r_hi = f.r_hi[lo:hi] - lo
    zc = np.conj(f.z[lo:hi])
    m = hi - lo
    rows = np.arange(m)
    ex = np.flatnonzero(r_hi < m)  # a subtree ending before the last row: its drop leaves there
    # row r: conj(z_r)·(C[hi_r] − C[r]) minus, for each b whose subtree ends at r, conj(z_b)·(C[hi_b] − C[b])
    op = sparse.coo_matrix(
        (
            np.r_[zc, -zc, -zc[ex], zc[ex]],
            (np.r_[rows, rows, r_hi[ex], r_hi[ex]], np.r_[r_hi, rows, r_hi[ex], ex]),
        ),
        shape=(m, m + 1),
    ).tocsr()  # duplicates summed
    op.eliminate_zeros()
    dense = None
    if m <= _DENSE_MAX_ROWS:  # a handful of calls per iteration is what a tiny tree costs
        under = ((rows[None, :] >= rows[:, None]) & (rows[None, :] < r_hi[:, None])).astype(np.float64)
        dense = ((under.T * zc[None, :]) @ under).astype(np.complex128)
    return Sweep(op.astype(np.complex128), dense)


def fixed_point(
    sw: Sweep,
    v0: FloatArray,
    s: ComplexArray,
    ym: ComplexArray | None,
    v: ComplexArray,
    tol: float,
    max_iter: int,
) -> tuple[ComplexArray, IntArray, BoolArray]:
    """Iterate ``V = v0 − Z·conj(S/V) − Z·(j·b·V)`` on every column at once (``s``: loads per reduced row
    and column, pu; ``ym``: ``−j·b`` line charging or None; ``v``: start). Returns voltages, iterations
    and convergence per column. Large batches drop converged columns as they go."""
    k_all = s.shape[1]
    out_v = v.copy()
    iters = np.full(k_all, max_iter, np.int64)
    conv = np.zeros(k_all, bool)
    idx = np.arange(k_all)
    compact = s.size > _COMPACT_CELLS
    v0c = v0[:, None]
    hist: list[FloatArray] = []
    w = np.conj(v)
    acc = np.zeros((s.shape[0] + 1, s.shape[1]), np.complex128)
    with np.errstate(all="ignore"):
        for it in range(1, max_iter + 1):
            jc = s / v if ym is None else s / v + ym * w
            w = v0c - sw.pbar(jc, acc)
            v = np.conj(w)
            r = v * jc - s if ym is None else v * (jc - ym * w) - s
            mism = np.abs(r).max(axis=0)
            busy = mism >= tol  # NaN (diverged) columns do not hold the batch back
            if not compact:
                hist.append(mism)
                if not busy.any():
                    break
                continue
            ok = mism < tol
            done = ~busy
            n_done = int(done.sum())
            if n_done == len(idx) or (n_done and n_done * 4 >= len(idx)) or it == max_iter:
                gone = idx[done]
                out_v[:, gone] = v[:, done]
                iters[gone] = np.where(ok[done], it, max_iter)
                conv[gone] = ok[done]
                if n_done == len(idx):
                    return out_v, iters, conv
                keep = ~done
                idx, s, v, w = idx[keep], s[:, keep], v[:, keep], w[:, keep]
                ym = None if ym is None else ym[:, keep]
                acc = np.zeros((s.shape[0] + 1, s.shape[1]), np.complex128)
        if compact:
            out_v[:, idx] = v
            return out_v, iters, conv
    if hist:
        h = np.array(hist) < tol
        conv = h[-1]
        iters = np.where(conv, np.argmax(h, axis=0) + 1, max_iter).astype(np.int64)
    return v, iters, conv
