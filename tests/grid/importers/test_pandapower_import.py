from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from fluxops.core.errors import ImportDataError
from fluxops.grid.importers.pandapower import import_pandapower_net, load_pandapower_network
from fluxops.grid.importers.simbench import load_simbench_network
from fluxops.grid.validation import validate_grid
from fluxops.network.compiled import compile_grid
from fluxops.network.energization import energize

pn = pytest.importorskip("pandapower.networks")


def test_mv_oberrhein_maps_every_element() -> None:
    grid, report = load_pandapower_network("mv_oberrhein")
    counts = grid.counts()
    assert counts["substations"] == 2 and counts["substation_transformers"] == 2
    assert counts["line_segments"] == 181
    assert counts["devices"] == 322  # every pandapower switch
    assert counts["customers"] >= 147  # one per load, plus generation-only buses
    assert len(grid.meta.params["line_c_nf"]) == 181  # charging travels with the grid
    assert grid.meta.params["f_hz"] == 50.0
    assert set(report.source_v_pu) == set(grid.substation_transformers["transformer_id"])
    # real line geometry and coordinates survive
    assert grid.buses["lon"].between(7.5, 8.2).all() and grid.buses["lat"].between(48.2, 48.7).all()
    # every feeder starts at a breaker; normal state is radial and feeds every bus
    heads = grid.devices.set_index("device_id").loc[grid.feeders["head_device_id"], "device_type"]
    assert (heads == "breaker").all()
    validate_grid(grid)
    cg = compile_grid(grid)
    en = energize(cg)
    assert en.bus_energized.all()
    assert (grid.devices["normal_state"] == "open").sum() == 6  # the six tie points (domain-facts §1.3)
    assert cg.bus_p_kw.sum() == pytest.approx(61.9e3 * 0.6, rel=0.01)  # 61.9 MW × scaling 0.6


@pytest.mark.parametrize("code", ["1-LV-rural1--0-sw", "1-MV-rural--0-sw"])
def test_simbench_grids_import_and_validate(code: str) -> None:
    grid, report = load_simbench_network(code)
    validate_grid(grid)
    assert len(grid.substations) == 1 and len(grid.customers) >= 13
    assert (grid.meters["service_v"] == 400.0).all()
    loads = grid.customers[grid.customers["customer_id"].str.startswith("CUST-L")]
    assert (loads["annual_kwh"] > 0).all()  # from SimBench's 2016 profiles
    load_factor = loads["annual_kwh"] / (loads["peak_kw"] * 8784)
    assert load_factor.between(0.05, 1.0).all()
    if code == "1-MV-rural--0-sw":  # two transformers run in parallel via a closed coupler in SimBench
        assert any("couplers" in n for n in report.notes)
        assert (grid.devices["device_type"] == "bus_tie").sum() == 1


def test_errors_name_element_and_field() -> None:
    net = pn.mv_oberrhein()
    net.line.loc[net.line.index[3], "r_ohm_per_km"] = np.nan
    with pytest.raises(ImportDataError) as exc:
        import_pandapower_net(net, name="broken")
    assert exc.value.details == {"element": "line", "index": str(net.line.index[3]), "field": "r_ohm_per_km"}
    net = pn.mv_oberrhein()
    net.bus.loc[net.bus.index[0], "geo"] = "not json"
    with pytest.raises(ImportDataError) as exc:
        import_pandapower_net(net, name="broken")
    assert exc.value.details["field"] == "geo"
    with pytest.raises(ImportDataError) as exc:
        load_simbench_network("no-such-code")
    assert exc.value.details["field"] == "code"
    with pytest.raises(ImportDataError):
        load_pandapower_network("no_such_network")


def test_network_without_coordinates_gets_a_schematic_layout() -> None:
    """Kerber grids carry no geo: a layered tree from the source, deterministic, said in meta + report."""
    grid, report = load_pandapower_network("create_kerber_landnetz_freileitung_1")
    validate_grid(grid)
    assert grid.meta.params["layout"] == "schematic"
    assert any("schematic" in n for n in report.notes)
    again, _ = load_pandapower_network("create_kerber_landnetz_freileitung_1")
    assert np.array_equal(grid.buses[["lon", "lat"]].to_numpy(), again.buses[["lon", "lat"]].to_numpy())
    # layers: the source bus section is on top, every other bus below it; no two buses share a spot
    sec = grid.buses[grid.buses["bus_type"] == "substation"]
    assert (grid.buses["lat"] <= sec["lat"].max()).all()
    real = grid.buses[~grid.buses["bus_id"].str.contains("-")]  # pandapower buses, not switch buses
    assert not real[["lon", "lat"]].duplicated().any()
    assert load_pandapower_network("mv_oberrhein")[0].meta.params["layout"] == "geographic"


def test_ext_grid_at_distribution_voltage_imports() -> None:
    """IEEE 33-bus (Baran & Wu): no transformer; the ext_grid bus is the source behind an ideal source."""
    grid, report = load_pandapower_network("case33bw")
    validate_grid(grid)
    assert len(grid.substation_transformers) == 1
    assert grid.meta.params["ideal_sources"] == grid.substation_transformers["transformer_id"].tolist()
    assert report.dropped["line (out of service)"] == 5  # the five tie lines
    assert energize(compile_grid(grid)).bus_energized.all()


def test_meshed_network_with_isolated_buses_imports_flagged() -> None:
    """lv_schutterwald: a loop closed in normal operation and buses behind open switches."""
    grid, report = load_pandapower_network("lv_schutterwald")
    validate_grid(grid)
    params = grid.meta.params
    assert params["meshed_normal"] is True and params["loop_edges"]
    dead = params["deenergized_buses"]
    assert dead
    en = energize(compile_grid(grid))
    cg = compile_grid(grid)
    assert not en.bus_energized[[cg.bus_index[b] for b in dead]].any()
    assert int(en.bus_energized.sum()) == len(grid.buses) - len(dead)
    assert any("meshed in normal operation" in n for n in report.notes)


def test_every_element_type_is_carried_or_named() -> None:
    """Storage (53 units in 1-MV-rural--1-sw), sgen, iron losses and taps are counted, never silent;
    switches without a rating stay unrated (null), not rated like the widest conductor."""
    grid, report = load_simbench_network("1-MV-rural--1-sw")
    assert report.carried["storage (operating point only: p/q as in the source)"] == 53
    assert report.carried["sgen (PV, wind: installed pv_kw + operating point)"] == 102
    assert any("-6.29 MW" in n for n in report.notes)
    op = grid.meta.params["operating_point"]
    assert sum(op["bus_gen_kw"].values()) > 0 and op["closed_devices"]
    unrated = grid.meta.params["unrated_devices"]
    rating = grid.devices.set_index("device_id")["rating_a"]
    assert unrated and rating.loc[unrated].isna().all()
    validate_grid(grid)


def test_elements_the_model_lacks_are_named_with_counts() -> None:
    net = pn.mv_oberrhein()
    pp = pytest.importorskip("pandapower")
    pp.create_gen(net, bus=int(net.load.bus.iloc[0]), p_mw=0.1)
    pp.create_shunt(net, bus=int(net.load.bus.iloc[1]), q_mvar=0.2)
    _, report = import_pandapower_net(net, name="x")
    assert report.dropped["gen"] == 1
    assert report.carried["shunt (operating point only: rated P/Q as constant power)"] == 1


def _mismatch(change: str) -> Any:
    net = pn.mv_oberrhein()
    if change == "line_kv":
        net.bus.loc[net.line.at[net.line.index[5], "to_bus"], "vn_kv"] = 0.4
    elif change == "length":
        net.line.loc[net.line.index[2], "length_km"] = -1.0
    elif change == "trafo_kv":
        net.trafo.loc[net.trafo.index[0], "vn_lv_kv"] = 0.4
    elif change == "ext_grid_kv":
        net.ext_grid.loc[net.ext_grid.index[0], "vm_pu"] = 110.0
    elif change == "no_source":
        net.ext_grid = net.ext_grid.iloc[0:0]
    return net


@pytest.mark.parametrize(
    ("change", "element", "fld"),
    [
        ("line_kv", "line", "to_bus"),
        ("length", "line", "length_km"),
        ("trafo_kv", "trafo", "vn_lv_kv"),
        ("ext_grid_kv", "ext_grid", "vm_pu"),
        ("no_source", "ext_grid", "table"),
    ],
)
def test_unit_mismatch_and_no_source_are_one_error_naming_element_and_field(
    change: str, element: str, fld: str
) -> None:
    """Issue 11, bad input: a line between voltage levels, a transformer rated for another level, a
    negative length, a set point in kV, no source — refused before anything is built."""
    with pytest.raises(ImportDataError) as exc:
        import_pandapower_net(_mismatch(change), name="broken")
    d = exc.value.details
    assert d["element"] == element and d["field"] == fld
    assert element in str(exc.value)
