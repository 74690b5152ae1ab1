"""Everything the cascade engine precomputes once per grid: the compiled arrays plus what the network
kernels do not carry (customers and load by ICE class, coordinates, construction and age per edge).

Why cached per grid: the API and Monte Carlo run many cascades on one grid; joining ~600K meters to
buses on every run would dominate the run time. Built vectorized (pandas joins, ``np.bincount``).
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from fluxops.cascade.coincidence import xfmr_coincidence
from fluxops.cascade.economics import ICE_CLASSES, SMALL_CI_MAX_ANNUAL_KWH
from fluxops.grid.models import Grid
from fluxops.network.compiled import EDGE_LINE, CompiledGrid, compile_grid
from fluxops.network.energization import energize
from fluxops.network.powerflow import SweepPlan, prepare_sweep

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

AUTOMATED_DEVICE_TYPES: frozenset[str] = frozenset({"breaker", "recloser", "tie_switch", "bus_tie"})
RECLOSING_DEVICE_TYPES: frozenset[str] = frozenset({"breaker", "recloser"})


@dataclass(frozen=True, eq=False)
class EngineContext:
    grid: Grid
    cg: CompiledGrid
    # per bus × ICE class (residential, small_ci, medium_large_ci)
    bus_customers_by_class: IntArray
    bus_p_kw_by_class: FloatArray
    bus_q_kvar_by_class: FloatArray
    xfmr_customers_by_class: IntArray
    xfmr_p_kw_by_class: FloatArray
    # per bus / distribution transformer × ICE class: the customers' summed annual energy (kWh/yr) —
    # the ICE cost of an interruption scales with it (`fluxops.cascade.economics.customer_cost_usd`)
    bus_annual_kwh_by_class: FloatArray
    xfmr_annual_kwh_by_class: FloatArray
    bus_lon: FloatArray
    bus_lat: FloatArray
    edge_lon: FloatArray
    edge_lat: FloatArray
    edge_length_km: FloatArray
    edge_overhead: BoolArray
    edge_install_year: FloatArray
    edge_automated: BoolArray
    xfmr_lon: FloatArray
    xfmr_lat: FloatArray
    source_lon: FloatArray
    source_lat: FloatArray
    substation_lon: FloatArray
    substation_lat: FloatArray
    base_plan: SweepPlan  # normal configuration, nothing failed
    base_parent_edge: IntArray  # per bus: parent edge in the normal tree (−1 at a source / dead)
    base_parent_src: IntArray  # per bus: source when the parent is a source (−1 otherwise)
    base_bus_pos: IntArray  # per bus: position in base_plan.free_bus (−1 when dead)
    bus_zone: IntArray  # per bus: section label (buses joined by line segments only)
    edge_type: npt.NDArray[np.object_]  # per edge: "line_segment" or the device type
    # per distribution transformer: coincident peak / sum of its customers' peak_kw (`cascade.coincidence`:
    # the generator's u(N)); empty → 1 (a context built without it)
    xfmr_coincidence: FloatArray = field(default_factory=lambda: np.zeros(0))
    # substations and pad-mounted transformers in a flood zone: freeboard in ft (pad - flood elevation),
    # from `fluxops.geo.flood` via the geo layers; empty when no flood zones are known
    flood_freeboard_ft: dict[str, float] = field(default_factory=dict)


# keyed by id(grid) (a Grid holds DataFrames, so it is not hashable); the weakref drops dead entries
_CACHE: dict[int, tuple[weakref.ref[Grid], EngineContext]] = {}
_LOCK = threading.Lock()


def get_context(grid: Grid) -> EngineContext:
    """The context for ``grid``, built once and cached for the grid object's lifetime (thread-safe)."""
    with _LOCK:
        for key in [k for k, (ref, _) in _CACHE.items() if ref() is None]:
            del _CACHE[key]
        hit = _CACHE.get(id(grid))
        if hit is not None and hit[0]() is grid:
            return hit[1]
        ctx = build_context(grid)
        _CACHE[id(grid)] = (weakref.ref(grid), ctx)
        return ctx


def _ice_class(customers: pd.DataFrame) -> npt.NDArray[np.int64]:
    cls = customers["customer_class"].astype(str).to_numpy()
    kwh = customers["annual_kwh"].to_numpy(np.float64)
    return np.where(cls == "residential", 0, np.where(kwh < SMALL_CI_MAX_ANNUAL_KWH, 1, 2)).astype(np.int64)


def build_context(grid: Grid) -> EngineContext:
    cg = compile_grid(grid)
    n_bus, n_xf, n_cls = cg.n_bus, len(cg.xfmr_ids), len(ICE_CLASSES)
    cu = grid.customers
    me = grid.meters[["meter_id", "transformer_id"]]
    joined = cu.merge(me, on="meter_id", how="inner")
    xf_pos = pd.Index(cg.xfmr_ids).get_indexer(pd.Index(joined["transformer_id"].astype(object)))
    ok = xf_pos >= 0
    joined = joined[ok]
    xf_pos = xf_pos[ok].astype(np.int64)
    cls = _ice_class(joined)
    p = joined["peak_kw"].to_numpy(np.float64)
    pf = np.clip(joined["power_factor"].fillna(1.0).to_numpy(np.float64), 1e-6, 1.0)
    q = p * np.tan(np.arccos(pf))
    flat = xf_pos * n_cls + cls
    size = n_xf * n_cls
    xf_cust = np.bincount(flat, minlength=size).reshape(n_xf, n_cls).astype(np.int64)
    xf_p = np.bincount(flat, weights=p, minlength=size).reshape(n_xf, n_cls).astype(np.float64)
    xf_q = np.bincount(flat, weights=q, minlength=size).reshape(n_xf, n_cls).astype(np.float64)
    kwh = np.nan_to_num(joined["annual_kwh"].to_numpy(np.float64), nan=0.0)
    xf_kwh = np.bincount(flat, weights=kwh, minlength=size).reshape(n_xf, n_cls).astype(np.float64)
    bus_cust = np.zeros((n_bus, n_cls), np.int64)
    bus_p = np.zeros((n_bus, n_cls))
    bus_q = np.zeros((n_bus, n_cls))
    np.add.at(bus_cust, cg.xfmr_bus, xf_cust)
    np.add.at(bus_p, cg.xfmr_bus, xf_p)
    np.add.at(bus_q, cg.xfmr_bus, xf_q)
    bus_kwh = np.zeros((n_bus, n_cls))
    np.add.at(bus_kwh, cg.xfmr_bus, xf_kwh)

    buses = grid.buses
    bus_lon = buses["lon"].to_numpy(np.float64)
    bus_lat = buses["lat"].to_numpy(np.float64)
    seg, dev = grid.line_segments, grid.devices
    n_seg = len(seg)
    fb, tb = cg.from_bus, cg.to_bus
    edge_lon = np.concatenate(
        [(bus_lon[fb[:n_seg]] + bus_lon[tb[:n_seg]]) / 2.0, dev["lon"].to_numpy(np.float64)]
    )
    edge_lat = np.concatenate(
        [(bus_lat[fb[:n_seg]] + bus_lat[tb[:n_seg]]) / 2.0, dev["lat"].to_numpy(np.float64)]
    )
    length = np.concatenate([seg["length_km"].to_numpy(np.float64), np.zeros(len(dev))])
    overhead = np.concatenate([(seg["construction"] == "overhead").to_numpy(bool), np.zeros(len(dev), bool)])
    year = np.concatenate([seg["install_year"].to_numpy(np.float64), np.full(len(dev), np.nan)])
    automated = np.array([str(t) in AUTOMATED_DEVICE_TYPES for t in cg.device_type], dtype=bool)

    xf = grid.transformers
    sub = grid.substations.set_index("substation_id")
    sub_lon = sub["lon"].reindex(cg.substation_ids).to_numpy(np.float64)
    sub_lat = sub["lat"].reindex(cg.substation_ids).to_numpy(np.float64)

    en = energize(cg)
    plan = prepare_sweep(cg, en)
    parent_edge = np.full(n_bus, -1, np.int64)
    parent_src = np.full(n_bus, -1, np.int64)
    pos = np.full(n_bus, -1, np.int64)
    parent_edge[plan.free_bus] = plan.parent_edge
    parent_src[plan.free_bus] = plan.parent_src
    pos[plan.free_bus] = np.arange(len(plan.free_bus))
    return EngineContext(
        grid=grid,
        cg=cg,
        bus_customers_by_class=bus_cust,
        bus_p_kw_by_class=bus_p,
        bus_q_kvar_by_class=bus_q,
        xfmr_customers_by_class=xf_cust,
        xfmr_p_kw_by_class=xf_p,
        bus_annual_kwh_by_class=bus_kwh,
        xfmr_annual_kwh_by_class=xf_kwh,
        bus_lon=bus_lon,
        bus_lat=bus_lat,
        edge_lon=edge_lon,
        edge_lat=edge_lat,
        edge_length_km=length,
        edge_overhead=overhead,
        edge_install_year=year,
        edge_automated=automated,
        xfmr_lon=xf["lon"].to_numpy(np.float64),
        xfmr_lat=xf["lat"].to_numpy(np.float64),
        source_lon=sub_lon[cg.source_substation],
        source_lat=sub_lat[cg.source_substation],
        substation_lon=sub_lon,
        substation_lat=sub_lat,
        base_plan=plan,
        base_parent_edge=parent_edge,
        base_parent_src=parent_src,
        base_bus_pos=pos,
        bus_zone=_line_zones(cg),
        edge_type=np.where(cg.edge_kind == EDGE_LINE, "line_segment", cg.device_type).astype(object),
        xfmr_coincidence=xfmr_coincidence(xf_pos, joined["customer_class"], p, n_xf),
    )


def _line_zones(cg: CompiledGrid) -> IntArray:
    """Per bus: label of its section (buses joined by line segments only; devices bound sections)."""
    m = cg.edge_kind == EDGE_LINE
    adj = sparse.coo_matrix(
        (np.ones(int(m.sum()), np.int8), (cg.from_bus[m], cg.to_bus[m])), shape=(cg.n_bus, cg.n_bus)
    ).tocsr()
    _, labels = csgraph.connected_components(adj, directed=False)
    return np.asarray(labels, np.int64)


def scenario_loads(
    ctx: EngineContext, load_multiplier: float, residential_factor: float, bus_scale: FloatArray | None = None
) -> tuple[FloatArray, FloatArray]:
    """Per-bus (p_kw, q_kvar) for a scenario: class loads × multiplier (residential × heating factor)."""
    w = np.array([residential_factor, 1.0, 1.0]) * load_multiplier
    p = ctx.bus_p_kw_by_class @ w
    q = ctx.bus_q_kvar_by_class @ w
    if bus_scale is not None:
        p = p * bus_scale
        q = q * bus_scale
    return np.asarray(p, np.float64), np.asarray(q, np.float64)


_LOCAL: dict[tuple[int, frozenset[int]], tuple[weakref.ref[Grid], EngineContext]] = {}
TIE_HOPS = 2  # a distribution cascade crosses to other substations only through ties; 2 hops of margin


def substation_neighbours(ctx: EngineContext) -> list[set[int]]:
    """Per substation: substations joined to it by a tie or bus tie (any state)."""
    cg = ctx.cg
    is_tie = np.isin(cg.device_type, ("tie_switch", "bus_tie"))
    a = cg.bus_substation[cg.from_bus[is_tie]]
    b = cg.bus_substation[cg.to_bus[is_tie]]
    out: list[set[int]] = [set() for _ in range(len(cg.substation_ids))]
    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        if x != y:
            out[x].add(y)
            out[y].add(x)
    return out


def local_context(ctx: EngineContext, substations: set[int]) -> EngineContext:
    """The context of the sub-grid made of ``substations`` and those within `TIE_HOPS` ties of them.

    Why: a fault cannot reach a substation that no tie connects, so solving flows for the whole utility
    on every wave is wasted work; results on the sub-grid are the same for the elements it holds.
    Returns ``ctx`` itself when the closure is the whole grid. Cached per (grid, substation set).
    """
    neigh = substation_neighbours(ctx)
    keep = set(substations)
    frontier = set(substations)
    for _ in range(TIE_HOPS):
        frontier = {n for s in frontier for n in neigh[s]} - keep
        keep |= frontier
    if len(keep) >= len(ctx.cg.substation_ids):
        return ctx
    key = (id(ctx.grid), frozenset(keep))
    with _LOCK:
        hit = _LOCAL.get(key)
        if hit is not None and hit[0]() is ctx.grid:
            return hit[1]
    sub = subgrid(ctx.grid, {str(ctx.cg.substation_ids[s]) for s in keep})
    local = build_context(sub)
    with _LOCK:
        for k in [k for k, (ref, _) in _LOCAL.items() if ref() is None]:
            del _LOCAL[k]
        _LOCAL[key] = (weakref.ref(ctx.grid), local)
    return local


def subgrid(grid: Grid, substation_ids: set[str]) -> Grid:
    """The elements of ``substation_ids`` only; ties to other substations are left out."""
    from fluxops.grid.models import grid_from_tables

    tables: dict[str, pd.DataFrame] = {}
    for name, df in grid.tables().items():
        if "substation_id" in df.columns:
            tables[name] = df[df["substation_id"].isin(substation_ids)]
    buses = set(tables["buses"]["bus_id"])
    dev = tables["devices"]
    tables["devices"] = dev[dev["from_bus_id"].isin(buses) & dev["to_bus_id"].isin(buses)]
    cu = grid.customers
    tables["customers"] = cu[cu["meter_id"].isin(tables["meters"]["meter_id"])]
    return grid_from_tables(grid.meta, tables)
