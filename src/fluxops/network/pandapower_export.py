"""Export a compiled grid to a pandapower network with the same physics as `run_powerflow`.

Why: the cross-validation tests and the benchmark solve our own generated feeders with pandapower's
``runpp`` and compare. The export models exactly what our solver models: each source is an ``ext_grid``
on a high-voltage bus behind a two-winding transformer with our series impedance (no magnetizing branch,
``pfe_kw = i0_percent = 0``, neutral tap); lines carry R and X only (``c_nf_per_km = 0``); devices are
bus-bus switches (pandapower fuses the buses of closed ones); loads are constant-power ``load`` rows.
Requires the ``[import]`` extra (pandapower), imported lazily.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from fluxops.core.errors import CapabilityError
from fluxops.network.compiled import EDGE_LINE, CompiledGrid

# pandapower needs a nominal HV level for the transformer's primary; its value does not affect the LV
# solution when the ext_grid sits on that bus (the per-unit impedance is defined on the LV rating).
_HV_KV = 110.0


def to_pandapower(
    cg: CompiledGrid,
    *,
    closed: npt.ArrayLike | None = None,
    p_kw: npt.ArrayLike | None = None,
    q_kvar: npt.ArrayLike | None = None,
    v_source_pu: float | npt.ArrayLike | None = None,
) -> Any:
    """A pandapower net whose bus ``i`` is our bus ``i``, line/switch rows carry ``name = edge id`` and
    ``net.line['edge']``/``net.switch['edge']`` hold our edge positions."""
    try:
        import pandapower as pp
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise CapabilityError("pandapower is not installed (pip install 'fluxops[import]')") from exc

    closed_mask = cg.closed_state if closed is None else np.asarray(closed, bool)
    p = cg.bus_p_kw if p_kw is None else np.asarray(p_kw, np.float64)
    q = cg.bus_q_kvar if q_kvar is None else np.asarray(q_kvar, np.float64)
    vs = np.broadcast_to(
        np.asarray(cg.source_v_pu if v_source_pu is None else v_source_pu, np.float64), (cg.n_source,)
    )

    net = pp.create_empty_network(sn_mva=1.0)
    pp.create_buses(net, cg.n_bus, vn_kv=cg.v_base_kv, name=cg.bus_ids)
    hv = pp.create_buses(net, cg.n_source, vn_kv=_HV_KV, name=[f"{s}:hv" for s in cg.source_ids])
    for s in range(cg.n_source):
        z_ohm = float(np.hypot(cg.source_r_ohm[s], cg.source_x_ohm[s]))
        vn = float(cg.v_base_kv[cg.source_bus[s]])
        z_base = vn**2 / cg.source_rating_mva[s]
        pp.create_transformer_from_parameters(
            net,
            hv_bus=int(hv[s]),
            lv_bus=int(cg.source_bus[s]),
            sn_mva=float(cg.source_rating_mva[s]),
            vn_hv_kv=_HV_KV,
            vn_lv_kv=vn,
            vk_percent=100.0 * z_ohm / z_base,
            vkr_percent=100.0 * float(cg.source_r_ohm[s]) / z_base,
            pfe_kw=0.0,
            i0_percent=0.0,
            name=str(cg.source_ids[s]),
        )
        pp.create_ext_grid(net, int(hv[s]), vm_pu=float(vs[s]), va_degree=0.0)

    is_line = cg.edge_kind == EDGE_LINE
    # zero-impedance lines cannot be lines in pandapower; they become switches like devices
    line_e = np.flatnonzero(is_line & (np.hypot(cg.r_ohm, cg.x_ohm) > 0))
    sw_e = np.flatnonzero(~np.isin(np.arange(cg.n_edge), line_e))
    if len(line_e):
        idx = pp.create_lines_from_parameters(
            net,
            from_buses=cg.from_bus[line_e],
            to_buses=cg.to_bus[line_e],
            length_km=np.ones(len(line_e)),
            r_ohm_per_km=cg.r_ohm[line_e],
            x_ohm_per_km=cg.x_ohm[line_e],
            c_nf_per_km=np.zeros(len(line_e)),
            max_i_ka=cg.ampacity_a[line_e] / 1000.0,
            name=cg.edge_ids[line_e],
            in_service=closed_mask[line_e],
        )
        net.line.loc[idx, "edge"] = line_e
    if len(sw_e):
        idx = pp.create_switches(
            net,
            buses=cg.from_bus[sw_e],
            elements=cg.to_bus[sw_e],
            et="b",
            closed=closed_mask[sw_e],
            name=cg.edge_ids[sw_e],
        )
        net.switch.loc[idx, "edge"] = sw_e
    loaded = np.flatnonzero((p != 0) | (q != 0))
    if len(loaded):
        pp.create_loads(net, buses=loaded, p_mw=p[loaded] / 1000.0, q_mvar=q[loaded] / 1000.0)
    return net
