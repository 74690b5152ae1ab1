from __future__ import annotations

import numpy as np
import pytest

from fluxops.core.errors import InvalidInputError
from fluxops.network.compiled import CompiledGrid
from fluxops.network.energization import energize
from fluxops.network.powerflow import prepare_sweep, run_powerflow


def _edge(cg: CompiledGrid, eid: str) -> int:
    return int(np.flatnonzero(cg.edge_ids == eid)[0])


def test_single_line_matches_hand_calculation(hand_cg: CompiledGrid) -> None:
    """Feeder F2 by hand: constant-power loads, series impedances; check KVL along the path."""
    cg = hand_cg
    r = run_powerflow(cg)
    assert r.converged and r.method == "radial" and r.max_mismatch_mva < 1e-8
    # the voltage drop across M2 equals Z·I of M2 (complex KVL)
    m2 = _edge(cg, "M2")
    z_pu = (cg.r_ohm[m2] + 1j * cg.x_ohm[m2]) / 12.47**2
    c2, c3 = cg.bus_index["C2"], cg.bus_index["C3"]
    # the current into C3 supplies exactly C3's load at C3's voltage
    s3 = (cg.bus_p_kw[c3] + 1j * cg.bus_q_kvar[c3]) / 1000
    i3 = np.conj(s3 / r.v_pu[c3])
    assert r.v_pu[c2] - r.v_pu[c3] == pytest.approx(z_pu * i3, abs=1e-10)
    assert r.i_edge_a[m2] == pytest.approx(abs(i3) * 1000 / (np.sqrt(3) * 12.47), rel=1e-9)


def test_power_balance(hand_cg: CompiledGrid) -> None:
    for closed_tie in (False, True):
        closed = hand_cg.closed_state.copy()
        closed[_edge(hand_cg, "TIE1")] = closed_tie
        r = run_powerflow(hand_cg, closed=closed)
        assert r.converged
        assert r.method == ("meshed" if closed_tie else "radial")
        assert r.p_source_kw.sum() == pytest.approx(hand_cg.bus_p_kw.sum() + r.losses_kw, rel=1e-9)


def test_deenergized_buses_have_no_voltage_and_inputs_stay_untouched(hand_cg: CompiledGrid) -> None:
    p = hand_cg.bus_p_kw.copy()
    closed = hand_cg.closed_state.copy()
    r = run_powerflow(hand_cg, failed_edges=[_edge(hand_cg, "REC1")], p_kw=p, closed=closed)
    assert np.isnan(r.vm_pu[hand_cg.bus_index["B5"]])
    assert r.i_edge_a[_edge(hand_cg, "L3")] == 0
    assert (p == hand_cg.bus_p_kw).all() and (closed == hand_cg.closed_state).all()


def test_plan_reuse_and_load_scaling(hand_cg: CompiledGrid) -> None:
    plan = prepare_sweep(hand_cg, energize(hand_cg))
    low = run_powerflow(hand_cg, plan=plan)
    high = run_powerflow(hand_cg, plan=plan, p_kw=hand_cg.bus_p_kw * 2, q_kvar=hand_cg.bus_q_kvar * 2)
    assert (high.vm_pu[~np.isnan(high.vm_pu)] < low.vm_pu[~np.isnan(low.vm_pu)] + 1e-12).all()
    assert high.losses_kw > 3.9 * low.losses_kw


def test_divergence_is_a_result(hand_cg: CompiledGrid) -> None:
    r = run_powerflow(hand_cg, p_kw=hand_cg.bus_p_kw * 500, q_kvar=hand_cg.bus_q_kvar * 500, max_iter=30)
    assert not r.converged


def test_bad_inputs_name_the_field(hand_cg: CompiledGrid) -> None:
    with pytest.raises(InvalidInputError) as exc:
        run_powerflow(hand_cg, p_kw=np.ones(2))
    assert exc.value.field == "p_kw"
    with pytest.raises(InvalidInputError):
        run_powerflow(hand_cg, v_source_pu=-1.0)
