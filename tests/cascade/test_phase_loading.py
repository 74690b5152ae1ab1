"""Worst-phase loading in the cascade's overload step (issue 11 §2, `fluxops.cascade.phase_loading`):
a conductor trips when its most loaded phase exceeds the trip loading, not the balanced average; the
balanced answer stays where nothing is near the limit (fast path); the screen's estimate agrees with the
three-phase solve."""

from __future__ import annotations

import dataclasses
from functools import cache
from time import perf_counter

import numpy as np
import numpy.typing as npt

from fluxops.cascade.config import CascadeConfig
from fluxops.cascade.context import EngineContext, build_context, scenario_loads
from fluxops.cascade.engine import run_cascade
from fluxops.cascade.phase_loading import PhaseLoading, downstream_ratio, phase_loads, worst_phase_loading
from fluxops.cascade.scenarios import resolve_scenario
from fluxops.cascade.state import CascadeState
from fluxops.grid.generator import generate_grid
from fluxops.grid.generator.params import PRESETS
from fluxops.network.energization import EnergizationResult
from fluxops.network.powerflow import PowerFlowResult, SweepPlan

SCENARIO = "summer_peak"


@cache
def _ctx() -> EngineContext:
    params = dataclasses.replace(PRESETS["demo"], n_substations=3, target_meters=12_000)
    return build_context(generate_grid(params=params, seed=5))


def _start() -> tuple[CascadeState, EnergizationResult, PowerFlowResult, SweepPlan]:
    ctx = _ctx()
    sc = resolve_scenario(SCENARIO)
    p, q = scenario_loads(ctx, sc.load_multiplier, sc.residential_heating_factor)
    st = CascadeState.start(ctx, p, q)
    en = st.energize()
    pf, plan = st.powerflow(en, 1.0)
    return st, en, pf, plan


def _phase(trip: float) -> tuple[PhaseLoading, npt.NDArray[np.float64]]:
    st, en, pf, plan = _start()
    pl = worst_phase_loading(_ctx(), st, en, plan, pf, 1.0, trip, perf_counter() + 600)
    return pl, np.nan_to_num(pf.loading_pct)


def test_fast_path_keeps_the_balanced_answer_far_from_the_limit() -> None:
    pl, bal = _phase(125.0)
    assert float(bal.max()) < 0.9 * 125.0  # nothing near the default trip loading here
    assert pl.solved_sources == () and (pl.phase == -1).all()
    assert np.array_equal(pl.loading_pct, bal)


def test_worst_phase_exceeds_the_balanced_loading_and_matches_the_estimate() -> None:
    ctx = _ctx()
    pl, bal = _phase(60.0)
    assert pl.solved_sources  # the screen sent islands to the three-phase solve
    lines = (pl.phase >= 0) & (ctx.cg.edge_kind == 0)
    assert lines.sum() > 100
    # a single-phase lateral carries its load on one conductor: 3x the balanced per-phase figure
    seg = ctx.grid.line_segments.set_index("segment_id")["phases"]
    ids = ctx.cg.edge_ids[lines].astype(object)
    one = lines.copy()
    one[lines] = seg.reindex(ids).isin(["A", "B", "C"]).to_numpy() & (bal[lines] > 1.0)
    ratio = pl.loading_pct[one] / bal[one]
    assert one.sum() > 10 and float(np.median(ratio)) > 2.8 and float(ratio.min()) > 2.5
    # the vectorized screen (downstream phase power over the balanced flow) is within 3 points of it
    st, _, _, plan = _start()
    p3, q3 = phase_loads(ctx, *st.loads(1.0), st.failed_xfmr)
    est = bal * downstream_ratio(ctx, plan, p3, q3)
    assert float(np.max(np.abs(est[lines] - pl.loading_pct[lines]))) < 3.0
    # phase loads add up to the bus loads
    assert np.allclose(p3.sum(axis=1), st.loads(1.0)[0])


def test_per_phase_overload_trips_where_the_balanced_flow_does_not() -> None:
    """A trip loading between the balanced maximum and the worst phase's maximum: the balanced solver
    sees no overload anywhere, the per-phase step trips the conductor whose one phase is over it."""
    ctx = _ctx()
    pl, bal = _phase(60.0)
    worst = float(pl.loading_pct.max())
    trip = (float(bal.max()) + worst) / 2.0
    assert bal.max() < trip < worst
    # a fault on a single-phase fused lateral elsewhere: its fuse clears it, no load is transferred
    g = ctx.grid
    dev = g.devices
    fuses = dev[(dev.device_type == "fuse") & (dev.phases.isin(["A", "B", "C"]))]
    seg = g.line_segments
    hot = str(ctx.cg.edge_ids[int(np.argmax(pl.loading_pct))])
    hot_feeder = seg.set_index("segment_id")["feeder_id"].get(hot, None)
    fuse = fuses[fuses.feeder_id != hot_feeder].iloc[0]
    pz = str(seg.loc[seg.from_bus_id == fuse.to_bus_id, "segment_id"].iloc[0])
    r = run_cascade(
        ctx,
        patient_zero=[pz],
        scenario=resolve_scenario(SCENARIO),
        config=CascadeConfig(conductor_trip_loading_pct=trip),
        localize=False,  # the whole grid: the hot conductor may be on another substation
    )
    over = [e for w in r.waves for e in w.events if e.cause == "overload"]
    assert over, "the per-phase step found the overloaded phase"
    assert any(" on phase " in e.detail for e in over)
    assert all(e.value is not None and e.value > trip for e in over)
    assert all(bal[list(ctx.cg.edge_ids).index(e.element_id)] < trip for e in over)  # balanced: no


def test_a_transformer_out_takes_its_phase_share_with_it() -> None:
    """A blown single-pole cutout puts its transformers out: their phase's load leaves the bus, the other
    phases keep theirs (what unbalances the conductors upstream)."""
    ctx = _ctx()
    st, _, _, _ = _start()
    p, q = st.loads(1.0)
    xf = ctx.grid.transformers.set_index("transformer_id")["phase"].reindex(ctx.cg.xfmr_ids.astype(object))
    k = int(np.flatnonzero((xf == "A").to_numpy() & (ctx.cg.xfmr_p_kw > 0))[0])
    bus = int(ctx.cg.xfmr_bus[k])
    out = np.zeros(len(ctx.cg.xfmr_ids), bool)
    out[k] = True
    before, _ = phase_loads(ctx, p, q, np.zeros_like(out))
    after, _ = phase_loads(ctx, p, q, out)
    assert after[bus, 0] < before[bus, 0]
    assert np.allclose(after[bus, 1:], before[bus, 1:])
    others = np.arange(ctx.cg.n_bus) != bus
    assert np.array_equal(after[others], before[others])
