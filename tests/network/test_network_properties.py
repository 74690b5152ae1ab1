"""Properties of the kernels on a generated grid (issue #4 §5): power balance, failing never helps,
voltages fall and losses grow with load, batched N-1 equals one power flow per outage."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fluxops.network.compiled import CompiledGrid, compile_grid
from fluxops.network.contingency import run_n_minus_1
from fluxops.network.elements import customers_out
from fluxops.network.energization import energize
from fluxops.network.powerflow import run_powerflow


@pytest.fixture(scope="module")
def tiny_cg() -> CompiledGrid:
    from fluxops.grid.generator import generate_grid

    return compile_grid(generate_grid("tiny", seed=0))


@settings(max_examples=25, deadline=None)
@given(scale=st.floats(0.1, 2.0), seed=st.integers(0, 10_000))
def test_power_balance_and_failures(tiny_cg: CompiledGrid, scale: float, seed: int) -> None:
    cg = tiny_cg
    rng = np.random.default_rng(seed)
    failed = rng.choice(cg.n_edge, size=3, replace=False)
    p, q = cg.bus_p_kw * scale, cg.bus_q_kvar * scale
    r = run_powerflow(cg, p_kw=p, q_kvar=q, failed_edges=failed)
    assert r.converged
    served = p[r.bus_energized].sum()
    assert r.p_source_kw.sum() == pytest.approx(served + r.losses_kw, rel=1e-7)
    base = energize(cg)
    worse = energize(cg, failed_edges=failed)
    assert not (worse.bus_energized & ~base.bus_energized).any()
    assert customers_out(cg, worse.bus_energized)[0] >= customers_out(cg, base.bus_energized)[0]


def test_voltage_falls_and_losses_grow_with_load(tiny_cg: CompiledGrid) -> None:
    prev_v, prev_loss = None, -1.0
    for scale in (0.5, 1.0, 1.5):
        r = run_powerflow(tiny_cg, p_kw=tiny_cg.bus_p_kw * scale, q_kvar=tiny_cg.bus_q_kvar * scale)
        if prev_v is not None:
            assert (r.vm_pu <= prev_v + 1e-12).all()
        assert r.losses_kw > prev_loss
        prev_v, prev_loss = r.vm_pu, r.losses_kw


def test_batched_n_minus_1_matches_single_flows(tiny_cg: CompiledGrid) -> None:
    cg = tiny_cg
    edges = np.flatnonzero(cg.normally_closed)
    res = run_n_minus_1(cg, edges=edges)
    assert res.method == "batched-radial" and res.converged.all()
    for k in range(0, len(edges), 7):
        r = run_powerflow(cg, failed_edges=[edges[k]])
        live = r.edge_energized & np.isfinite(r.loading_pct)
        assert res.max_loading_pct[k] == pytest.approx(np.max(r.loading_pct[live]), abs=1e-6)
        assert res.min_vm_pu[k] == pytest.approx(np.nanmin(r.vm_pu), abs=1e-8)
        assert res.customers_out[k] == int(cg.bus_customer_count[~r.bus_energized].sum())
