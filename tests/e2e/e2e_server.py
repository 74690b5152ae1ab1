"""The real app under uvicorn on a free loopback port, for the browser tests and the UI benchmark:
a DuckDB store in a temp dir holding a generated grid, a fixed bootstrap token, the built UI at `/`."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import uvicorn

from fluxops.api.app import create_app
from fluxops.core.config import ServerSettings, Settings

E2E_TOKEN = "e2e-bootstrap-token-0123456789abcdef"
WEB_INDEX = Path(__file__).resolve().parents[2] / "src" / "fluxops" / "web" / "index.html"


@dataclass
class UiServer:
    base_url: str
    token: str
    store: Any
    app: Any
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def ui_url(self) -> str:
        return f"{self.base_url}/?token={self.token}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def start_ui_server(data_dir: Path, grid: Any) -> UiServer:
    """Load ``grid`` into a fresh DuckDB store under ``data_dir`` and serve the app on 127.0.0.1."""
    from fluxops.storage import open_store

    settings = Settings(data_dir=data_dir, server=ServerSettings(bootstrap_token=E2E_TOKEN))
    store = open_store(settings)
    store.load_grid(grid)
    app = create_app(settings, store=store)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="none", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    return UiServer(f"http://127.0.0.1:{port}", E2E_TOKEN, store, app, server, thread)


def inject_last_gasps(server: UiServer, meter_ids: list[str], at: datetime) -> None:
    """Hand last-gasp events to the outage engine as the AMI ingestion does after its durable write
    (the ops runtime's subscriber, `app.state.ops.submit`)."""
    table = pa.table(
        {
            "meter_id": meter_ids,
            "event_type": ["last_gasp"] * len(meter_ids),
            "event_time_utc": pa.array([at] * len(meter_ids), pa.timestamp("us", tz="UTC")),
        }
    )
    server.app.state.ops.submit(table)


# Debian's Chromium, headless; flags from reference/offline-stack.md §6 (root needs --no-sandbox).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Waits until the payload is decoded and deck.gl has drawn at least one frame with the layers.
READY_JS = "() => !!(window.__fluxops && window.__fluxops.renders > 0)"

# Counts pixels that differ from the basemap background in a PNG screenshot, decoded by the browser.
NON_BLANK_JS = """async (b64) => {
  const img = new Image();
  img.src = 'data:image/png;base64,' + b64;
  await img.decode();
  const c = document.createElement('canvas');
  c.width = img.width; c.height = img.height;
  const g = c.getContext('2d');
  g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  const colours = new Set();
  let lit = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i] + d[i + 1] + d[i + 2] > 120) lit++;
    if (colours.size < 5000) colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
  }
  return { lit, colours: colours.size, total: d.length / 4 };
}"""
