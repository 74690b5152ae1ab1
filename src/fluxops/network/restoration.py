"""N-1 with restoration: after each outage, FLISR switching checked by power flow, batched.

Why: a radial outage without reconfiguration is the case where nothing new can overload. What a
distribution utility screens is the state after fault location, isolation and service restoration:

1. the faulted section (buses joined by line segments, bounded by devices) is isolated between its
   nearest devices; everything upstream is restored by the breaker/recloser (= a radial outage of the
   upstream isolating device `u`, computed by the batched radial N-1);
2. each dead section downstream is picked up through a normally-open tie `t` to a live feeder when the
   transfer keeps every element within 100 % of its known rating and every bus within ANSI C84.1 Range A
   (≥ 0.95 pu) — no *new* violation against the pre-fault case; an element without a known rating that
   carries transferred current is flagged (``unrated_loaded``), never tripped. When the whole island is
   too much, the deepest device on the tie's path that fits picks up part of it.

Batched: for a tie `t` and upstream isolating device `u`, the configuration "`t` closed, `u` open" is
radial, and the state after picking up at device `d` equals the radial outage of `d` in it. So every
pick-up option of every contingency behind (`t`, `u`) is one column of one batched radial N-1 run
(`fluxops.network.contingency.run_n_minus_1`): one run per (tie side, upstream device), not one power
flow per option. Islands of one contingency moved through different ties are then checked together
by one power flow of the restored state (`_check_together`): a new violation refuses the transfer that
restores the fewest customers. Limit, said plainly: a base case with loops (closed ties) is screened
radially only (``method`` says so).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from fluxops.core.errors import InvalidInputError
from fluxops.network.compiled import EDGE_DEVICE, BoolArray, CompiledGrid, FloatArray, IntArray
from fluxops.network.contingency import TOL_PCT, V_MIN_PU, ContingencyResult, run_n_minus_1
from fluxops.network.energization import energize
from fluxops.network.powerflow import SweepPlan, prepare_sweep, run_powerflow


@dataclass(frozen=True)
class Transfer:
    """One pick-up option checked for one contingency: the dead island behind ``island_edge`` (the first
    device below the faulted section toward the tie) picked up at device ``pickup_edge`` through tie
    ``tie_edge``. ``accepted``: the option chosen for this island (feasible, most customers)."""

    contingency: int  # position in RestorationResult.edges
    tie_edge: int
    island_edge: int
    pickup_edge: int
    customers: int
    feasible: bool
    accepted: bool
    converged: bool
    max_loading_pct: float  # whole grid, after the transfer (NaN: no rated element energized)
    worst_edge: int
    min_vm_pu: float
    new_overloads: int
    new_undervoltage: int
    unrated_loaded: int
    # feasible alone, dropped because the islands of this contingency moved together overloaded (or
    # under-volted) something: the concurrent transfers are checked by one power flow
    refused_together: bool = False


@dataclass(frozen=True)
class RestorationResult:
    """Per contingency (edge ``edges[k]`` failed), after FLISR: customers interrupted by the protective
    operation, customers still out (the faulted section and islands no tie could take), customers
    restored (upstream re-close plus transfers), customers moved to other feeders through ties, critical
    customers and load still out, and the worst loading / lowest voltage over the restored state (the
    upstream re-close and each accepted transfer, whichever is worse). ``transfers``: every option checked.
    ``radial``: the radial outage without reconfiguration (the old screening), same contingencies."""

    edges: IntArray
    method: str
    customers_interrupted: IntArray
    customers_out: IntArray
    customers_restored: IntArray
    customers_transferred: IntArray
    critical_out: IntArray
    unserved_kw: FloatArray
    max_loading_pct: FloatArray
    worst_edge: IntArray
    min_vm_pu: FloatArray
    converged: BoolArray
    upstream_device: IntArray  # the device opened upstream of the faulted section (−1: not in the tree)
    transfers: list[Transfer]
    radial: ContingencyResult


@dataclass(frozen=True, eq=False)
class _Tree:
    """The base configuration as a bus-level forest: parent bus and edge (−1 at roots), subtree sums."""

    par_bus: IntArray
    par_edge: IntArray
    node_of_edge: IntArray  # edge → bus below it (−1 when not a tree edge)
    tree: IntArray  # bus → source tree (−1 de-energized)
    below_cust: FloatArray  # per bus: customers in its subtree
    below_crit: FloatArray
    below_kw: FloatArray


def _tree(cg: CompiledGrid, plan: SweepPlan, p: FloatArray) -> _Tree:
    free = plan.free_bus
    par_edge = np.full(cg.n_bus, -1, np.int64)
    par_edge[free] = plan.parent_edge
    pe = np.maximum(par_edge, 0)
    par_bus = np.where(
        par_edge >= 0, np.where(cg.from_bus[pe] == np.arange(cg.n_bus), cg.to_bus[pe], cg.from_bus[pe]), -1
    )
    node_of_edge = np.full(cg.n_edge, -1, np.int64)
    node_of_edge[plan.parent_edge[plan.parent_edge >= 0]] = free[plan.parent_edge >= 0]
    tree = np.full(cg.n_bus, -1, np.int64)
    tree[free] = plan.src_node_of_free

    def below(w: npt.NDArray[np.float64]) -> FloatArray:
        out = np.zeros(cg.n_bus)
        out[free] = plan.lu.solve(np.ascontiguousarray(w[free], dtype=np.float64), trans="T")
        return out

    return _Tree(
        par_bus=par_bus,
        par_edge=par_edge,
        node_of_edge=node_of_edge,
        tree=tree,
        below_cust=below(cg.bus_customer_count.astype(np.float64)),
        below_crit=below(cg.bus_critical_count.astype(np.float64)),
        below_kw=below(p),
    )


def _path_up(t: _Tree, bus: int, stop: set[int]) -> list[int]:
    """Edges from ``bus`` up to its tree root, or up to the first bus in ``stop`` (the common ancestor
    of a tie's two ends in one tree)."""
    out: list[int] = []
    while bus not in stop and t.par_edge[bus] >= 0:
        out.append(int(t.par_edge[bus]))
        bus = int(t.par_bus[bus])
    return out


def _ancestors(t: _Tree, bus: int) -> set[int]:
    out = {bus}
    while t.par_edge[bus] >= 0:
        bus = int(t.par_bus[bus])
        out.add(bus)
    return out


def _nearest_above(cg: CompiledGrid, t: _Tree, mark: BoolArray) -> IntArray:
    """Per bus: the nearest edge with ``mark`` on its path to the root (its own parent edge first), −1
    when none — pointer jumping, log2(depth) vectorized rounds."""
    pe = t.par_edge
    root = pe < 0
    hit = ~root & mark[np.maximum(pe, 0)]
    val = np.where(hit, pe, np.where(root, -1, -2))
    nxt = np.where(root, np.arange(cg.n_bus), t.par_bus)
    for _ in range(64):
        todo = val == -2
        if not todo.any():
            break
        val[todo] = val[nxt[todo]]
        nxt[todo] = nxt[nxt[todo]]
    return val


def _columns(
    cg: CompiledGrid, t: _Tree, e_list: IntArray, ties: IntArray
) -> dict[tuple[int, int], tuple[list[int], list[tuple[int, int]]]]:
    """Per (tie, upstream device opened for the transfer): the tie side's path (edges up from its dead
    end) and the (contingency, index of its island's first device on that path) it serves."""
    is_dev = cg.edge_kind == EDGE_DEVICE
    k_of: dict[int, list[int]] = {}
    for k, e in enumerate(e_list.tolist()):
        k_of.setdefault(e, []).append(k)
    runs: dict[tuple[int, int], tuple[list[int], list[tuple[int, int]]]] = {}
    for tie in ties.tolist():
        ends = (int(cg.from_bus[tie]), int(cg.to_bus[tie]))
        for a, b in (ends, ends[::-1]):
            same = t.tree[a] == t.tree[b]
            path = _path_up(t, a, _ancestors(t, b) if same else set())
            if not path:
                continue
            arr = np.asarray(path, np.int64)
            dev = is_dev[arr]
            idx = np.arange(len(arr))
            at_or_below = np.maximum.accumulate(np.where(dev, idx, -1))
            strictly_above = np.minimum.accumulate(np.where(dev, idx, len(arr))[::-1])[::-1]
            for i, e in enumerate(path):
                if e not in k_of or at_or_below[i] < 0:
                    continue  # not on this side's path, or no device between the fault and the tie
                up = int(strictly_above[i + 1]) if i + 1 < len(arr) else len(arr)
                if up >= len(arr):
                    if same:
                        continue  # the faulted section reaches the common trunk: the tie's other end is in it
                    up = len(arr) - 1  # no device above: the section reaches the source bus
                if up <= at_or_below[i]:
                    continue
                key = (tie * 2 + (a == ends[1]), int(arr[up]))
                runs.setdefault(key, (path, []))[1].extend((k, int(at_or_below[i])) for k in k_of[e])
    return runs


def run_n_minus_1_restoration(
    cg: CompiledGrid,
    *,
    edges: npt.ArrayLike | None = None,
    closed: npt.ArrayLike | None = None,
    p_kw: npt.ArrayLike | None = None,
    q_kvar: npt.ArrayLike | None = None,
    v_source_pu: float | npt.ArrayLike | None = None,
    tol_mva: float = 1e-8,
    max_iter: int = 50,
) -> RestorationResult:
    """N-1 (default: every line segment) with FLISR after each outage (module docstring). Inputs are
    never modified."""
    e_list = np.flatnonzero(cg.edge_kind == 0) if edges is None else np.asarray(edges, np.int64).ravel()
    if len(e_list) and (e_list.min() < 0 or e_list.max() >= cg.n_edge):
        raise InvalidInputError("edges holds positions outside the grid", field="edges")
    closed0 = np.array(cg.closed_state if closed is None else closed, dtype=bool)
    p = np.asarray(cg.bus_p_kw if p_kw is None else p_kw, np.float64)
    q = np.asarray(cg.bus_q_kvar if q_kvar is None else q_kvar, np.float64)
    kw: dict[str, Any] = {
        "p_kw": p,
        "q_kvar": q,
        "v_source_pu": v_source_pu,
        "tol_mva": tol_mva,
        "max_iter": max_iter,
    }
    radial = run_n_minus_1(cg, edges=e_list, closed=closed0, **kw)
    en = energize(cg, closed=closed0)
    plan = prepare_sweep(cg, en)
    if plan.n_loops > 0:
        return _radial_only(radial, "radial-only (loops in the base case: restoration not evaluated)")
    base = run_powerflow(cg, plan=plan, **kw)
    ref = (np.asarray(base.loading_pct, np.float64), np.asarray(base.vm_pu, np.float64))
    t = _tree(cg, plan, p)
    node_k = t.node_of_edge[e_list]
    in_tree = node_k >= 0
    dev_up = _nearest_above(cg, t, cg.edge_kind == EDGE_DEVICE)
    prot_up = _nearest_above(cg, t, cg.is_protective)
    top = _top_edge(cg, t)
    nk = np.maximum(node_k, 0)
    u_up = np.where(dev_up[nk] >= 0, dev_up[nk], top[nk])
    p_up = np.where(prot_up[nk] >= 0, prot_up[nk], top[nk])
    dead0 = ~en.bus_energized
    out0 = int(cg.bus_customer_count[dead0].sum())
    interrupted = np.where(in_tree, out0 + np.rint(t.below_cust[t.node_of_edge[p_up]]), radial.customers_out)

    uniq_up, inv = np.unique(u_up[in_tree], return_inverse=True)
    up = run_n_minus_1(cg, edges=uniq_up, closed=closed0, **kw)
    res: dict[str, Any] = {
        "customers_out": radial.customers_out.copy(),
        "critical_out": radial.critical_out.copy(),
        "unserved_kw": radial.unserved_kw.copy(),
        "max_loading_pct": radial.max_loading_pct.copy(),
        "worst_edge": radial.worst_edge.copy(),
        "min_vm_pu": radial.min_vm_pu.copy(),
        "converged": radial.converged.copy(),
    }
    ik = np.flatnonzero(in_tree)
    for key, src in (
        ("customers_out", up.customers_out),
        ("critical_out", up.critical_out),
        ("unserved_kw", up.unserved_kw),
        ("max_loading_pct", up.max_loading_pct),
        ("worst_edge", up.worst_edge),
        ("min_vm_pu", up.min_vm_pu),
        ("converged", up.converged),
    ):
        res[key][ik] = src[inv]
    ties = np.flatnonzero(
        (cg.edge_kind == EDGE_DEVICE) & ~closed0 & en.bus_energized[cg.from_bus] & en.bus_energized[cg.to_bus]
    )
    transfers = _check_transfers(cg, t, e_list, ties, closed0, ref, kw)
    transfers, together = _check_together(
        cg, t, e_list, np.where(in_tree, u_up, -1), transfers, closed0, ref, kw
    )
    moved = np.zeros(len(e_list), np.int64)
    for tr in transfers:
        if not tr.accepted:
            continue
        k, node = tr.contingency, int(t.node_of_edge[tr.pickup_edge])
        moved[k] += tr.customers
        res["customers_out"][k] -= tr.customers
        res["critical_out"][k] -= int(np.rint(t.below_crit[node]))
        res["unserved_kw"][k] -= float(t.below_kw[node])
        res["converged"][k] &= tr.converged
        if np.isfinite(tr.max_loading_pct) and not tr.max_loading_pct <= res["max_loading_pct"][k]:
            res["max_loading_pct"][k], res["worst_edge"][k] = tr.max_loading_pct, tr.worst_edge
        res["min_vm_pu"][k] = np.fmin(res["min_vm_pu"][k], tr.min_vm_pu)
    for k, (conv, loading, worst, vmin) in together.items():  # the restored state itself, one flow
        res["converged"][k] = conv
        res["max_loading_pct"][k], res["worst_edge"][k], res["min_vm_pu"][k] = loading, worst, vmin
    interrupted = np.maximum(interrupted.astype(np.int64), res["customers_out"])
    return RestorationResult(
        edges=e_list,
        method="flisr-batched",
        customers_interrupted=interrupted,
        customers_restored=interrupted - res["customers_out"],
        customers_transferred=moved,
        upstream_device=np.where(in_tree, u_up, -1),
        transfers=transfers,
        radial=radial,
        **res,
    )


def _top_edge(cg: CompiledGrid, t: _Tree) -> IntArray:
    """Per bus: the highest edge on its path to the root (−1 at roots)."""
    pe = t.par_edge
    is_top = np.zeros(cg.n_edge, bool)
    child_of_root = (pe >= 0) & (t.par_edge[np.maximum(t.par_bus, 0)] < 0)
    is_top[pe[child_of_root]] = True
    return _nearest_above(cg, t, is_top)


def _check_transfers(
    cg: CompiledGrid,
    t: _Tree,
    e_list: IntArray,
    ties: IntArray,
    closed0: BoolArray,
    ref: tuple[FloatArray, FloatArray],
    kw: Mapping[str, Any],
) -> list[Transfer]:
    """Every pick-up option: one batched radial run per group of independent (tie side, upstream
    device) configurations; then per island the feasible option restoring the most customers."""
    is_dev = cg.edge_kind == EDGE_DEVICE
    options: list[Transfer] = []
    for batch in _pack(cg, t, _columns(cg, t, e_list, ties)):
        cfg = closed0.copy()
        all_cols: list[int] = []
        for (tie2, u), (path, _) in batch:
            cfg[tie2 // 2], cfg[u] = True, False
            all_cols += [path[j] for j in range(path.index(u)) if is_dev[path[j]]]
        r = run_n_minus_1(cg, edges=all_cols, closed=cfg, reference=ref, tree_local=True, **kw)
        if r.method != "batched-radial" or r.new_overloads is None:
            continue
        pos_of = {e: c for c, e in enumerate(all_cols)}
        for (tie2, u), (path, served) in batch:
            options += _options(t, r, tie2 // 2, u, path, served, pos_of, is_dev)
    best: dict[tuple[int, int], int] = {}
    for i, o in enumerate(options):
        if not o.feasible or o.customers <= 0:
            continue
        key = (o.contingency, o.island_edge)
        prev = best.get(key)
        if prev is None or (o.customers, -o.max_loading_pct) > (
            options[prev].customers,
            -options[prev].max_loading_pct,
        ):
            best[key] = i
    chosen = set(best.values())
    return [replace(o, accepted=True) if i in chosen else o for i, o in enumerate(options)]


def _check_together(
    cg: CompiledGrid,
    t: _Tree,
    e_list: IntArray,
    u_up: IntArray,
    transfers: list[Transfer],
    closed0: BoolArray,
    ref: tuple[FloatArray, FloatArray],
    kw: Mapping[str, Any],
) -> tuple[list[Transfer], dict[int, tuple[bool, float, int, float]]]:
    """Islands of one contingency picked up into the same source tree are checked together: one power
    flow of the restored state (upstream device open, every accepted tie closed, every pick-up device
    open). A new violation refuses the accepted transfer that restores the fewest customers, and the
    rest are checked again. Islands going to different trees do not meet (each tree's state is the one
    its own check solved), so they need no joint flow. Returns the transfers and, per contingency
    checked, (converged, worst loading, its edge, lowest voltage) of its restored state."""
    by_k: dict[int, list[int]] = {}
    for i, o in enumerate(transfers):
        if o.accepted:
            by_k.setdefault(o.contingency, []).append(i)
    out = list(transfers)
    figures: dict[int, tuple[bool, float, int, float]] = {}
    ref_load = np.maximum(100.0, np.nan_to_num(ref[0], nan=0.0)) + TOL_PCT
    ref_vm = np.nan_to_num(ref[1], nan=np.inf)

    def meet(k: int, idx: list[int]) -> bool:
        own = int(t.tree[cg.from_bus[e_list[k]]])
        ties = [out[i].tie_edge for i in idx]
        ends = zip(t.tree[cg.from_bus[ties]].tolist(), t.tree[cg.to_bus[ties]].tolist(), strict=True)
        recv = [b if a == own else a for a, b in ends]
        return len(set(recv)) < len(recv)

    for k, idx in by_k.items():
        while len(idx) >= 2 and meet(k, idx):
            cfg = closed0.copy()
            cfg[u_up[k]] = False
            cfg[[out[i].tie_edge for i in idx]] = True
            failed = [int(e_list[k])] + [out[i].pickup_edge for i in idx]
            pf = run_powerflow(cg, closed=cfg, failed_edges=failed, **kw)
            live = pf.edge_energized & np.isfinite(pf.loading_pct)
            over = live & (pf.loading_pct > ref_load)
            vm = np.where(pf.bus_energized, pf.vm_pu, np.inf)
            under = (vm < V_MIN_PU) & (vm < ref_vm - 1e-9)
            if pf.converged and not over.any() and not under.any():
                w = int(np.flatnonzero(live)[np.argmax(pf.loading_pct[live])]) if live.any() else -1
                vmin = float(vm.min()) if pf.bus_energized.any() else np.nan
                figures[k] = (True, float(pf.loading_pct[w]) if w >= 0 else np.nan, w, vmin)
                break
            drop = min(idx, key=lambda i: (out[i].customers, -out[i].max_loading_pct))
            out[drop] = replace(out[drop], accepted=False, refused_together=True)
            idx = [i for i in idx if i != drop]
    return out, figures


def _pack(
    cg: CompiledGrid, t: _Tree, runs: dict[tuple[int, int], tuple[list[int], list[tuple[int, int]]]]
) -> list[list[tuple[tuple[int, int], tuple[list[int], list[tuple[int, int]]]]]]:
    """Transfer configurations grouped so that no two in a group touch the same source tree (the tie's
    two sides): such configurations are independent, so one batched run checks them all."""
    batches: list[tuple[set[int], list[Any]]] = []
    for key, val in runs.items():
        tie = key[0] // 2
        trees = {int(t.tree[cg.from_bus[tie]]), int(t.tree[cg.to_bus[tie]])}
        for used, items in batches:
            if not used & trees:
                used |= trees
                items.append((key, val))
                break
        else:
            batches.append((set(trees), [(key, val)]))
    return [items for _, items in batches]


def _options(
    t: _Tree,
    r: ContingencyResult,
    tie: int,
    u: int,
    path: list[int],
    served: list[tuple[int, int]],
    pos_of: dict[int, int],
    is_dev: BoolArray,
) -> list[Transfer]:
    """The pick-up options of one (tie side, upstream device) configuration, read off its columns."""
    assert r.new_overloads is not None and r.new_undervoltage is not None and r.unrated_loaded is not None
    cols = [j for j in range(path.index(u)) if is_dev[path[j]]]
    out: list[Transfer] = []
    for k, lo in served:
        for j in cols:
            if j > lo:
                break
            c = pos_of[path[j]]
            node = int(t.node_of_edge[path[j]])
            ok = bool(r.converged[c]) and r.new_overloads[c] == 0 and r.new_undervoltage[c] == 0
            out.append(
                Transfer(
                    contingency=k,
                    tie_edge=tie,
                    island_edge=path[lo],
                    pickup_edge=path[j],
                    customers=int(np.rint(t.below_cust[node])),
                    feasible=ok,
                    accepted=False,
                    converged=bool(r.converged[c]),
                    max_loading_pct=float(r.max_loading_pct[c]),
                    worst_edge=int(r.worst_edge[c]),
                    min_vm_pu=float(r.min_vm_pu[c]),
                    new_overloads=int(r.new_overloads[c]),
                    new_undervoltage=int(r.new_undervoltage[c]),
                    unrated_loaded=int(r.unrated_loaded[c]),
                )
            )
    return out


def _radial_only(radial: ContingencyResult, method: str) -> RestorationResult:
    zero = np.zeros(len(radial.edges), np.int64)
    return RestorationResult(
        edges=radial.edges,
        method=method,
        customers_interrupted=radial.customers_out.copy(),
        customers_out=radial.customers_out.copy(),
        customers_restored=zero,
        customers_transferred=zero.copy(),
        critical_out=radial.critical_out.copy(),
        unserved_kw=radial.unserved_kw.copy(),
        max_loading_pct=radial.max_loading_pct.copy(),
        worst_edge=radial.worst_edge.copy(),
        min_vm_pu=radial.min_vm_pu.copy(),
        converged=radial.converged.copy(),
        upstream_device=np.full(len(radial.edges), -1, np.int64),
        transfers=[],
        radial=radial,
    )
