"""N-1 with restoration (FLISR) against one full power flow of the switching state it reports."""

from __future__ import annotations

from dataclasses import replace

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
    the reported state (upstream device open, accepted ties closed, pick-up devices open, edge failed),
    islands moved through two ties included (they are checked together)."""
    cg = tiny_cg
    r = run_n_minus_1_restoration(cg)
    assert r.method == "flisr-batched" and len(r.edges) > 50
    assert r.customers_transferred.sum() > 0, "the tiny grid has ties that can pick up load"
    n_acc = np.bincount([t.contingency for t in r.transfers if t.accepted], minlength=len(r.edges))
    assert (n_acc >= 2).sum() >= 2, "some contingencies move two islands"
    checked = 0
    for k in np.flatnonzero(r.upstream_device >= 0):
        closed, failed = _final_state(cg, r, int(k))
        pf = run_powerflow(cg, closed=closed, failed_edges=failed)
        assert int(cg.bus_customer_count[~pf.bus_energized].sum()) == r.customers_out[k]
        live = pf.edge_energized & np.isfinite(pf.loading_pct)
        assert r.max_loading_pct[k] == pytest.approx(float(np.max(pf.loading_pct[live])), abs=1e-6)
        assert r.min_vm_pu[k] == pytest.approx(float(np.nanmin(pf.vm_pu[pf.bus_energized])), abs=1e-8)
        checked += 1
    assert checked > 50


def test_islands_moved_together_are_refused_when_together_they_overload(tiny_cg: CompiledGrid) -> None:
    """Two islands each fit alone; a rating set between what either transfer and what both together
    put on a shared element makes the pair a new overload: the smaller transfer is refused (feasible
    alone, ``refused_together``) and what stays accepted passes together."""
    cg = tiny_cg
    r = run_n_minus_1_restoration(cg)
    by_k: dict[int, list[object]] = {}
    for t in r.transfers:
        if t.accepted:
            by_k.setdefault(t.contingency, []).append(t)
    best = None
    for k, ts in by_k.items():
        if len(ts) != 2:
            continue
        both = run_powerflow(cg, closed=_final_state(cg, r, k)[0], failed_edges=_final_state(cg, r, k)[1])
        singles = []
        for t in ts:
            closed = cg.closed_state.copy()
            closed[r.upstream_device[k]] = False
            closed[t.tie_edge] = True  # type: ignore[attr-defined]
            pf = run_powerflow(cg, closed=closed, failed_edges=[int(r.edges[k]), t.pickup_edge])  # type: ignore[attr-defined]
            singles.append(pf.i_edge_a)
        gain = np.where(np.isfinite(both.loading_pct), both.i_edge_a - np.maximum.reduce(singles), -1.0)
        e = int(np.argmax(gain))
        if best is None or gain[e] > best[2]:
            best = (k, e, float(gain[e]), float(both.i_edge_a[e]))
    assert best is not None and best[2] > 1e-3
    k, e, gain, i_both = best
    amp = np.array(cg.ampacity_a)
    amp[e] = (i_both - gain / 2.0) / 1.0  # 100 % between either transfer alone and both together
    tight = replace(cg, ampacity_a=amp)
    r2 = run_n_minus_1_restoration(tight, edges=[int(r.edges[k])])
    refused = [t for t in r2.transfers if t.refused_together]
    assert len(refused) == 1 and refused[0].feasible and not refused[0].accepted
    kept = [t for t in r2.transfers if t.accepted]
    assert len(kept) == 1
    closed, failed = _final_state(tight, r2, 0)
    pf = run_powerflow(tight, closed=closed, failed_edges=failed)
    assert pf.loading_pct[e] <= 100.0 + 1e-6
    assert r2.customers_transferred[0] == kept[0].customers


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
