"""Substations, buses, segments, devices and feeders from a pandapower net (topology part of the import).

See `fluxops.grid.importers.pandapower` for the mapping. The parts, each in its own module: sources
(`pandapower_sources`: substations, HV/MV transformers, bus sections), branches (`pandapower_edges`),
graph facts (`pandapower_topology`: orientation, loops, de-energized buses), feeders
(`pandapower_feeders`), the asset tables (`pandapower_assets`); the leaves (loads → transformers,
meters, customers) in `pandapower_loads`. Here: the buses, the breakers synthesized where a line leaves
a bus section without a switch, and the couplers opened between transformer sections.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from fluxops.grid.importers.pandapower_assets import assemble_tables
from fluxops.grid.importers.pandapower_edges import build_edges
from fluxops.grid.importers.pandapower_feeders import assign_feeders, feeder_table
from fluxops.grid.importers.pandapower_loads import build_leaf_tables
from fluxops.grid.importers.pandapower_mapping import ImportReport, bus_id, fail, in_service
from fluxops.grid.importers.pandapower_sources import bus_sections, find_substations, source_rows
from fluxops.grid.importers.pandapower_topology import orient_and_label, topology_flags


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
    s = find_substations(net, bidx, sw, report)
    subs, stx = source_rows(net, s, report)
    e = build_edges(net, sw, s["hv_set"], bidx, report)
    seg, dev = e["seg"], e["dev"]

    # buses: in-service distribution buses + switch buses (+ synthesized head buses below)
    active_bus = in_service(net.bus).index
    base = net.bus.loc[active_bus[~s["hv_set"][bidx.get_indexer(pd.Index(active_bus))]]]
    bus = pd.DataFrame({"bus_id": base.index.map(bus_id), "pp_bus": base.index.to_numpy()})
    extra = pd.DataFrame(e["new_buses"], columns=["bus_id", "pp_bus"])
    stx_of_sec, sub_of_sec = bus_sections(sw, stx, s["hv_set"], bidx)
    section_ids = set(stx_of_sec)
    seg, dev, extra, n_synth = _head_breakers(seg, dev, extra, section_ids)
    if n_synth:
        report = dataclasses.replace(report, synthesized_breakers=n_synth)
    bus = pd.concat([bus, extra], ignore_index=True)
    bus_ix = pd.Index(bus["bus_id"])
    if not bus_ix.is_unique:
        raise fail("switch", "*", "bus", "two switches create the same switch bus")
    a, b = _edge_ends(bus_ix, seg, dev)
    _open_couplers(dev, stx_of_sec, report)
    closed = np.r_[np.ones(len(seg), bool), dev["closed"].to_numpy(bool)]
    sections = bus_ix.get_indexer(pd.Index(list(section_ids)))
    _, labels, swap = orient_and_label(bus_ix, sections, a, b, closed)
    a, b = np.asarray(np.where(swap, b, a), np.int64), np.asarray(np.where(swap, a, b), np.int64)

    # feeders: one per edge leaving a bus section
    is_sec = np.zeros(len(bus), bool)
    is_sec[sections] = True
    fd = assign_feeders(dev, len(seg), is_sec, a, b, closed, labels, report)
    topology_flags(bus_ix, is_sec, seg, dev, a, b, closed, report)
    feeders, bus_sub = feeder_table(net, fd, bus, bus_ix, dev, stx_of_sec, sub_of_sec)
    tables = assemble_tables(
        net,
        coords,
        bus,
        bus_ix,
        fd.bus_feeder,
        bus_sub,
        is_sec,
        seg,
        dev,
        a,
        b,
        fd.head_dev,
        feeders,
        subs,
        stx,
        report,
    )
    tables.update(
        build_leaf_tables(net, bus, bus_ix, fd.bus_feeder, bus_sub, is_sec, feeders, coords, report)
    )
    return tables, report


def _head_breakers(
    seg: pd.DataFrame, dev: pd.DataFrame, extra: pd.DataFrame, section_ids: set[str]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, int]:
    """A line leaving a bus section without a switch gets a synthesized breaker and head bus (every
    feeder starts at a device). Returns the updated segments, devices, extra buses and their count."""
    at_from = seg["from_bus_id"].isin(section_ids).to_numpy()
    at_to = seg["to_bus_id"].isin(section_ids).to_numpy()
    if (at_from & at_to).any():
        raise fail(
            "line", seg["pp_index"][at_from & at_to].iloc[0], "to_bus", "joins two substation bus sections"
        )
    head_seg = np.flatnonzero(at_from | at_to)
    if not len(head_seg):
        return seg, dev, extra, 0
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
    return seg, dev, extra, len(head_seg)


def _edge_ends(bus_ix: pd.Index, seg: pd.DataFrame, dev: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Bus positions of every edge's ends (segments, then devices); an end on no bus is refused."""
    a = np.r_[
        bus_ix.get_indexer(pd.Index(seg["from_bus_id"])), bus_ix.get_indexer(pd.Index(dev["from_bus_id"]))
    ]
    b = np.r_[bus_ix.get_indexer(pd.Index(seg["to_bus_id"])), bus_ix.get_indexer(pd.Index(dev["to_bus_id"]))]
    if (a < 0).any() or (b < 0).any():
        bad = np.flatnonzero((a < 0) | (b < 0))[0]
        eid = seg["segment_id"].iloc[bad] if bad < len(seg) else dev["device_id"].iloc[bad - len(seg)]
        raise fail("line" if bad < len(seg) else "switch", eid, "bus", "is out of service")
    return a, b


def _open_couplers(dev: pd.DataFrame, stx_of_sec: dict[str, str], report: ImportReport) -> None:
    """The asset model runs bus sections split (one transformer each): a closed coupler between sections
    of different transformers is opened in the normal state and reported; ``dev["coupler"]`` marks them."""
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
