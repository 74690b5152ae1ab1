"""N-1 with restoration (FLISR) against one full power flow of the switching state it reports."""

from __future__ import annotations

import numpy as np
import pytest

from fluxops.grid.models import Grid
from fluxops.network.compiled import CompiledGrid, compile_grid
from fluxops.network.powerflow import run_powerflow
from fluxops.network.restoration import run_n_minus_1_restoration


@pytest.fixture(scope="module")
def tiny_cg(tiny_grid: Grid) -> CompiledGrid:
    return compile_grid(tiny_grid)


def _edge(cg: CompiledGrid, eid: str) -> int:
    return int(np.flatnonzero(cg.edge_ids == eid)[0])


def test_hand_grid_section_isolated_and_downstream_picked_up(hand_cg: CompiledGrid) -> None:
    """L2 lies between BRK1 and REC1: the section L1–L2 stays out, the 15 customers behind REC1 go
    over TIE1 to the other feeder; the radial screening had lost them."""
    l2 = _edge(hand_cg, "L2")
    r = run_n_minus_1_restoration(hand_cg, edges=[l2])
    assert r.method == "flisr-batched"
    assert r.upstream_device[0] == _edge(hand_cg, "BRK1")
    acc = [t for t in r.transfers if t.accepted]
    assert [(t.tie_edge, t.pickup_edge, t.customers) for t in acc] == [
        (_edge(hand_cg, "TIE1"), _edge(hand_cg, "REC1"), 15)
    ]
    assert r.customers_transferred[0] == 15
    assert r.customers_restored[0] == r.customers_interrupted[0] - r.customers_out[0]
    assert r.radial.customers_out[0] == 35


def _final_state(cg: CompiledGrid, r: object, k: int) -> tuple[np.ndarray, list[int]]:
    closed = cg.closed_state.copy()
    closed[r.upstream_device[k]] = False  # type: ignore[attr-defined]
    for t in r.transfers:  # type: ignore[attr-defined]
        if t.accepted and t.contingency == k:
            closed[t.tie_edge] = True
            closed[t.pickup_edge] = False
    return closed, [int(r.edges[k])]  # type: ignore[attr-defined]


def test_every_contingency_equals_a_power_flow_of_its_restored_state(tiny_cg: CompiledGrid) -> None:
    """Customers out, worst loading and lowest voltage of each contingency equal one full power flow of
    the reported state (upstream device open, accepted ties closed, pick-up devices open, edge failed)
    — when at most one island was transferred (islands are checked one at a time, by design)."""
    cg = tiny_cg
    r = run_n_minus_1_restoration(cg)
    assert r.method == "flisr-batched" and len(r.edges) > 50
    assert r.customers_transferred.sum() > 0, "the tiny grid has ties that can pick up load"
    n_acc = np.bincount([t.contingency for t in r.transfers if t.accepted], minlength=len(r.edges))
    checked = 0
    for k in np.flatnonzero((n_acc <= 1) & (r.upstream_device >= 0)):
        closed, failed = _final_state(cg, r, int(k))
        pf = run_powerflow(cg, closed=closed, failed_edges=failed)
        assert int(cg.bus_customer_count[~pf.bus_energized].sum()) == r.customers_out[k]
        live = pf.edge_energized & np.isfinite(pf.loading_pct)
        assert r.max_loading_pct[k] == pytest.approx(float(np.max(pf.loading_pct[live])), abs=1e-6)
        assert r.min_vm_pu[k] == pytest.approx(float(np.nanmin(pf.vm_pu[pf.bus_energized])), abs=1e-8)
        checked += 1
    assert checked > 50


def test_accepted_transfers_create_no_new_violation(tiny_cg: CompiledGrid) -> None:
    cg = tiny_cg
    r = run_n_minus_1_restoration(cg)
    base = run_powerflow(cg)
    for t in (t for t in r.transfers if t.accepted):
        closed, failed = _final_state(cg, r, t.contingency)
        pf = run_powerflow(cg, closed=closed, failed_edges=failed)
        known = np.isfinite(pf.loading_pct) & pf.edge_energized
        over = known & (pf.loading_pct > np.maximum(100.0, np.nan_to_num(base.loading_pct)) + 1e-6)
        assert not over.any()
        vm = pf.vm_pu[pf.bus_energized]
        assert (vm >= np.minimum(0.95, np.nan_to_num(base.vm_pu[pf.bus_energized], nan=1.0)) - 1e-9).all()
    refused = [t for t in r.transfers if not t.feasible]
    assert all(t.new_overloads > 0 or t.new_undervoltage > 0 or not t.converged for t in refused)


def test_heavier_load_refuses_transfers(tiny_cg: CompiledGrid) -> None:
    """At 3× load the neighbour feeders cannot carry the islands: fewer customers are moved, and every
    refused option names what would overload."""
    cg = tiny_cg
    normal = run_n_minus_1_restoration(cg)
    heavy = run_n_minus_1_restoration(cg, p_kw=cg.bus_p_kw * 3.0, q_kvar=cg.bus_q_kvar * 3.0)
    assert heavy.customers_transferred.sum() < normal.customers_transferred.sum()
    assert any(t.new_overloads > 0 and t.worst_edge >= 0 for t in heavy.transfers if not t.feasible)


def test_loops_in_the_base_case_fall_back_to_radial(hand_cg: CompiledGrid) -> None:
    closed = hand_cg.closed_state.copy()
    closed[_edge(hand_cg, "TIE1")] = True
    r = run_n_minus_1_restoration(hand_cg, closed=closed)
    assert r.method.startswith("radial-only") and not r.transfers
    assert (r.customers_out == r.radial.customers_out).all()


def test_whatif_summary_defaults_to_restoration_and_keeps_the_radial_fields(tiny_grid: Grid) -> None:
    from fluxops.cascade.context import build_context
    from fluxops.cascade.whatif import n_minus_1_summary
    from fluxops.core.errors import InvalidInputError

    ctx = build_context(tiny_grid)
    rest = n_minus_1_summary(ctx, "normal", 10)
    radial = n_minus_1_summary(ctx, "normal", 10, mode="radial")
    assert rest["mode"] == "restoration" and rest["method"] == "flisr-batched"
    assert radial["mode"] == "radial" and radial["method"] == "batched-radial"
    assert rest["contingencies"] == radial["contingencies"]
    assert set(radial["worst"][0]) <= set(rest["worst"][0])  # old row fields kept, new ones added
    row = rest["worst"][0]
    assert row["customers_restored"] == row["customers_interrupted"] - row["customers_out"]
    assert rest["customers_transferred_total"] > 0
    moved = [t for r in rest["worst"] for t in r["transfers"]]
    assert all(t["new_overloads"] == 0 and t["new_undervoltage"] == 0 for t in moved)
    with pytest.raises(InvalidInputError):
        n_minus_1_summary(ctx, "normal", 10, mode="meshed")
