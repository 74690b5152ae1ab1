"""Protection and FLISR switching logic on top of the network kernels.

Why here and not in `fluxops.network`: these are operating rules (which device clears a fault, which
switches isolate it, which ties may pick up load), not network physics. They only read the compiled
arrays, the spanning tree of a power-flow plan and energization results.

* Protection: walk up the spanning tree of the present configuration from the fault to the first closed
  protective device (fuse, sectionalizer, recloser, breaker); if none, the substation transformer's own
  breaker (the source) clears it.
* Isolation: the faulted *section* is the set of buses joined to the fault by line segments only; every
  device on its boundary opens (nearest switches on every side).
* Pick-up: a normally-open tie or bus tie with one end supplied and the other end in a de-energized,
  healthy region is a candidate; FLISR accepts it only if a power flow with the picked-up load (cold-load
  factor where the outage was long) keeps every loading ≤ the limit and every voltage ≥ the minimum in the
  island it joins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fluxops.cascade.context import RECLOSING_DEVICE_TYPES, EngineContext
from fluxops.network.compiled import EDGE_DEVICE
from fluxops.network.energization import EnergizationResult
from fluxops.network.powerflow import PowerFlowResult, SweepPlan

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Upstream:
    """What operates for a fault: an edge (device) or a source (substation transformer breaker)."""

    edge: int = -1
    source: int = -1


def tree_parents(ctx: EngineContext, plan: SweepPlan) -> tuple[IntArray, IntArray]:
    """Per bus: parent edge and parent source in the plan's spanning forest (−1 where absent)."""
    n = ctx.cg.n_bus
    pe = np.full(n, -1, np.int64)
    ps = np.full(n, -1, np.int64)
    pe[plan.free_bus] = plan.parent_edge
    ps[plan.free_bus] = plan.parent_src
    return pe, ps


def upstream_bus_of_edge(ctx: EngineContext, parent_edge: IntArray, e: int, en: EnergizationResult) -> int:
    """The end of edge ``e`` nearer the source in the present tree (the supplied end for a non-tree edge)."""
    cg = ctx.cg
    f, t = int(cg.from_bus[e]), int(cg.to_bus[e])
    if parent_edge[t] == e:
        return f
    if parent_edge[f] == e:
        return t
    return f if en.bus_energized[f] or not en.bus_energized[t] else t


def find_protective(
    ctx: EngineContext, parent_edge: IntArray, parent_src: IntArray, start_bus: int, closed: BoolArray
) -> Upstream:
    """First closed protective device on the path from ``start_bus`` up to its source."""
    cg = ctx.cg
    b = start_bus
    for _ in range(cg.n_bus + 1):
        e = int(parent_edge[b])
        if e < 0:
            s = int(parent_src[b])
            return Upstream(source=s) if s >= 0 else Upstream()
        if cg.is_protective[e] and closed[e]:
            return Upstream(edge=e)
        b = int(cg.from_bus[e]) if int(cg.to_bus[e]) == b else int(cg.to_bus[e])
    return Upstream()


def reclosing_ancestor(ctx: EngineContext, parent_edge: IntArray, start_edge: int, closed: BoolArray) -> int:
    """The nearest recloser or breaker above protective device ``start_edge`` (fuse saving), or −1."""
    cg = ctx.cg
    b = (
        int(cg.from_bus[start_edge])
        if parent_edge[int(cg.to_bus[start_edge])] == start_edge
        else int(cg.to_bus[start_edge])
    )
    for _ in range(cg.n_bus + 1):
        e = int(parent_edge[b])
        if e < 0:
            return -1
        if closed[e] and str(cg.device_type[e]) in RECLOSING_DEVICE_TYPES:
            return e
        b = int(cg.from_bus[e]) if int(cg.to_bus[e]) == b else int(cg.to_bus[e])
    return -1


def section_boundary(
    ctx: EngineContext, zones: IntArray, fault_buses: IntArray
) -> tuple[BoolArray, IntArray]:
    """(buses of the faulted section, devices on its boundary)."""
    cg = ctx.cg
    zone_ids = np.unique(zones[fault_buses])
    in_zone = np.isin(zones, zone_ids)
    dev = cg.edge_kind == EDGE_DEVICE
    boundary = np.flatnonzero(dev & (in_zone[cg.from_bus] ^ in_zone[cg.to_bus]))
    return in_zone, boundary.astype(np.int64)


def tie_candidates(
    ctx: EngineContext, en: EnergizationResult, closed: BoolArray, failed_edges: BoolArray, blocked: BoolArray
) -> IntArray:
    """Open ties / bus ties with exactly one supplied end and the other end dead but not ``blocked``."""
    cg = ctx.cg
    is_tie = np.isin(cg.device_type, ("tie_switch", "bus_tie"))
    fe, te = en.bus_energized[cg.from_bus], en.bus_energized[cg.to_bus]
    dead_end = np.where(fe, cg.to_bus, cg.from_bus)
    ok = is_tie & ~closed & ~failed_edges & (fe ^ te) & ~blocked[dead_end]
    return np.flatnonzero(ok).astype(np.int64)


def island_within_limits(
    ctx: EngineContext,
    pf: PowerFlowResult,
    en: EnergizationResult,
    bus: int,
    max_loading_pct: float,
    min_v_pu: float,
    loading_pct: npt.NDArray[np.float64] | None = None,
) -> tuple[bool, float, float]:
    """(ok, max loading %, min voltage pu) over the island holding ``bus`` after a switching step.
    ``loading_pct``: per-edge loading to judge instead of the balanced one (worst phase)."""
    cg = ctx.cg
    if not pf.converged:
        return False, float("nan"), float("nan")
    isl = en.bus_island == en.bus_island[bus]
    isl &= en.bus_energized
    edges = en.edge_energized & isl[cg.from_bus]
    load = (pf.loading_pct if loading_pct is None else loading_pct)[edges]
    src = np.flatnonzero(en.source_live & isl[cg.source_bus])
    loads = np.concatenate([load[np.isfinite(load)], pf.source_loading_pct[src]])
    max_load = float(loads.max()) if len(loads) else 0.0
    vm = pf.vm_pu[isl]
    min_v = float(np.nanmin(vm)) if len(vm) else 1.0
    return (max_load <= max_loading_pct and min_v >= min_v_pu), max_load, min_v
