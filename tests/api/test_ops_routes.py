"""Ops API over real HTTP (uvicorn on loopback, DuckDB file): outages from last-gasps posted to
``POST /api/ami/events``, operator actions and roles, work orders, crews, reliability, grid state diffs
and the SSE stream."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pyarrow as pa
import pytest
from live_server import LiveServer, serve_grid

from fluxops.grid.models import Grid
from fluxops.ops.trace import NODE_DEVICE, ProtectionTree


@pytest.fixture(scope="module")
def ops_live(tmp_path_factory: pytest.TempPathFactory, tiny_grid: Grid) -> Iterator[LiveServer]:
    with serve_grid(tmp_path_factory.mktemp("ops-api"), tiny_grid) as live:
        yield live


@pytest.fixture(scope="module")
def tokens(ops_live: LiveServer) -> dict[str, str]:
    out = {}
    with ops_live.client(ops_live.admin_token) as c:
        for role in ("viewer", "operator"):
            r = c.post("/api/admin/keys", json={"role": role, "label": f"ops {role}"})
            assert r.status_code == 201, r.text
            out[role] = r.json()["token"]
    return out


@pytest.fixture(scope="module")
def tree(tiny_grid: Grid) -> ProtectionTree:
    return ProtectionTree.build(tiny_grid)


def fuse_zone(tree: ProtectionTree, k: int = 0) -> tuple[str, list[str]]:
    """The k-th fuse (in node order) with at least 3 meters, and its meters."""
    fuses = [
        n
        for n in range(tree.n_devices)
        if tree.node_kind[n] == NODE_DEVICE and tree.node_type[n] == "fuse" and tree.meter_count[n] >= 3
    ]
    n = fuses[k]
    return str(tree.node_ids[n]), [str(m) for m in tree.node_ids[tree.meters_under(n)]]


def post_events(live: LiveServer, meters: list[str], event_type: str, at: datetime) -> None:
    """A head-end posts events to the AMI ingestion API (NDJSON); accepted ones reach the OMS."""
    ts = at.isoformat().replace("+00:00", "Z")
    body = "".join(
        json.dumps({"meter_id": m, "event_type": event_type, "event_time_utc": ts}) + "\n" for m in meters
    )
    with live.client(live.admin_token) as c:
        r = c.post("/api/ami/events", content=body, headers={"Content-Type": "application/x-ndjson"})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == len(meters), r.text


def wait_for(fn: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_outage_lifecycle_over_http(
    ops_live: LiveServer, tokens: dict[str, str], tree: ProtectionTree
) -> None:
    device, meters = fuse_zone(tree, 0)
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    post_events(ops_live, meters[: max(2, int(len(meters) * 0.8))], "last_gasp", t0)
    with ops_live.client(tokens["viewer"]) as v, ops_live.client(tokens["operator"]) as op:

        def active() -> list[dict[str, Any]]:
            r = v.get("/api/outages", params={"status": "active", "device": device})
            assert r.status_code == 200, r.text
            return list(r.json()["items"])

        (o,) = wait_for(active)
        assert (
            o["device_id"] == device and o["customers_affected"] == len(meters) and o["status"] == "proposed"
        )
        oid = o["outage_id"]
        assert v.post(f"/api/outages/{oid}/confirm").status_code == 403  # viewers cannot act
        r = op.post(f"/api/outages/{oid}/acknowledge")
        assert r.status_code == 200 and r.json()["acknowledged_by"]
        assert op.post(f"/api/outages/{oid}/confirm").json()["status"] == "confirmed"
        r = op.post(f"/api/outages/{oid}/confirm")
        assert r.status_code == 409 and r.json()["code"] == "conflict"
        detail = v.get(f"/api/outages/{oid}").json()
        assert [e["event_type"] for e in detail["events"]] == ["proposed", "acknowledged", "confirmed"]
        assert sorted(detail["meter_ids"]) == sorted(meters)
        # the grid state shows the zone out, and a diff since the previous version holds it
        state = v.get("/api/grid/state").json()
        ids = state["assets"]["asset_id"]
        status = dict(zip(ids, state["assets"]["status"], strict=True))
        assert all(status[m] == "out" for m in meters) and status[device] == "out"
        assert state["status_counts"]["out"] >= len(meters) + 1
        post_events(ops_live, meters[:1], "power_restore", t0 + timedelta(minutes=25))

        def restored() -> list[dict[str, Any]]:
            return list(v.get("/api/outages", params={"status": "history", "device": device}).json()["items"])

        (done,) = wait_for(restored)
        assert done["outage_id"] == oid and done["customer_minutes"] == pytest.approx(len(meters) * 25)
        diff = v.get("/api/grid/state", params={"changed_since": state["version"]}).json()
        changed = dict(zip(diff["assets"]["asset_id"], diff["assets"]["status"], strict=True))
        assert changed[meters[0]] == "normal" and diff["count"] < len(ids)
        arrow = v.get("/api/grid/state", params={"format": "arrow", "changed_since": state["version"]})
        assert pa.ipc.open_stream(arrow.content).read_all().num_rows == diff["count"]
        rel = v.get("/api/reliability", params={"level": "feeder"}).json()
        feeder = next(r for r in rel["rows"] if r["customers_interrupted"] > 0)
        assert feeder["customer_minutes"] == pytest.approx(len(meters) * 25)
        assert feeder["saidi_min"] == pytest.approx(len(meters) * 25 / feeder["customers_served"])


def test_bad_input_is_a_4xx_naming_the_field(ops_live: LiveServer, tokens: dict[str, str]) -> None:
    with ops_live.client(tokens["viewer"]) as v:
        for params, field in (
            ({"status": "sleeping"}, "status"),
            ({"since": "yesterday"}, "since"),
            ({"limit": 0}, "limit"),
            ({"kind": "meteor"}, "kind"),
        ):
            r = v.get("/api/outages", params=params)
            assert r.status_code == 422 and r.json()["details"]["field"] == field, r.text
        r = v.get("/api/reliability", params={"level": "planet"})
        assert r.status_code == 422 and r.json()["details"]["field"] == "level"
        assert v.get("/api/outages/OUT-999999").status_code == 404
        assert v.get("/api/grid/state", params={"format": "xml"}).status_code == 422
        for params, field in (({"start": "soon"}, "start"), ({"interval": "hourly"}, "interval")):
            r = v.get("/api/reliability", params=params)
            assert r.status_code == 422 and r.json()["details"]["field"] == field, r.text
        r = v.get("/api/stream", params={"types": "gossip"})
        assert r.status_code == 422 and r.json()["details"]["field"] == "types"
    with ops_live.client(tokens["operator"]) as op:
        r = op.post("/api/outages/OUT-000001/teleport")
        assert r.status_code == 422 and r.json()["details"]["field"] == "action"
        wid = op.post(
            "/api/work-orders", json={"work_type": "inspection", "priority": "low", "description": "pole"}
        ).json()["work_order_id"]
        r = op.post(f"/api/work-orders/{wid}/teleport")
        assert r.status_code == 422 and r.json()["details"]["field"] == "action"
        r = op.post("/api/work-orders", content=b"{not json", headers={"Content-Type": "application/json"})
        assert r.status_code == 422, r.text
        r = op.post(
            "/api/work-orders",
            json={"work_type": "inspection", "priority": "low", "description": "x", "colour": 1},
        )
        assert r.status_code == 422 and r.json()["details"]["field"] == "colour"
    with httpx.Client(base_url=ops_live.base_url) as anon:
        assert anon.get("/api/outages").status_code == 401


def test_work_orders_and_crews(ops_live: LiveServer, tokens: dict[str, str], tree: ProtectionTree) -> None:
    device, _ = fuse_zone(tree, 1)
    with ops_live.client(tokens["viewer"]) as v, ops_live.client(tokens["operator"]) as op:
        body = {
            "work_type": "inspection",
            "priority": "medium",
            "description": "check fuse",
            "asset_id": device,
        }
        assert v.post("/api/work-orders", json=body).status_code == 403
        r = op.post("/api/work-orders", json=body)
        assert r.status_code == 201, r.text
        wid = r.json()["work_order_id"]
        assert (
            op.post("/api/work-orders", json={**body, "priority": "urgent"}).json()["details"]["field"]
            == "priority"
        )
        r = op.post(f"/api/work-orders/{wid}/start")
        assert r.status_code == 409
        r = op.post(f"/api/work-orders/{wid}/assign", json={"crew_id": "CREW-NOPE"})
        assert r.status_code == 422 and r.json()["details"]["field"] == "crew_id"
        r = op.patch(f"/api/work-orders/{wid}", json={"priority": "high", "estimated_hours": 2.5})
        assert r.status_code == 200 and (r.json()["priority"], r.json()["estimated_hours"]) == ("high", 2.5)
        assert op.patch(f"/api/work-orders/{wid}", json={"status": "completed"}).status_code == 422
        assert op.post(f"/api/work-orders/{wid}/cancel").json()["status"] == "cancelled"
        assert op.patch(f"/api/work-orders/{wid}", json={"priority": "low"}).status_code == 409
        assert v.get(f"/api/work-orders/{wid}").json()["status"] == "cancelled"
        listed = v.get("/api/work-orders", params={"status": "cancelled"}).json()
        assert [w["work_order_id"] for w in listed] == [wid]
        assert op.delete(f"/api/work-orders/{wid}").status_code == 204
        assert v.get(f"/api/work-orders/{wid}").status_code == 404
        assert v.get("/api/crews").status_code == 200


def test_stream_receives_outage_change(
    ops_live: LiveServer, tokens: dict[str, str], tree: ProtectionTree
) -> None:
    device, meters = fuse_zone(tree, 2)
    received: list[tuple[str, dict[str, Any]]] = []
    ready = threading.Event()

    def listen() -> None:
        # EventSource cannot send headers: the token travels as ?access_token=
        params = {"access_token": tokens["viewer"]}
        with (
            httpx.Client(base_url=ops_live.base_url, timeout=30) as c,
            c.stream("GET", "/api/stream", params=params) as r,
        ):
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            event = None
            for line in r.iter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event:
                    received.append((event, json.loads(line[6:])))
                    if event == "hello":
                        ready.set()
                    if event == "outage" and any(
                        o["device_id"] == device for o in received[-1][1]["outages"]
                    ):
                        return

    th = threading.Thread(target=listen, daemon=True)
    th.start()
    assert ready.wait(20)
    post_events(ops_live, meters, "last_gasp", datetime.now(UTC) - timedelta(seconds=40))
    th.join(20)
    assert not th.is_alive()
    kinds = [k for k, _ in received]
    assert kinds[0] == "hello" and "outage" in kinds
    out = next(d for k, d in received if k == "outage")
    assert any(o["device_id"] == device and o["customers_affected"] == len(meters) for o in out["outages"])


def test_grid_state_carries_health(ops_live: LiveServer, tokens: dict[str, str], tiny_grid: Grid) -> None:
    """health_pct in both formats: the `fluxops.ops.health` index (no AMI readings here, so service age
    at rated aging), null for assets without a basis (meters, devices)."""
    from fluxops.ops.health import asset_health

    expected = asset_health(tiny_grid, datetime.now(UTC))
    want = dict(
        zip(expected.column("asset_id").to_pylist(), expected.column("health_pct").to_pylist(), strict=True)
    )
    with ops_live.client(tokens["viewer"]) as v:
        state = v.get("/api/grid/state").json()["assets"]
        got = dict(zip(state["asset_id"], state["health_pct"], strict=True))
        arrow = pa.ipc.open_stream(v.get("/api/grid/state", params={"format": "arrow"}).content).read_all()
    xf = tiny_grid.transformers["transformer_id"].tolist()
    assert all(got[x] == pytest.approx(want[x], abs=0.11) for x in xf if want[x] is not None)
    assert any(got[x] is not None for x in xf)
    assert got[tiny_grid.meters["meter_id"].iloc[0]] is None
    assert got[tiny_grid.substations["substation_id"].iloc[0]] == pytest.approx(
        want[tiny_grid.substations["substation_id"].iloc[0]], abs=0.11
    )
    from_arrow = dict(
        zip(arrow.column("asset_id").to_pylist(), arrow.column("health_pct").to_pylist(), strict=True)
    )
    assert from_arrow == got


def test_completed_repair_proposes_the_restore(
    ops_live: LiveServer, tokens: dict[str, str], tree: ProtectionTree
) -> None:
    """Completing the repair work order of an outage's device proposes the restore (a flag on the outage);
    the outage stays open until the operator confirms it with restore."""
    device, meters = fuse_zone(tree, 2)
    post_events(
        ops_live, meters, "last_gasp", datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20)
    )
    with ops_live.client(tokens["viewer"]) as v, ops_live.client(tokens["operator"]) as op:

        def active() -> list[dict[str, Any]]:
            return list(v.get("/api/outages", params={"status": "active", "device": device}).json()["items"])

        (o,) = wait_for(active)
        oid = o["outage_id"]
        assert o["restore_proposed"] is False and o["repair_work_order_id"] is None
        rule = v.get("/api/outages", params={"status": "active"}).json()["kpis"]["storm_rule"]
        assert rule == {"min_feeders": 5, "window_min": 15.0, "min_reports_per_feeder": 2}
        body = {
            "work_type": "outage_repair",
            "priority": "high",
            "description": "replace fuse",
            "asset_id": device,
        }
        wid = op.post("/api/work-orders", json=body).json()["work_order_id"]
        if not any(c["status"] == "available" for c in v.get("/api/crews").json()):
            ops_live.app.state.ops.service().dispatch.seed_demo_crews()
        crew = next(c for c in v.get("/api/crews").json() if c["status"] == "available")
        assert op.post(f"/api/work-orders/{wid}/assign", json={"crew_id": crew["crew_id"]}).status_code == 200
        assert op.post(f"/api/work-orders/{wid}/start").status_code == 200
        (o,) = active()
        assert o["restore_proposed"] is False  # in progress is not done
        assert op.post(f"/api/work-orders/{wid}/complete").status_code == 200
        (o,) = active()
        assert o["restore_proposed"] is True and o["repair_work_order_id"] == wid
        assert o["repair_completed_utc"] and o["status"] != "restored"
        assert v.get(f"/api/outages/{oid}").json()["restore_proposed"] is True
        assert op.post(f"/api/outages/{oid}/restore").json()["status"] == "restored"
        (done,) = v.get("/api/outages", params={"status": "history", "device": device}).json()["items"]
        assert done["restore_proposed"] is False  # only open outages carry a proposal
