"""Fixtures for AMI tests: the tiny grid, a DuckDB store holding it, a real uvicorn server on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from fluxops.api.app import create_app
from fluxops.core.config import ServerSettings, Settings
from fluxops.grid.generator import generate_grid
from fluxops.grid.models import Grid
from fluxops.storage import open_store

TOKEN = "ami-test-token-0123456789abcdef0123"


@pytest.fixture(scope="session")
def tiny() -> Grid:
    return generate_grid("tiny", seed=0)


def settings_for(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, server=ServerSettings(bootstrap_token=TOKEN))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    app: FastAPI
    store: Any

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60.0)


@pytest.fixture
def server(tmp_path: Path, tiny: Grid) -> Iterator[Server]:
    settings = settings_for(tmp_path / "data")
    settings.data_dir.mkdir(parents=True)
    store = open_store(settings)
    store.load_grid(tiny)
    app = create_app(settings, store=store)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="none", lifespan="on"))
    th = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    th.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert th.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield Server(f"http://127.0.0.1:{port}", app, store)
    srv.should_exit = True
    th.join(timeout=30)
    store.close()
