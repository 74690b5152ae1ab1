"""The "as imported" case of an imported grid against pandapower ``runpp`` with its defaults.

No zeroing on the pandapower side: line charging, transformer iron losses, static generators, storage
and tap positions all as the source holds them. Our side: `as_imported_case` (the operating point the
importer carried in ``grid.meta.params``) through `run_powerflow`. Tolerances of issue 11 §1: 1e-4 pu,
0.5 % loading.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandapower as pp
import pytest

from fluxops.grid.importers.pandapower import import_pandapower_net
from fluxops.grid.validation import validate_grid
from fluxops.network.compiled import as_imported_case, compile_grid
from fluxops.network.powerflow import run_powerflow

V_TOL_PU = 1e-4
LOADING_TOL_PCT = 0.5

pn = pytest.importorskip("pandapower.networks")
sb = pytest.importorskip("simbench")


def _compare(net: Any, name: str) -> tuple[float, float]:
    grid, _ = import_pandapower_net(net, name=name)
    validate_grid(grid)
    cg = compile_grid(grid)
    case = as_imported_case(cg)
    assert case is not None
    p, q, closed = case
    ours = run_powerflow(cg, p_kw=p, q_kvar=q, closed=closed)
    assert ours.converged
    pp.runpp(net)  # pandapower's defaults (the source case as published)
    ids = np.array([f"BUS-{i}" for i in net.bus.index], dtype=object)
    mine = np.isin(ids, cg.bus_ids)
    pos = np.array([cg.bus_index[i] for i in ids[mine]])
    vm = net.res_bus.vm_pu.to_numpy()[mine]
    assert (np.isfinite(vm) == ours.bus_energized[pos]).all()  # the same buses are de-energized
    live = np.isfinite(vm)
    dv = float(np.max(np.abs(vm[live] - ours.vm_pu[pos][live])))
    lines = net.line.index[net.line.in_service.astype(bool)]
    edge_pos = {str(e): k for k, e in enumerate(cg.edge_ids)}
    seg = np.array([edge_pos[f"SEG-{i}"] for i in lines])
    lp = np.nan_to_num(net.res_line.loading_percent.loc[lines].to_numpy(float))
    dl = float(np.max(np.abs(lp - np.nan_to_num(ours.loading_pct[seg]))))
    return dv, dl


@pytest.mark.parametrize("factory", ["mv_oberrhein", "case33bw", "create_kerber_landnetz_freileitung_1"])
def test_pandapower_networks_as_imported(factory: str) -> None:
    """mv_oberrhein: loads ×0.6, sgen ×0 and trafo taps as shipped; case33bw: ext_grid at 12.66 kV,
    no transformer; Kerber: no coordinates (schematic layout) and iron losses."""
    dv, dl = _compare(getattr(pn, factory)(), factory)
    assert dv < V_TOL_PU and dl < LOADING_TOL_PCT


@pytest.mark.parametrize("code", ["1-MV-semiurb--0-sw", "1-MV-rural--1-sw"])
def test_simbench_with_sgen_and_storage_as_imported(code: str) -> None:
    """semiurb: 121 sgens netted (the product path differed by 0.055 pu before); rural--1: 53 storage
    units (−6.3 MW) and a coupler the asset model runs open, closed again as in the source."""
    dv, dl = _compare(sb.get_simbench_net(code), code)
    assert dv < V_TOL_PU and dl < LOADING_TOL_PCT


def test_generation_changes_the_answer() -> None:
    """The test above would pass trivially if sgen did nothing: on semiurb, dropping the generation from
    the operating point moves voltages by far more than the tolerance."""
    net = sb.get_simbench_net("1-MV-semiurb--0-sw")
    grid, _ = import_pandapower_net(net, name="semiurb")
    cg = compile_grid(grid)
    case = as_imported_case(cg)
    assert case is not None and cg.as_imported_gen_kw is not None
    p, q, closed = case
    with_gen = run_powerflow(cg, p_kw=p, q_kvar=q, closed=closed)
    without = run_powerflow(cg, p_kw=p + cg.as_imported_gen_kw, q_kvar=q, closed=closed)
    live = with_gen.bus_energized
    assert float(np.max(np.abs(with_gen.vm_pu[live] - without.vm_pu[live]))) > 10 * V_TOL_PU


def test_a_generated_grid_has_no_as_imported_case() -> None:
    from fluxops.network.reference_grid import build_reference_grid

    cg = compile_grid(build_reference_grid())
    assert as_imported_case(cg) is None and not cg.has_as_imported


def test_sub_grid_keeps_the_operating_point_of_its_buses() -> None:
    """A local context compiles a subset of the buses; the operating point follows its bus ids."""
    net = pn.mv_oberrhein()
    grid, _ = import_pandapower_net(net, name="mv_oberrhein")
    full = compile_grid(grid)
    keep = grid.buses["substation_id"] == grid.substations["substation_id"].iloc[0]
    sub_ids = set(grid.buses.loc[keep, "bus_id"])
    tables = grid.tables()
    tables["buses"] = grid.buses[keep]
    for name in ("line_segments", "devices"):
        df = tables[name]
        tables[name] = df[df["from_bus_id"].isin(sub_ids) & df["to_bus_id"].isin(sub_ids)]
    tables["feeders"] = grid.feeders[grid.feeders["head_bus_id"].isin(sub_ids)]
    tables["substation_transformers"] = grid.substation_transformers[
        grid.substation_transformers["bus_id"].isin(sub_ids)
    ]
    tables["transformers"] = grid.transformers[grid.transformers["bus_id"].isin(sub_ids)]
    tables["meters"] = grid.meters[
        grid.meters["transformer_id"].isin(tables["transformers"]["transformer_id"])
    ]
    tables["customers"] = grid.customers[grid.customers["meter_id"].isin(tables["meters"]["meter_id"])]
    from fluxops.grid.models import grid_from_tables

    part = compile_grid(grid_from_tables(grid.meta, tables))
    assert part.as_imported_p_kw is not None and full.as_imported_p_kw is not None
    pos = [full.bus_index[str(b)] for b in part.bus_ids]
    assert np.allclose(part.as_imported_p_kw, full.as_imported_p_kw[pos])
