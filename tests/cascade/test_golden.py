"""Cascades on the hand-built grid of `golden.py`, worked out on paper."""

from __future__ import annotations

import numpy as np
import pytest
from golden import build_golden

from fluxops.cascade.config import ThermalConfig
from fluxops.cascade.context import EngineContext, build_context
from fluxops.cascade.engine import run_cascade
from fluxops.cascade.scenarios import resolve_scenario
from fluxops.cascade.thermal import time_to_limit_min
from fluxops.core.errors import InvalidInputError, NotFoundError


def test_line_fault_breaker_isolation_and_tie_pickup(golden_ctx: EngineContext) -> None:
    # L1 faults: BRK1 is the first protective device above it -> A1..A4 (40 customers) dark.
    r = run_cascade(golden_ctx, patient_zero=["L1"], scenario=resolve_scenario("normal"))
    w0, w1 = r.waves
    assert [(e.element_id, e.cause) for e in w0.events] == [("L1", "fault"), ("BRK1", "protection")]
    assert w0.customers_out == 40
    # FLISR: the faulted section {A1, A2} is bounded by BRK1 (already open) and SW1 (manual, 60 min);
    # BRK1 is a boundary device so it stays open; TIE (automated, +1 min) picks up A3, A4 from F2.
    assert [(s.device_id, s.action, s.time_min) for s in w1.switching] == [
        ("SW1", "open", 60.0),
        ("TIE", "close", 61.0),
    ]
    assert w1.customers_out == 20 and w1.customers_restored == 20
    assert r.totals.customers_out == 20 and r.totals.peak_customers_out == 40
    # one repair group: L1 with the 20 customers of A1, A2
    assert [(g.group_id, g.customers) for g in r.outage_groups] == [("repair:L1", 20)]
    # energy: A3+A4 (70 kW at 0.7 x 100 kW) out 61 min; A1+A2 (70 kW) until the repair is done
    restored = r.extras["restoration"]["milestones"][-1]["time_min"]
    expected_kwh = 70.0 * 61.0 / 60.0 + 70.0 * restored / 60.0
    assert r.totals.mwh_unserved == pytest.approx(expected_kwh / 1000.0, rel=1e-3)
    assert r.totals.customer_minutes == pytest.approx(20 * 61.0 + 20 * restored, rel=1e-4)


def test_substation_transformer_loss_overloads_the_other_one() -> None:
    # T1 fails (it fed F1: 40 customers, 200 kW); the bus tie moves F1 onto T2 (0.2 MVA, F2: 100 kW),
    # which then carries 300 kW (K ~ 1.5): C57.91 ultimate hot spot 25 + 96.6 + 47.8 = 169 C > 140 C,
    # so T2 trips on its hot-spot relay and all 60 customers are out.
    ctx = build_context(build_golden(sub_rating_mva=0.2))
    sc = resolve_scenario("custom", {"load_multiplier": 1.0})
    r = run_cascade(ctx, patient_zero=["T1"], scenario=sc)
    labels = [w.label for w in r.waves]
    assert labels == ["fault", "flisr", "thermal"]
    assert [(s.device_id, s.purpose) for s in r.waves[1].switching] == [("BT", "transfer")]
    assert r.waves[1].customers_out == 0
    thermal = r.waves[2]
    assert [(e.element_id, e.cause) for e in thermal.events] == [("T2", "thermal")]
    assert thermal.customers_out == 60
    # time of trip: T2 goes from K = 100/200 kVA = 0.5 (F2 only) to K = 300/200 = 1.5 at t = 1 min
    # (losses and voltage drop add ~2 %); the transient hot spot (top oil tau 180 min, winding 7 min)
    # crosses 140 C within the 240-min horizon
    th = ThermalConfig()
    expected = 1.0 + time_to_limit_min(th, 25.0, [0.5], [1.5], 140.0)[0]
    assert thermal.time_min == pytest.approx(expected, rel=0.15)
    assert 1.0 < thermal.time_min < th.horizon_min


def test_transformer_fault_only_its_customers() -> None:
    ctx = build_context(build_golden())
    r = run_cascade(ctx, patient_zero=["XA3"], scenario=resolve_scenario("normal"))
    assert r.totals.customers_out == 10 and len(r.waves) == 1
    assert r.outage_groups[0].repair_kind == "replace"


def test_deterministic(golden_ctx: EngineContext) -> None:
    a = run_cascade(golden_ctx, patient_zero=["L2"], scenario=resolve_scenario("summer_peak"), seed=3)
    b = run_cascade(golden_ctx, patient_zero=["L2"], scenario=resolve_scenario("summer_peak"), seed=3)
    da, db = a.to_dict(), b.to_dict()
    da.pop("compute_ms"), db.pop("compute_ms")
    assert da == db


def test_bad_input_names_field(golden_ctx: EngineContext) -> None:
    with pytest.raises(NotFoundError):
        run_cascade(golden_ctx, patient_zero=["NOPE"], scenario=resolve_scenario("normal"))
    with pytest.raises(InvalidInputError) as exc:
        run_cascade(golden_ctx, patient_zero=["MA10"], scenario=resolve_scenario("normal"))
    assert exc.value.field == "patient_zero"
    with pytest.raises(InvalidInputError) as exc:
        resolve_scenario("custom", {"load_multiplier": -1})
    assert exc.value.field == "scenario.load_multiplier"
    with pytest.raises(InvalidInputError):
        resolve_scenario("volcano")
    assert np.isfinite(golden_ctx.cg.bus_p_kw).all()


def test_fuse_saving_momentaries_on_the_reference_grid() -> None:
    """`fluxops.network.reference_grid`: a fault on lateral L4 (behind FUSE1) blows FUSE1 (5 customers of
    B7 out); feeder breaker BRK1 fast-trips once first (fuse saving), a momentary interruption for the
    10 + 20 + 15 customers of B2, B3 and B5 that stay supplied."""
    from fluxops.network.reference_grid import build_reference_grid

    ctx = build_context(build_reference_grid())
    r = run_cascade(ctx, patient_zero=["L4"], scenario=resolve_scenario("normal"))
    assert [(e.element_id, e.cause) for e in r.waves[0].events] == [("L4", "fault"), ("FUSE1", "protection")]
    assert r.totals.customers_out == 5
    assert [(m.device_id, m.shots, m.customers) for m in r.momentary] == [("BRK1", 1, 45)]
    # a fault on L3 (below recloser REC1): REC1 locks out after its reclosings; the tie TIE1 borders the
    # faulted section {B4, B5} itself, so FLISR may not use it: B5's 15 customers stay out
    r = run_cascade(ctx, patient_zero=["L3"], scenario=resolve_scenario("normal"))
    assert [(e.element_id, e.cause) for e in r.waves[0].events] == [("L3", "fault"), ("REC1", "protection")]
    assert "3 reclose attempts" in r.waves[0].events[1].detail
    assert r.totals.customers_out == 15 and r.momentary == []


def test_hardening_measures_are_simulated() -> None:
    """T1's loss overloads T2 (see above): upgrading T2 by 1.5x keeps it below 140 C, so the only
    interruption left is the 1-minute bus-tie transfer of F1's 40 customers. Automating SW1 shortens the
    isolation of an L2 fault (tie pick-up after 2 min instead of 61)."""
    from fluxops.cascade.hardening import evaluate_hardening

    ctx = build_context(build_golden(sub_rating_mva=0.2))
    sc = resolve_scenario("custom", {"load_multiplier": 1.0})
    res = evaluate_hardening(ctx, element_ids=["T1", "L2"], scenario=sc, budget_usd=5_000_000)
    by = {(i.measure, i.element_id): i for i in res.investments}
    up = by[("transformer_upgrade", "T1")]
    assert up.asset_ids == ["T2"] and up.customer_minutes_per_failure_after == pytest.approx(40.0)
    auto = by[("automate_switches", "L2")]
    assert auto.asset_ids == ["SW1"]
    assert auto.customer_minutes_per_failure_after < auto.customer_minutes_per_failure_before
    assert set(res.best_set) <= set(range(len(res.investments)))
    assert res.best_set_cost_usd <= 5_000_000
