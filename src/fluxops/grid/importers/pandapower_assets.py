"""The asset model's tables (substations, substation transformers, feeders, buses, segments, devices)
from the imported graph: coordinates, feeder and substation per element, device types and ratings."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fluxops.grid.importers.pandapower_mapping import ImportReport, line_geometry_wkb
from fluxops.grid.models import empty_table


def _device_types(
    dev: pd.DataFrame,
    is_head: np.ndarray,
    is_tie: np.ndarray,
    sec_breaker: np.ndarray,
    no_tie_feeder: np.ndarray,
) -> np.ndarray:
    cb = dev["pp_type"].str.upper().eq("CB").to_numpy()
    closed = dev["closed"].to_numpy(bool)
    t = np.where(closed, "switch", "tie_switch").astype(object)
    t[cb & closed] = "recloser"  # a circuit breaker inside a feeder acts as a mid-line recloser
    t[~closed & no_tie_feeder] = "switch"  # normally open point inside one feeder
    t[is_head | sec_breaker] = "breaker"
    t[is_tie] = "bus_tie"
    return t


def assemble_tables(
    net: Any,
    coords: pd.DataFrame,
    bus: pd.DataFrame,
    bus_ix: pd.Index,
    bus_feeder: np.ndarray,
    bus_sub: np.ndarray,
    is_sec: np.ndarray,
    seg: pd.DataFrame,
    dev: pd.DataFrame,
    a: np.ndarray,
    b: np.ndarray,
    head_dev: np.ndarray,
    feeders: pd.DataFrame,
    subs: pd.DataFrame,
    stx: pd.DataFrame,
    report: ImportReport,
) -> dict[str, pd.DataFrame]:
    lon = coords["lon"].loc[bus["pp_bus"].to_numpy()].to_numpy(float)
    lat = coords["lat"].loc[bus["pp_bus"].to_numpy()].to_numpy(float)
    vn = net.bus["vn_kv"].loc[bus["pp_bus"].to_numpy()].to_numpy(float)
    buses = pd.DataFrame(
        {
            "bus_id": bus_ix.to_numpy(),
            "bus_type": np.where(is_sec, "substation", "junction"),
            "feeder_id": bus_feeder,
            "substation_id": bus_sub,
            "lon": lon,
            "lat": lat,
            "v_nom_kv": vn,
        }
    )
    n_seg = len(seg)
    sa, sb = a[:n_seg], b[:n_seg]
    lonlat = np.c_[lon, lat]
    segments = seg.assign(
        from_bus_id=bus_ix[sa].to_numpy(),
        to_bus_id=bus_ix[sb].to_numpy(),
        feeder_id=np.where(pd.isna(bus_feeder[sa]), bus_feeder[sb], bus_feeder[sa]),
        substation_id=bus_sub[sa],
        geometry_wkb=line_geometry_wkb(seg["geo"].tolist(), lonlat[sa], lonlat[sb]),
    )
    da, db = a[n_seg:], b[n_seg:]
    is_head = np.zeros(len(dev), bool)
    is_head[head_dev] = True
    is_tie = dev["coupler"].to_numpy(bool)
    sec_breaker = is_sec[da] & is_sec[db] & ~is_tie  # bus breaker inside one transformer's section
    d_feeder = np.where(pd.isna(bus_feeder[da]), bus_feeder[db], bus_feeder[da])
    d_feeder[is_tie | sec_breaker] = None
    other = np.where(pd.isna(bus_feeder[db]), d_feeder, bus_feeder[db])
    tie_feeder: np.ndarray = np.asarray(
        np.where(~dev["closed"].to_numpy(bool) & (other != d_feeder) & ~is_tie, other, None), dtype=object
    )
    dtype = _device_types(dev, is_head, is_tie, sec_breaker, np.asarray(pd.isna(pd.Series(tie_feeder))))
    # a switch without a rating in the source stays unrated (null): inventing one (e.g. the widest
    # conductor at its bus) would drive overload trips and the "worst element"; loading is then unknown
    rating = dev["rating_a"].to_numpy(float)
    unrated = ~(np.isfinite(rating) & (rating > 0))
    rating = np.where(unrated, np.nan, rating)
    if unrated.any():
        report.topology["unrated_devices"] = [str(x) for x in dev["device_id"].to_numpy()[unrated]]
        report.notes.append(
            f"{int(unrated.sum())} switch(es) have no current rating in the source: left unrated (null); "
            "their loading is unknown and they are excluded from overload trips "
            "(grid.meta.params['unrated_devices'])"
        )
    state = np.where(dev["closed"].to_numpy(bool), "closed", "open")
    devices = pd.DataFrame(
        {
            "device_id": dev["device_id"].to_numpy(),
            "device_type": dtype,
            "feeder_id": d_feeder,
            "substation_id": bus_sub[da],
            "from_bus_id": bus_ix[da].to_numpy(),
            "to_bus_id": bus_ix[db].to_numpy(),
            "lon": lon[da],
            "lat": lat[da],
            "normal_state": state,
            "state": state,
            "rating_a": rating,
            "tie_feeder_id": tie_feeder,
        }
    )
    st_lonlat = subs.set_index("substation_id")
    substations = pd.DataFrame(
        {
            "substation_id": subs["substation_id"],
            "name": subs["name"],
            "lon": coords["lon"].loc[subs["hv_bus"]].to_numpy(float),
            "lat": coords["lat"].loc[subs["hv_bus"]].to_numpy(float),
            "v_hv_kv": subs["v_hv_kv"],
            "v_lv_kv": st_lonlat["v_lv_kv"].to_numpy(float),
        }
    )
    return {
        "substations": substations,
        "substation_transformers": stx.drop(columns=["lv_bus"]),
        "feeders": feeders,
        "buses": buses,
        "line_segments": segments,
        "devices": devices,
        "poles": empty_table("poles"),
    }
