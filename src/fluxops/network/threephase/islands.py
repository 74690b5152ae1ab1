"""Which nodes stay energized when a branch's stamp is taken out of Y (N-1 outages, islands included).

The answer must be the one ``restamp`` + ``CompiledThreePhase.energized`` gives: the connected components
of Y's pattern once the entries the outage cancels *exactly* are dropped, those holding a source node.

``ExactIslands`` builds that pattern per outage (one graph search each). ``tree_islands`` answers a whole
batch at once: a depth-first spanning tree of the base pattern, rooted at a source node, gives every
node's subtree as a preorder interval; an outage cuts the tree edges it removes, its candidate island is
the union of the cut children's subtrees (one cumulative sum over the batch), and the candidate is the
island exactly when no surviving non-tree edge crosses its boundary (a vectorized check over all
non-tree edges). Outages with a crossing edge (a loop closes around the cut), or an island holding a
source node, go to ``ExactIslands``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse import csgraph

from fluxops.network.threephase.ybus import CompiledThreePhase

ComplexArray = npt.NDArray[np.complex128]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


class ExactIslands:
    """Energized nodes once a stamp is taken out of Y: Y's pattern built once, entries the outage cancels
    exactly dropped per outage (what ``restamp`` + ``energized`` would find)."""

    def __init__(self, c: CompiledThreePhase) -> None:
        y = sparse.csr_matrix(c.y)
        y.sort_indices()
        self.y = y
        rows = np.repeat(np.arange(c.n_nodes), np.diff(y.indptr))
        self.pos = {(int(a), int(b)): q for q, (a, b) in enumerate(zip(rows, y.indices, strict=True))}
        self.src = np.flatnonzero(np.abs(c.i_source) > 0)

    def live(self, ii: IntArray, s: ComplexArray) -> BoolArray:
        vals = self.y.data.copy()
        for p, a in enumerate(ii.tolist()):
            for q, b in enumerate(ii.tolist()):
                k = self.pos.get((a, b))
                if k is not None:
                    vals[k] = vals[k] - s[p, q]
        pattern = sparse.csr_matrix(
            ((vals != 0).astype(np.float64), self.y.indices.copy(), self.y.indptr.copy()), shape=self.y.shape
        )
        pattern.eliminate_zeros()
        ncomp, labels = csgraph.connected_components(pattern, directed=False)
        fed = np.zeros(ncomp, dtype=np.bool_)
        fed[labels[self.src]] = True
        return np.asarray(fed[labels], dtype=np.bool_)


def tree_islands(c: CompiledThreePhase, ii_all: IntArray, s_all: ComplexArray) -> BoolArray:
    """Energized nodes per outage, ``(K, n)``: outage k takes ``s_all[k]`` out over nodes ``ii_all[k]``
    (padded with ``n``). Needs a fully energized base case."""
    n = c.n_nodes
    k = ii_all.shape[0]
    y = c.y
    keys = c.y_keys
    data = y.data
    src = np.flatnonzero(np.abs(c.i_source) > 0)
    # entries each outage cancels exactly (rows a, columns b of its primitive; a ≠ b)
    a = ii_all[:, :, None]
    b = ii_all[:, None, :]
    valid = (a < n) & (b < n) & (a < b)
    want = np.where(valid, b * n + a, 0)
    pos = np.minimum(np.searchsorted(keys, want), len(keys) - 1)
    yval = data[pos]
    removed = valid & (keys[pos] == want) & (yval != 0) & (yval - s_all == 0)
    # base pattern without the diagonal, and its depth-first tree from a source node
    off = keys % n != keys // n
    nz = off & (data != 0)
    rows_nz, cols_nz = keys[nz] % n, keys[nz] // n
    pattern = sparse.csr_matrix((np.ones(int(nz.sum())), (rows_nz, cols_nz)), shape=(n, n))
    order, pred = csgraph.depth_first_order(pattern, int(src[0]), directed=False, return_predecessors=True)
    pos_of = np.empty(n, dtype=np.int64)
    pos_of[order] = np.arange(len(order))
    size = np.ones(n, dtype=np.int64)
    for x in order[:0:-1].tolist():  # children before parents
        size[pred[x]] += size[x]
    # tree edges cut by each outage: a removed entry (a, b) with a the parent of b or b the parent of a
    ra, rb = np.broadcast_to(a, removed.shape), np.broadcast_to(b, removed.shape)
    pred_ext = np.append(pred, -9999)
    cut_b = removed & (pred_ext[np.minimum(rb, n)] == ra)
    cut_a = removed & (pred_ext[np.minimum(ra, n)] == rb)
    diff = np.zeros((k, n + 1), dtype=np.int64)
    for cut, child in ((cut_b, rb), (cut_a, ra)):
        kk, cc = np.nonzero(cut.reshape(k, -1))
        ch = child.reshape(k, -1)[kk, cc]
        np.add.at(diff, (kk, pos_of[ch]), 1)
        np.add.at(diff, (kk, pos_of[ch] + size[ch]), -1)
    island = (np.cumsum(diff, axis=1)[:, :n] > 0)[:, pos_of]
    # a surviving non-tree edge across the boundary means the candidate is not the island
    upper = rows_nz < cols_nz
    ea, eb = rows_nz[upper], cols_nz[upper]
    tree = (pred[eb] == ea) | (pred[ea] == eb)
    ea, eb = ea[~tree], eb[~tree]
    crossing = (island[:, ea] != island[:, eb]).sum(axis=1)
    isl_ext = np.concatenate([island, np.zeros((k, 1), dtype=np.bool_)], axis=1)
    rows = np.arange(k)[:, None, None]
    removed_cross = (
        removed & ~(cut_a | cut_b) & (isl_ext[rows, np.minimum(ra, n)] != isl_ext[rows, np.minimum(rb, n)])
    )
    crossing -= removed_cross.reshape(k, -1).sum(axis=1)
    live = ~island
    redo = np.flatnonzero((crossing > 0) | island[:, src].any(axis=1))
    if len(redo):  # the pattern without each one's cancelled entries, all in one block-diagonal search
        live[redo] = _components_fed(n, rows_nz, cols_nz, ra[redo], rb[redo], removed[redo], src)
    return np.asarray(live, dtype=np.bool_)


def _components_fed(
    n: int,
    rows: IntArray,
    cols: IntArray,
    ra: IntArray,
    rb: IntArray,
    removed: BoolArray,
    src: IntArray,
) -> BoolArray:
    """Source-connected nodes of R graphs at once: the base edges minus each one's removed pairs, as the
    diagonal blocks of one graph (one connected-components call for all)."""
    r = ra.shape[0]
    edge_keys = rows * n + cols
    which, pa, pb = np.nonzero(removed)
    a, b = ra[which, pa, pb], rb[which, pa, pb]
    gone_keys = np.concatenate([which * n * n + a * n + b, which * n * n + b * n + a])
    all_keys = (np.arange(r)[:, None] * n * n + edge_keys[None, :]).ravel()
    keep = ~np.isin(all_keys, gone_keys)
    off = np.repeat(np.arange(r) * n, len(rows))
    big_r = (np.tile(rows, r) + off)[keep]
    big_c = (np.tile(cols, r) + off)[keep]
    graph = sparse.csr_matrix((np.ones(len(big_r)), (big_r, big_c)), shape=(r * n, r * n))
    ncomp, labels = csgraph.connected_components(graph, directed=False)
    labels = labels.reshape(r, n)
    fed = np.zeros(ncomp, dtype=np.bool_)
    fed[labels[:, src].ravel()] = True
    return np.asarray(fed[labels], dtype=np.bool_)
