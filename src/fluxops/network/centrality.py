"""Centrality and exposure of every bus and edge, exact and in (near) linear time.

Why not networkx: exact betweenness is O(n·m) (Brandes) — hours on a Houston-scale grid — so tools fall
back to sampling. Distribution grids operate radially, and on a tree the exact answer is closed-form:

* node betweenness (unordered pairs s≠v≠t whose path runs through v) =
  ((N−1)² − Σ cᵢ²) / 2, where cᵢ are the sizes of the pieces left when v is removed (its children's
  subtrees and the N−1−size(v) nodes above it) and N is the size of v's component;
* edge betweenness of a tree edge above child c = size(c) · (N − size(c)).

Subtree sizes come from one triangular solve on the BFS tree (`fluxops.network.powerflow`). Components
with loops (closed ties) go to igraph's exact Brandes implementation, component by component. PageRank
is a SciPy sparse power iteration; k-hop reach uses sparse boolean products; downstream customers / kVA /
critical facilities are subtree sums on the energized tree from the sources.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse import csgraph
from scipy.sparse import linalg as sla

from fluxops.core.errors import CapabilityError, InvalidInputError
from fluxops.network.compiled import CompiledGrid, FloatArray, IntArray
from fluxops.network.energization import energize, live_edges
from fluxops.network.powerflow import prepare_sweep


@dataclass(frozen=True)
class Centrality:
    """Per bus: ``degree`` (live edges), ``betweenness`` (unordered pairs, networkx ``normalized=False``),
    ``betweenness_norm`` (÷ (N−1)(N−2)/2 of the bus's component), ``pagerank`` (sums to 1).
    Per edge: ``edge_betweenness`` (pairs whose path uses the edge; 0 for open/failed edges).
    ``meshed_components``: components solved with igraph because they hold loops."""

    degree: IntArray
    betweenness: FloatArray
    betweenness_norm: FloatArray
    pagerank: FloatArray
    edge_betweenness: FloatArray
    meshed_components: int


@dataclass(frozen=True)
class Exposure:
    """What each element feeds in the given switch state (from the sources, energized part only).

    ``bus_*``: the bus and everything downstream of it; ``edge_*``: everything downstream of the edge
    (0 for de-energized or open edges and for loop-closing edges, whose "downstream" is not defined);
    ``source_*``: everything a substation transformer feeds. Customers, critical customers, installed
    distribution transformer kVA and design-peak kW."""

    bus_customers: IntArray
    bus_critical: IntArray
    bus_kva: FloatArray
    bus_p_kw: FloatArray
    edge_customers: IntArray
    edge_critical: IntArray
    edge_kva: FloatArray
    edge_p_kw: FloatArray
    source_customers: IntArray
    source_critical: IntArray
    source_kva: FloatArray
    source_p_kw: FloatArray


def _graph(cg: CompiledGrid, closed: npt.ArrayLike | None) -> tuple[sparse.csr_matrix, npt.NDArray[np.bool_]]:
    live, _ = live_edges(cg, closed, None, None)
    f, t = cg.from_bus[live], cg.to_bus[live]
    keep = f != t
    n = cg.n_bus
    adj = sparse.coo_matrix((np.ones(int(keep.sum())), (f[keep], t[keep])), shape=(n, n))
    adj = ((adj + adj.T) > 0).astype(np.float64).tocsr()
    return adj, live


def centrality(cg: CompiledGrid, *, closed: npt.ArrayLike | None = None, damping: float = 0.85) -> Centrality:
    """Degree, exact betweenness, PageRank on the operating graph (``closed`` default: current states)."""
    if not 0.0 < damping < 1.0:
        raise InvalidInputError("damping must be in (0, 1)", field="damping")
    adj, live = _graph(cg, closed)
    n = cg.n_bus
    degree = np.bincount(cg.from_bus[live], minlength=n) + np.bincount(cg.to_bus[live], minlength=n)
    n_comp, label = csgraph.connected_components(adj, directed=False)
    comp_nodes = np.bincount(label, minlength=n_comp)
    comp_edges = np.bincount(label[adj.nonzero()[0]], minlength=n_comp) // 2
    is_tree = comp_edges == comp_nodes - 1

    bet = np.zeros(n)
    ebet = np.zeros(cg.n_edge)
    tree_nodes = is_tree[label]
    if tree_nodes.any():
        _tree_betweenness(cg, adj, label, comp_nodes, tree_nodes, live, bet, ebet)
    meshed = np.flatnonzero(~is_tree & (comp_nodes > 2))
    if len(meshed):
        _igraph_betweenness(cg, adj, label, meshed, live, bet, ebet)
    size = comp_nodes[label].astype(np.float64)
    pairs = (size - 1.0) * (size - 2.0) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        bet_norm = np.where(pairs > 0, bet / pairs, 0.0)
    return Centrality(
        degree=degree.astype(np.int64),
        betweenness=bet,
        betweenness_norm=bet_norm,
        pagerank=pagerank(adj, damping=damping),
        edge_betweenness=ebet,
        meshed_components=len(meshed),
    )


def _tree_betweenness(
    cg: CompiledGrid,
    adj: sparse.csr_matrix,
    label: npt.NDArray[np.int32],
    comp_nodes: IntArray,
    tree_nodes: npt.NDArray[np.bool_],
    live: npt.NDArray[np.bool_],
    bet: FloatArray,
    ebet: FloatArray,
) -> None:
    """Closed-form betweenness on the tree components (in place)."""
    n = cg.n_bus
    root = n
    # one root per tree component: its lowest-numbered node
    first = np.full(int(label.max()) + 1, n, dtype=np.int64)
    np.minimum.at(first, label, np.arange(n))
    roots = np.unique(first[label[tree_nodes]])
    ar, ac = adj.nonzero()
    g = sparse.coo_matrix(
        (np.ones(len(ar) + len(roots)), (np.r_[ar, np.full(len(roots), root)], np.r_[ac, roots])),
        shape=(n + 1, n + 1),
    ).tocsr()
    order, pred = csgraph.breadth_first_order(g, root, directed=True, return_predecessors=True)
    order = order[order < n].astype(np.int64)
    order = order[tree_nodes[order]]
    parent = pred[:n].astype(np.int64)
    parent[parent == root] = -1
    # subtree sizes: Lᵀ x = 1 on L = I − P in BFS order (parents first), one sparse triangular solve
    pos = np.full(n, -1, dtype=np.int64)
    pos[order] = np.arange(len(order))
    m = len(order)
    ppos = pos[parent[order]]
    has_p = parent[order] >= 0
    rows = np.arange(m)
    lmat = sparse.csc_matrix(
        (np.r_[np.ones(m), -np.ones(int(has_p.sum()))], (np.r_[rows, rows[has_p]], np.r_[rows, ppos[has_p]])),
        shape=(m, m),
    )
    lu = sla.splu(lmat, permc_spec="NATURAL", diag_pivot_thresh=0.0, options={"SymmetricMode": True})
    size = np.rint(lu.solve(np.ones(m), trans="T"))
    child_sq = np.bincount(ppos[has_p], weights=size[has_p] ** 2, minlength=m)
    big_n = comp_nodes[label[order]].astype(np.float64)
    up = big_n - size
    bet[order] = ((big_n - 1.0) ** 2 - child_sq - up**2) / 2.0
    # edge betweenness: the live edge joining each node to its parent
    node_e = np.full(n, -1, dtype=np.int64)
    le = np.flatnonzero(live)
    for a, b in ((cg.from_bus[le], cg.to_bus[le]), (cg.to_bus[le], cg.from_bus[le])):
        hit = (parent[b] == a) & tree_nodes[b]
        node_e[b[hit]] = le[hit]
    has_e = node_e[order] >= 0
    ebet[node_e[order][has_e]] = (size * (big_n - size))[has_e]


def _igraph_betweenness(
    cg: CompiledGrid,
    adj: sparse.csr_matrix,
    label: npt.NDArray[np.int32],
    meshed: IntArray,
    live: npt.NDArray[np.bool_],
    bet: FloatArray,
    ebet: FloatArray,
) -> None:
    try:
        import igraph
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise CapabilityError("meshed betweenness needs igraph (pip install 'fluxops[graph]')") from exc
    for c in meshed:
        nodes = np.flatnonzero(label == c)
        local = np.full(cg.n_bus, -1, dtype=np.int64)
        local[nodes] = np.arange(len(nodes))
        le = np.flatnonzero(live & (label[cg.from_bus] == c) & (cg.from_bus != cg.to_bus))
        g = igraph.Graph(n=len(nodes), edges=np.c_[local[cg.from_bus[le]], local[cg.to_bus[le]]].tolist())
        bet[nodes] = np.asarray(g.betweenness(directed=False), dtype=np.float64)
        ebet[le] = np.asarray(g.edge_betweenness(directed=False), dtype=np.float64)


def pagerank(
    adj: sparse.csr_matrix, *, damping: float = 0.85, tol: float = 1e-12, max_iter: int = 500
) -> FloatArray:
    """PageRank of an undirected graph (networkx convention: dangling mass spread uniformly)."""
    n = adj.shape[0]
    if n == 0:
        return np.zeros(0)
    out_deg = np.asarray(adj.sum(axis=1)).ravel()
    inv = np.where(out_deg > 0, 1.0 / np.where(out_deg > 0, out_deg, 1.0), 0.0)
    walk = (sparse.diags(inv) @ adj).T.tocsr()
    dangling = out_deg == 0
    x = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        nxt = damping * (walk @ x + x[dangling].sum() / n) + (1.0 - damping) / n
        if np.abs(nxt - x).sum() < n * tol:
            return np.asarray(nxt, dtype=np.float64)
        x = nxt
    return np.asarray(x, dtype=np.float64)


def k_hop_reach(cg: CompiledGrid, *, k: int = 3, closed: npt.ArrayLike | None = None) -> IntArray:
    """Number of other buses within ``k`` hops of each bus over live edges (sparse boolean products)."""
    if k < 1:
        raise InvalidInputError("k must be at least 1", field="k")
    adj, _ = _graph(cg, closed)
    step = (adj + sparse.identity(cg.n_bus, format="csr")).astype(bool).tocsr()
    reach = step
    for _ in range(k - 1):
        reach = (reach @ step).astype(bool).tocsr()
    return np.asarray(reach.getnnz(axis=1) - 1, dtype=np.int64)


def _as_int(a: FloatArray) -> IntArray:
    return np.rint(a).astype(np.int64)


def downstream_exposure(cg: CompiledGrid, *, closed: npt.ArrayLike | None = None) -> Exposure:
    """Customers / critical / kVA / kW fed through every bus, edge and source (subtree sums)."""
    plan = prepare_sweep(cg, energize(cg, closed=closed))
    free = plan.free_bus
    values = np.c_[
        cg.bus_customer_count[free], cg.bus_critical_count[free], cg.bus_kva[free], cg.bus_p_kw[free]
    ]
    sub = plan.lu.solve(np.asfortranarray(values.astype(np.float64)), trans="T")
    bus_vals = np.zeros((cg.n_bus, 4))
    bus_vals[free] = sub
    edge_vals = np.zeros((cg.n_edge, 4))
    has_e = plan.parent_edge >= 0
    edge_vals[plan.parent_edge[has_e]] = sub[has_e]
    src_vals = np.zeros((cg.n_source, 4))
    is_src = plan.parent_src >= 0
    np.add.at(src_vals, plan.parent_src[is_src], sub[is_src])
    return Exposure(
        bus_customers=_as_int(bus_vals[:, 0]),
        bus_critical=_as_int(bus_vals[:, 1]),
        bus_kva=bus_vals[:, 2],
        bus_p_kw=bus_vals[:, 3],
        edge_customers=_as_int(edge_vals[:, 0]),
        edge_critical=_as_int(edge_vals[:, 1]),
        edge_kva=edge_vals[:, 2],
        edge_p_kw=edge_vals[:, 3],
        source_customers=_as_int(src_vals[:, 0]),
        source_critical=_as_int(src_vals[:, 1]),
        source_kva=src_vals[:, 2],
        source_p_kw=src_vals[:, 3],
    )
