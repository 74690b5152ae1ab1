"""Substations, their HV/MV transformers and source voltages, and the bus sections they feed (the
source side of the pandapower import; `fluxops.grid.importers.pandapower_graph` puts the parts together).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fluxops.grid.importers.pandapower_mapping import (
    _MAX_X_R,
    ImportReport,
    bus_id,
    components,
    fail,
    in_service,
)

# an ext_grid straight at distribution voltage: an ideal source with a negligible series impedance (the
# asset model requires a positive one) and a nominal rating nobody should read (flagged in meta.params)
_IDEAL_SOURCE_Z_PCT = 1e-6
_IDEAL_SOURCE_MVA = 1e6


def find_substations(net: Any, bidx: pd.Index, sw: pd.DataFrame, report: ImportReport) -> dict[str, Any]:
    """Group HV buses with their ext_grid; map each trafo to a substation and compute source voltages."""
    nb = len(bidx)
    bb = sw[(sw["et"] == "b") & sw["closed"].astype(bool)]
    comp = components(nb, bidx.get_indexer(pd.Index(bb["bus"])), bidx.get_indexer(pd.Index(bb["element"])))
    ext = in_service(net.ext_grid)
    if len(ext) == 0:
        raise fail("ext_grid", "*", "in_service", "no ext_grid is in service")
    ext_comp = comp[bidx.get_indexer(pd.Index(ext["bus"]))]
    has_trafo = "trafo" in net and len(net.trafo)
    trafo = in_service(net.trafo) if has_trafo else pd.DataFrame(columns=["hv_bus", "lv_bus"])
    t_open = sw[(sw["et"] == "t") & ~sw["closed"].astype(bool)]["element"].unique()
    if len(t_open):
        trafo = trafo[~trafo.index.isin(t_open)]
        report.notes.append(f"{len(t_open)} trafo(s) behind open trafo switches left out")
    hv_comp = comp[bidx.get_indexer(pd.Index(trafo["hv_bus"]))]
    # an ext_grid feeding no trafo sits straight at distribution voltage (IEEE 33/69-bus class):
    # its bus is the source bus section, behind an ideal source (no transformer impedance)
    direct = ~np.isin(ext_comp, hv_comp)
    bad = ~np.isin(hv_comp, ext_comp[~direct])
    if bad.any():
        raise fail(
            "trafo",
            trafo.index[bad][0],
            "hv_bus",
            "is not joined to an ext_grid (one transformation level only)",
        )
    hv_set = np.isin(comp, ext_comp[~direct])
    lv_pos = bidx.get_indexer(pd.Index(trafo["lv_bus"]))
    if hv_set[lv_pos].any():
        raise fail("trafo", trafo.index[hv_set[lv_pos]][0], "lv_bus", "is on the transmission side")
    dup = pd.Series(lv_pos).duplicated().to_numpy()
    if dup.any():
        raise fail(
            "trafo",
            trafo.index[dup][0],
            "lv_bus",
            "is shared with another trafo (parallel units are not supported)",
        )
    return {
        "comp": comp,
        "direct": direct,
        "ext": ext,
        "ext_comp": ext_comp,
        "trafo": trafo,
        "hv_comp": hv_comp,
        "hv_set": hv_set,
    }


def source_rows(net: Any, s: dict[str, Any], report: ImportReport) -> tuple[pd.DataFrame, pd.DataFrame]:
    """substations + substation_transformers rows; fills ``report.source_v_pu`` (vm_pu / tap ratio)."""
    trafo, ext, ext_comp = s["trafo"], s["ext"], s["ext_comp"]
    vn = net.bus["vn_kv"]
    sub_rows: list[dict[str, Any]] = []
    sub_of_comp: dict[int, str] = {}
    vm_of_comp: dict[int, float] = {}
    for k, (i, row) in enumerate(ext.iterrows()):  # a handful of ext_grids
        c = int(ext_comp[k])
        if c in sub_of_comp:
            continue
        sid = f"SUB-{len(sub_of_comp) + 1:02d}"
        sub_of_comp[c], vm_of_comp[c] = sid, float(row["vm_pu"])
        name = row.get("name")
        sub_rows.append(
            {
                "substation_id": sid,
                "name": str(name) if isinstance(name, str) and name else f"Substation {len(sub_of_comp)}",
                "hv_bus": row["bus"],
                "v_hv_kv": float(vn.loc[row["bus"]]),
                "ext_index": i,
            }
        )
    stx_rows: list[dict[str, Any]] = []
    n_tap = n_mag = 0
    for k, (i, t) in enumerate(trafo.iterrows()):  # a handful of HV/MV transformers
        c = int(s["hv_comp"][k])
        lv_vn, hv_vn = float(vn.loc[t["lv_bus"]]), float(vn.loc[t["hv_bus"]])
        # pandapower ≥3 applies a tap only when the trafo declares a tap changer type
        has_changer = isinstance(t.get("tap_changer_type"), str) and bool(t.get("tap_changer_type"))
        steps = float(np.nan_to_num(t.get("tap_pos", 0.0)) - np.nan_to_num(t.get("tap_neutral", 0.0)))
        steps = steps if has_changer else 0.0
        tap = 1.0 + steps * float(np.nan_to_num(t.get("tap_step_percent", 0.0))) / 100.0
        on_hv = str(t.get("tap_side", "hv")) != "lv"
        vn_hv_t = float(t["vn_hv_kv"]) * (tap if on_hv else 1.0)
        vn_lv_t = float(t["vn_lv_kv"]) * (1.0 if on_hv else tap)
        ratio = (vn_hv_t / hv_vn) / (vn_lv_t / lv_vn)
        # pandapower refers the short-circuit impedance to the (tapped) rated LV voltage
        scale = (vn_lv_t / lv_vn) ** 2
        z, r = float(t["vk_percent"]) * scale, float(t["vkr_percent"]) * scale
        xr = float(np.sqrt(max(z * z - r * r, 0.0)) / r) if r > 0 else _MAX_X_R
        tid = f"STX-{i}"
        report.source_v_pu[tid] = vm_of_comp[c] / ratio
        n_tap += steps != 0
        n_mag += bool(np.nan_to_num(t.get("pfe_kw", 0.0)) or np.nan_to_num(t.get("i0_percent", 0.0)))
        stx_rows.append(
            {
                "transformer_id": tid,
                "substation_id": sub_of_comp[c],
                "bus_id": bus_id(t["lv_bus"]),
                "lv_bus": t["lv_bus"],
                "rating_mva": float(t["sn_mva"]) * float(np.nan_to_num(t.get("parallel", 1)) or 1),
                "z_pct": z,
                "x_r_ratio": min(xr, _MAX_X_R),
                "install_year": 0,
            }
        )
    seen: set[int] = set()
    for k, (i, row) in enumerate(ext.iterrows()):  # ext_grids straight at distribution voltage
        c = int(ext_comp[k])
        if not s["direct"][k] or c in seen:
            continue
        seen.add(c)
        tid = f"STX-EXT{i}"
        report.source_v_pu[tid] = vm_of_comp[c]
        report.topology.setdefault("ideal_sources", []).append(tid)
        stx_rows.append(
            {
                "transformer_id": tid,
                "substation_id": sub_of_comp[c],
                "bus_id": bus_id(row["bus"]),
                "lv_bus": row["bus"],
                "rating_mva": _IDEAL_SOURCE_MVA,
                "z_pct": _IDEAL_SOURCE_Z_PCT,
                "x_r_ratio": _MAX_X_R,
                "install_year": 0,
            }
        )
    if seen:
        report.notes.append(
            f"{len(seen)} ext_grid(s) feed the distribution voltage directly (no transformer): modelled as "
            f"an ideal source ({_IDEAL_SOURCE_Z_PCT:g} % impedance, nominal {_IDEAL_SOURCE_MVA:g} MVA: "
            "its loading means nothing; grid.meta.params['ideal_sources'])"
        )
    if n_tap:
        report.carried["trafo.tap_pos (folded into source_v_pu)"] = int(n_tap)
    if n_mag:
        report.carried["trafo.pfe_kw/i0_percent (operating point: load at the LV bus)"] = int(n_mag)
    subs, stx = pd.DataFrame(sub_rows), pd.DataFrame(stx_rows)
    fed = subs["substation_id"].isin(stx["substation_id"])
    if not fed.all():
        raise fail("ext_grid", subs.loc[~fed, "ext_index"].iloc[0], "bus", "feeds no trafo")
    lv_of_sub = stx.groupby("substation_id")["lv_bus"].first()
    subs["v_lv_kv"] = vn.loc[lv_of_sub.loc[subs["substation_id"]].to_numpy()].to_numpy(float)
    return subs, stx


def bus_sections(
    sw: pd.DataFrame,
    stx: pd.DataFrame,
    hv_set: np.ndarray,
    bidx: pd.Index,
) -> tuple[dict[str, str], dict[str, str]]:
    """Bus sections = trafo LV buses plus busbars joined to them by bus-bus circuit breakers (any
    state), as in SimBench urban substations. Returns (transformer, substation) per section bus id;
    a busbar takes the transformer it is connected to through closed breakers, else its station's first."""
    nb = len(bidx)
    typ = sw.get("type", pd.Series("", index=sw.index)).fillna("").astype(str).str.upper()
    bsw = sw[(sw["et"] == "b") & (typ == "CB")]
    bp, ep = bidx.get_indexer(pd.Index(bsw["bus"])), bidx.get_indexer(pd.Index(bsw["element"]))
    keep = ~hv_set[bp] & ~hv_set[ep]
    closed = bsw["closed"].astype(bool).to_numpy()
    comp_all = components(nb, bp[keep], ep[keep])
    comp_closed = components(nb, bp[keep & closed], ep[keep & closed])
    lv = bidx.get_indexer(pd.Index(stx["lv_bus"]))
    stx_by_closed = dict(zip(comp_closed[lv].tolist(), stx["transformer_id"], strict=True))
    first_by_all: dict[int, str] = {}
    for c, t in zip(comp_all[lv].tolist(), stx["transformer_id"], strict=True):
        first_by_all.setdefault(c, t)
    sub_of_stx = dict(zip(stx["transformer_id"], stx["substation_id"], strict=True))
    stx_of: dict[str, str] = {}
    for p in np.flatnonzero(np.isin(comp_all, comp_all[lv])):
        t = stx_by_closed.get(int(comp_closed[p]), first_by_all[int(comp_all[p])])
        stx_of[bus_id(bidx[int(p)])] = t
    stx_of.update(zip(stx["bus_id"], stx["transformer_id"], strict=True))  # a trafo's own LV bus
    return stx_of, {b: sub_of_stx[t] for b, t in stx_of.items()}
