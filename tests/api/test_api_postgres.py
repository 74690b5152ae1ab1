"""The same API over the PostgreSQL + PostGIS store (the machine's server, a throw-away schema)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pytest
from live_server import BOOTSTRAP_TOKEN, make_settings, start_uvicorn, stop_uvicorn

from fluxops.api.app import create_app
from fluxops.grid.models import MAP_ASSET_TYPES, Grid


@pytest.mark.postgres
def test_api_over_postgres(postgres_store: Any, tiny_grid: Grid, tmp_path: Path) -> None:
    postgres_store.load_grid(tiny_grid)
    running = start_uvicorn(create_app(make_settings(tmp_path), store=postgres_store))
    try:
        auth = {"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{running.port}", headers=auth, timeout=120) as c:
            ids: list[str] = []
            cursor = None
            while True:
                params: dict[str, Any] = {"limit": 250, **({"cursor": cursor} if cursor else {})}
                body = c.get("/api/assets", params=params).json()
                ids += [i["asset_id"] for i in body["items"]]
                cursor = body["next_cursor"]
                if cursor is None:
                    break
            assert len(ids) == len(set(ids)) == sum(postgres_store.count_assets_by_type().values())
            assert c.get("/api/assets", params={"bbox": "1,1,0,0"}).status_code == 422
            assert c.get("/api/kpis").json()["customers"] == len(tiny_grid.customers)
            table = pa.ipc.open_stream(c.get("/api/map/assets").content).read_all()
            counts = postgres_store.count_assets_by_type()
            assert table.num_rows == sum(n for t, n in counts.items() if t in MAP_ASSET_TYPES)
            meter = tiny_grid.meters.meter_id.iloc[0]
            assert c.get(f"/api/assets/{meter}").json()["path_to_substation"][0] == meter
            key = c.post("/api/admin/keys", json={"role": "viewer", "label": "pg"})
            assert key.status_code == 201
            audit = c.get("/api/admin/audit").json()
            assert audit[0]["path"] == "/api/admin/keys" and audit[0]["status_code"] == 201
            assert c.get("/health", params={"detailed": "true"}).json()["store"]["backend"] == "postgres"
    finally:
        stop_uvicorn(running)
