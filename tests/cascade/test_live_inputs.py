"""The live inputs of real-time cascades and the risk index: one vectorized model, matched by id."""

from __future__ import annotations

import numpy as np

from fluxops.cascade.context import EngineContext
from fluxops.cascade.live_inputs import LiveState, customers_out, live_load_scale, realtime_risk
from fluxops.cascade.scenarios import resolve_scenario
from fluxops.ops.state import STATUS_CODES


def _state(ctx: EngineContext, loading: np.ndarray, *, extra: int = 3) -> LiveState:
    """The transformers (reversed, so matching is by id, not position) plus unrelated assets."""
    cg = ctx.cg
    ids = np.concatenate([np.asarray(cg.xfmr_ids, object)[::-1], [f"OTHER-{i}" for i in range(extra)]])
    pct = np.concatenate([loading[::-1], np.full(extra, 55.0)])
    return LiveState.from_columns(ids, pct, np.zeros(len(ids), np.int64))


def test_no_state_or_no_measurement_is_generated_peak(tiny_ctx: EngineContext) -> None:
    assert live_load_scale(tiny_ctx, None).source == "generated_peak"
    unknown = _state(tiny_ctx, np.full(len(tiny_ctx.cg.xfmr_ids), np.nan))
    ls = live_load_scale(tiny_ctx, unknown)
    assert ls.scale is None and ls.coverage == 0.0


def test_scale_is_measured_over_design_kw_per_bus(tiny_ctx: EngineContext) -> None:
    cg = tiny_ctx.cg
    n = len(cg.xfmr_ids)
    loading = np.linspace(20.0, 120.0, n)
    loading[::4] = np.nan  # a quarter unmeasured: they keep design load, out of the coverage
    ls = live_load_scale(tiny_ctx, _state(tiny_ctx, loading))
    assert ls.source == "ami_live" and ls.scale is not None
    assert ls.coverage == np.isfinite(loading).mean()
    for bus in np.unique(cg.xfmr_bus):  # the reference: a plain loop over each bus's transformers
        on = np.flatnonzero((cg.xfmr_bus == bus) & np.isfinite(loading))
        design = cg.xfmr_p_kw[on].sum()
        want = (loading[on] / 100.0 * cg.xfmr_rating_kva[on]).sum() / design if design > 0 else 1.0
        assert np.isclose(ls.scale[bus], want)


def test_customers_out_counts_meters_marked_out(tiny_ctx: EngineContext) -> None:
    meters = np.asarray(tiny_ctx.cg.meter_ids, object)
    status = np.zeros(len(meters), np.int64)
    status[:7] = STATUS_CODES.index("out")
    status[7:9] = STATUS_CODES.index("critical")
    live = LiveState.from_columns(meters, np.full(len(meters), np.nan), status)
    assert customers_out(tiny_ctx, live) == 7
    assert customers_out(tiny_ctx, None) == 0


def test_realtime_risk_says_its_sources(tiny_ctx: EngineContext) -> None:
    sc = resolve_scenario("normal")
    out = realtime_risk(tiny_ctx, sc, ambient_c=30.0, ambient_source="scenario", live=None)
    assert out["inputs"]["load_source"] == "generated_peak" and out["live_coverage"] == 0.0
    live = _state(tiny_ctx, np.full(len(tiny_ctx.cg.xfmr_ids), 80.0))
    out = realtime_risk(tiny_ctx, sc, ambient_c=30.0, ambient_source="scenario", live=live)
    assert out["inputs"]["load_source"] == "ami_live" and out["live_coverage"] == 1.0
    assert out["scenario"] == "normal"
