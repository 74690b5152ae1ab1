"""Convert a pandapower network (``mv_oberrhein``, SimBench MV/LV grids) into the asset model.

Why: the whole product (map, cascade, AMI) should run on a grid nobody here drew. The mapping (docs/
physics.md §3) keeps everything the power flow needs, so ``run_powerflow`` on the imported grid
reproduces pandapower's ``runpp`` given `ImportReport.source_v_pu`:

* ``ext_grid`` + HV buses joined to it by closed bus-bus switches → one ``substations`` row;
* each ``trafo`` from such an HV bus → ``substation_transformers`` (z_pct = vk_percent referred to the
  LV bus voltage, X/R from vkr_percent); its LV bus → a ``substation`` bus section;
* other buses → ``junction`` buses; ``line`` → ``line_segments`` (R/parallel, X/parallel,
  ampacity = max_i_ka·df·parallel);
* ``switch`` et='l' → a device between the bus and a new bus at that line end; et='b' → a device between
  the buses (``bus_tie`` between bus sections); et='t' closed → dropped, open → the trafo is left out;
  CB at a feeder head → ``breaker``, CB elsewhere → ``recloser``, other closed → ``switch``, open →
  ``tie_switch``;
* each edge leaving a bus section starts a feeder; a ``breaker`` is synthesized where the data has
  none; feeder membership = components of the normal-state graph without the bus sections;
* ``load`` → one distribution transformer + meter + customer (an aggregate load point,
  ``peak_kw = p_mw·scaling``); ``sgen`` → installed PV (``pv_kw = p_mw``) on its bus's customer.

Carried in ``grid.meta.params`` (no model column for them): ``source_v_pu`` (ext_grid setpoint / tap
ratio per substation transformer), ``line_c_nf`` (line capacitance per segment), ``f_hz`` and the source
case ``operating_point`` (loads − sgen + storage + shunts + iron losses per bus, `pandapower_operating`);
`fluxops.network.compiled.compile_grid` reads them. Flags, not refusals: ``layout`` (``schematic`` for a
network without coordinates), ``meshed_normal``/``loop_edges``, ``deenergized_buses``, ``ideal_sources``
(ext_grid straight at MV), ``unrated_devices`` (rating null). Every element table is carried or named as
dropped with its count (`ImportReport.carried`/``dropped``). Errors raise `ImportDataError` naming
element and field.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fluxops.grid.importers.pandapower_checks import check_units
from fluxops.grid.importers.pandapower_graph import build_graph_tables
from fluxops.grid.importers.pandapower_layout import schematic_layout
from fluxops.grid.importers.pandapower_mapping import ImportReport, fail, parse_point
from fluxops.grid.importers.pandapower_operating import operating_point, report_element_coverage
from fluxops.grid.models import Grid, GridMeta, grid_from_tables

__all__ = ["ImportReport", "import_pandapower_net", "load_pandapower_network"]


def _require(df: pd.DataFrame, element: str, cols: list[str]) -> None:
    for c in cols:
        if c not in df.columns:
            raise fail(element, "*", c, "column is missing")
        bad = df[c].isna().to_numpy()
        if bad.any():
            raise fail(element, df.index[bad][0], c, "is missing")


def import_pandapower_net(
    net: Any, *, name: str, source: str = "pandapower", params: dict[str, Any] | None = None
) -> tuple[Grid, ImportReport]:
    """Convert ``net`` (never modified) into a `Grid` and an `ImportReport`."""
    for element in ("bus", "line", "ext_grid"):
        if element not in net or len(net[element]) == 0:
            raise fail(element, "*", "table", "is empty; a source (ext_grid) and lines are needed")
    _require(net.bus, "bus", ["vn_kv"])
    _require(
        net.line, "line", ["from_bus", "to_bus", "length_km", "r_ohm_per_km", "x_ohm_per_km", "max_i_ka"]
    )
    if "trafo" in net and len(net.trafo):
        _require(net.trafo, "trafo", ["hv_bus", "lv_bus", "sn_mva", "vk_percent", "vkr_percent", "vn_lv_kv"])
    _require(net.ext_grid, "ext_grid", ["bus", "vm_pu"])
    check_units(net)
    geo = net.bus["geo"] if "geo" in net.bus.columns else pd.Series(None, index=net.bus.index, dtype=object)
    schematic = bool(geo.isna().all())
    if schematic:
        coords = schematic_layout(net)
    else:
        _require(net.bus, "bus", ["geo"])
        lonlat = [parse_point(g, i) for i, g in zip(net.bus.index, geo, strict=True)]
        coords = pd.DataFrame(lonlat, index=net.bus.index, columns=["lon", "lat"])
    tables, report = build_graph_tables(net, coords, grid_name=name)
    if schematic:
        report.notes.append(
            "the network has no coordinates: buses placed on a schematic layered tree layout from the "
            "source (grid.meta.params['layout'] == 'schematic'; positions are not geographic)"
        )
    report_element_coverage(net, report)
    # the source voltages (ext_grid setpoint / tap ratio) travel with the grid: compile_grid reads them
    # line charging travels the same way (the asset model has no capacitance column): nF per segment
    seg = tables["line_segments"]
    c_nf = (
        net.line.loc[seg["pp_index"], "c_nf_per_km"].fillna(0.0).to_numpy(float)
        * seg["length_km"].to_numpy(float)
        * net.line.loc[seg["pp_index"], "parallel"].fillna(1).to_numpy(float)
        if "c_nf_per_km" in net.line.columns and "parallel" in net.line.columns
        else np.zeros(len(seg))
    )
    topo = report.topology
    meta = GridMeta(
        name=name,
        source=source,
        params={
            **(params or {}),
            "source_v_pu": dict(report.source_v_pu),
            "f_hz": float(getattr(net, "f_hz", 50.0) or 50.0),
            "line_c_nf": {str(k): float(v) for k, v in zip(seg["segment_id"], c_nf, strict=True) if v > 0},
            "layout": "schematic" if schematic else "geographic",
            "meshed_normal": bool(topo.get("loop_edges")),
            "loop_edges": list(topo.get("loop_edges", [])),
            "deenergized_buses": list(topo.get("deenergized_buses", [])),
            "ideal_sources": list(topo.get("ideal_sources", [])),
            "unrated_devices": list(topo.get("unrated_devices", [])),
            "operating_point": {
                **operating_point(net, tables),
                "closed_devices": list(topo.get("closed_in_source", [])),
            },
            "dropped": dict(report.dropped),
        },
    )
    # pandapower's power flow is balanced: every line and switch is three-phase (an OpenDSS import
    # overrides this from the file's bus nodes)
    tables["line_segments"] = tables["line_segments"].assign(phases="ABC")
    tables["devices"] = tables["devices"].assign(phases="ABC")
    return grid_from_tables(meta, tables), report


def load_pandapower_network(network: str) -> tuple[Grid, ImportReport]:
    """Import a network bundled with pandapower by its function name, e.g. ``mv_oberrhein``."""
    try:
        import pandapower.networks as pn
    except ImportError as exc:  # pragma: no cover - depends on the extra
        from fluxops.core.errors import CapabilityError

        raise CapabilityError("pandapower is not installed (pip install 'fluxops[import]')") from exc
    factory = getattr(pn, network, None)
    if factory is None or not callable(factory):
        raise fail("network", network, "name", "is not a pandapower.networks function")
    net = factory()
    return import_pandapower_net(net, name=network, source="pandapower", params={"network": network})
