"""Imported pandapower/SimBench grids: our power flow vs ``runpp`` on the original net.

Our model has no line capacitance or transformer magnetizing branch, so the pandapower net is solved with
``c_nf_per_km = 0`` and ``pfe_kw = i0_percent = 0`` (docs/physics.md §4 gives the size of that effect).
SimBench study state: loads at ``p_mw·scaling`` minus sgens at ``p_mw·scaling`` (all scaling 1).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandapower as pp
import pytest

from fluxops.grid.importers.pandapower import ImportReport, import_pandapower_net
from fluxops.network.compiled import CompiledGrid, compile_grid
from fluxops.network.powerflow import run_powerflow

V_TOL_PU = 1e-4  # issue #4 §1
LOADING_TOL_PCT = 0.5

pn = pytest.importorskip("pandapower.networks")
sb = pytest.importorskip("simbench")


def _sgen_kw(net: Any, cg: CompiledGrid) -> np.ndarray:
    out = np.zeros(cg.n_bus)
    if len(net.sgen):
        on = net.sgen[net.sgen.in_service]
        pos = np.array([cg.bus_index[f"BUS-{b}"] for b in on.bus])
        np.add.at(out, pos, on.p_mw.to_numpy() * on.scaling.to_numpy() * 1000.0)
    return out


def _line_c_nf(net: Any, cg: CompiledGrid) -> np.ndarray:
    """Per-edge line capacitance (nF) from the pandapower line table (our model carries none)."""
    c_nf = np.zeros(cg.n_edge)
    pos = {str(e): k for k, e in enumerate(cg.edge_ids)}
    for i, row in net.line.iterrows():
        c_nf[pos[f"SEG-{i}"]] = row.c_nf_per_km * row.length_km * row.get("parallel", 1)
    return c_nf


def _errors(
    net: Any,
    cg: CompiledGrid,
    report: ImportReport,
    *,
    out_of_service_line: int | None = None,
    with_capacitance: bool = False,
) -> tuple[float, float]:
    # switch states as in the original net: the importer opens closed couplers between transformer bus
    # sections (our normal state runs them split); closing them again here exercises the meshed solve
    closed = cg.closed_state.copy()
    sw_edge = np.flatnonzero(np.char.startswith(cg.edge_ids.astype(str), "SW-"))
    sw_index = np.array([int(e[3:]) for e in cg.edge_ids[sw_edge]])
    closed[sw_edge] = net.switch.loc[sw_index, "closed"].to_numpy(bool)
    ref = copy.deepcopy(net)
    if not with_capacitance:
        ref.line["c_nf_per_km"] = 0.0
    ref.trafo["pfe_kw"] = 0.0
    ref.trafo["i0_percent"] = 0.0
    failed = None
    if out_of_service_line is not None:
        ref.line.loc[out_of_service_line, "in_service"] = False
        failed = np.flatnonzero(cg.edge_ids == f"SEG-{out_of_service_line}")
    pp.runpp(ref, tolerance_mva=1e-10, numba=False)
    ours = run_powerflow(
        cg,
        closed=closed,
        failed_edges=failed,
        p_kw=cg.bus_p_kw - _sgen_kw(net, cg),
        # with capacitance: what the import carried (grid.meta.params); without: none, like `ref`
        c_nf=None if with_capacitance else np.zeros(cg.n_edge),
        f_hz=float(net.f_hz),
    )
    assert ours.converged
    # the import's source voltages (ext_grid setpoint / tap ratio) and line capacitance reach the solver
    assert np.allclose(cg.source_v_pu, [report.source_v_pu[s] for s in cg.source_ids])
    assert np.allclose(cg.edge_c_nf, _line_c_nf(net, cg))
    ids = np.array([f"BUS-{i}" for i in ref.bus.index], dtype=object)
    mine = np.isin(ids, cg.bus_ids)
    pos = np.array([cg.bus_index[i] for i in ids[mine]])
    vm_pp = ref.res_bus.vm_pu.to_numpy()[mine]
    live = np.isfinite(vm_pp) & ours.bus_energized[pos]
    assert (np.isfinite(vm_pp) == ours.bus_energized[pos]).all()  # same de-energized set
    dv = float(np.max(np.abs(vm_pp[live] - ours.vm_pu[pos][live])))
    seg_pos = np.array([np.flatnonzero(cg.edge_ids == f"SEG-{i}")[0] for i in ref.line.index])
    lp = np.nan_to_num(ref.res_line.loading_percent.to_numpy())
    dl = float(np.max(np.abs(lp - np.nan_to_num(ours.loading_pct[seg_pos]))))
    return dv, dl


@pytest.fixture(scope="module")
def oberrhein() -> tuple[Any, CompiledGrid, ImportReport]:
    net = pn.mv_oberrhein()
    grid, report = import_pandapower_net(net, name="mv_oberrhein")
    return net, compile_grid(grid), report


def test_mv_oberrhein_base_case(oberrhein: tuple[Any, CompiledGrid, ImportReport]) -> None:
    dv, dl = _errors(*oberrhein)
    assert dv < V_TOL_PU and dl < LOADING_TOL_PCT


@pytest.mark.parametrize("line", [0, 17, 60, 120, 180])
def test_mv_oberrhein_n_minus_1(oberrhein: tuple[Any, CompiledGrid, ImportReport], line: int) -> None:
    dv, dl = _errors(*oberrhein, out_of_service_line=line)
    assert dv < V_TOL_PU and dl < LOADING_TOL_PCT


@pytest.mark.parametrize("code", ["1-MV-rural--0-sw", "1-MV-urban--0-sw"])
def test_simbench_mv(code: str) -> None:
    net = sb.get_simbench_net(code)
    grid, report = import_pandapower_net(net, name=code, source="simbench")
    dv, dl = _errors(net, compile_grid(grid), report)
    assert dv < V_TOL_PU and dl < LOADING_TOL_PCT


@pytest.mark.parametrize("line", [None, 60])
def test_mv_oberrhein_with_line_capacitance(
    oberrhein: tuple[Any, CompiledGrid, ImportReport], line: int | None
) -> None:
    """The solver models line charging when given it (108 km of cable moves voltages ~0.015 pu)."""
    dv, dl = _errors(*oberrhein, with_capacitance=True, out_of_service_line=line)
    assert dv < V_TOL_PU and dl < LOADING_TOL_PCT


def test_mv_oberrhein_batched_n_minus_1_with_charging(
    oberrhein: tuple[Any, CompiledGrid, ImportReport],
) -> None:
    """The batched N-1 (one sweep for all outages) against one pandapower runpp per outage."""
    from fluxops.network.contingency import run_n_minus_1

    net, cg, _ = oberrhein
    lines = [0, 17, 60, 120, 180]
    edges = [int(np.flatnonzero(cg.edge_ids == f"SEG-{i}")[0]) for i in lines]
    res = run_n_minus_1(cg, edges=edges)
    assert res.method == "batched-radial" and res.converged.all()
    ref = copy.deepcopy(net)
    ref.trafo["pfe_kw"] = 0.0
    ref.trafo["i0_percent"] = 0.0
    mv = ref.bus.vn_kv.to_numpy() < 100
    for k, i in enumerate(lines):
        ref.line.loc[i, "in_service"] = False
        pp.runpp(ref, tolerance_mva=1e-10, numba=False)
        ref.line.loc[i, "in_service"] = True
        assert res.min_vm_pu[k] == pytest.approx(np.nanmin(ref.res_bus.vm_pu.to_numpy()[mv]), abs=V_TOL_PU)
        assert res.max_loading_pct[k] == pytest.approx(
            np.nanmax(ref.res_line.loading_percent.to_numpy()), abs=LOADING_TOL_PCT
        )
