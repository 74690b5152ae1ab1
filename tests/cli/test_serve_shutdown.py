"""``fluxops serve`` as a real process: JSON logs with request ids (uvicorn's access log included), and a
SIGTERM that ends the live stream, cancels the running cascade job naming it, and exits within 10 s."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from fluxops.core.config import Settings
from fluxops.grid.models import Grid
from fluxops.storage import open_store

TOKEN = "shutdown-test-token-0123456789abcdef"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_until(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except httpx.TransportError:
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _read_stream(base: str, seen: list[str]) -> None:
    """A browser's EventSource: reads ``/api/stream`` until the server ends it."""
    with httpx.stream("GET", f"{base}/api/stream", params={"access_token": TOKEN}, timeout=60) as r:
        for line in r.iter_lines():
            if line.startswith("event: "):
                seen.append(line[7:])


def test_sigterm_ends_streams_cancels_jobs_and_exits_within_10_s(tmp_path: Path, tiny_grid: Grid) -> None:
    store = open_store(Settings(data_dir=tmp_path))
    store.load_grid(tiny_grid)
    store.close()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "FLUXOPS_DATA_DIR": str(tmp_path),
        "FLUXOPS_SERVER__PORT": str(port),
        "FLUXOPS_SERVER__BOOTSTRAP_TOKEN": TOKEN,
        "FLUXOPS_LOG__FORMAT": "json",
    }
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from fluxops.cli import main; main()", "serve"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    try:
        _wait_until(lambda: httpx.get(f"{base}/health", timeout=2).status_code == 200, 120, "the server")
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
            assert c.get("/api/jobs/nope", headers={"X-Request-ID": "shutdown-test-1"}).status_code == 404
            seen: list[str] = []
            reader = threading.Thread(target=_read_stream, args=(base, seen), daemon=True)
            reader.start()
            _wait_until(lambda: "hello" in seen, 30, "the stream's hello")
            segment = str(tiny_grid.line_segments["segment_id"].iloc[0])
            body = {"patient_zero": segment, "montecarlo": {"runs": 100_000, "seed": 1}}
            r = c.post("/api/cascade/montecarlo", json=body)
            assert r.status_code == 202, r.text
            job_id = r.json()["job"]["job_id"]
            _wait_until(lambda: c.get(f"/api/jobs/{job_id}").json()["state"] == "running", 60, "the job")
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        elapsed = time.monotonic() - started
        reader.join(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log_path.read_text()
    assert elapsed < 10, f"exit took {elapsed:.1f} s\n{text}"
    assert proc.returncode in (0, -signal.SIGTERM), text
    assert not reader.is_alive() and seen[-1] == "resync", seen  # the stream ended, telling it to reconnect
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # every line is JSON
    access = [x for x in lines if x["logger"] == "uvicorn.access" and x["request_id"] == "shutdown-test-1"]
    assert [(x["path"], x["status"]) for x in access] == [("/api/jobs/nope", 404)]
    cancelled = [x["message"] for x in lines if job_id in x["message"] and "cancel" in x["message"]]
    assert cancelled and "montecarlo" in cancelled[0], text
