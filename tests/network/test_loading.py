"""Whole-grid loading for the map: transformer kW → bus loads, and the shaped power-flow answer."""

from __future__ import annotations

import numpy as np
import pytest

from fluxops.core.errors import InvalidInputError
from fluxops.network.compiled import EDGE_LINE, CompiledGrid
from fluxops.network.energization import energize
from fluxops.network.loading import VoltageLimits, bus_demand_from_transformers, grid_loading
from fluxops.network.powerflow import run_powerflow
from fluxops.network.regulation import SubstationRegulation, ldc_boost_pu


def test_bus_loads_sum_transformer_kw(hand_cg: CompiledGrid) -> None:
    ids = hand_cg.xfmr_ids
    kw = np.arange(1, len(ids) + 1, dtype=np.float64) * 10.0
    d = bus_demand_from_transformers(hand_cg, [*ids, "XF-unknown"], np.append(kw, 99.0))
    expected = np.zeros(hand_cg.n_bus)
    np.add.at(expected, hand_cg.xfmr_bus, kw)
    np.testing.assert_allclose(d.p_kw, expected)
    assert d.measured_transformers == len(ids)
    assert d.p_kw.sum() == pytest.approx(kw.sum())  # the unknown id is ignored
    # reactive power keeps each bus's design power factor
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(hand_cg.bus_p_kw > 0, hand_cg.bus_q_kvar / hand_cg.bus_p_kw, 0.0)
    np.testing.assert_allclose(d.q_kvar, expected * ratio)


def test_unmeasured_transformers_scale_with_the_measured_ratio(hand_cg: CompiledGrid) -> None:
    first = hand_cg.xfmr_ids[:1]
    design = hand_cg.xfmr_p_kw
    d = bus_demand_from_transformers(hand_cg, first, [design[0] * 0.5])
    assert d.scale_unmeasured == pytest.approx(0.5)
    assert d.p_kw.sum() == pytest.approx(design.sum() * 0.5)


def test_bad_kw_names_the_field(hand_cg: CompiledGrid) -> None:
    with pytest.raises(InvalidInputError) as e:
        bus_demand_from_transformers(hand_cg, hand_cg.xfmr_ids[:1], [float("nan")])
    assert e.value.field == "p_kw"
    with pytest.raises(InvalidInputError):
        bus_demand_from_transformers(hand_cg, hand_cg.xfmr_ids[:2], [1.0])


def test_result_equals_a_direct_power_flow(hand_cg: CompiledGrid) -> None:
    d = bus_demand_from_transformers(hand_cg, hand_cg.xfmr_ids, hand_cg.xfmr_p_kw * 0.8)
    got = grid_loading(hand_cg, d, regulation=None)
    pf = run_powerflow(hand_cg, p_kw=d.p_kw, q_kvar=d.q_kvar)
    t = got.table.to_pydict()
    seg = np.flatnonzero(hand_cg.edge_kind == EDGE_LINE)
    kinds = np.array(t["kind"])
    segs = kinds == "line_segment"
    assert list(np.array(t["asset_id"])[segs]) == list(hand_cg.edge_ids[seg])
    np.testing.assert_allclose(np.array(t["i_a"], dtype=float)[segs], pf.i_edge_a[seg])
    np.testing.assert_allclose(np.array(t["loading_pct"], dtype=float)[segs], pf.loading_pct[seg])
    buses = kinds == "bus"
    np.testing.assert_allclose(np.array(t["v_pu"], dtype=float)[buses], pf.vm_pu)
    xf = kinds == "transformer"
    np.testing.assert_allclose(np.array(t["v_pu"], dtype=float)[xf], pf.vm_pu[hand_cg.xfmr_bus])
    assert got.converged and got.max_loading_pct == pytest.approx(np.nanmax(pf.loading_pct[seg]))


def test_substation_regulation_raises_each_source_to_its_ldc_target(hand_cg: CompiledGrid) -> None:
    """LTC + LDC: each source is raised so its lowest bus reaches the target (or the LTC cap), and the
    answer is the flow at those set points."""
    reg = SubstationRegulation(v_set_pu=1.0, v_max_pu=1.05, ldc_target_min_pu=1.0)
    d = bus_demand_from_transformers(hand_cg, hand_cg.xfmr_ids, hand_cg.xfmr_p_kw * 1.5)
    got = grid_loading(hand_cg, d, regulation=reg)
    first = run_powerflow(hand_cg, p_kw=d.p_kw, q_kvar=d.q_kvar, v_source_pu=1.0)
    src = energize(hand_cg).bus_source
    boost = ldc_boost_pu(first.vm_pu, src, hand_cg.n_source, reg)
    assert (boost > 0).any() and (boost <= 0.05 + 1e-12).all()
    pf = run_powerflow(hand_cg, p_kw=d.p_kw, q_kvar=d.q_kvar, v_source_pu=1.0 + boost)
    t = got.table.to_pydict()
    buses = np.array(t["kind"]) == "bus"
    np.testing.assert_allclose(np.array(t["v_pu"], dtype=float)[buses], pf.vm_pu)
    # the lowest voltage on every boosted source is now within the drop's second-order error of 1.0
    for s in np.flatnonzero(boost > 0):
        if boost[s] < 0.05:
            assert pf.vm_pu[src == s].min() == pytest.approx(1.0, abs=2e-3)


def test_design_peak_and_voltage_band(hand_cg: CompiledGrid) -> None:
    pf = run_powerflow(hand_cg)
    tight = grid_loading(
        hand_cg, None, limits=VoltageLimits(v_min_pu=1.0 - 1e-12, v_max_pu=1.0 + 1e-12), regulation=None
    )
    v_xf = pf.vm_pu[hand_cg.xfmr_bus]
    expected = int((np.abs(v_xf - 1.0) > 1e-12).sum())
    assert tight.violations == expected > 0
    assert grid_loading(hand_cg, None, limits=VoltageLimits(0.0, 10.0), regulation=None).violations == 0


def test_rooftop_pv_export_is_reverse_flow_not_an_error(hand_cg: CompiledGrid) -> None:
    """Regression: a transformer whose customers export (net-negative kW) used to fail the whole flow
    (422 "transformer kW must be finite and non-negative"). It is an injection; the segments feeding
    only exporters carry power back towards the substation and say so."""
    kw = hand_cg.xfmr_p_kw * 0.3
    kw[-1] = -hand_cg.xfmr_p_kw[-1] * 2.0  # the last transformer exports twice its design peak
    d = bus_demand_from_transformers(hand_cg, hand_cg.xfmr_ids, kw)
    assert d.p_kw.min() < 0
    assert d.q_kvar[hand_cg.xfmr_bus[-1]] == 0.0  # an exporting bus at unity power factor
    got = grid_loading(hand_cg, d, regulation=None)
    assert got.converged
    pf = run_powerflow(hand_cg, p_kw=d.p_kw, q_kvar=d.q_kvar)
    t = got.table.to_pydict()
    segs = np.array(t["kind"]) == "line_segment"
    p_from = np.array(t["p_from_kw"], dtype=float)[segs]
    reverse = np.array(t["reverse_flow"], dtype=bool)[segs]
    seg = np.flatnonzero(hand_cg.edge_kind == EDGE_LINE)
    np.testing.assert_allclose(p_from, pf.p_from_kw[seg])
    assert reverse.any() and (reverse == (p_from < 0)).all()
    assert got.reverse_flow_segments == int(reverse.sum())
    assert np.isfinite(np.array(t["loading_pct"], dtype=float)[segs]).all()
    # with every transformer at a positive load, nothing flows backwards
    fwd = grid_loading(hand_cg, bus_demand_from_transformers(hand_cg, hand_cg.xfmr_ids, hand_cg.xfmr_p_kw))
    assert not any(fwd.table.column("reverse_flow").to_pylist())


def test_net_export_does_not_make_unmeasured_transformers_export(hand_cg: CompiledGrid) -> None:
    d = bus_demand_from_transformers(hand_cg, hand_cg.xfmr_ids[:1], [-5.0])
    assert d.scale_unmeasured == 0.0
    assert d.p_kw.min() == pytest.approx(-5.0) and d.p_kw.sum() == pytest.approx(-5.0)
