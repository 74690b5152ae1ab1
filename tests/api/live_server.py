"""Helpers to run the real app under uvicorn on a free loopback port (imported by API tests and by
other domains' tests that need a live server).

`serve_grid` is the whole "own server" setup a test module needs (a DuckDB store in a fresh data
directory holding a grid, the app over it, uvicorn, then shut down and closed), so a fixture is::

    @pytest.fixture(scope="module")
    def live(tmp_path_factory, tiny_grid):
        with serve_grid(tmp_path_factory.mktemp("my-api"), tiny_grid) as server:
            yield server
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from fluxops.core.config import ServerSettings, Settings
from fluxops.grid.models import Grid

BOOTSTRAP_TOKEN = "test-bootstrap-token-0123456789abcdef"


@dataclass
class LiveServer:
    base_url: str
    app: FastAPI
    store: Any
    admin_token: str

    def client(self, token: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60.0, **kwargs)


@dataclass
class Running:
    server: uvicorn.Server
    thread: threading.Thread
    port: int


def start_uvicorn(app: FastAPI) -> Running:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", ws="none", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    return Running(server=server, thread=thread, port=port)


def stop_uvicorn(running: Running) -> None:
    running.server.should_exit = True
    running.thread.join(timeout=30)


def make_settings(data_dir: Path, **server: Any) -> Settings:
    return Settings(
        data_dir=data_dir,
        server=ServerSettings(bootstrap_token=BOOTSTRAP_TOKEN, **server),
    )


@contextmanager
def serve_app(app: FastAPI, store: Any) -> Iterator[LiveServer]:
    """``app`` under uvicorn for the ``with`` block (the caller owns ``store``)."""
    running = start_uvicorn(app)
    try:
        yield LiveServer(f"http://127.0.0.1:{running.port}", app, store, BOOTSTRAP_TOKEN)
    finally:
        stop_uvicorn(running)


@contextmanager
def serve_grid(data_dir: Path, grid: Grid, **server: Any) -> Iterator[LiveServer]:
    """A server of its own: a store in ``data_dir`` holding ``grid``, the app over it (``server``:
    `ServerSettings` fields, e.g. ``metrics_token``); stopped and the store closed afterwards."""
    from fluxops.api.app import create_app
    from fluxops.storage import open_store

    settings = make_settings(data_dir, **server)
    store = open_store(settings)
    try:
        store.load_grid(grid)
        with serve_app(create_app(settings, store=store), store) as live:
            yield live
    finally:
        store.close()
