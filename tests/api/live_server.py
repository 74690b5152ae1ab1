"""Helpers to run the real app under uvicorn on a free loopback port (imported by API tests and by
other domains' tests that need a live server)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from fluxops.core.config import ServerSettings, Settings

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
