"""``GET /api/grid/state`` from the maintained snapshot (issue 8 §5): an ETag naming the state version
and representation, 304 on a matching ``If-None-Match``, a new ETag once an outage changes the state,
and the diff since the previous version (what the SSE ``asset_status`` messages announce)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from live_server import LiveServer, serve_grid

from fluxops.grid.models import Grid
from fluxops.ops.trace import NODE_DEVICE, ProtectionTree


@pytest.fixture
def own(tmp_path: Path, tiny_grid: Grid) -> Iterator[LiveServer]:
    with serve_grid(tmp_path, tiny_grid) as live:
        yield live


def _fuse_zone(grid: Grid) -> tuple[str, list[str]]:
    tree = ProtectionTree.build(grid)
    n = next(
        n
        for n in range(tree.n_devices)
        if tree.node_kind[n] == NODE_DEVICE and tree.node_type[n] == "fuse" and tree.meter_count[n] >= 3
    )
    return str(tree.node_ids[n]), [str(m) for m in tree.node_ids[tree.meters_under(n)]]


def test_grid_state_etag_304_and_a_new_etag_after_an_outage(own: LiveServer, tiny_grid: Grid) -> None:
    with own.client(own.admin_token) as c:
        first = c.get("/api/grid/state")
        etag = first.headers["ETag"]
        assert first.status_code == 200 and etag and first.headers["Cache-Control"] == "no-cache"
        assert first.json()["count"] == int(first.headers["X-Row-Count"])
        again = c.get("/api/grid/state", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
        weak = c.get("/api/grid/state", headers={"If-None-Match": f'"nope", W/{etag}'})
        assert weak.status_code == 304
        arrow = c.get("/api/grid/state", params={"format": "arrow"}, headers={"If-None-Match": etag})
        assert arrow.status_code == 200 and arrow.headers["ETag"] != etag  # another representation
        assert pa.ipc.open_stream(arrow.content).read_all().num_rows == first.json()["count"]

        device, meters = _fuse_zone(tiny_grid)
        ts = (datetime.now(UTC) - timedelta(minutes=10)).isoformat().replace("+00:00", "Z")
        body = "".join(
            json.dumps({"meter_id": m, "event_type": "last_gasp", "event_time_utc": ts}) + "\n"
            for m in meters
        )
        r = c.post("/api/ami/events", content=body, headers={"Content-Type": "application/x-ndjson"})
        assert r.status_code == 200 and r.json()["accepted"] == len(meters)
        deadline = time.monotonic() + 60
        now = c.get("/api/grid/state", headers={"If-None-Match": etag})
        while now.status_code == 304 and time.monotonic() < deadline:
            time.sleep(0.05)
            now = c.get("/api/grid/state", headers={"If-None-Match": etag})
        assert now.status_code == 200 and now.headers["ETag"] != etag
        state = now.json()
        assert state["version"] > first.json()["version"]
        status = dict(zip(state["assets"]["asset_id"], state["assets"]["status"], strict=True))
        assert all(status[m] == "out" for m in meters) and status[device] == "out"
        # the new version is itself cacheable, and the diff since the old one holds the zone
        assert c.get("/api/grid/state", headers={"If-None-Match": now.headers["ETag"]}).status_code == 304
        diff = c.get("/api/grid/state", params={"changed_since": first.json()["version"]}).json()
        assert set(meters) <= set(diff["assets"]["asset_id"]) and diff["count"] < state["count"]


def _compact_rows(content: bytes) -> dict[str, tuple[int, float | None]]:
    t = pa.ipc.open_stream(content).read_all()
    assert t.schema.metadata[b"status_codes"] == b"normal,warning,critical,out"
    return {
        r["asset_id"]: (r["status"], r["loading_pct"])
        for r in t.to_pylist()  # status: index into the codes above
    }


def test_compact_snapshot_and_its_diff_rebuild_the_full_state(own: LiveServer, tiny_grid: Grid) -> None:
    """format=compact: only rows off the zero state (normal, loading unknown), int8 status, float32
    loading, gzipped once per version; the previous compact snapshot plus the compact diff is the
    compact snapshot at the new version, and both agree with the full Arrow snapshot."""
    with own.client(own.admin_token) as c:
        first = c.get("/api/grid/state", params={"format": "compact"})
        assert first.status_code == 200 and first.headers["X-State-Epoch"]
        v1 = int(first.headers["X-State-Version"])
        base = _compact_rows(first.content)
        assert int(first.headers["X-Row-Count"]) == len(base)
        again = c.get(
            "/api/grid/state", params={"format": "compact"}, headers={"If-None-Match": first.headers["ETag"]}
        )
        assert again.status_code == 304
        full = c.get("/api/grid/state", params={"format": "arrow"}, headers={"Accept-Encoding": "gzip"})
        assert full.headers.get("Content-Encoding") == "gzip"  # encoded once, not per request
        assert len(base) < int(full.headers["X-Row-Count"])

        device, meters = _fuse_zone(tiny_grid)
        ts = (datetime.now(UTC) - timedelta(minutes=10)).isoformat().replace("+00:00", "Z")
        body = "".join(
            json.dumps({"meter_id": m, "event_type": "last_gasp", "event_time_utc": ts}) + "\n"
            for m in meters
        )
        r = c.post("/api/ami/events", content=body, headers={"Content-Type": "application/x-ndjson"})
        assert r.status_code == 200
        deadline = time.monotonic() + 60
        now = c.get("/api/grid/state", params={"format": "compact"})
        while int(now.headers["X-State-Version"]) == v1 and time.monotonic() < deadline:
            time.sleep(0.05)
            now = c.get("/api/grid/state", params={"format": "compact"})
        v2 = int(now.headers["X-State-Version"])
        diff = c.get("/api/grid/state", params={"format": "compact", "changed_since": v1})
        assert int(diff.headers["X-State-Version"]) == v2
        applied = {**base, **_compact_rows(diff.content)}
        applied = {k: v for k, v in applied.items() if v != (0, None)}  # back to the zero state: implied
        assert applied == _compact_rows(now.content)
        assert applied[device][0] == 3 and all(applied[m][0] == 3 for m in meters)  # 3: out
        arrow = pa.ipc.open_stream(c.get("/api/grid/state", params={"format": "arrow"}).content).read_all()
        codes = ["normal", "warning", "critical", "out"]
        for r in arrow.to_pylist():
            status, load = applied.get(r["asset_id"], (0, None))
            assert codes[status] == r["status"], r
            assert (load is None) == (r["loading_pct"] is None), r
