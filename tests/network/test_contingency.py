from __future__ import annotations

import numpy as np
import pytest

from fluxops.core.errors import InvalidInputError
from fluxops.grid.models import Grid
from fluxops.network.compiled import CompiledGrid, compile_grid
from fluxops.network.contingency import prepare_n_minus_1, run_n_minus_1, solve_n_minus_1
from fluxops.network.powerflow import run_powerflow


def _expected(cg: CompiledGrid, e: int, closed: np.ndarray) -> tuple[float, float, int]:
    r = run_powerflow(cg, closed=closed, failed_edges=[e])
    live = r.edge_energized & np.isfinite(r.loading_pct)
    return (
        float(np.max(r.loading_pct[live])),
        float(np.nanmin(r.vm_pu[r.bus_energized])),
        int(cg.bus_customer_count[~r.bus_energized].sum()),
    )


@pytest.mark.parametrize("tie_closed", [False, True])
def test_batched_equals_one_power_flow_per_outage(hand_cg: CompiledGrid, tie_closed: bool) -> None:
    closed = hand_cg.closed_state.copy()
    closed[np.flatnonzero(hand_cg.edge_ids == "TIE1")] = tie_closed
    edges = np.flatnonzero(hand_cg.edge_ids != "TIE1")
    res = run_n_minus_1(hand_cg, edges=edges, closed=closed)
    assert res.method == ("per-contingency" if tie_closed else "batched-radial")
    assert res.converged.all()
    for k, e in enumerate(edges):
        loading, vmin, cust = _expected(hand_cg, int(e), closed)
        assert res.max_loading_pct[k] == pytest.approx(loading, abs=1e-6)
        assert res.min_vm_pu[k] == pytest.approx(vmin, abs=1e-8)
        assert res.customers_out[k] == cust


def test_counts_and_unserved_load(hand_cg: CompiledGrid) -> None:
    rec = int(np.flatnonzero(hand_cg.edge_ids == "REC1")[0])
    res = run_n_minus_1(hand_cg, edges=[rec])
    assert res.customers_out[0] == 15
    assert res.unserved_kw[0] == pytest.approx(900.0)
    with pytest.raises(InvalidInputError):
        run_n_minus_1(hand_cg, edges=[10_000])


def test_every_edge_and_reused_plan_equal_one_flow_per_outage(tiny_grid: Grid) -> None:
    """Lines and zero-impedance devices (merged into the node above them in the batch), two source
    trees, a plan prepared once and solved for two load levels: each column equals a full power flow."""
    cg = compile_grid(tiny_grid)
    edges = np.flatnonzero(cg.closed_state)
    plan = prepare_n_minus_1(cg, edges=edges)
    for scale in (1.0, 2.5):
        p, q = cg.bus_p_kw * scale, cg.bus_q_kvar * scale
        res = solve_n_minus_1(plan, p_kw=p, q_kvar=q)
        assert res.method == "batched-radial" and res.converged.all()
        for k in range(0, len(edges), 5):
            r = run_powerflow(cg, failed_edges=[edges[k]], p_kw=p, q_kvar=q)
            live = r.edge_energized & np.isfinite(r.loading_pct)
            dead = ~r.bus_energized
            assert res.max_loading_pct[k] == pytest.approx(np.max(r.loading_pct[live]), abs=1e-6)
            assert res.min_vm_pu[k] == pytest.approx(np.nanmin(r.vm_pu[r.bus_energized]), abs=1e-8)
            assert res.max_source_loading_pct[k] == pytest.approx(np.nanmax(r.source_loading_pct), abs=1e-6)
            assert res.customers_out[k] == int(cg.bus_customer_count[dead].sum())
            assert res.unserved_kw[k] == pytest.approx(float(p[dead].sum()))
