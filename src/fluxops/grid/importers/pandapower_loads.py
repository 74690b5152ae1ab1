"""Loads and static generators → distribution transformers, meters and customers (import leaves).

Each in-service pandapower ``load`` is an aggregate load point (an MV/LV station in mv_oberrhein, an LV
grid or a commercial connection in SimBench): one transformer, one meter, one customer with
``peak_kw = p_mw·scaling`` and its power factor. ``sgen`` rows add installed PV (``pv_kw = p_mw``) to the
first customer of their bus, or a generation-only customer (``peak_kw = 0``) where the bus has no load.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fluxops.grid.importers.pandapower_mapping import (
    LV_SERVICE_V,
    ImportReport,
    customer_class,
    dist_xfmr_z_pct,
    fail,
)


def _col(df: pd.DataFrame, name: str, default: Any) -> pd.Series:
    if name in df.columns:
        return df[name]
    return pd.Series(default, index=df.index)


def build_leaf_tables(
    net: Any,
    bus: pd.DataFrame,
    bus_ix: pd.Index,
    bus_feeder: np.ndarray,  # type: ignore[type-arg]
    bus_sub: np.ndarray,  # type: ignore[type-arg]
    is_sec: np.ndarray,  # type: ignore[type-arg]
    feeders: pd.DataFrame,
    coords: pd.DataFrame,
    report: ImportReport,
) -> dict[str, pd.DataFrame]:
    loads = net.load[_col(net.load, "in_service", True).fillna(True).astype(bool)] if "load" in net else None
    if loads is None:
        loads = pd.DataFrame(columns=["bus", "p_mw", "q_mvar"])
    sgens = net.sgen[_col(net.sgen, "in_service", True).fillna(True).astype(bool)] if "sgen" in net else None
    if sgens is None:
        sgens = pd.DataFrame(columns=["bus", "p_mw"])
    first_feeder = feeders.groupby("substation_id")["feeder_id"].first()
    feeder_of_bus = np.where(pd.isna(bus_feeder), first_feeder.reindex(bus_sub).to_numpy(object), bus_feeder)

    # --- loads ---------------------------------------------------------------------------------
    for c in ("bus", "p_mw", "q_mvar"):
        bad = loads[c].isna().to_numpy() if c in loads.columns else np.ones(len(loads), bool)
        if bad.any():
            raise fail("load", loads.index[bad][0], c, "is missing")
    lpos = bus_ix.get_indexer(pd.Index(loads["bus"].map(lambda b: f"BUS-{b}")))
    if (lpos < 0).any():
        raise fail("load", loads.index[lpos < 0][0], "bus", "is not a distribution bus in service")
    scaling = _col(loads, "scaling", 1.0).fillna(1.0).to_numpy(float)
    p_kw = loads["p_mw"].to_numpy(float) * scaling * 1000.0
    q_kvar = loads["q_mvar"].to_numpy(float) * scaling * 1000.0
    s_kva = np.hypot(p_kw, q_kvar)
    pf = np.where(s_kva > 0, np.abs(p_kw) / np.where(s_kva > 0, s_kva, 1.0), 1.0)
    if (q_kvar < 0).any():
        report.notes.append(
            f"{int((q_kvar < 0).sum())} load(s) with capacitive q: power factor kept, sign lost"
        )
    volt_dep = (_col(loads, "const_z_p_percent", 0.0).fillna(0) != 0) | (
        _col(loads, "const_i_p_percent", 0.0).fillna(0) != 0
    )
    if volt_dep.any():
        report.dropped["load.const_z/const_i (modelled as constant power)"] = int(volt_dep.sum())
    sn = _col(loads, "sn_mva", np.nan).to_numpy(float) * 1000.0
    nominal = np.hypot(loads["p_mw"].to_numpy(float), loads["q_mvar"].to_numpy(float)) * 1000.0
    rating = np.where(np.isfinite(sn) & (sn > 0), sn, nominal)
    klass = customer_class(_col(loads, "profile", None), _col(loads, "type", None))
    names = _col(loads, "name", None)
    lid = [f"L{i}" for i in loads.index]

    # --- static generators: PV/wind capacity per bus ------------------------------------------
    gpos = (
        bus_ix.get_indexer(pd.Index(sgens["bus"].map(lambda b: f"BUS-{b}")))
        if len(sgens)
        else np.zeros(0, np.int64)
    )
    if (gpos < 0).any():
        raise fail("sgen", sgens.index[gpos < 0][0], "bus", "is not a distribution bus in service")
    if len(sgens) and (_col(sgens, "q_mvar", 0.0).fillna(0.0) != 0).any():
        report.carried["sgen.q_mvar (operating point only)"] = int(
            (_col(sgens, "q_mvar", 0.0).fillna(0.0) != 0).sum()
        )
    g_kw = pd.Series(sgens["p_mw"].to_numpy(float) * 1000.0 if len(sgens) else [], index=gpos, dtype=float)
    g_kw = g_kw.groupby(level=0).sum()
    first_load_of_bus = pd.Series(np.arange(len(lpos)), index=lpos)
    first_load_of_bus = first_load_of_bus[~first_load_of_bus.index.duplicated()]
    pv_kw = np.zeros(len(lpos))
    has_load = g_kw.index.isin(first_load_of_bus.index)
    pv_kw[first_load_of_bus.reindex(g_kw.index[has_load]).to_numpy(int)] = g_kw[has_load].to_numpy()
    gen_bus = g_kw.index[~has_load].to_numpy(np.int64)
    gen_kw = g_kw[~has_load].to_numpy(float)

    all_pos = np.r_[lpos, gen_bus].astype(np.int64)
    all_id = lid + [f"G{bus['pp_bus'].iloc[p]}" for p in gen_bus]
    all_rating = np.r_[rating, gen_kw]
    pp_bus = bus["pp_bus"].to_numpy()[all_pos]
    lon = coords["lon"].loc[pp_bus].to_numpy(float)
    lat = coords["lat"].loc[pp_bus].to_numpy(float)
    vn = net.bus["vn_kv"].loc[pp_bus].to_numpy(float)
    feeder = feeder_of_bus[all_pos]
    sub = bus_sub[all_pos]
    transformers = pd.DataFrame(
        {
            "transformer_id": [f"XFMR-{x}" for x in all_id],
            "feeder_id": feeder,
            "substation_id": sub,
            "bus_id": bus_ix[all_pos].to_numpy(),
            "lon": lon,
            "lat": lat,
            "rating_kva": all_rating,
            "phase": "ABC",
            "mounting": "pad",
            "z_pct": dist_xfmr_z_pct(all_rating),
            "install_year": 0,
        }
    )
    meters = pd.DataFrame(
        {
            "meter_id": [f"MTR-{x}" for x in all_id],
            "customer_id": [f"CUST-{x}" for x in all_id],
            "transformer_id": transformers["transformer_id"],
            "feeder_id": feeder,
            "substation_id": sub,
            "lon": lon,
            "lat": lat,
            "service_v": np.where(vn >= 1.0, LV_SERVICE_V, vn * 1000.0),
        }
    )
    n_gen = len(gen_bus)
    pv_all = np.r_[pv_kw, gen_kw]
    customers = pd.DataFrame(
        {
            "customer_id": meters["customer_id"],
            "meter_id": meters["meter_id"],
            "name": [
                str(n) if isinstance(n, str) and n else f"Load {i}"
                for n, i in zip(names, loads.index, strict=True)
            ]
            + [f"Generation at bus {bus['pp_bus'].iloc[p]}" for p in gen_bus],
            "customer_class": np.r_[klass, np.full(n_gen, "commercial", dtype=object)],
            "is_critical": False,
            "critical_type": None,
            "peak_kw": np.r_[p_kw, np.zeros(n_gen)],
            "power_factor": np.r_[pf, np.ones(n_gen)],
            "annual_kwh": 0.0,
            "has_pv": pv_all > 0,
            "pv_kw": pv_all,
        }
    )
    report.notes.append(
        "customers are aggregate load points (one per pandapower load); "
        "install_year 0 means unknown; annual_kwh 0 means unknown (SimBench fills it from its profiles)"
    )
    return {"transformers": transformers, "meters": meters, "customers": customers}
