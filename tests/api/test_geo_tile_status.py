"""``GET /api/tiles/status``: the live colours of the asset tiles without putting state in a tile. An
outage (last gasps under a fuse) lists the fuse and its meters as out, with a new ETag; an unchanged
state answers 304; the tiles of those meters keep their ETag and stay cache hits (the tiles carry the
grid, the status list carries the state)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from live_server import BOOTSTRAP_TOKEN, LiveServer, make_settings, start_uvicorn, stop_uvicorn

from fluxops.api.app import create_app
from fluxops.grid.models import Grid
from fluxops.ops.trace import NODE_DEVICE, ProtectionTree
from fluxops.storage import open_store


@pytest.fixture
def own(tmp_path: Path, tiny_grid: Grid) -> Iterator[LiveServer]:
    settings = make_settings(tmp_path)
    store = open_store(settings)
    store.load_grid(tiny_grid)
    app = create_app(settings, store=store)
    running = start_uvicorn(app)
    yield LiveServer(f"http://127.0.0.1:{running.port}", app, store, BOOTSTRAP_TOKEN)
    stop_uvicorn(running)
    store.close()


def _fuse_zone(grid: Grid) -> tuple[str, list[str]]:
    tree = ProtectionTree.build(grid)
    n = next(
        n
        for n in range(tree.n_devices)
        if tree.node_kind[n] == NODE_DEVICE and tree.node_type[n] == "fuse" and tree.meter_count[n] >= 3
    )
    return str(tree.node_ids[n]), [str(m) for m in tree.node_ids[tree.meters_under(n)]]


def _tile_url(grid: Grid, meter_id: str, z: int = 16) -> str:
    m = grid.meters.set_index("meter_id").loc[meter_id]
    n = 2**z
    x = int((m.lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(m.lat))) / math.pi) / 2 * n)
    return f"/api/tiles/meters/{z}/{x}/{y}.mvt"


def test_status_lists_an_outage_and_tiles_stay_cached(own: LiveServer, tiny_grid: Grid) -> None:
    device, meters = _fuse_zone(tiny_grid)
    url = _tile_url(tiny_grid, meters[0])
    with own.client(own.admin_token) as c:
        first = c.get("/api/tiles/status")
        assert first.status_code == 200 and first.headers["Cache-Control"] == "no-cache"
        doc = first.json()
        assert doc["codes"] == ["normal", "warning", "critical", "out"]
        assert len(doc["asset_id"]) == len(doc["status"]) and 0 not in doc["status"]
        etag = first.headers["ETag"]
        assert c.get("/api/tiles/status", headers={"If-None-Match": etag}).status_code == 304
        tile = c.get(url)
        assert tile.status_code == 200 and tile.content and tile.headers["X-Tile-Cache"] == "miss"

        ts = (datetime.now(UTC) - timedelta(minutes=10)).isoformat().replace("+00:00", "Z")
        body = "".join(
            json.dumps({"meter_id": m, "event_type": "last_gasp", "event_time_utc": ts}) + "\n"
            for m in meters
        )
        r = c.post("/api/ami/events", content=body, headers={"Content-Type": "application/x-ndjson"})
        assert r.status_code == 200
        deadline = time.monotonic() + 60
        now = c.get("/api/tiles/status", headers={"If-None-Match": etag})
        while now.status_code == 304 and time.monotonic() < deadline:
            time.sleep(0.05)
            now = c.get("/api/tiles/status", headers={"If-None-Match": etag})
        assert now.status_code == 200 and now.headers["ETag"] != etag
        doc = now.json()
        status = dict(zip(doc["asset_id"], (doc["codes"][s] for s in doc["status"]), strict=True))
        assert status[device] == "out" and all(status[m] == "out" for m in meters)
        assert int(now.headers["X-State-Version"]) == doc["version"]
        # the tile is the grid's, not the state's: same ETag, a 304 on revalidation, a cache hit
        again = c.get(url)
        assert again.headers["ETag"] == tile.headers["ETag"] and again.headers["X-Tile-Cache"] == "hit"
        assert c.get(url, headers={"If-None-Match": tile.headers["ETag"]}).status_code == 304
