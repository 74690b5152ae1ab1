"""A real server for API tests: uvicorn on a free loopback port, a DuckDB file in a temp dir
holding the ``tiny`` grid, and httpx clients. No mocks of our own store or server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from live_server import BOOTSTRAP_TOKEN, LiveServer, make_settings, start_uvicorn, stop_uvicorn

from fluxops.api.app import create_app
from fluxops.grid.models import Grid
from fluxops.storage import open_store


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory: pytest.TempPathFactory, tiny_grid: Grid) -> Iterator[Any]:
    data_dir = tmp_path_factory.mktemp("api-store")
    store = open_store(make_settings(data_dir))
    store.load_grid(tiny_grid)
    yield store
    store.close()


@pytest.fixture(scope="session")
def live(tiny_store: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = make_settings(tmp_path_factory.mktemp("api-settings"))
    app = create_app(settings, store=tiny_store)
    running = start_uvicorn(app)
    yield LiveServer(
        base_url=f"http://127.0.0.1:{running.port}", app=app, store=tiny_store, admin_token=BOOTSTRAP_TOKEN
    )
    stop_uvicorn(running)


@pytest.fixture(scope="session")
def role_tokens(live: LiveServer) -> dict[str, str]:
    """One real API key per role, created through the admin API."""
    tokens: dict[str, str] = {}
    with live.client(live.admin_token) as c:
        for role in ("viewer", "operator", "admin"):
            r = c.post("/api/admin/keys", json={"role": role, "label": f"test {role}"})
            assert r.status_code == 201, r.text
            tokens[role] = r.json()["token"]
    return tokens


@pytest.fixture
def viewer(live: LiveServer, role_tokens: dict[str, str]) -> Iterator[httpx.Client]:
    with live.client(role_tokens["viewer"]) as c:
        yield c


@pytest.fixture
def admin(live: LiveServer) -> Iterator[httpx.Client]:
    with live.client(live.admin_token) as c:
        yield c
