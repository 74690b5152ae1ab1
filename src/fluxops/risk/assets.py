"""The assets a risk model scores, as one columnar table, and what a failure of each takes out.

Asset types (``RISK_ASSET_TYPES``): distribution transformers, line segments (overhead / underground),
poles, the protective and switching devices, and substation transformers. Meters, buses, feeders and
substations are not failing equipment here (a substation's failure is its transformers').

For each asset, `risk_assets` also resolves the outage a failure causes, with the OMS conventions of
`fluxops.ops.models`: the protective device that operates (the nearest upstream breaker, recloser,
sectionalizer or fuse, `fluxops.grid.topology.GridTopology.protective`), the customers it holds, and
the outage kind (``device``; ``transformer`` for a distribution transformer's own fuse cutout).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fluxops.grid.models import Grid
from fluxops.grid.topology import GridTopology
from fluxops.ops.health import HealthParams, estimated_cycle_aging_factor, transformer_load_ratios

RISK_ASSET_TYPES: tuple[str, ...] = (
    "transformer",
    "line_segment",
    "pole",
    "fuse",
    "recloser",
    "sectionalizer",
    "breaker",
    "switch",
    "substation_transformer",
)
# device types that fail as equipment (normally-open ties and bus ties carry no load: left out)
_DEVICE_TYPES = ("fuse", "recloser", "sectionalizer", "breaker", "switch")

ASSET_COLUMNS: tuple[str, ...] = (
    "asset_id",
    "asset_type",
    "feeder_id",
    "substation_id",
    "construction",  # overhead | underground | "" (not a conductor)
    "material",  # poles: wood/steel/concrete; "" otherwise
    "length_km",  # line segments; 0 otherwise
    "install_year",  # 0 = unknown (devices carry none)
    "rating",  # kVA (transformers), MVA (substation transformers), A (segments, devices); NaN else
    "k_avg",  # transformers: customers' average load / rating
    "k_peak",  # transformers: customers' design peak / rating
    "f_aa_cycle",  # transformers: C57.91 mean aging factor of a representative year (ops.health)
    "lon",
    "lat",
    "protective_device_id",  # the device that operates when the asset fails
    "outage_kind",  # device | transformer
    "customers_affected",
    "critical_customers_affected",
    "bus_a",  # the buses the asset touches (graph models): segment/device ends, a transformer's bus,
    "bus_b",  # a pole's segment ends (or its bus), a substation transformer's bus section; else None
)


def _bus_lonlat(grid: Grid) -> pd.DataFrame:
    return grid.buses.set_index("bus_id")[["lon", "lat"]]


def risk_assets(grid: Grid, *, health: HealthParams | None = None) -> pd.DataFrame:
    """One row per asset (`ASSET_COLUMNS`), in a stable order (type, then the grid's row order)."""
    hp = health or HealthParams()
    topo = GridTopology.build(grid)
    edge_tot = topo.edge_totals()
    prot_ids = topo.edges.edge_id.to_numpy(dtype=object)

    def protective_of_bus(bus_ids: pd.Series) -> np.ndarray:
        pos = topo.bus_index.get_indexer(pd.Index(bus_ids))
        p = np.where(pos >= 0, topo.protective[np.maximum(pos, 0)], -1)
        out = prot_ids[np.maximum(p, 0)].copy()
        out[p < 0] = None
        return np.asarray(out, dtype=object)

    def customers_of(device_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        idx = edge_tot.index.get_indexer(pd.Index(device_ids))
        ok = idx >= 0
        cust = np.where(ok, edge_tot["customers"].to_numpy()[np.maximum(idx, 0)], 0.0)
        crit = np.where(ok, edge_tot["critical_customers"].to_numpy()[np.maximum(idx, 0)], 0.0)
        return cust.astype(np.int64), crit.astype(np.int64)

    lonlat = _bus_lonlat(grid)
    parts: list[pd.DataFrame] = []

    xf = grid.transformers
    k_avg, k_peak = transformer_load_ratios(grid)
    tt = topo.transformer_totals.reindex(xf["transformer_id"]).fillna(0.0)
    parts.append(
        pd.DataFrame(
            {
                "asset_id": xf["transformer_id"].to_numpy(object),
                "asset_type": "transformer",
                "feeder_id": xf["feeder_id"].to_numpy(object),
                "substation_id": xf["substation_id"].to_numpy(object),
                "construction": "",
                "material": "",
                "length_km": 0.0,
                "install_year": xf["install_year"].to_numpy(np.int64),
                "rating": xf["rating_kva"].to_numpy(np.float64),
                "k_avg": k_avg,
                "k_peak": k_peak,
                "f_aa_cycle": estimated_cycle_aging_factor(k_avg, k_peak, hp),
                "lon": xf["lon"].to_numpy(np.float64),
                "lat": xf["lat"].to_numpy(np.float64),
                "protective_device_id": xf["transformer_id"].to_numpy(object),  # its own fuse cutout
                "outage_kind": "transformer",
                "customers_affected": tt["customers"].to_numpy(np.int64),
                "critical_customers_affected": tt["critical_customers"].to_numpy(np.int64),
                "bus_a": xf["bus_id"].to_numpy(object),
                "bus_b": None,
            }
        )
    )

    seg = grid.line_segments
    seg_prot = protective_of_bus(seg["to_bus_id"])
    c, cc = customers_of(seg_prot)
    mid = (lonlat.reindex(seg["from_bus_id"]).to_numpy() + lonlat.reindex(seg["to_bus_id"]).to_numpy()) / 2
    parts.append(
        pd.DataFrame(
            {
                "asset_id": seg["segment_id"].to_numpy(object),
                "asset_type": "line_segment",
                "feeder_id": seg["feeder_id"].to_numpy(object),
                "substation_id": seg["substation_id"].to_numpy(object),
                "construction": seg["construction"].to_numpy(object),
                "material": "",
                "length_km": seg["length_km"].to_numpy(np.float64),
                "install_year": seg["install_year"].to_numpy(np.int64),
                "rating": seg["ampacity_a"].to_numpy(np.float64),
                "lon": mid[:, 0],
                "lat": mid[:, 1],
                "protective_device_id": seg_prot,
                "outage_kind": "device",
                "customers_affected": c,
                "critical_customers_affected": cc,
                "bus_a": seg["from_bus_id"].to_numpy(object),
                "bus_b": seg["to_bus_id"].to_numpy(object),
            }
        )
    )

    poles = grid.poles
    # a pole carries a segment (its fault is that segment's) or a bus; mid-span poles have a segment
    seg_to = seg.set_index("segment_id")["to_bus_id"]
    seg_from = seg.set_index("segment_id")["from_bus_id"]
    pole_bus = poles["segment_id"].map(seg_to).fillna(poles["bus_id"])
    pole_bus_a = poles["segment_id"].map(seg_from).fillna(poles["bus_id"])
    pole_prot = protective_of_bus(pole_bus)
    c, cc = customers_of(pole_prot)
    parts.append(
        pd.DataFrame(
            {
                "asset_id": poles["pole_id"].to_numpy(object),
                "asset_type": "pole",
                "feeder_id": poles["feeder_id"].to_numpy(object),
                "substation_id": poles["substation_id"].to_numpy(object),
                "construction": "overhead",
                "material": poles["material"].to_numpy(object),
                "length_km": 0.0,
                "install_year": poles["install_year"].to_numpy(np.int64),
                "rating": np.nan,
                "lon": poles["lon"].to_numpy(np.float64),
                "lat": poles["lat"].to_numpy(np.float64),
                "protective_device_id": pole_prot,
                "outage_kind": "device",
                "customers_affected": c,
                "critical_customers_affected": cc,
                "bus_a": pole_bus_a.to_numpy(object),
                "bus_b": pole_bus.to_numpy(object),
            }
        )
    )

    dev = grid.devices[grid.devices["device_type"].isin(_DEVICE_TYPES)]
    # the device upstream of the failed one operates; a feeder breaker has none in the model (the bus
    # protection is not modelled): its own feeder is out
    dev_prot = protective_of_bus(dev["from_bus_id"])
    dev_prot = np.where(pd.isna(dev_prot), dev["device_id"].to_numpy(object), dev_prot).astype(object)
    c, cc = customers_of(dev_prot)
    parts.append(
        pd.DataFrame(
            {
                "asset_id": dev["device_id"].to_numpy(object),
                "asset_type": dev["device_type"].to_numpy(object),
                "feeder_id": dev["feeder_id"].to_numpy(object),
                "substation_id": dev["substation_id"].to_numpy(object),
                "construction": "",
                "material": "",
                "length_km": 0.0,
                "install_year": 0,
                "rating": dev["rating_a"].to_numpy(np.float64),
                "lon": dev["lon"].to_numpy(np.float64),
                "lat": dev["lat"].to_numpy(np.float64),
                "protective_device_id": dev_prot,
                "outage_kind": "device",
                "customers_affected": c,
                "critical_customers_affected": cc,
                "bus_a": dev["from_bus_id"].to_numpy(object),
                "bus_b": dev["to_bus_id"].to_numpy(object),
            }
        )
    )

    st = grid.substation_transformers
    fd = grid.feeders
    fc, fcc = customers_of(fd["head_device_id"].to_numpy(object))
    per_st = pd.DataFrame({"t": fd["transformer_id"].to_numpy(object), "c": fc, "cc": fcc}).groupby("t").sum()
    per_st = per_st.reindex(st["transformer_id"]).fillna(0)
    sub_ll = grid.substations.set_index("substation_id")[["lon", "lat"]].reindex(st["substation_id"])
    # the feeders' head breakers all open: the outage is recorded on the substation transformer itself
    parts.append(
        pd.DataFrame(
            {
                "asset_id": st["transformer_id"].to_numpy(object),
                "asset_type": "substation_transformer",
                "feeder_id": None,
                "substation_id": st["substation_id"].to_numpy(object),
                "construction": "",
                "material": "",
                "length_km": 0.0,
                "install_year": st["install_year"].to_numpy(np.int64),
                "rating": st["rating_mva"].to_numpy(np.float64),
                "lon": sub_ll["lon"].to_numpy(np.float64),
                "lat": sub_ll["lat"].to_numpy(np.float64),
                "protective_device_id": st["transformer_id"].to_numpy(object),
                "outage_kind": "device",
                "customers_affected": per_st["c"].to_numpy(np.int64),
                "critical_customers_affected": per_st["cc"].to_numpy(np.int64),
                "bus_a": st["bus_id"].to_numpy(object),
                "bus_b": None,
            }
        )
    )
    out = pd.concat([p.reindex(columns=list(ASSET_COLUMNS)) for p in parts], ignore_index=True)
    for col in ("k_avg", "k_peak", "f_aa_cycle"):
        out[col] = out[col].astype(np.float64)
    out["install_year"] = out["install_year"].fillna(0).astype(np.int64)
    return out
