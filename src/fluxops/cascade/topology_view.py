"""The compiled grid's buses and edges as rows, for the seed's `GET /api/cascade/grid-topology`.

Kept beside the engine (not in the API) so the route only parses and delegates; the slice is bounded
(``limit`` buses, twice as many edges) and says when it was truncated.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fluxops.cascade.context import EngineContext
from fluxops.core.errors import NotFoundError


def topology_slice(
    ctx: EngineContext,
    bus_feeder_ids: Any,
    *,
    substation_id: str | None,
    feeder_id: str | None,
    limit: int,
) -> dict[str, Any]:
    """Buses (with customers and design load) and edges (segments and devices with state and rating)
    of one substation and/or feeder, or of the whole grid; unknown ids raise `NotFoundError`."""
    cg = ctx.cg
    mask = np.ones(cg.n_bus, bool)
    if substation_id is not None:
        s = np.flatnonzero(cg.substation_ids == substation_id)
        if not len(s):
            raise NotFoundError(f"no substation {substation_id!r}", details={"substation_id": substation_id})
        mask &= cg.bus_substation == s[0]
    if feeder_id is not None:
        fb = np.asarray(bus_feeder_ids, object) == feeder_id
        if not fb.any():
            raise NotFoundError(f"no feeder {feeder_id!r}", details={"feeder_id": feeder_id})
        mask &= fb
    buses = np.flatnonzero(mask)[:limit]
    keep = np.zeros(cg.n_bus, bool)
    keep[buses] = True
    edges = np.flatnonzero(keep[cg.from_bus] & keep[cg.to_bus])[: limit * 2]
    return {
        "nodes": [_node(ctx, int(b)) for b in buses],
        "edges": [_edge(ctx, int(e)) for e in edges],
        "total_nodes": int(mask.sum()),
        "truncated": bool(mask.sum() > limit),
    }


def _node(ctx: EngineContext, b: int) -> dict[str, Any]:
    cg = ctx.cg
    return {
        "id": str(cg.bus_ids[b]),
        "lon": float(ctx.bus_lon[b]),
        "lat": float(ctx.bus_lat[b]),
        "is_substation": bool(cg.bus_is_substation[b]),
        "customers": int(cg.bus_customer_count[b]),
        "critical": int(cg.bus_critical_count[b]),
        "p_kw_design": round(float(cg.bus_p_kw[b]), 2),
    }


def _edge(ctx: EngineContext, e: int) -> dict[str, Any]:
    cg = ctx.cg
    return {
        "id": str(cg.edge_ids[e]),
        "from": str(cg.bus_ids[cg.from_bus[e]]),
        "to": str(cg.bus_ids[cg.to_bus[e]]),
        "type": "line_segment" if cg.edge_kind[e] == 0 else str(cg.device_type[e]),
        "closed": bool(cg.closed_state[e]),
        "rating_a": float(cg.ampacity_a[e]),
    }
