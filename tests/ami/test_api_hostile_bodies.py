"""Hostile bodies against real servers (issue 8 §2, §3): the 40 KB nested-bracket NDJSON that
segfaulted the whole server in the Arrow JSON reader is a 422 and the server lives on (a separate
server process, so a crash shows as a dead process); a reading stamped 0001-01-01 is rejected with its
reason and AMI analytics keep answering."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from conftest import TOKEN, Server, free_port, settings_for
from fluxops.grid.models import Grid
from fluxops.storage import open_store

SERVER = """
import sys, uvicorn
from pathlib import Path
from fluxops.api.app import create_app
from fluxops.core.config import ServerSettings, Settings
s = Settings(data_dir=Path(sys.argv[1]), server=ServerSettings(bootstrap_token=sys.argv[3]))
uvicorn.run(create_app(s), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""
NDJSON = {"Content-Type": "application/x-ndjson"}


def _serve(data: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(data), str(port), TOKEN],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "server exited during start"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def test_nested_bracket_body_is_422_and_the_server_lives(tmp_path: Path, tiny: Grid) -> None:
    data = tmp_path / "data"
    data.mkdir()
    store = open_store(settings_for(data))
    store.load_grid(tiny)
    store.close()
    port = free_port()
    proc = _serve(data, port)
    n = 20_000
    body = b'{"meter_id": ' + b"[" * n + b"]" * n + b"}\n"  # 40 KB
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
        ) as c:
            for path in ("/api/ami/readings", "/api/ami/events", "/api/ami/readings/corrections"):
                r = c.post(path, content=body, headers=NDJSON)
                assert r.status_code == 422, r.text
                assert r.json()["details"]["field"] == "body" and r.json()["details"]["line"] == 1
            assert c.get("/health").status_code == 200
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_year_one_reading_is_rejected_and_analytics_keep_answering(server: Server) -> None:
    meter = server.store.read_grid().meters["meter_id"].iloc[0]
    csv = (
        "meter_id,interval_start_utc,kwh_delivered\n"
        f"{meter},0001-01-01T00:00:00Z,0.5\n"
        f"{meter},2026-03-01T00:15:00Z,0.5\n"
    ).encode()
    event = f'{{"meter_id": "{meter}", "event_type": "tamper", "event_time_utc": "0001-01-01T00:00:00Z"}}\n'
    with server.client() as c:
        rep = c.post("/api/ami/readings", content=csv, headers={"Content-Type": "text/csv"}).json()
        assert rep["accepted"] == 1 and rep["rejected"] == 1
        reason = "interval_start_utc before 2000-01-01T00:00:00Z (outside the accepted window)"
        assert rep["rejections"] == [{"row": 0, "meter_id": meter, "reason": reason}]
        ev = c.post("/api/ami/events", content=event.encode(), headers=NDJSON).json()
        assert ev["accepted"] == 0 and ev["rejected_by_reason"] == {
            "event_time_utc before 2000-01-01T00:00:00Z (outside the accepted window)": 1
        }
        assert c.post("/api/ami/refresh").status_code == 200
        for path in ("/api/ami/completeness", "/api/ami/feeders/summary", "/api/ami/transformers/thermal"):
            assert c.get(path).status_code == 200, path
