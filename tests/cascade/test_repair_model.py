"""One repair model for every decision-support caller (issue 9 §1).

Before: for one underground cable ``simulate`` planned a 24 h repair while ``restoration-sequence`` and
``economic-impact`` planned 5 h with overhead material (4.8x fewer customer-minutes), and the hardening
ROI sent every crew from the grid's first substation.
"""

from __future__ import annotations

from typing import Any

import pytest

from fluxops.cascade.context import EngineContext
from fluxops.cascade.economics import EconomicsConfig
from fluxops.cascade.engine import run_cascade
from fluxops.cascade.jobs import JobRunner
from fluxops.cascade.ports import RunSummary, StoredRun
from fluxops.cascade.repair import crew_depots, material_usd, repair_hours
from fluxops.cascade.restoration import RestorationConfig
from fluxops.cascade.scenarios import resolve_scenario
from fluxops.cascade.service import CascadeService, parse_inputs


class _Runs:
    """In-memory run store (the service's port); these tests never save."""

    def ensure_tables(self) -> None:
        return None

    def save_run(self, run: StoredRun) -> None:
        raise AssertionError("not expected")

    def get_run(self, run_id: str) -> StoredRun | None:
        return None

    def list_runs(self, *, kind: str | None = None, limit: int = 10) -> list[RunSummary]:
        return []


def _underground_fault(ctx: EngineContext) -> str:
    """An underground cable on the generated grid whose fault leaves customers out."""
    seg = ctx.grid.line_segments
    sc = resolve_scenario("summer_peak", {})
    for sid in seg.loc[seg["construction"] == "underground", "segment_id"].astype(str):
        r = run_cascade(ctx, patient_zero=[sid], scenario=sc)
        if r.outage_groups and r.outage_groups[0].customers > 0:
            return sid
    raise AssertionError("the generated grid has no underground fault with customers out")


def test_three_services_agree_on_an_underground_fault(tiny_ctx: EngineContext) -> None:
    sid = _underground_fault(tiny_ctx)
    svc = CascadeService(_Runs(), JobRunner(max_workers=1))
    inp = parse_inputs({"patient_zero": sid, "scenario": "summer_peak"})
    sim: dict[str, Any] = svc.simulate(tiny_ctx, "hash", inp)
    seq = svc.restoration_sequence(tiny_ctx, inp)
    eco = svc.economic_impact(tiny_ctx, inp)

    rcfg = RestorationConfig()
    sim_repairs = {r["element_id"]: r for r in sim["extras"]["restoration"]["repairs"]}
    seq_steps = {s["element_id"]: s for s in seq["plan"]["steps"]}
    # the faulted cable: repaired as underground cable by every caller
    assert sim_repairs[sid]["construction"] == "underground"
    assert sim_repairs[sid]["repair_h"] == rcfg.repair_h_underground_line
    assert seq_steps[sid]["construction"] == "underground"
    assert seq_steps[sid]["finish_min"] - seq_steps[sid]["start_min"] == pytest.approx(
        60.0 * rcfg.repair_h_underground_line
    )
    assert {k: v["repair_h"] for k, v in sim_repairs.items()} == {
        k: v["repair_h"] for k, v in seq_steps.items()
    }
    # same customer-minutes: the plan's (groups x restoration time), and the whole event's
    assert seq["plan"]["customer_minutes"] == sim["extras"]["restoration"]["customer_minutes"]
    assert eco["impact"]["customer_minutes"] == pytest.approx(sim["totals"]["customer_minutes"], rel=1e-6)
    assert seq["cascade"]["customer_minutes"] == sim["totals"]["customer_minutes"]
    # and cable material, not overhead conductor
    econ = EconomicsConfig()
    assert eco["impact"]["material_cost_usd"] >= econ.material_usd_underground_line


def test_repair_model_by_construction() -> None:
    r, e = RestorationConfig(), EconomicsConfig()
    assert repair_hours(r, "line_segment", "repair", "underground") == r.repair_h_underground_line
    assert repair_hours(r, "line_segment", "repair", "overhead") == r.repair_h_overhead_line
    assert repair_hours(r, "line_segment", "reclose", "underground") == r.reclose_h
    assert material_usd(e, "line_segment", "repair", "underground") == e.material_usd_underground_line
    assert material_usd(e, "line_segment", "repair", "overhead") == e.material_usd_line_segment
    assert material_usd(e, "breaker", "reclose", "") == 0.0


def test_crews_start_at_the_substation_nearest_the_outage(tiny_ctx: EngineContext) -> None:
    # the last substation's first feeder breaker: its crews must not come from substation 0
    cg = tiny_ctx.cg
    assert len(cg.substation_ids) > 1
    s_last = len(cg.substation_ids) - 1
    feeders = tiny_ctx.grid.feeders
    fid = str(feeders.loc[feeders["substation_id"] == cg.substation_ids[s_last], "feeder_id"].iloc[0])
    r = run_cascade(tiny_ctx, patient_zero=[fid], scenario=resolve_scenario("summer_peak", {}))
    depots = crew_depots(tiny_ctx, r.outage_groups, 4)
    sub0 = (float(tiny_ctx.substation_lon[0]), float(tiny_ctx.substation_lat[0]))
    own = (float(tiny_ctx.substation_lon[s_last]), float(tiny_ctx.substation_lat[s_last]))
    assert depots[0] == own != sub0
    assert r.extras["restoration"]["depots_lonlat"][0] == list(own)
