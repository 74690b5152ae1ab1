from __future__ import annotations

import numpy as np
import pytest

from fluxops.core.errors import InvalidInputError
from fluxops.network.compiled import CompiledGrid
from fluxops.network.contingency import run_n_minus_1
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
