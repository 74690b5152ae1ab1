"""``/api/assets/{id}/related`` over HTTP: relations from the outage's own members and the work order's
asset (a substation shows the fuse outage on its feeder; a meter on the same feeder that kept supply
does not; a work order created for a device is listed on that device)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest
from live_server import LiveServer, serve_grid

from fluxops.grid.models import Grid
from fluxops.grid.topology import GridTopology
from fluxops.ops.trace import NODE_DEVICE, ProtectionTree


@pytest.fixture(scope="module")
def rel_live(tmp_path_factory: pytest.TempPathFactory, tiny_grid: Grid) -> Iterator[LiveServer]:
    with serve_grid(tmp_path_factory.mktemp("relations-api"), tiny_grid) as live:
        yield live


def _fuse_zone(grid: Grid) -> tuple[str, list[str]]:
    tree = ProtectionTree.build(grid)
    n = next(
        n
        for n in range(tree.n_devices)
        if tree.node_kind[n] == NODE_DEVICE and tree.node_type[n] == "fuse" and tree.meter_count[n] >= 3
    )
    return str(tree.node_ids[n]), [str(m) for m in tree.node_ids[tree.meters_under(n)]]


def _last_gasps(live: LiveServer, meters: list[str], at: datetime) -> None:
    table = pa.table(
        {
            "meter_id": meters,
            "event_type": ["last_gasp"] * len(meters),
            "event_time_utc": pa.array([at] * len(meters), pa.timestamp("us", tz="UTC")),
        }
    )
    live.app.state.ops.submit(table)


def _wait(fn: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if got := fn():
            return got
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_relations_come_from_the_outage_members_and_the_work_order_asset(
    rel_live: LiveServer, tiny_grid: Grid
) -> None:
    fuse, members = _fuse_zone(tiny_grid)
    meters = tiny_grid.meters
    feeder = str(meters.loc[meters.meter_id == members[0], "feeder_id"].iat[0])
    substation = str(meters.loc[meters.meter_id == members[0], "substation_id"].iat[0])
    outsider = str(meters[(meters.feeder_id == feeder) & ~meters.meter_id.isin(members)].meter_id.iat[0])
    xf = str(meters.loc[meters.meter_id == members[0], "transformer_id"].iat[0])
    upstream_of_fuse = GridTopology.build(tiny_grid).path_to_substation(fuse)[1]
    _last_gasps(rel_live, members, datetime.now(UTC) - timedelta(minutes=3))
    with rel_live.client(rel_live.admin_token) as c:
        active = _wait(
            lambda: c.get("/api/outages", params={"status": "active", "device": fuse}).json()["items"]
        )
        oid = active[0]["outage_id"]

        def related(asset: str) -> dict[str, str]:
            r = c.get(f"/api/assets/{asset}/related")
            assert r.status_code == 200, r.text
            return {o["outage_id"]: o["relation"] for o in r.json()["outages"]}

        assert related(substation) == {oid: "feeds"}  # the substation carries the fuse outage
        assert related(feeder) == {oid: "feeds"}
        assert related(upstream_of_fuse) == {oid: "feeds"}
        assert related(fuse) == {oid: "device"}
        assert related(members[0]) == {oid: "member"}
        assert related(xf) == {oid: "inside"}
        assert related(outsider) == {}  # same feeder, kept its supply: not part of the outage

        r = c.post(
            "/api/work-orders",
            json={"work_type": "inspection", "priority": "low", "description": "look at it", "asset_id": xf},
        )
        assert r.status_code == 201, r.text
        wo = r.json()["work_order_id"]
        r = c.post(
            "/api/work-orders",
            json={"work_type": "outage_repair", "priority": "high", "description": "fix", "outage_id": oid},
        )
        repair = r.json()["work_order_id"]
        on_xf = [w["work_order_id"] for w in c.get(f"/api/assets/{xf}/related").json()["work_orders"]]
        assert on_xf == [repair, wo] or sorted(on_xf) == sorted([repair, wo])
        on_outsider = c.get(f"/api/assets/{outsider}/related").json()["work_orders"]
        assert on_outsider == []
        assert c.get("/api/assets/NOPE-1/related").status_code == 404


def test_crew_proposals_rank_by_skill_and_distance(rel_live: LiveServer, tiny_grid: Grid) -> None:
    """The demo roster has one crew per substation: a work order on an underground segment proposes
    the nearest available crew with the underground skill, with its distance."""
    seg = tiny_grid.line_segments
    segment = str(seg[seg.construction == "underground"].segment_id.iat[0])
    rel_live.app.state.ops.service().dispatch.seed_demo_crews()  # as `fluxops demo` does
    with rel_live.client(rel_live.admin_token) as c:
        r = c.post(
            "/api/work-orders",
            json={
                "work_type": "outage_repair",
                "priority": "high",
                "description": "cable fault",
                "asset_id": segment,
            },
        )
        assert r.status_code == 201, r.text
        wo = r.json()["work_order_id"]
        r = c.get(f"/api/work-orders/{wo}/crew-proposals")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["required_skill"] == "underground" and body["asset_id"] == segment
        props = body["proposals"]
        assert len(props) == len(c.get("/api/crews").json())
        first = props[0]
        assert first["qualified"] is True and first["status"] == "available"
        qualified = [p for p in props if p["qualified"] and p["status"] == "available"]
        assert first["distance_km"] == min(p["distance_km"] for p in qualified)
        assert c.get("/api/work-orders/WO-999999/crew-proposals").status_code == 404


def test_outage_cause_is_recorded_open_or_restored(rel_live: LiveServer, tiny_grid: Grid) -> None:
    counts = tiny_grid.meters.transformer_id.value_counts()
    xf = str(counts[counts >= 2].index[-1])
    meters = [str(m) for m in tiny_grid.meters[tiny_grid.meters.transformer_id == xf].meter_id]
    _last_gasps(rel_live, meters, datetime.now(UTC) - timedelta(minutes=2))
    with rel_live.client(rel_live.admin_token) as c:
        (o,) = _wait(lambda: c.get("/api/outages", params={"status": "active", "device": xf}).json()["items"])
        oid = o["outage_id"]
        assert o["cause_code"] is None
        r = c.put(f"/api/outages/{oid}/cause", json={"cause_code": "animal"})
        assert r.status_code == 200, r.text
        assert r.json()["cause_code"] == "animal" and r.json()["status"] == "proposed"
        assert c.post(f"/api/outages/{oid}/restore").json()["cause_code"] == "animal"  # kept by the engine
        # the crew's report comes after restoration: the cause can still be recorded
        r = c.put(f"/api/outages/{oid}/cause", json={"cause_code": "vegetation"})
        assert r.status_code == 200, r.text
        detail = c.get(f"/api/outages/{oid}").json()
        assert detail["cause_code"] == "vegetation" and detail["status"] == "restored"
        kinds = [e["event_type"] for e in detail["events"]]
        assert kinds.count("cause_coded") == 2 and len(set(e["event_id"] for e in detail["events"])) == len(
            kinds
        )
        bad = c.put(f"/api/outages/{oid}/cause", json={"cause_code": "gremlins"})
        assert bad.status_code == 422
        assert c.put("/api/outages/OUT-999999/cause", json={"cause_code": "animal"}).status_code == 404
