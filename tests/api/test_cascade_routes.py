"""The cascade endpoints over real HTTP (uvicorn, DuckDB file with the tiny grid)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from live_server import LiveServer


@pytest.fixture
def operator(live: LiveServer, role_tokens: dict[str, str]) -> Iterator[httpx.Client]:
    with live.client(role_tokens["operator"]) as c:
        yield c


def _segment(live: LiveServer) -> str:
    return "SEG-0001-01-00005"


def _wait(client: httpx.Client, job_id: str) -> dict[str, Any]:
    for _ in range(600):
        r = client.get(f"/api/jobs/{job_id}")
        assert r.status_code == 200, r.text
        job: dict[str, Any] = r.json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError("job did not finish")


def test_scenarios_and_topology(viewer: httpx.Client) -> None:
    r = viewer.get("/api/cascade/scenarios")
    assert r.status_code == 200
    names = [s["name"] for s in r.json()["scenarios"]]
    assert {"normal", "summer_peak", "winter_storm", "hurricane"} <= set(names)
    t = viewer.get("/api/cascade/grid-topology", params={"limit": 50}).json()
    assert 0 < len(t["nodes"]) <= 50 and t["edges"]
    assert viewer.get("/api/cascade/grid-topology", params={"feeder_id": "NOPE"}).status_code == 404
    # viewers read stored screenings but do not start one
    none = viewer.get("/api/cascade/patient-zero-candidates", params={"scenario": "winter_storm"}).json()
    assert none["status"] == "none"


def test_simulate_roles_and_errors(viewer: httpx.Client, operator: httpx.Client, live: LiveServer) -> None:
    body = {"patient_zero": _segment(live), "scenario": "summer_peak"}
    assert viewer.post("/api/cascade/simulate", json=body).status_code == 403
    r = operator.post("/api/cascade/simulate", json=body)
    assert r.status_code == 200, r.text
    res = r.json()
    assert res["waves"][0]["events"][0] == {
        "element_id": _segment(live),
        "element_type": "line_segment",
        "cause": "fault",
        "detail": "initiating fault",
        "time_min": 0.0,
        "value": None,
    }
    assert res["totals"]["peak_customers_out"] > 0
    assert res["scenario"]["ambient_temp_c"] == 42.0
    bad = operator.post("/api/cascade/simulate", json={"patient_zero": "NOPE"})
    assert bad.status_code == 404
    bad = operator.post(
        "/api/cascade/simulate", json={"patient_zero": _segment(live), "failure_threshold": 0.5}
    )
    assert bad.status_code == 422 and bad.json()["details"]["field"] == "failure_threshold"
    bad = operator.post("/api/cascade/simulate", json={"patient_zero": _segment(live), "load_multiplier": -2})
    assert bad.status_code == 422 and bad.json()["details"]["field"] == "load_multiplier"  # as sent
    bad = operator.post("/api/cascade/simulate", json={"scenario": "normal"})
    assert bad.status_code == 422 and bad.json()["details"]["field"] == "patient_zero"


def test_saved_run_is_precomputed(operator: httpx.Client, viewer: httpx.Client, live: LiveServer) -> None:
    r = operator.post(
        "/api/cascade/simulate", json={"patient_zero": _segment(live), "save": True, "name": "t"}
    )
    run_id = r.json()["run_id"]
    listed = viewer.get("/api/cascade/precomputed", params={"kind": "cascade"}).json()["runs"]
    assert run_id in [x["run_id"] for x in listed]
    one = viewer.get(f"/api/cascade/precomputed/{run_id}").json()
    assert one["inputs"]["patient_zero"] == [_segment(live)]
    assert one["result"]["totals"] == r.json()["totals"]
    assert viewer.get("/api/cascade/precomputed/none-such").status_code == 404


def test_decision_support(operator: httpx.Client, viewer: httpx.Client, live: LiveServer) -> None:
    body = {"patient_zero": _segment(live), "scenario": "summer_peak", "crews": 2}
    rs = operator.post("/api/cascade/restoration-sequence", json=body).json()
    assert rs["plan"]["crews"] == 2 and [m["pct"] for m in rs["plan"]["milestones"]] == [25, 50, 75, 90, 100]
    ec = operator.post("/api/cascade/economic-impact", json=body).json()
    assert ec["impact"]["total_cost_usd"] > 0 and ec["impact"]["dollar_year"] == 2024
    ec13 = operator.post(
        "/api/cascade/economic-impact", json={**body, "economics": {"cpi_factor": 1.0}}
    ).json()
    assert ec13["impact"]["interruption_cost_usd"] == pytest.approx(
        ec["impact"]["interruption_cost_usd"] / 1.347, rel=1e-3
    )
    bad = operator.post("/api/cascade/economic-impact", json={**body, "economics": {"voll": 9000}})
    assert bad.status_code == 422 and bad.json()["details"]["field"] == "economics.voll"
    bad = operator.post("/api/cascade/compare-mitigations", params={"scenario": "winter_storm"})
    assert bad.status_code == 422 and bad.json()["details"]["field"] == "node_ids"
    pb = operator.post("/api/cascade/mitigation-actions", json=body).json()
    assert pb["playbook"]["steps"] and all(s["verified"] for s in pb["playbook"]["steps"])
    sim = operator.post("/api/cascade/simulate", json=body).json()
    ex = viewer.post("/api/cascade/explain", json={"result": sim, "explanation_type": "wave_analysis"}).json()
    assert "Wave 0" in ex["text"]
    assert viewer.post("/api/cascade/explain", json={"explanation_type": "poem"}).status_code == 422
    cm = operator.post(
        "/api/cascade/compare-mitigations", params={"investment_budget": 100000}, json=[_segment(live)]
    )
    assert cm.status_code == 200, cm.text
    assert cm.json()["result"]["investments"]
    rt = operator.post("/api/cascade/simulate-realtime", params={"patient_zero_id": _segment(live)})
    assert rt.status_code == 200, rt.text
    assert rt.json()["load_source"] in ("generated_peak", "ami_live") and "live_coverage" in rt.json()
    risk = viewer.get("/api/cascade/realtime-risk").json()
    assert 0 <= risk["index"] <= 100 and risk["level"] in ("NORMAL", "ELEVATED", "HIGH", "CRITICAL")
    pf = viewer.get("/api/powerflow/FDR-0001-01").json()
    assert pf["converged"] and pf["buses"] and pf["edges"]
    assert viewer.get("/api/powerflow/NOPE").status_code == 404


def test_jobs_monte_carlo_and_screening(
    operator: httpx.Client, viewer: httpx.Client, live: LiveServer
) -> None:
    r = operator.post(
        "/api/cascade/montecarlo",
        json={
            "patient_zero": _segment(live),
            "scenario": "summer_peak",
            "montecarlo": {"runs": 20, "seed": 1},
        },
    )
    assert r.status_code == 202, r.text
    job = _wait(viewer, r.json()["job"]["job_id"])
    assert job["state"] == "done", job
    mc = viewer.get(f"/api/cascade/precomputed/{job['result_id']}").json()
    d = mc["result"]["distributions"]["customers_out"]
    assert d["p10"] <= d["p50"] <= d["p90"] and mc["result"]["runs"] == 20
    first = operator.get("/api/cascade/patient-zero-candidates", params={"scenario": "normal"}).json()
    if first.get("status") == "computing":
        assert _wait(viewer, first["job"]["job_id"])["state"] == "done"
    cands = operator.get(
        "/api/cascade/patient-zero-candidates", params={"scenario": "normal", "limit": 5}
    ).json()
    assert len(cands["candidates"]) == 5
    risks = [c["risk_customer_minutes"] for c in cands["candidates"]]
    assert risks == sorted(risks, reverse=True)
    assert viewer.get("/api/jobs/none").status_code == 404
