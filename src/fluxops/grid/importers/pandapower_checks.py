"""Unit and sign checks on a pandapower net before anything is built from it.

Why: a line drawn between a 20 kV and a 0.4 kV bus, a transformer rated 0.4 kV on a 20 kV bus, a
negative length or an ext_grid set point given in kV instead of pu all import "successfully" and then
solve to nonsense. Each is refused as one `ImportDataError` naming element, index and field — before
any table is built, so nothing is half-loaded.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fluxops.grid.importers.pandapower_mapping import fail

# nominal voltages at the two ends of a line may differ by data rounding (20 vs 20.5 kV), not by a level
_LINE_V_RATIO = 1.1
# a transformer's rated voltage may sit off its bus's nominal (tap-like ratings), not by a level
_TRAFO_V_RATIO = 1.5


def check_units(net: Any) -> None:
    """Raise on the first sign or unit mismatch (module docstring)."""
    line = net.line
    for col in ("length_km", "r_ohm_per_km", "x_ohm_per_km", "max_i_ka"):
        v = line[col].to_numpy(float)
        bad = ~np.isfinite(v) | (v < 0)
        if bad.any():
            raise fail("line", line.index[bad][0], col, f"must be a non-negative number (got {v[bad][0]})")
    vn = net.bus["vn_kv"]
    on = line["in_service"].to_numpy(bool) if "in_service" in line.columns else np.ones(len(line), bool)
    a = vn.reindex(line["from_bus"]).to_numpy(float)
    b = vn.reindex(line["to_bus"]).to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.maximum(a, b) / np.minimum(a, b)
    bad = on & np.isfinite(ratio) & (ratio > _LINE_V_RATIO)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise fail(
            "line", line.index[i], "to_bus", f"joins a {a[i]:g} kV bus and a {b[i]:g} kV bus (unit mismatch)"
        )
    if "trafo" in net and len(net.trafo):
        tr = net.trafo
        for side in ("lv", "hv"):
            col = f"vn_{side}_kv"
            if col not in tr.columns:
                continue
            rated = tr[col].to_numpy(float)
            bus_kv = vn.reindex(tr[f"{side}_bus"]).to_numpy(float)
            with np.errstate(invalid="ignore", divide="ignore"):
                r = np.maximum(rated, bus_kv) / np.minimum(rated, bus_kv)
            bad = np.isfinite(r) & (r > _TRAFO_V_RATIO)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise fail(
                    "trafo",
                    tr.index[i],
                    col,
                    f"is {rated[i]:g} kV on a {bus_kv[i]:g} kV bus (unit mismatch)",
                )
    vm = net.ext_grid["vm_pu"].to_numpy(float)
    bad = ~np.isfinite(vm) | (vm < 0.5) | (vm > 1.5)
    if bad.any():
        raise fail(
            "ext_grid", net.ext_grid.index[bad][0], "vm_pu", f"is {vm[bad][0]:g}: a set point in pu (0.5–1.5)"
        )
