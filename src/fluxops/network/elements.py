"""Map any asset id to what failing it removes from the compiled graph.

Why a separate step: the cascade engine, N-1 screening and the API name assets by string id and by
type (substation, feeder, pole...), while the kernels work on edge/bus/source positions. One resolver
keeps the meaning of "this element failed" identical everywhere:

* substation → all its bus sections (as failed buses) and all its transformers (as failed sources);
* substation transformer → its source;
* feeder → its head breaker's edge;
* line segment / device → its edge;
* pole → the segment it carries (or, failing that, the bus it carries);
* bus → the bus;
* distribution transformer → itself (its customers go out, the primary stays energized);
* meter → itself (one customer out).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fluxops.core.errors import NotFoundError
from fluxops.network.compiled import EDGE_DEVICE, BoolArray, CompiledGrid, IntArray

_EMPTY = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class ElementRef:
    """What failing ``asset_id`` removes. Arrays hold positions into the compiled grid's arrays."""

    asset_id: str
    asset_type: str  # substation | substation_transformer | feeder | line_segment | <device_type> | pole |
    # bus | transformer | meter
    edges: IntArray = field(default_factory=lambda: _EMPTY)
    buses: IntArray = field(default_factory=lambda: _EMPTY)
    sources: IntArray = field(default_factory=lambda: _EMPTY)
    transformers: IntArray = field(default_factory=lambda: _EMPTY)
    meters: IntArray = field(default_factory=lambda: _EMPTY)


_INDEXES: weakref.WeakKeyDictionary[CompiledGrid, dict[str, pd.Index]] = weakref.WeakKeyDictionary()


def _find(cg: CompiledGrid, name: str, asset_id: str) -> int:
    """Position of ``asset_id`` in ``cg.<name>`` via a hash index built once per compiled grid."""
    per_grid = _INDEXES.setdefault(cg, {})
    index = per_grid.get(name)
    if index is None:
        index = per_grid[name] = pd.Index(getattr(cg, name))
    return int(index.get_indexer(pd.Index([asset_id]))[0])


def _one(i: int) -> IntArray:
    return np.array([i], dtype=np.int64)


def resolve_element(cg: CompiledGrid, asset_id: str) -> ElementRef:
    """Resolve one asset id; raises `NotFoundError` when no table holds it."""
    if asset_id in cg.bus_index:
        return ElementRef(asset_id, "bus", buses=_one(cg.bus_index[asset_id]))
    e = _find(cg, "edge_ids", asset_id)
    if e >= 0:
        kind = str(cg.device_type[e]) if cg.edge_kind[e] == EDGE_DEVICE else "line_segment"
        return ElementRef(asset_id, kind, edges=_one(e))
    s = _find(cg, "substation_ids", asset_id)
    if s >= 0:
        buses = np.flatnonzero((cg.bus_substation == s) & cg.bus_is_substation).astype(np.int64)
        sources = np.flatnonzero(cg.source_substation == s).astype(np.int64)
        return ElementRef(asset_id, "substation", buses=buses, sources=sources)
    s = _find(cg, "source_ids", asset_id)
    if s >= 0:
        return ElementRef(asset_id, "substation_transformer", sources=_one(s))
    f = _find(cg, "feeder_ids", asset_id)
    if f >= 0:
        return ElementRef(asset_id, "feeder", edges=_one(int(cg.feeder_head_edge[f])))
    p = _find(cg, "pole_ids", asset_id)
    if p >= 0:
        if cg.pole_edge[p] >= 0:
            return ElementRef(asset_id, "pole", edges=_one(int(cg.pole_edge[p])))
        if cg.pole_bus[p] >= 0:
            return ElementRef(asset_id, "pole", buses=_one(int(cg.pole_bus[p])))
        return ElementRef(asset_id, "pole")
    t = _find(cg, "xfmr_ids", asset_id)
    if t >= 0:
        return ElementRef(asset_id, "transformer", transformers=_one(t))
    m = _find(cg, "meter_ids", asset_id)
    if m >= 0:
        return ElementRef(asset_id, "meter", meters=_one(m))
    raise NotFoundError(f"no asset {asset_id!r} in the grid", details={"asset_id": asset_id})


def customers_out(
    cg: CompiledGrid,
    bus_energized: BoolArray,
    *,
    failed_transformers: IntArray | None = None,
    failed_meters: IntArray | None = None,
) -> tuple[int, int]:
    """(customers, critical customers) without supply: every customer on a de-energized bus, plus those
    behind failed distribution transformers or meters on energized buses (each counted once)."""
    dead_bus = ~bus_energized
    cust = int(cg.bus_customer_count[dead_bus].sum())
    crit = int(cg.bus_critical_count[dead_bus].sum())
    xf_dead = np.zeros(len(cg.xfmr_ids), dtype=bool)
    if failed_transformers is not None and len(failed_transformers):
        xf_dead[np.asarray(failed_transformers, np.int64)] = True
        live = xf_dead & bus_energized[cg.xfmr_bus]
        cust += int(cg.xfmr_customer_count[live].sum())
        crit += int(cg.xfmr_critical_count[live].sum())
    if failed_meters is not None and len(failed_meters):
        m = np.unique(np.asarray(failed_meters, np.int64))
        xf = cg.meter_xfmr[m]
        live_m = bus_energized[cg.xfmr_bus[xf]] & ~xf_dead[xf]
        cust += int(live_m.sum())
        crit += int((live_m & cg.meter_critical[m]).sum())
    return cust, crit
