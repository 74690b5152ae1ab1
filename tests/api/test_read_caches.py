"""The load read paths (issue 8 §5) never answer stale: asset rows and pages from memory carry a status
written a moment before, and analytics answers built once per materialization are rebuilt for the next
one; gzip and exports of a cached answer are the same data."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from live_server import LiveServer, serve_grid

from fluxops.ami.synth import AmiSynthesizer, SynthParams
from fluxops.api.ami_runtime import AmiRuntime
from fluxops.grid.models import Grid
from fluxops.grid.ports import AssetQuery
from fluxops.ops.trace import NODE_DEVICE, ProtectionTree

ARROW = "application/vnd.apache.arrow.stream"


@pytest.fixture
def own(tmp_path: Path, tiny_grid: Grid) -> Iterator[LiveServer]:
    with serve_grid(tmp_path, tiny_grid) as live:
        yield live


def test_an_asset_status_written_is_in_the_next_answer(own: LiveServer) -> None:
    meter = own.store.list_assets(AssetQuery(types=("meter",), limit=1)).items[0]
    box = f"{meter.lon - 0.001},{meter.lat - 0.001},{meter.lon + 0.001},{meter.lat + 0.001}"
    with own.client(own.admin_token) as c:
        assert c.get(f"/api/assets/{meter.asset_id}").json()["status"] == "normal"
        assert c.get("/api/assets", params={"status": "out"}).json()["items"] == []
        own.store.set_asset_status({meter.asset_id: "out"})  # as the outage engine writes it
        assert c.get(f"/api/assets/{meter.asset_id}").json()["status"] == "out"
        page = c.get("/api/assets", params={"status": "out", "bbox": box}).json()
        assert [a["asset_id"] for a in page["items"]] == [meter.asset_id]
        assert page["items"][0] == {
            "asset_id": meter.asset_id,
            "asset_type": "meter",
            "name": meter.name,
            "feeder_id": meter.feeder_id,
            "substation_id": meter.substation_id,
            "lon": meter.lon,
            "lat": meter.lat,
            "status": "out",
        }
        own.store.set_asset_status({meter.asset_id: "normal"})
        assert c.get(f"/api/assets/{meter.asset_id}").json()["status"] == "normal"


def _arrow(t: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, t.schema) as w:
        w.write_table(t)
    return bytes(sink.getvalue().to_pybytes())


def test_analytics_built_once_per_materialization_and_rebuilt_for_the_next(
    own: LiveServer, tiny_grid: Grid
) -> None:
    rt: AmiRuntime = own.app.state.ami
    rt.stop()  # no refresher thread: this test materializes when it wants to
    path = "/api/ami/transformers/latest"
    with own.client(own.admin_token) as c:
        first = c.get(path)
        assert first.status_code == 200 and first.json()["count"] == 0
        cache = own.app.state.response_cache
        builds = cache.builds
        assert c.get(path).json() == first.json() and cache.builds == builds  # answered from the cache
        day = AmiSynthesizer(tiny_grid, SynthParams(seed=3)).day(date(2026, 7, 1))
        rep = c.post(
            "/api/ami/readings",
            content=_arrow(day.readings.drop_columns(["delivered_utc"])),
            headers={"Content-Type": ARROW},
        )
        assert rep.status_code == 200
        # accepted but not materialized: still the previous materialization's answer, and it says so
        assert c.get(path).headers["X-Data-Watermark"] == "0"
        mat = rt.refresh_now()
        r = c.get(path, headers={"Accept-Encoding": "gzip"})
        assert r.headers["X-Data-Watermark"] == str(mat.seq) and mat.seq >= 1
        assert r.headers["Content-Encoding"] == "gzip"  # the body gzipped once, when it was built
        assert r.json()["count"] == len(tiny_grid.transformers)  # httpx decoded the gzip
        raw = c.get(path, headers={"Accept-Encoding": "identity"})
        assert "Content-Encoding" not in raw.headers and raw.json() == r.json()
        exported = c.get(path, params={"format": "csv"})
        assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
        assert len(list(csv.DictReader(io.StringIO(exported.text)))) == len(tiny_grid.transformers)


def test_a_new_outage_and_an_operator_action_are_in_the_next_outage_list(
    own: LiveServer, tiny_grid: Grid
) -> None:
    tree = ProtectionTree.build(tiny_grid)
    fuse = next(
        n
        for n in range(tree.n_devices)
        if tree.node_kind[n] == NODE_DEVICE and tree.node_type[n] == "fuse" and tree.meter_count[n] >= 3
    )
    device = str(tree.node_ids[fuse])
    meters = [str(m) for m in tree.node_ids[tree.meters_under(fuse)]]
    at = (datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)).isoformat()
    body = "".join(
        json.dumps({"meter_id": m, "event_type": "last_gasp", "event_time_utc": at}) + "\n" for m in meters
    )
    params = {"status": "active", "limit": 200}
    with own.client(own.admin_token) as c:
        assert c.get("/api/outages", params=params).json()["items"] == []  # kept until the next write
        r = c.post("/api/ami/events", content=body, headers={"Content-Type": "application/x-ndjson"})
        assert r.status_code == 200 and r.json()["accepted"] == len(meters)
        deadline = time.monotonic() + 30
        items: list[dict[str, Any]] = []
        while not items and time.monotonic() < deadline:  # the outage engine runs in its own thread
            items = c.get("/api/outages", params=params).json()["items"]
            time.sleep(0.05)
        assert [o["device_id"] for o in items] == [device]
        assert items[0]["acknowledged_by"] is None
        assert c.post(f"/api/outages/{items[0]['outage_id']}/acknowledge").status_code == 200
        (after,) = c.get("/api/outages", params=params).json()["items"]  # no wait: the very next request
        assert after["acknowledged_by"] is not None


def test_grid_state_payloads_are_bounded_and_built_once_per_version(tiny_grid: Grid) -> None:
    """The encoded grid-state answers are kept per (version, representation) within a count and a byte
    bound, and concurrent readers of a new version share one encoding (single flight)."""
    import threading

    import numpy as np

    from fluxops.api.routes.grid_state import _Payloads
    from fluxops.ops.state import GridState

    tree = ProtectionTree.build(tiny_grid)
    state = GridState(tiny_grid, tree)
    cache = _Payloads(max_entries=4, max_bytes=10**9)
    no_device = np.zeros(0, np.int64)
    for i in range(10):
        state.recompute(np.arange(i + 1, dtype=np.int64), no_device)  # a new version each time
        for fmt in ("arrow", "compact"):
            enc = cache.get((state.epoch, state.version, fmt, None), state, build=True)
            assert enc is not None and enc[0] == state.version
        assert len(cache) <= 4
    assert cache.builds == 20
    small = _Payloads(max_entries=100, max_bytes=1)
    for fmt in ("arrow", "compact", "json"):
        small.get((state.epoch, state.version, fmt, None), state, build=True)
        assert len(small) == 1  # over the byte bound only the newest stays

    state.recompute(np.arange(20, dtype=np.int64), no_device)
    key = (state.epoch, state.version, "arrow", None)
    assert cache.get(key, state, build=False) is None  # the event loop never builds
    got: list[Any] = []
    threads = [
        threading.Thread(target=lambda: got.append(cache.get(key, state, build=True))) for _ in range(16)
    ]
    before = cache.builds
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache.builds == before + 1 and all(g is got[0] for g in got)
    assert cache.get(key, state, build=False) is got[0]
