"""Feeder, substation and utility-wide summaries, and topology edges for drawing.

Why computed here from the data: the API's /api/feeders, /api/substations, /api/kpis and
/api/topology must show what the loaded grid contains (generated or imported), never configured
figures. Everything is vectorized over the tables plus the `GridTopology` downstream totals.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import shapely

from fluxops.core.errors import NotFoundError
from fluxops.grid.models import ASSET_TYPES, MAP_ASSET_TYPES, Grid
from fluxops.grid.ports import BBox
from fluxops.grid.topology import TOTAL_COLUMNS, GridTopology, bus_levels

EDGE_COLUMNS: tuple[str, ...] = (
    "edge_id",
    "kind",
    "feeder_id",
    "substation_id",
    "from_id",
    "to_id",
    "from_lon",
    "from_lat",
    "to_lon",
    "to_lat",
    "state",
    "normal_state",
)


def _segment_bounds(grid: Grid) -> pd.DataFrame:
    seg = grid.line_segments
    b = shapely.bounds(shapely.from_wkb(seg.geometry_wkb.to_numpy()))
    return pd.DataFrame(
        {
            "feeder_id": seg.feeder_id.to_numpy(),
            "min_lon": b[:, 0],
            "min_lat": b[:, 1],
            "max_lon": b[:, 2],
            "max_lat": b[:, 3],
        }
    )


def segment_loading(grid: Grid, topo: GridTopology) -> pd.DataFrame:
    """Per segment at normal peak: downstream kVA, balanced three-phase current, loading vs ampacity."""
    seg = grid.line_segments
    totals = topo.edge_totals().reindex(seg.segment_id)
    kva = totals.peak_kva.to_numpy()
    v_kv = seg.to_bus_id.map(grid.buses.set_index("bus_id")["v_nom_kv"]).to_numpy(dtype=float)
    current = kva / (math.sqrt(3.0) * v_kv)
    return pd.DataFrame(
        {
            "segment_id": seg.segment_id.to_numpy(),
            "feeder_id": seg.feeder_id.to_numpy(),
            "peak_kva": kva,
            "current_a": current,
            "ampacity_a": seg.ampacity_a.to_numpy(),
            "loading_pct": 100.0 * current / seg.ampacity_a.to_numpy(),
        }
    )


def bus_voltage_drop_pct(grid: Grid, topo: GridTopology, power_factor: float = 0.95) -> pd.Series:
    """Estimated primary voltage drop (% of nominal) from the source to every bus at normal peak.

    Balanced three-phase estimate: per segment dV = I (R cos(phi) + X sin(phi)) L with I from the
    downstream peak kVA; summed down the tree one level at a time. Not a power flow (no losses,
    regulators or unbalance); a planning check that the trunk is not undersized."""
    seg = grid.line_segments
    load = segment_loading(grid, topo)
    sin = math.sqrt(1.0 - power_factor**2)
    dv = (
        load.current_a.to_numpy()
        * (seg.r_ohm_per_km.to_numpy() * power_factor + seg.x_ohm_per_km.to_numpy() * sin)
        * seg.length_km.to_numpy()
    )
    v_ln = (
        seg.to_bus_id.map(grid.buses.set_index("bus_id")["v_nom_kv"]).to_numpy(dtype=float)
        * 1000.0
        / math.sqrt(3.0)
    )
    edge_drop = np.zeros(len(topo.edges))
    edge_drop[topo.edge_index.get_indexer(pd.Index(seg.segment_id))] = 100.0 * dv / v_ln
    drop = np.zeros(len(topo.bus_index))
    for idx in bus_levels(topo)[1:]:
        drop[idx] = drop[topo.parent_bus[idx]] + edge_drop[topo.parent_edge[idx]]
    return pd.Series(drop, index=topo.bus_index)


def feeder_summaries(grid: Grid, topo: GridTopology) -> pd.DataFrame:
    """One row per feeder: downstream totals, length by construction, bbox, head loading, tie points."""
    fdr = grid.feeders
    head_totals = topo.bus_totals.reindex(fdr.head_bus_id.to_numpy())
    out = pd.DataFrame(
        {
            "feeder_id": fdr.feeder_id.to_numpy(),
            "name": fdr.name.to_numpy(),
            "substation_id": fdr.substation_id.to_numpy(),
        }
    )
    for col in TOTAL_COLUMNS:
        out[col] = head_totals[col].to_numpy()
    for col in ("transformers", "meters", "customers", "critical_customers"):
        out[col] = out[col].astype(np.int64)
    seg = grid.line_segments
    length = seg.pivot_table(
        index="feeder_id", columns="construction", values="length_km", aggfunc="sum", fill_value=0.0
    )
    for kind in ("overhead", "underground"):
        out[f"length_km_{kind}"] = (
            out.feeder_id.map(length[kind] if kind in length else pd.Series(dtype=float))
            .fillna(0.0)
            .to_numpy()
        )
    out["length_km"] = out.length_km_overhead + out.length_km_underground
    v = fdr.v_nom_kv.to_numpy()
    out["peak_current_a"] = out.peak_kva.to_numpy() / (math.sqrt(3.0) * v)
    loading = segment_loading(grid, topo)
    out["max_segment_loading_pct"] = (
        out.feeder_id.map(loading.groupby("feeder_id").loading_pct.max()).fillna(0.0).to_numpy()
    )
    bounds = (
        _segment_bounds(grid)
        .groupby("feeder_id")
        .agg(
            min_lon=("min_lon", "min"),
            min_lat=("min_lat", "min"),
            max_lon=("max_lon", "max"),
            max_lat=("max_lat", "max"),
        )
    )
    out = out.join(bounds, on="feeder_id")
    ties = _tie_points(grid)
    out["tie_points"] = pd.Series([ties.get(f, []) for f in out.feeder_id], index=out.index, dtype=object)
    drop = bus_voltage_drop_pct(grid, topo)
    out["max_voltage_drop_pct"] = (
        out.feeder_id.map(drop.groupby(grid.buses.feeder_id.to_numpy()).max()).fillna(0.0).to_numpy()
    )
    return out


def _tie_points(grid: Grid) -> dict[str, list[dict[str, Any]]]:
    """Feeder id -> list of {device_id, other_feeder_id, lon, lat, state, normal_state}.

    Loops over tie switches only (a few per feeder)."""
    ties = grid.devices[grid.devices.device_type == "tie_switch"]
    cols = ["device_id", "feeder_id", "tie_feeder_id", "lon", "lat", "state", "normal_state"]
    out: dict[str, list[dict[str, Any]]] = {}
    for r in ties[cols].to_dict("records"):
        for this, other in ((r["feeder_id"], r["tie_feeder_id"]), (r["tie_feeder_id"], r["feeder_id"])):
            point = {
                "device_id": r["device_id"],
                "other_feeder_id": other,
                "lon": float(r["lon"]),
                "lat": float(r["lat"]),
                "state": r["state"],
                "normal_state": r["normal_state"],
            }
            out.setdefault(str(this), []).append(point)
    return out


def substation_summaries(grid: Grid, topo: GridTopology) -> pd.DataFrame:
    """One row per substation: feeders, power transformers and capacity, downstream totals, peak loading."""
    subs = grid.substations
    stx = grid.substation_transformers
    out = subs[["substation_id", "name", "lon", "lat", "v_hv_kv", "v_lv_kv"]].copy()
    out["feeders"] = (
        out.substation_id.map(grid.feeders.groupby("substation_id").size()).fillna(0).astype(np.int64)
    )
    out["power_transformers"] = (
        out.substation_id.map(stx.groupby("substation_id").size()).fillna(0).astype(np.int64)
    )
    out["capacity_mva"] = out.substation_id.map(stx.groupby("substation_id").rating_mva.sum()).fillna(0.0)
    per_section = topo.bus_totals.reindex(stx.bus_id.to_numpy())
    per_section.index = stx.substation_id.to_numpy()
    totals = per_section.groupby(level=0).sum()
    for col in TOTAL_COLUMNS:
        out[col] = out.substation_id.map(totals[col]).fillna(0.0)
    for col in ("transformers", "meters", "customers", "critical_customers"):
        out[col] = out[col].astype(np.int64)
    cap = out.capacity_mva.replace(0.0, np.nan)
    out["peak_loading_pct"] = (100.0 * out.peak_kva / 1000.0 / cap).fillna(0.0)
    return out


def kpis(grid: Grid) -> dict[str, Any]:
    """Utility-wide figures computed from the tables: customers, load, counts by asset type."""
    cu = grid.customers
    dev_counts = grid.devices.device_type.value_counts()
    counts: dict[str, int] = {}
    for t in ASSET_TYPES:
        if t == "substation":
            counts[t] = len(grid.substations)
        elif t == "substation_transformer":
            counts[t] = len(grid.substation_transformers)
        elif t == "feeder":
            counts[t] = len(grid.feeders)
        elif t == "line_segment":
            counts[t] = len(grid.line_segments)
        elif t == "pole":
            counts[t] = len(grid.poles)
        elif t == "transformer":
            counts[t] = len(grid.transformers)
        elif t == "meter":
            counts[t] = len(grid.meters)
        else:
            counts[t] = int(dev_counts.get(t, 0))
    seg = grid.line_segments
    return {
        "customers": len(cu),
        "customers_by_class": {
            str(k): int(v) for k, v in cu.customer_class.value_counts().sort_index().items()
        },
        "critical_customers": int(cu.is_critical.sum()),
        "critical_by_type": {str(k): int(v) for k, v in cu.critical_type.value_counts().sort_index().items()},
        "connected_kva": float(grid.transformers.rating_kva.sum()),
        "substation_capacity_mva": float(grid.substation_transformers.rating_mva.sum()),
        "peak_mw": float(cu.peak_kw.sum() / 1000.0),
        "annual_gwh": float(cu.annual_kwh.sum() / 1e6),
        "pv_customers": int(cu.has_pv.sum()),
        "pv_mw": float(cu.pv_kw.sum() / 1000.0),
        "length_km": {str(k): float(v) for k, v in seg.groupby("construction").length_km.sum().items()},
        "counts_by_type": counts,
        "map_assets": int(sum(counts[t] for t in MAP_ASSET_TYPES)),
    }


def topology_edges(grid: Grid, feeder_id: str | None = None, bbox: BBox | None = None) -> pd.DataFrame:
    """Segments and devices as drawable edges (EDGE_COLUMNS), optionally for one feeder (ties that
    reach it included) and/or those whose extent intersects a lon/lat box."""
    if feeder_id is not None and not (grid.feeders.feeder_id == feeder_id).any():
        raise NotFoundError(f"no feeder with id {feeder_id!r}", details={"feeder_id": feeder_id})
    xy = grid.buses.set_index("bus_id")[["lon", "lat"]]
    seg, dev = grid.line_segments, grid.devices
    edges = pd.DataFrame(
        {
            "edge_id": np.concatenate(
                [seg.segment_id.to_numpy(dtype=object), dev.device_id.to_numpy(dtype=object)]
            ),
            "kind": np.concatenate(
                [np.full(len(seg), "line_segment", dtype=object), dev.device_type.to_numpy(dtype=object)]
            ),
            "feeder_id": np.concatenate(
                [seg.feeder_id.to_numpy(dtype=object), dev.feeder_id.to_numpy(dtype=object)]
            ),
            "tie_feeder_id": np.concatenate(
                [np.full(len(seg), None, dtype=object), dev.tie_feeder_id.to_numpy(dtype=object)]
            ),
            "substation_id": np.concatenate(
                [seg.substation_id.to_numpy(dtype=object), dev.substation_id.to_numpy(dtype=object)]
            ),
            "from_id": np.concatenate(
                [seg.from_bus_id.to_numpy(dtype=object), dev.from_bus_id.to_numpy(dtype=object)]
            ),
            "to_id": np.concatenate(
                [seg.to_bus_id.to_numpy(dtype=object), dev.to_bus_id.to_numpy(dtype=object)]
            ),
            "state": np.concatenate(
                [np.full(len(seg), "closed", dtype=object), dev.state.to_numpy(dtype=object)]
            ),
            "normal_state": np.concatenate(
                [np.full(len(seg), "closed", dtype=object), dev.normal_state.to_numpy(dtype=object)]
            ),
        }
    )
    f = xy.reindex(edges.from_id.to_numpy())
    t = xy.reindex(edges.to_id.to_numpy())
    edges["from_lon"], edges["from_lat"] = f.lon.to_numpy(), f.lat.to_numpy()
    edges["to_lon"], edges["to_lat"] = t.lon.to_numpy(), t.lat.to_numpy()
    keep = np.ones(len(edges), dtype=bool)
    if feeder_id is not None:
        keep &= ((edges.feeder_id == feeder_id) | (edges.tie_feeder_id == feeder_id)).to_numpy()
    if bbox is not None:
        f_lon, t_lon = edges.from_lon.to_numpy(), edges.to_lon.to_numpy()
        f_lat, t_lat = edges.from_lat.to_numpy(), edges.to_lat.to_numpy()
        lo_lon, hi_lon = np.fmin(f_lon, t_lon), np.fmax(f_lon, t_lon)
        lo_lat, hi_lat = np.fmin(f_lat, t_lat), np.fmax(f_lat, t_lat)
        keep &= (
            (hi_lon >= bbox.min_lon)
            & (lo_lon <= bbox.max_lon)
            & (hi_lat >= bbox.min_lat)
            & (lo_lat <= bbox.max_lat)
        )
    return edges.loc[keep, list(EDGE_COLUMNS)].reset_index(drop=True)
