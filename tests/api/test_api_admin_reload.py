"""Loading another grid through the admin API swaps what every view serves (cache keyed by hash)."""

from __future__ import annotations

from pathlib import Path

import httpx
from live_server import BOOTSTRAP_TOKEN, make_settings, start_uvicorn, stop_uvicorn

from fluxops.api.app import create_app
from fluxops.grid.generator import generate_grid
from fluxops.grid.models import Grid
from fluxops.storage import open_store


def test_admin_load_swaps_the_served_grid(tmp_path: Path, tiny_grid: Grid) -> None:
    settings = make_settings(tmp_path)
    store = open_store(settings)
    store.load_grid(tiny_grid)
    running = start_uvicorn(create_app(settings, store=store))
    try:
        auth = {"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{running.port}", headers=auth, timeout=120) as c:
            before = c.get("/api/kpis").json()
            etag_before = c.get("/api/map/assets").headers["etag"]
            assert before["customers"] == len(tiny_grid.customers)

            r = c.post("/api/admin/grid", json={"preset": "tiny", "seed": 1})
            assert r.status_code == 200 and r.json()["changed"] is True
            other = generate_grid("tiny", seed=1)
            after = c.get("/api/kpis").json()
            assert after["customers"] == len(other.customers)
            assert after != before
            m = c.get("/api/map/assets", headers={"If-None-Match": etag_before})
            assert m.status_code == 200 and m.headers["etag"] != etag_before
            health = c.get("/health", params={"detailed": "true"}).json()
            assert health["grid"]["content_hash"] == r.json()["content_hash"]
    finally:
        stop_uvicorn(running)
        store.close()
