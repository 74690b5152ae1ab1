"""Outage groups at the end of a cascade: which repair brings which customers back.

Why: restoration, economic cost and MWh unserved all need "customers behind repair X, which waits for
repair Y upstream". Each repair *action* (a faulted element, a device tripped on overload, a failed
transformer) is anchored in the normal-configuration spanning tree; a still-dead bus belongs to the
deepest action on its path to the source. Membership of every bus under an action is one sparse
triangular solve with the tree matrix ``L`` of the base power-flow plan (``x_k = x_parent(k) + s_k``
propagates a marker down the tree in linear time, no Python loop over buses).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fluxops.cascade.context import EngineContext
from fluxops.cascade.economics import ICE_CLASSES
from fluxops.cascade.models import OutageGroup
from fluxops.cascade.repair import construction_of_edge

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class RepairAction:
    key: str  # group key; actions merged into one repair share it
    element_id: str
    element_type: str
    repair_kind: str  # repair | replace | reclose
    lon: float
    lat: float
    edges: tuple[int, ...] = ()  # anchors: the subtree below each edge
    buses: tuple[int, ...] = ()  # anchors: the subtree from each bus
    sources: tuple[int, ...] = ()  # anchors: everything fed by the source in the normal configuration
    xfmr: int = -1  # a leaf: only this distribution transformer's customers


def _membership(ctx: EngineContext, a: RepairAction) -> BoolArray:
    """Per bus: True when ``a`` lies on the bus's normal path to its source (inclusive)."""
    cg, plan = ctx.cg, ctx.base_plan
    n_free = len(plan.free_bus)
    out = np.zeros(cg.n_bus, bool)
    if a.sources:
        out[plan.free_bus[np.isin(plan.src_node_of_free, np.asarray(a.sources))]] = True
    seeds = np.zeros(n_free)
    for e in a.edges:
        f, t = int(cg.from_bus[e]), int(cg.to_bus[e])
        child = t if ctx.base_parent_edge[t] == e else (f if ctx.base_parent_edge[f] == e else -1)
        if child >= 0 and ctx.base_bus_pos[child] >= 0:
            seeds[ctx.base_bus_pos[child]] = 1.0
    for b in a.buses:
        if ctx.base_bus_pos[b] >= 0:
            seeds[ctx.base_bus_pos[b]] = 1.0
    if seeds.any():
        x = plan.lu.solve(seeds)
        out[plan.free_bus[x > 0.5]] = True
    return out


def build_groups(
    ctx: EngineContext,
    actions: list[RepairAction],
    bus_dead: BoolArray,
    failed_xfmr: BoolArray,
    p_kw: npt.NDArray[np.float64],
    scale_by_class: npt.NDArray[np.float64],
) -> tuple[list[OutageGroup], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """One `OutageGroup` per action key, with the still-dead customers it restores and its dependencies.

    ``p_kw`` is the scenario load per bus; ``scale_by_class`` the per-class load multipliers (so group
    loads by class add up to the scenario load). Also returns, per bus and per distribution transformer,
    the index of the group that restores it (−1 for none).
    """
    cg = ctx.cg
    bus_actions = [a for a in actions if a.xfmr < 0]
    members = np.stack([_membership(ctx, a) for a in bus_actions], axis=1) if bus_actions else None
    keys = list(dict.fromkeys(a.key for a in actions))
    key_pos = {k: i for i, k in enumerate(keys)}
    first = {a.key: a for a in reversed(actions)}
    depth = np.zeros(len(bus_actions))
    nearest = np.full(cg.n_bus, -1, np.int64)
    if members is not None:
        anchor = [_anchor_bus(ctx, a) for a in bus_actions]
        for j, b in enumerate(anchor):
            depth[j] = float(members[b].sum()) if b >= 0 else 0.0
        order = np.argsort(depth, kind="stable")
        for j in order:  # deeper actions overwrite shallower ones
            nearest[members[:, j]] = j
    # failed transformers' customers are their own group; exclude them from their bus's group
    xf_cls = ctx.xfmr_customers_by_class * failed_xfmr[:, None]
    xf_p_cls = ctx.xfmr_p_kw_by_class * failed_xfmr[:, None]
    bus_cls = ctx.bus_customers_by_class.copy()
    bus_p_cls = ctx.bus_p_kw_by_class.copy()
    bus_kwh_cls = ctx.bus_annual_kwh_by_class.copy()
    np.subtract.at(bus_cls, cg.xfmr_bus, xf_cls)
    np.subtract.at(bus_p_cls, cg.xfmr_bus, xf_p_cls)
    np.subtract.at(bus_kwh_cls, cg.xfmr_bus, ctx.xfmr_annual_kwh_by_class * failed_xfmr[:, None])
    bus_p_cls = bus_p_cls * scale_by_class[None, :]
    bus_crit = cg.bus_critical_count - np.bincount(
        cg.xfmr_bus, weights=cg.xfmr_critical_count * failed_xfmr, minlength=cg.n_bus
    ).astype(np.int64)

    n_k, n_c = len(keys), len(ICE_CLASSES)
    cust = np.zeros((n_k, n_c), np.int64)
    pkw = np.zeros((n_k, n_c))
    kwh = np.zeros((n_k, n_c))
    crit = np.zeros(n_k, np.int64)
    dead_idx = np.flatnonzero(bus_dead & (nearest >= 0))
    if len(dead_idx):
        gk = np.array([key_pos[bus_actions[j].key] for j in nearest[dead_idx]], np.int64)
        np.add.at(cust, gk, bus_cls[dead_idx])
        np.add.at(pkw, gk, bus_p_cls[dead_idx])
        np.add.at(kwh, gk, bus_kwh_cls[dead_idx])
        np.add.at(crit, gk, bus_crit[dead_idx])
    unattributed = np.flatnonzero(bus_dead & (nearest < 0))
    if len(unattributed) and keys:
        np.add.at(cust, 0, bus_cls[unattributed].sum(axis=0))
        np.add.at(pkw, 0, bus_p_cls[unattributed].sum(axis=0))
        np.add.at(kwh, 0, bus_kwh_cls[unattributed].sum(axis=0))
        crit[0] += int(bus_crit[unattributed].sum())
    deps: dict[str, list[str]] = {k: [] for k in keys}
    for a in actions:
        up_bus = _anchor_bus(ctx, a) if a.xfmr < 0 else int(cg.xfmr_bus[a.xfmr])
        if a.xfmr >= 0:
            ki = key_pos[a.key]
            cust[ki] += ctx.xfmr_customers_by_class[a.xfmr]
            pkw[ki] += ctx.xfmr_p_kw_by_class[a.xfmr] * scale_by_class
            kwh[ki] += ctx.xfmr_annual_kwh_by_class[a.xfmr]
            crit[ki] += int(cg.xfmr_critical_count[a.xfmr])
            if up_bus >= 0 and nearest[up_bus] >= 0 and bus_dead[up_bus]:
                _add_dep(deps, a.key, bus_actions[int(nearest[up_bus])].key)
            continue
        if members is None or up_bus < 0:
            continue
        # the deepest other action above this one's anchor
        above = [
            j
            for j in np.flatnonzero(members[up_bus])
            if bus_actions[j].key != a.key and depth[j] <= depth[bus_actions.index(a)]
        ]
        if above:
            best = max(above, key=lambda j: depth[j])
            _add_dep(deps, a.key, bus_actions[best].key)
    bus_group = np.full(cg.n_bus, -1, np.int64)
    if members is not None:
        has = nearest >= 0
        key_of_action = np.array([key_pos[a.key] for a in bus_actions], np.int64)
        bus_group[has] = key_of_action[nearest[has]]
    if keys:
        bus_group[bus_dead & (bus_group < 0)] = 0
    bus_group[~bus_dead] = -1
    xfmr_group = np.full(len(cg.xfmr_ids), -1, np.int64)
    for a in actions:
        if a.xfmr >= 0:
            xfmr_group[a.xfmr] = key_pos[a.key]
    groups = []
    for k in keys:
        a = first[k]
        i = key_pos[k]
        groups.append(
            OutageGroup(
                group_id=k,
                repair_element_id=a.element_id,
                repair_element_type=a.element_type,
                repair_kind=a.repair_kind,
                lon=a.lon,
                lat=a.lat,
                customers=int(cust[i].sum()),
                critical=int(crit[i]),
                p_kw=round(float(pkw[i].sum()), 3),
                customers_by_class={c: int(cust[i, j]) for j, c in enumerate(ICE_CLASSES)},
                p_kw_by_class={c: round(float(pkw[i, j]), 3) for j, c in enumerate(ICE_CLASSES)},
                depends_on=deps[k],
                construction=(
                    construction_of_edge(ctx, int(a.edges[0]))
                    if a.edges and a.element_type == "line_segment"
                    else ""
                ),
                annual_kwh_by_class={c: round(float(kwh[i, j]), 1) for j, c in enumerate(ICE_CLASSES)},
            )
        )
    return groups, bus_group, xfmr_group


def _add_dep(deps: dict[str, list[str]], key: str, up: str) -> None:
    if up != key and up not in deps[key]:
        deps[key].append(up)


def _anchor_bus(ctx: EngineContext, a: RepairAction) -> int:
    """The bus where an action sits in the normal tree (the upstream end of its first edge)."""
    cg = ctx.cg
    if a.edges:
        e = a.edges[0]
        f, t = int(cg.from_bus[e]), int(cg.to_bus[e])
        return f if ctx.base_parent_edge[t] == e else t
    if a.buses:
        return int(a.buses[0])
    if a.sources:
        return int(cg.source_bus[a.sources[0]])
    return -1
