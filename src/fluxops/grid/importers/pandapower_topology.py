"""Graph facts of the imported network: edges oriented downstream from the bus sections, components
without the sections (one per feeder), and what the radial model does not assume (loops closed in
normal operation, buses no source reaches), flagged in the import report rather than refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from fluxops.grid.importers.pandapower_mapping import ImportReport, components


def orient_and_label(
    bus_ids: pd.Index,
    sections: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    closed: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(BFS position from the bus sections over closed edges, component label without sections,
    swap mask making every closed edge point downstream)."""
    n = len(bus_ids)
    root = n
    src = np.r_[a[closed], np.full(len(sections), root)]
    dst = np.r_[b[closed], sections]
    g = sparse.coo_matrix((np.ones(len(src)), (src, dst)), shape=(n + 1, n + 1)).tocsr()
    order = csgraph.breadth_first_order(g, root, directed=False, return_predecessors=False)
    pos = np.full(n + 1, np.iinfo(np.int64).max, dtype=np.int64)
    pos[order] = np.arange(len(order))
    is_sec = np.zeros(n, bool)
    is_sec[sections] = True
    keep = closed & ~is_sec[a] & ~is_sec[b]
    labels = components(n, a[keep], b[keep])
    swap = closed & (pos[b] < pos[a])
    return pos[:n], labels, swap


def topology_flags(
    bus_ix: pd.Index,
    is_sec: np.ndarray,
    seg: pd.DataFrame,
    dev: pd.DataFrame,
    a: np.ndarray,
    b: np.ndarray,
    closed: np.ndarray,
    report: ImportReport,
) -> None:
    """Flag (not refuse) what the radial asset model does not assume: loops closed in normal operation
    (the power flow solves them) and buses no source reaches in the normal state (de-energized)."""
    n = len(bus_ix)
    ids = np.r_[seg["segment_id"].to_numpy(object), dev["device_id"].to_numpy(object)]
    root = n  # one virtual node behind every bus section: a path between two sections is a loop too
    sec = np.flatnonzero(is_sec)
    ea, eb = np.r_[a[closed], np.full(len(sec), root)], np.r_[b[closed], sec]
    e_ids = np.r_[ids[closed], np.full(len(sec), "", dtype=object)]
    lo, hi = np.minimum(ea, eb), np.maximum(ea, eb)
    key = lo.astype(np.int64) * (n + 1) + hi
    dup = pd.Series(key).duplicated().to_numpy() | (lo == hi)
    g = sparse.coo_matrix((np.ones(int((~dup).sum())), (lo[~dup], hi[~dup])), shape=(n + 1, n + 1))
    tree = csgraph.minimum_spanning_tree(g.tocsr()).tocoo()
    tree_key = np.minimum(tree.row, tree.col).astype(np.int64) * (n + 1) + np.maximum(tree.row, tree.col)
    loop = dup | ~np.isin(key, tree_key)
    loop_ids = sorted(str(x) for x in e_ids[loop] if x)
    if loop_ids:
        report.topology["loop_edges"] = loop_ids
        report.notes.append(
            f"meshed in normal operation: {len(loop_ids)} closed edge(s) close a loop "
            f"(e.g. {', '.join(loop_ids[:5])}); imported as is, the power flow solves the loops "
            "(grid.meta.params['meshed_normal'])"
        )
    labels = components(n + 1, ea, eb)
    dead = np.flatnonzero(labels[:n] != labels[root])
    if len(dead):
        report.topology["deenergized_buses"] = [str(x) for x in bus_ix[dead]]
        report.notes.append(
            f"{len(dead)} bus(es) no source reaches in the normal state (behind open switches or isolated): "
            "imported de-energized (grid.meta.params['deenergized_buses'])"
        )
