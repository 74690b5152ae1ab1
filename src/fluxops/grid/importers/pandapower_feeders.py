"""Substations, buses, segments, devices and feeders from a pandapower net (topology part of the import).

See `fluxops.grid.importers.pandapower` for the mapping; the leaves (loads → transformers, meters,
customers) are built in `fluxops.grid.importers.pandapower_loads`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from fluxops.grid.importers.pandapower_loads import build_leaf_tables
from fluxops.grid.importers.pandapower_mapping import (
    _MAX_X_R,
    ImportReport,
    components,
    fail,
    line_geometry_wkb,
)
from fluxops.grid.models import empty_table

# an ext_grid straight at distribution voltage: an ideal source with a negligible series impedance (the
# asset model requires a positive one) and a nominal rating nobody should read (flagged in meta.params)
_IDEAL_SOURCE_Z_PCT = 1e-6
_IDEAL_SOURCE_MVA = 1e6


def _active(df: pd.DataFrame) -> pd.DataFrame:
    if "in_service" in df.columns:
        return df[df["in_service"].fillna(True).astype(bool)]
    return df


def _bus_id(idx: Any) -> str:
    return f"BUS-{idx}"


def _substations(net: Any, bidx: pd.Index, sw: pd.DataFrame, report: ImportReport) -> dict[str, Any]:
    """Group HV buses with their ext_grid; map each trafo to a substation and compute source voltages."""
    nb = len(bidx)
    bb = sw[(sw["et"] == "b") & sw["closed"].astype(bool)]
    comp = components(nb, bidx.get_indexer(pd.Index(bb["bus"])), bidx.get_indexer(pd.Index(bb["element"])))
    ext = _active(net.ext_grid)
    if len(ext) == 0:
        raise fail("ext_grid", "*", "in_service", "no ext_grid is in service")
    ext_comp = comp[bidx.get_indexer(pd.Index(ext["bus"]))]
    has_trafo = "trafo" in net and len(net.trafo)
    trafo = _active(net.trafo) if has_trafo else pd.DataFrame(columns=["hv_bus", "lv_bus"])
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


def _trafo_rows(net: Any, s: dict[str, Any], report: ImportReport) -> tuple[pd.DataFrame, pd.DataFrame]:
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
                "bus_id": _bus_id(t["lv_bus"]),
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
                "bus_id": _bus_id(row["bus"]),
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


def _edges(
    net: Any, sw: pd.DataFrame, hv_set: np.ndarray, bidx: pd.Index, report: ImportReport
) -> dict[str, Any]:  # type: ignore[type-arg]
    """Lines and switches as one edge list over bus-id strings; line switches get their own bus."""
    lines_all = net.line
    lines = _active(lines_all)
    if len(lines) < len(lines_all):
        report.dropped["line (out of service)"] = len(lines_all) - len(lines)
    for end in ("from_bus", "to_bus"):
        on_hv = hv_set[bidx.get_indexer(pd.Index(lines[end]))]
        if on_hv.any():
            raise fail("line", lines.index[on_hv][0], end, "is on the transmission side")
    c_nf = lines.get("c_nf_per_km", pd.Series(0.0, index=lines.index)).fillna(0.0)
    if (c_nf != 0).any():
        report.notes.append(
            f"line capacitance of {int((c_nf != 0).sum())} lines carried in grid.meta.params['line_c_nf']"
        )
    from_id = lines["from_bus"].map(_bus_id).to_numpy(object)
    to_id = lines["to_bus"].map(_bus_id).to_numpy(object)
    new_buses: list[tuple[str, Any]] = []  # (new bus id, pandapower bus it sits at)

    lsw = sw[(sw["et"] == "l") & sw["element"].isin(lines.index)]
    lsw = lsw[~lsw.duplicated(["bus", "element"])]
    lpos = lines.index.get_indexer(pd.Index(lsw["element"]))
    at_from = lines["from_bus"].to_numpy()[lpos] == lsw["bus"].to_numpy()
    at_to = lines["to_bus"].to_numpy()[lpos] == lsw["bus"].to_numpy()
    if (~at_from & ~at_to).any():
        raise fail("switch", lsw.index[~at_from & ~at_to][0], "bus", "is not an end of its line")
    sw_bus = np.array([f"BUS-{b}-S{i}" for i, b in zip(lsw.index, lsw["bus"], strict=True)], dtype=object)
    from_id[lpos[at_from]] = sw_bus[at_from]
    to_id[lpos[at_to & ~at_from]] = sw_bus[at_to & ~at_from]
    new_buses += list(zip(sw_bus.tolist(), lsw["bus"].tolist(), strict=True))
    bsw = sw[(sw["et"] == "b")]
    bsw = bsw[
        ~hv_set[bidx.get_indexer(pd.Index(bsw["bus"]))] & ~hv_set[bidx.get_indexer(pd.Index(bsw["element"]))]
    ]
    dev = pd.DataFrame(
        {
            "device_id": [f"SW-{i}" for i in lsw.index] + [f"SW-{i}" for i in bsw.index],
            "from_bus_id": list(lsw["bus"].map(_bus_id)) + list(bsw["bus"].map(_bus_id)),
            "to_bus_id": sw_bus.tolist() + list(bsw["element"].map(_bus_id)),
            "closed": np.r_[lsw["closed"].astype(bool).to_numpy(), bsw["closed"].astype(bool).to_numpy()],
            "pp_type": list(lsw.get("type", pd.Series("", index=lsw.index)).fillna("").astype(str))
            + list(bsw.get("type", pd.Series("", index=bsw.index)).fillna("").astype(str)),
            "rating_a": np.r_[
                lsw.get("in_ka", pd.Series(np.nan, index=lsw.index)).to_numpy(float),
                bsw.get("in_ka", pd.Series(np.nan, index=bsw.index)).to_numpy(float),
            ]
            * 1000.0,
        }
    )
    par = lines.get("parallel", pd.Series(1, index=lines.index)).fillna(1).to_numpy(float)
    df = lines.get("df", pd.Series(1.0, index=lines.index)).fillna(1.0).to_numpy(float)
    seg = pd.DataFrame(
        {
            "segment_id": [f"SEG-{i}" for i in lines.index],
            "from_bus_id": from_id,
            "to_bus_id": to_id,
            "length_km": lines["length_km"].to_numpy(float),
            "r_ohm_per_km": lines["r_ohm_per_km"].to_numpy(float) / par,
            "x_ohm_per_km": lines["x_ohm_per_km"].to_numpy(float) / par,
            "ampacity_a": lines["max_i_ka"].to_numpy(float) * 1000.0 * df * par,
            "construction": np.where(
                lines.get("type", pd.Series("", index=lines.index)).astype(str) == "ol",
                "overhead",
                "underground",
            ),
            "conductor": lines.get("std_type", pd.Series(None, index=lines.index))
            .fillna("unknown")
            .astype(str)
            .to_numpy(),
            "install_year": 0,
            "pp_index": lines.index.to_numpy(),
            "geo": lines["geo"].tolist() if "geo" in lines.columns else [None] * len(lines),
        }
    )
    return {"seg": seg, "dev": dev, "new_buses": new_buses}


def _sections(
    sw: pd.DataFrame,
    stx: pd.DataFrame,
    hv_set: np.ndarray,
    bidx: pd.Index,  # type: ignore[type-arg]
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
        stx_of[_bus_id(bidx[int(p)])] = t
    stx_of.update(zip(stx["bus_id"], stx["transformer_id"], strict=True))  # a trafo's own LV bus
    return stx_of, {b: sub_of_stx[t] for b, t in stx_of.items()}


def _orient_and_label(
    bus_ids: pd.Index,
    sections: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    closed: np.ndarray,  # type: ignore[type-arg]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # type: ignore[type-arg]
    """(BFS position from the bus sections over closed edges, component label without sections,
    swap mask making every closed edge point downstream)."""
    n = len(bus_ids)
    root = n
    src = np.r_[a[closed], np.full(len(sections), root)]
    dst = np.r_[b[closed], sections]
    g = sparse.coo_matrix((np.ones(len(src)), (src, dst)), shape=(n + 1, n + 1)).tocsr()
    order = csgraph.breadth_first_order(g, root, directed=False, return_predecessors=False)
    pos = np.full(n + 1, np.iinfo(np.int64).max, dtype=np.int64)
    pos[order] = np.arange(len(order))
    is_sec = np.zeros(n, bool)
    is_sec[sections] = True
    keep = closed & ~is_sec[a] & ~is_sec[b]
    labels = components(n, a[keep], b[keep])
    swap = closed & (pos[b] < pos[a])
    return pos[:n], labels, swap


def _topology_flags(
    bus_ix: pd.Index,
    is_sec: np.ndarray,  # type: ignore[type-arg]
    seg: pd.DataFrame,
    dev: pd.DataFrame,
    a: np.ndarray,  # type: ignore[type-arg]
    b: np.ndarray,  # type: ignore[type-arg]
    closed: np.ndarray,  # type: ignore[type-arg]
    report: ImportReport,
) -> None:
    """Flag (not refuse) what the radial asset model does not assume: loops closed in normal operation
    (the power flow solves them) and buses no source reaches in the normal state (de-energized)."""
    n = len(bus_ix)
    ids = np.r_[seg["segment_id"].to_numpy(object), dev["device_id"].to_numpy(object)]
    root = n  # one virtual node behind every bus section: a path between two sections is a loop too
    sec = np.flatnonzero(is_sec)
    ea, eb = np.r_[a[closed], np.full(len(sec), root)], np.r_[b[closed], sec]
    e_ids = np.r_[ids[closed], np.full(len(sec), "", dtype=object)]
    lo, hi = np.minimum(ea, eb), np.maximum(ea, eb)
    key = lo.astype(np.int64) * (n + 1) + hi
    dup = pd.Series(key).duplicated().to_numpy() | (lo == hi)
    g = sparse.coo_matrix((np.ones(int((~dup).sum())), (lo[~dup], hi[~dup])), shape=(n + 1, n + 1))
    tree = csgraph.minimum_spanning_tree(g.tocsr()).tocoo()
    tree_key = np.minimum(tree.row, tree.col).astype(np.int64) * (n + 1) + np.maximum(tree.row, tree.col)
    loop = dup | ~np.isin(key, tree_key)
    loop_ids = sorted(str(x) for x in e_ids[loop] if x)
    if loop_ids:
        report.topology["loop_edges"] = loop_ids
        report.notes.append(
            f"meshed in normal operation: {len(loop_ids)} closed edge(s) close a loop "
            f"(e.g. {', '.join(loop_ids[:5])}); imported as is, the power flow solves the loops "
            "(grid.meta.params['meshed_normal'])"
        )
    labels = components(n + 1, ea, eb)
    dead = np.flatnonzero(labels[:n] != labels[root])
    if len(dead):
        report.topology["deenergized_buses"] = [str(x) for x in bus_ix[dead]]
        report.notes.append(
            f"{len(dead)} bus(es) no source reaches in the normal state (behind open switches or isolated): "
            "imported de-energized (grid.meta.params['deenergized_buses'])"
        )


def build_graph_tables(
    net: Any, coords: pd.DataFrame, *, grid_name: str
) -> tuple[dict[str, pd.DataFrame], ImportReport]:
    """All tables of the asset model for ``net``; see the module docstring of the importer."""
    report = ImportReport(source_v_pu={}, synthesized_breakers=0)
    bidx = pd.Index(net.bus.index)
    sw = (
        net.switch
        if "switch" in net and len(net.switch)
        else pd.DataFrame(columns=["bus", "element", "et", "closed", "type"])
    )
    s = _substations(net, bidx, sw, report)
    subs, stx = _trafo_rows(net, s, report)
    e = _edges(net, sw, s["hv_set"], bidx, report)
    seg, dev = e["seg"], e["dev"]

    # buses: in-service distribution buses + switch buses (+ synthesized head buses below)
    active_bus = _active(net.bus).index
    base = net.bus.loc[active_bus[~s["hv_set"][bidx.get_indexer(pd.Index(active_bus))]]]
    bus = pd.DataFrame({"bus_id": base.index.map(_bus_id), "pp_bus": base.index.to_numpy()})
    extra = pd.DataFrame(e["new_buses"], columns=["bus_id", "pp_bus"])
    stx_of_sec, sub_of_sec = _sections(sw, stx, s["hv_set"], bidx)
    section_ids = set(stx_of_sec)
    # edges leaving a bus section without a switch get a synthesized breaker and head bus
    at_from = seg["from_bus_id"].isin(section_ids).to_numpy()
    at_to = seg["to_bus_id"].isin(section_ids).to_numpy()
    if (at_from & at_to).any():
        raise fail(
            "line", seg["pp_index"][at_from & at_to].iloc[0], "to_bus", "joins two substation bus sections"
        )
    head_seg = np.flatnonzero(at_from | at_to)
    if len(head_seg):
        sec = np.where(
            at_from[head_seg], seg["from_bus_id"].to_numpy()[head_seg], seg["to_bus_id"].to_numpy()[head_seg]
        )
        new = np.array(
            [f"{x}-H{p}" for x, p in zip(sec, seg["pp_index"].to_numpy()[head_seg], strict=True)],
            dtype=object,
        )
        col = np.where(at_from[head_seg], "from_bus_id", "to_bus_id")
        for c in ("from_bus_id", "to_bus_id"):
            m = col == c
            seg.loc[seg.index[head_seg[m]], c] = new[m]
        pp_sec = [int(x.split("-")[1]) for x in sec]
        extra = pd.concat([extra, pd.DataFrame({"bus_id": new, "pp_bus": pp_sec})], ignore_index=True)
        dev = pd.concat(
            [
                dev,
                pd.DataFrame(
                    {
                        "device_id": [f"BRK-L{p}" for p in seg["pp_index"].to_numpy()[head_seg]],
                        "from_bus_id": sec,
                        "to_bus_id": new,
                        "closed": True,
                        "pp_type": "CB",
                        "rating_a": np.nan,
                    }
                ),
            ],
            ignore_index=True,
        )
        report = dataclasses.replace(report, synthesized_breakers=len(head_seg))
    bus = pd.concat([bus, extra], ignore_index=True)
    bus_ix = pd.Index(bus["bus_id"])
    if not bus_ix.is_unique:
        raise fail("switch", "*", "bus", "two switches create the same switch bus")
    a = np.r_[
        bus_ix.get_indexer(pd.Index(seg["from_bus_id"])), bus_ix.get_indexer(pd.Index(dev["from_bus_id"]))
    ]
    b = np.r_[bus_ix.get_indexer(pd.Index(seg["to_bus_id"])), bus_ix.get_indexer(pd.Index(dev["to_bus_id"]))]
    if (a < 0).any() or (b < 0).any():
        bad = np.flatnonzero((a < 0) | (b < 0))[0]
        eid = seg["segment_id"].iloc[bad] if bad < len(seg) else dev["device_id"].iloc[bad - len(seg)]
        raise fail("line" if bad < len(seg) else "switch", eid, "bus", "is out of service")
    # the asset model runs bus sections split (one transformer each): a closed coupler between sections
    # of different transformers is opened in the normal state and reported
    d_from, d_to = dev["from_bus_id"].to_numpy(), dev["to_bus_id"].to_numpy()
    sec_a = np.array([stx_of_sec.get(x) for x in d_from], dtype=object)
    sec_b = np.array([stx_of_sec.get(x) for x in d_to], dtype=object)
    coupler = pd.notna(sec_a) & pd.notna(sec_b) & (sec_a != sec_b)
    opened = coupler & dev["closed"].to_numpy(bool)
    if opened.any():
        report.topology["closed_in_source"] = [str(x) for x in dev["device_id"].to_numpy()[opened]]
        dev["closed"] = dev["closed"].to_numpy(bool) & ~opened
        report.notes.append(
            "closed couplers between transformer bus sections opened in the normal state: "
            + ", ".join(dev["device_id"].to_numpy()[opened].astype(str))
        )
    dev["coupler"] = coupler
    closed = np.r_[np.ones(len(seg), bool), dev["closed"].to_numpy(bool)]
    sections = bus_ix.get_indexer(pd.Index(list(section_ids)))
    _, labels, swap = _orient_and_label(bus_ix, sections, a, b, closed)
    a, b = np.asarray(np.where(swap, b, a), np.int64), np.asarray(np.where(swap, a, b), np.int64)

    # feeders: one per edge leaving a bus section
    is_sec = np.zeros(len(bus), bool)
    is_sec[sections] = True
    n_seg = len(seg)
    head = np.flatnonzero(is_sec[a] ^ is_sec[b])
    head_dev = head[head >= n_seg] - n_seg
    if len(head) != len(head_dev):
        raise fail("line", "*", "from_bus", "leaves a bus section without a switch")  # synthesized above
    head_bus = np.where(is_sec[a[n_seg + head_dev]], b[n_seg + head_dev], a[n_seg + head_dev])
    head_sec = np.where(is_sec[a[n_seg + head_dev]], a[n_seg + head_dev], b[n_seg + head_dev])
    order = np.argsort(dev["device_id"].to_numpy()[head_dev].astype(str), kind="stable")
    head_dev, head_bus, head_sec = head_dev[order], head_bus[order], head_sec[order]
    feeder_ids = np.array([f"FDR-{k + 1:03d}" for k in range(len(head_dev))], dtype=object)
    feeder_of_label = pd.Series(feeder_ids[::-1], index=labels[head_bus][::-1])
    feeder_of_label = feeder_of_label[~feeder_of_label.index.duplicated(keep="last")]
    if len(set(labels[head_bus].tolist())) < len(head_bus):
        report.notes.append(
            "some feeders are paralleled in the normal state; their buses go to the first feeder"
        )
    bus_feeder = pd.Series(labels).map(feeder_of_label).to_numpy(object)
    bus_feeder[is_sec] = None
    orphan = np.flatnonzero(~is_sec & pd.isna(bus_feeder))
    if len(orphan):
        # islands behind open switches: book them to the feeder on the other side of an open device
        for _ in range(3):
            for k in np.flatnonzero(~closed):
                fa, fb = bus_feeder[a[k]], bus_feeder[b[k]]
                if pd.isna(fa) and not pd.isna(fb) and not is_sec[a[k]]:
                    bus_feeder[labels == labels[a[k]]] = fb
                elif pd.isna(fb) and not pd.isna(fa) and not is_sec[b[k]]:
                    bus_feeder[labels == labels[b[k]]] = fa
        orphan = np.flatnonzero(~is_sec & pd.isna(bus_feeder))
        if len(orphan):
            # isolated in the source data: no feeder reaches them even through an open switch; they
            # are booked to the first feeder and stay de-energized (listed below)
            bus_feeder[orphan] = feeder_ids[0] if len(feeder_ids) else None
    _topology_flags(bus_ix, is_sec, seg, dev, a, b, closed, report)
    feeders = pd.DataFrame(
        {
            "feeder_id": feeder_ids,
            "name": [f"Feeder {k + 1}" for k in range(len(feeder_ids))],
            "substation_id": [sub_of_sec[bus_ix[i]] for i in head_sec],
            "transformer_id": [stx_of_sec[bus_ix[i]] for i in head_sec],
            "head_bus_id": bus_ix[head_bus].to_numpy(),
            "head_device_id": dev["device_id"].to_numpy()[head_dev],
            "v_nom_kv": net.bus["vn_kv"].loc[bus["pp_bus"].to_numpy()[head_bus]].to_numpy(float),
        }
    )
    sub_of_feeder = dict(zip(feeders["feeder_id"], feeders["substation_id"], strict=True))
    sec_sub = pd.Series([sub_of_sec.get(x) for x in bus_ix], dtype=object).to_numpy()
    bus_sub = np.array(
        [sub_of_feeder[f] if not pd.isna(f) else sec_sub[i] for i, f in enumerate(bus_feeder)], dtype=object
    )
    tables = _assemble(
        net,
        coords,
        bus,
        bus_ix,
        bus_feeder,
        bus_sub,
        is_sec,
        seg,
        dev,
        a,
        b,
        head_dev,
        feeders,
        subs,
        stx,
        report,
    )
    tables.update(build_leaf_tables(net, bus, bus_ix, bus_feeder, bus_sub, is_sec, feeders, coords, report))
    return tables, report


def _device_types(
    dev: pd.DataFrame,
    is_head: np.ndarray,  # type: ignore[type-arg]
    is_tie: np.ndarray,  # type: ignore[type-arg]
    sec_breaker: np.ndarray,  # type: ignore[type-arg]
    no_tie_feeder: np.ndarray,  # type: ignore[type-arg]
) -> np.ndarray:  # type: ignore[type-arg]
    cb = dev["pp_type"].str.upper().eq("CB").to_numpy()
    closed = dev["closed"].to_numpy(bool)
    t = np.where(closed, "switch", "tie_switch").astype(object)
    t[cb & closed] = "recloser"  # a circuit breaker inside a feeder acts as a mid-line recloser
    t[~closed & no_tie_feeder] = "switch"  # normally open point inside one feeder
    t[is_head | sec_breaker] = "breaker"
    t[is_tie] = "bus_tie"
    return t


def _assemble(
    net: Any,
    coords: pd.DataFrame,
    bus: pd.DataFrame,
    bus_ix: pd.Index,
    bus_feeder: np.ndarray,  # type: ignore[type-arg]
    bus_sub: np.ndarray,  # type: ignore[type-arg]
    is_sec: np.ndarray,  # type: ignore[type-arg]
    seg: pd.DataFrame,
    dev: pd.DataFrame,
    a: np.ndarray,  # type: ignore[type-arg]
    b: np.ndarray,  # type: ignore[type-arg]
    head_dev: np.ndarray,  # type: ignore[type-arg]
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
    tie_feeder: np.ndarray = np.asarray(  # type: ignore[type-arg]
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
