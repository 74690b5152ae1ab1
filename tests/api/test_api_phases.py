"""Phases through the API (issue 11 §2): the asset detail names each element's phases, and the feeder
power flow runs the three-phase model on a generated feeder (per-phase voltages, VUF, currents)."""

from __future__ import annotations

import httpx
from live_server import LiveServer


def test_asset_detail_returns_phases(viewer: httpx.Client, live: LiveServer) -> None:
    g = live.store.read_grid()
    seg = g.line_segments[g.line_segments.phases.isin(["A", "B", "C"])].iloc[0]
    r = viewer.get(f"/api/assets/{seg.segment_id}")
    assert r.status_code == 200, r.text
    assert r.json()["phases"] == seg.phases and r.json()["attributes"]["phases"] == seg.phases
    xf = g.transformers.iloc[0]
    assert viewer.get(f"/api/assets/{xf.transformer_id}").json()["phases"] == xf.phase
    meter = g.meters[g.meters.transformer_id == xf.transformer_id].iloc[0]
    assert viewer.get(f"/api/assets/{meter.meter_id}").json()["phases"] == xf.phase
    fdr = g.feeders.feeder_id.iloc[0]
    assert viewer.get(f"/api/assets/{fdr}").json()["phases"] is None  # a feeder has no one phase set


def test_three_phase_powerflow_on_a_generated_feeder(viewer: httpx.Client, live: LiveServer) -> None:
    fdr = str(live.store.read_grid().feeders.feeder_id.iloc[0])
    r = viewer.get(f"/api/powerflow/{fdr}", params={"model": "three_phase", "scenario": "summer_peak"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["converged"] and out["model"] == "three_phase" and out["scenario"] == "summer_peak"
    three = [b for b in out["buses"] if b["phases"] == "ABC"]
    assert three and all(0.8 < v < 1.1 for b in three for v in b["v_pu"].values())
    assert out["summary"]["vuf_limit_pct"] == 3.0 and out["summary"]["vuf_max_pct"] >= 0
    assert out["edges"] and out["notes"]
    assert viewer.get(f"/api/powerflow/{fdr}").json().get("model") != "three_phase"  # balanced by default


def test_three_phase_powerflow_bad_input(viewer: httpx.Client, live: LiveServer) -> None:
    fdr = str(live.store.read_grid().feeders.feeder_id.iloc[0])
    bad = viewer.get(f"/api/powerflow/{fdr}", params={"model": "sequence"})
    assert bad.status_code == 422 and "model" in bad.text
    imported = viewer.get(f"/api/powerflow/{fdr}", params={"model": "three_phase", "scenario": "as_imported"})
    assert imported.status_code == 422 and "scenario" in imported.text
    assert viewer.get("/api/powerflow/FDR-NOPE", params={"model": "three_phase"}).status_code == 404
