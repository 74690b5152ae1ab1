"""Lines and switches as one edge list (segment and device rows over bus-id strings): the branch side
of the pandapower import. A line switch gets its own bus between the switch and its line."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fluxops.grid.importers.pandapower_mapping import ImportReport, bus_id, fail, in_service


def build_edges(
    net: Any, sw: pd.DataFrame, hv_set: np.ndarray, bidx: pd.Index, report: ImportReport
) -> dict[str, Any]:
    """Lines and switches as one edge list over bus-id strings; line switches get their own bus."""
    lines_all = net.line
    lines = in_service(lines_all)
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
    from_id = lines["from_bus"].map(bus_id).to_numpy(object)
    to_id = lines["to_bus"].map(bus_id).to_numpy(object)
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
            "from_bus_id": list(lsw["bus"].map(bus_id)) + list(bsw["bus"].map(bus_id)),
            "to_bus_id": sw_bus.tolist() + list(bsw["element"].map(bus_id)),
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
