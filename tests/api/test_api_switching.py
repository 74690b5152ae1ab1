"""Switching and what-if over real HTTP, on a real DuckDB file holding the ``tiny`` grid (its own server:
these tests change the live configuration).

Grid facts (tiny, seed 0): fuse FUS-0001-02-00011 feeds a lateral of FDR-0001-02 (segments
SEG-0001-02-00021..23, 21 customers, none critical) whose end is tied to FDR-0001-01 by TIE-00002
(normally open). Breaker BRK-0001-02 feeds two critical customers. Closing TIE-00002 while the lateral
is fed makes a loop that overloads the fuse."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from live_server import LiveServer, serve_grid

from fluxops.grid.models import Grid

FUSE, TIE, BRK = "FUS-0001-02-00011", "TIE-00002", "BRK-0001-02"
LATERAL_SEG = "SEG-0001-02-00023"
HEAD_01 = "SEG-0001-01-00002"  # head segment of FDR-0001-01 (carries the lateral once transferred)
LATERAL_METERS = ["MTR-00000189", "MTR-00000197", "MTR-00000204"]  # one per transformer on the lateral
TRANSFER = [{"device_id": FUSE, "action": "open"}, {"device_id": TIE, "action": "close"}]


@pytest.fixture(scope="module")
def server(tiny_grid: Grid, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serve_grid(tmp_path_factory.mktemp("switching"), tiny_grid) as live:
        yield live


@pytest.fixture(scope="module")
def tokens(server: LiveServer) -> dict[str, str]:
    out: dict[str, str] = {}
    with server.client(server.admin_token) as c:
        for role in ("viewer", "operator"):
            r = c.post("/api/admin/keys", json={"role": role, "label": f"switching {role}"})
            assert r.status_code == 201, r.text
            out[role] = r.json()["token"]
    return out


@pytest.fixture
def op(server: LiveServer, tokens: dict[str, str]) -> Iterator[httpx.Client]:
    server.store.execute("DELETE FROM switch_overrides")  # each test starts from the recorded state
    with server.client(tokens["operator"]) as c:
        yield c


def _loading(c: httpx.Client) -> dict[str, Any]:
    r = c.get("/api/grid/loading", params={"format": "json"})
    assert r.status_code == 200, r.text
    return {row["asset_id"]: row["loading_pct"] for row in r.json()["rows"] if row["kind"] == "line_segment"}


def _closed(c: httpx.Client, device_id: str) -> bool:
    r = c.get("/api/cascade/grid-topology", params={"feeder_id": "FDR-0001-02"})
    edges = {e["id"]: e for e in r.json()["edges"]}
    return bool(edges[device_id]["closed"])


def test_operating_tie_adjacent_devices_changes_energization_and_loading(
    server: LiveServer, op: httpx.Client, tokens: dict[str, str]
) -> None:
    before = _loading(op)
    etag = op.get("/api/grid/loading").headers["etag"]
    assert before[LATERAL_SEG] is not None and _closed(op, FUSE)
    assert server.app.state.ops.service().tree.lowest_common_protective_device(LATERAL_METERS) == FUSE

    r = op.post(f"/api/devices/{FUSE}/open", json={"reason": "fault patrol on the lateral"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["operation"]["changed_by"] and body["operation"]["reason"] == "fault patrol on the lateral"
    assert body["check"]["steps"][0]["customers_interrupted"] == 21
    opened = _loading(op)
    assert opened[LATERAL_SEG] is None  # de-energized: no flow on the lateral
    assert not _closed(op, FUSE)
    assert op.get("/api/grid/loading").headers["etag"] != etag  # the cache follows the configuration
    # the live grid state shows the lateral's meters and transformers out (no outage holds them)
    cols = op.get("/api/grid/state").json()["assets"]  # columnar
    state = dict(zip(cols["asset_id"], cols["status"], strict=True))
    assert state[LATERAL_METERS[0]] == state["XFMR-0001-02-0004"] == "out" and state[HEAD_01] != "out"
    detail = op.get(f"/api/assets/{FUSE}").json()  # the inspector shows the operated state
    assert (detail["attributes"]["state"], detail["attributes"]["normal_state"]) == ("open", "closed")

    r = op.post(f"/api/devices/{TIE}/close", json={"reason": "pick the lateral up from FDR-0001-01"})
    assert r.status_code == 200, r.text
    transferred = _loading(op)
    assert transferred[LATERAL_SEG] is not None
    # the outage engine traces the lateral's last-gasps to feeder 01's protection now
    tree = server.app.state.ops.service().tree
    assert tree.lowest_common_protective_device(LATERAL_METERS) == "FUS-0001-01-00014"
    assert transferred[HEAD_01] > before[HEAD_01]  # feeder 01 now carries the lateral

    # closing the fuse now would loop the two feeders and overload it: refused, naming the device
    r = op.post(f"/api/devices/{FUSE}/close", json={"reason": "back to normal"})
    assert r.status_code == 409, r.text
    assert r.json()["details"]["device_id"] == FUSE
    states = op.get("/api/switching/states").json()
    assert {s["device_id"]: s["state"] for s in states["states"]} == {FUSE: "open", TIE: "closed"}
    assert {d["device_id"]: d["state"] for d in states["off_normal"]} == {FUSE: "open", TIE: "closed"}
    assert op.get(f"/api/devices/{TIE}/switching").json()["off_normal"] is True
    log = op.get("/api/switching/log", params={"device_id": FUSE}).json()["operations"]
    assert [o["action"] for o in log] == ["open"]


def test_operate_requires_reason_and_operator(
    op: httpx.Client, server: LiveServer, tokens: dict[str, str]
) -> None:
    r = op.post(f"/api/devices/{FUSE}/open", json={})
    assert r.status_code == 422 and r.json()["details"]["field"].endswith("reason")
    r = op.post(f"/api/devices/{FUSE}/open", json={"reason": "x", "surprise": 1})
    assert r.status_code == 422
    r = op.post("/api/devices/NOPE-1/open", json={"reason": "x"})
    assert r.status_code == 404 and r.json()["details"]["device_id"] == "NOPE-1"
    with server.client(tokens["viewer"]) as viewer:
        assert viewer.post(f"/api/devices/{FUSE}/open", json={"reason": "x"}).status_code == 403
        assert viewer.get(f"/api/devices/{FUSE}/switching").json()["state"] == "closed"
    r = op.post(f"/api/devices/{BRK}/open", json={"reason": "test"})
    assert r.status_code == 409 and "critical" in r.json()["message"]


def test_orders_are_validated_step_by_step(op: httpx.Client) -> None:
    islanding = {
        "title": "drop feeder 2",
        "reason": "test",
        "steps": [TRANSFER[0], {"device_id": BRK, "action": "open"}],
    }
    r = op.post("/api/switching/orders", json=islanding)
    assert r.status_code == 422, r.text
    d = r.json()["details"]
    assert d["field"] == "steps[1]" and d["step"] == 2 and d["device_id"] == BRK
    assert "CUST-00000327" in d["validation"]["steps"][1]["critical_islanded"]

    looped = {"title": "close the tie", "reason": "test", "steps": [{"device_id": TIE, "action": "close"}]}
    r = op.post("/api/switching/orders", json=looped)
    assert r.status_code == 422 and r.json()["details"]["field"] == "steps[0]"
    assert r.json()["details"]["validation"]["steps"][0]["overloads"][0]["element_id"] == FUSE

    r = op.post("/api/switching/check", json={"steps": looped["steps"]})
    assert r.status_code == 200 and r.json()["ok"] is False and r.json()["failed_step"] == 1


def test_order_lifecycle_executes_atomically(op: httpx.Client) -> None:
    r = op.post(
        "/api/switching/orders",
        json={"title": "transfer lateral", "reason": "fuse maintenance", "steps": TRANSFER},
    )
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["status"] == "draft" and order["created_by"]
    oid = order["order_id"]
    assert op.post(f"/api/switching/orders/{oid}/execute").status_code == 409  # not approved yet
    r = op.post(f"/api/switching/orders/{oid}/approve")
    assert r.status_code == 200 and r.json()["approved_by"] and r.json()["approved_utc"]
    assert _closed(op, FUSE)  # approval changes nothing live
    r = op.post(f"/api/switching/orders/{oid}/execute")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "executed" and r.json()["executed_utc"]
    assert not _closed(op, FUSE)
    ops = op.get("/api/switching/log").json()["operations"]
    assert {(o["device_id"], o["order_id"]) for o in ops[:2]} == {(FUSE, oid), (TIE, oid)}
    assert op.post(f"/api/switching/orders/{oid}/cancel").status_code == 409
    listed = op.get("/api/switching/orders", params={"status": "executed"}).json()["orders"]
    assert oid in [o["order_id"] for o in listed]


def test_whatif_never_changes_the_live_configuration(op: httpx.Client) -> None:
    before = _loading(op)
    proposed = [{"device_id": FUSE, "state": "open"}]
    r = op.post("/api/whatif/powerflow", json={"switch_states": proposed})
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["live"]["customers_without_supply"] == 0 and b["proposed"]["customers_without_supply"] == 21
    assert b["difference"]["customers_without_supply"] == 21
    assert b["proposed"]["configuration_hash"] != b["live"]["configuration_hash"]
    r = op.post("/api/whatif/n-1", json={"switch_states": proposed, "limit": 5})
    assert r.status_code == 200 and r.json()["contingencies"] > 0 and len(r.json()["worst"]) == 5
    assert r.json()["substations"] == ["SUB-0001", "SUB-0002"]  # SUB-0001 changed, SUB-0002 tied to it
    r = op.post(
        "/api/whatif/cascade",
        json={"switch_states": proposed, "patient_zero": "SEG-0001-02-00003", "scenario": "normal"},
    )
    assert r.status_code == 200, r.text
    r = op.post("/api/whatif/powerflow", json={"switch_states": [{"device_id": "NOPE", "state": "open"}]})
    assert r.status_code == 422 and r.json()["details"]["field"] == "switch_states[0].device_id"
    assert op.get("/api/switching/states").json()["off_normal"] == []
    assert _loading(op) == before and _closed(op, FUSE)


def test_compare_returns_both_and_their_differences(op: httpx.Client) -> None:
    a = {"patient_zero": "SEG-0001-02-00003", "scenario": "normal", "label": "as is"}
    b = {
        **a,
        "label": "lateral moved",
        "switch_states": [{"device_id": FUSE, "state": "open"}, {"device_id": TIE, "state": "closed"}],
    }
    r = op.post("/api/cascade/compare", json={"a": a, "b": b})
    assert r.status_code == 200, r.text
    body = r.json()
    fa, fb = body["a"]["figures"], body["b"]["figures"]
    for key in ("customers_out", "customer_minutes", "cost_usd", "overloaded_elements"):
        assert key in fa and key in fb
    diff = body["difference_b_minus_a"]
    assert diff["customers_out"] == fb["customers_out"] - fa["customers_out"]
    assert diff["customer_minutes"] == pytest.approx(fb["customer_minutes"] - fa["customer_minutes"])
    assert diff["cost_usd"] == pytest.approx(fb["cost_usd"] - fa["cost_usd"])
    assert {"overloaded_only_a", "overloaded_only_b", "overloaded_both"} <= set(diff)
    # moved to feeder 01, the lateral's 21 customers are never interrupted by a feeder-02 fault
    assert fa["peak_customers_out"] - fb["peak_customers_out"] == 21
    assert fb["customer_minutes"] < fa["customer_minutes"]
    assert body["a"]["label"] == "as is" and body["a"]["result"]["totals"]
    r = op.post(
        "/api/cascade/compare",
        json={"a": a, "b": {**a, "switch_states": [{"device_id": "X", "state": "open"}]}},
    )
    assert r.status_code == 422 and r.json()["details"]["field"] == "b.switch_states[0].device_id"


def test_two_concurrent_candidate_gets_start_one_screening(server: LiveServer, op: httpx.Client) -> None:
    jobs = server.app.state.cascade.jobs
    before = {j.job_id for j in jobs.list() if j.kind == "screening"}

    def get(_: int) -> dict[str, Any]:
        r = op.get("/api/cascade/patient-zero-candidates", params={"scenario": "winter_storm"})
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        return out

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(get, range(4)))
    started = [j for j in jobs.list() if j.kind == "screening" and j.job_id not in before]
    assert len(started) == 1
    job_ids = {a["job"]["job_id"] for a in answers if "job" in a}
    assert job_ids <= {started[0].job_id}
