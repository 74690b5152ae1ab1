"""Our sweep vs pandapower ``runpp`` on our own grids, exported with the same physics."""

from __future__ import annotations

import numpy as np
import pandapower as pp
import pytest

from fluxops.network.compiled import CompiledGrid, compile_grid
from fluxops.network.pandapower_export import to_pandapower
from fluxops.network.powerflow import run_powerflow
from fluxops.network.reference_grid import build_reference_grid

# Tolerances from the issue (#4 §1): voltages within 1e-4 pu, loadings within 0.5 % (points).
V_TOL_PU = 1e-4
LOADING_TOL_PCT = 0.5


def compare(cg: CompiledGrid, closed: np.ndarray, load_scale: float) -> tuple[float, float]:
    p, q = cg.bus_p_kw * load_scale, cg.bus_q_kvar * load_scale
    ours = run_powerflow(cg, closed=closed, p_kw=p, q_kvar=q, v_source_pu=1.02)
    assert ours.converged
    net = to_pandapower(cg, closed=closed, p_kw=p, q_kvar=q, v_source_pu=1.02)
    pp.runpp(net, tolerance_mva=1e-9, numba=False)
    vm_pp = net.res_bus.vm_pu.to_numpy()[: cg.n_bus]
    live = ours.bus_energized
    dv = float(np.max(np.abs(vm_pp[live] - ours.vm_pu[live]), initial=0.0))
    e = net.line["edge"].to_numpy(dtype=np.int64)
    loading_pp = net.res_line.loading_percent.to_numpy()
    dl = float(np.nanmax(np.abs(loading_pp - np.nan_to_num(ours.loading_pct[e]))))
    return dv, dl


@pytest.mark.parametrize("tie_closed", [False, True])
@pytest.mark.parametrize("load_scale", [1.0, 3.0])
def test_reference_grid_matches_pandapower(tie_closed: bool, load_scale: float) -> None:
    cg = compile_grid(build_reference_grid())
    closed = cg.closed_state.copy()
    closed[np.flatnonzero(cg.edge_ids == "TIE1")] = tie_closed
    dv, dl = compare(cg, closed, load_scale)
    assert dv < V_TOL_PU
    assert dl < LOADING_TOL_PCT
