"""Properties of the cascade engine on the generated `tiny` grid."""

from __future__ import annotations

import dataclasses

import networkx as nx
import numpy as np
import pytest

from fluxops.cascade.config import CascadeConfig
from fluxops.cascade.context import EngineContext
from fluxops.cascade.engine import run_cascade
from fluxops.cascade.scenarios import resolve_scenario


def _elements(ctx: EngineContext) -> list[str]:
    g = ctx.grid
    return (
        list(g.line_segments.segment_id[::4])
        + list(g.devices[g.devices.device_type != "tie_switch"].device_id[::3])
        + list(g.substation_transformers.transformer_id)
        + list(g.transformers.transformer_id[::15])
    )


def test_failing_never_increases_customers_served(tiny_ctx: EngineContext) -> None:
    sc = resolve_scenario("summer_peak")
    for el in _elements(tiny_ctx):
        r = run_cascade(tiny_ctx, patient_zero=[el], scenario=sc)
        assert all(0 <= w.customers_out <= r.totals.customers_total for w in r.waves), el
        # more failures without FLISR never leave fewer customers out
        cfg = CascadeConfig(flisr_enabled=False)
        one = run_cascade(tiny_ctx, patient_zero=[el], scenario=sc, config=cfg)
        two = run_cascade(tiny_ctx, patient_zero=[el, _elements(tiny_ctx)[0]], scenario=sc, config=cfg)
        assert two.totals.customers_out >= one.totals.customers_out, el


def test_wave0_outage_equals_unreachable_set(tiny_ctx: EngineContext) -> None:
    """Customers and load out after wave 0 equal those on buses an independent graph search cannot reach
    from the sources once the fault and the operated protective device are removed (power balance)."""
    cg, grid = tiny_ctx.cg, tiny_ctx.grid
    sc = resolve_scenario("normal")
    cfg = CascadeConfig(flisr_enabled=False, max_waves=1)
    for seg in grid.line_segments.segment_id[::5]:
        r = run_cascade(tiny_ctx, patient_zero=[seg], scenario=sc, config=cfg)
        removed = {e.element_id for e in r.waves[0].events}
        g = nx.Graph()
        g.add_nodes_from(range(cg.n_bus))
        for e in range(cg.n_edge):
            if cg.closed_state[e] and str(cg.edge_ids[e]) not in removed:
                g.add_edge(int(cg.from_bus[e]), int(cg.to_bus[e]))
        reach: set[int] = set()
        for b in cg.source_bus:
            reach |= nx.node_connected_component(g, int(b))
        dead = np.array([b not in reach for b in range(cg.n_bus)])
        assert r.waves[0].customers_out == int(cg.bus_customer_count[dead].sum()), seg
        p = tiny_ctx.bus_p_kw_by_class @ np.array([1.0, 1.0, 1.0]) * sc.load_multiplier
        assert r.waves[0].p_kw_out == pytest.approx(float(p[dead].sum()), rel=1e-6, abs=1e-6), seg


def test_customers_out_grow_with_load_multiplier(tiny_ctx: EngineContext) -> None:
    for el in [*tiny_ctx.grid.substation_transformers.transformer_id, "SEG-0001-01-00005"]:
        outs = []
        for m in (0.4, 0.8, 1.2, 1.6, 2.0, 2.4):
            sc = resolve_scenario("custom", {"load_multiplier": m, "ambient_temp_c": 35.0})
            outs.append(run_cascade(tiny_ctx, patient_zero=[el], scenario=sc).totals.customers_out)
        assert outs == sorted(outs), (el, outs)


def test_restoration_pickups_stay_within_ratings(tiny_ctx: EngineContext) -> None:
    sc = resolve_scenario("summer_peak")
    cfg = CascadeConfig()
    seen = 0
    for el in _elements(tiny_ctx):
        r = run_cascade(tiny_ctx, patient_zero=[el], scenario=sc, config=cfg)
        for w in r.waves:
            if w.label == "flisr" and any(
                s.purpose == "restore" and s.device_id.startswith("TIE") for s in w.switching
            ):
                seen += 1
                assert w.max_loading_pct <= cfg.flisr_max_loading_pct + 1e-6
                assert w.min_v_pu >= cfg.flisr_min_v_pu - 1e-6 or w.min_v_pu >= r.base_case["min_v_pu"] - 1e-6
    assert seen > 0


def test_hurricane_seeded(tiny_ctx: EngineContext) -> None:
    sc = dataclasses.replace(resolve_scenario("hurricane"), wind_speed_mps=55.0)
    a = run_cascade(tiny_ctx, patient_zero=[], scenario=sc, seed=1)
    b = run_cascade(tiny_ctx, patient_zero=[], scenario=sc, seed=1)
    assert a.extras["storm_failures"] == b.extras["storm_failures"]
    assert a.totals.customers_out == b.totals.customers_out
    assert len(a.extras["storm_failures"]) > 0
