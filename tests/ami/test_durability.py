"""Durability: sustained load on a real server process, SIGKILL, restart; every acknowledged reading is
stored exactly once, and re-sending after the crash stores nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from conftest import TOKEN, free_port, settings_for
from fluxops.ami.synth import AmiSynthesizer
from fluxops.grid.models import Grid
from fluxops.storage import open_store
from fluxops.storage.lake import AmiLake

ARROW = "application/vnd.apache.arrow.stream"
SERVER = """
import sys, uvicorn
from pathlib import Path
from fluxops.api.app import create_app
from fluxops.core.config import ServerSettings, Settings
s = Settings(data_dir=Path(sys.argv[1]), server=ServerSettings(bootstrap_token=sys.argv[3]))
uvicorn.run(create_app(s), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def _start(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(data_dir), str(port), TOKEN],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code < 500:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def _arrow(t: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, t.schema) as w:
        w.write_table(t)
    return bytes(sink.getvalue().to_pybytes())


@pytest.mark.slow
def test_sigkill_under_load_loses_no_acknowledged_reading(tmp_path: Path, tiny: Grid) -> None:
    data = tmp_path / "data"
    data.mkdir()
    store = open_store(settings_for(data))
    store.load_grid(tiny)
    store.close()
    day = (datetime.now(UTC) - timedelta(days=1)).date()
    readings = AmiSynthesizer(tiny).day(day).readings.drop_columns(["delivered_utc"])
    batches = [readings.slice(i, 250) for i in range(0, readings.num_rows, 250)]
    port = free_port()
    proc = _start(data, port)
    acked: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()

    def sender(k: int) -> None:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {TOKEN}"}
        ) as c:
            for i in range(k, len(batches), 4):
                if stop.is_set():
                    return
                try:
                    r = c.post(
                        "/api/ami/readings", content=_arrow(batches[i]), headers={"Content-Type": ARROW}
                    )
                except httpx.HTTPError:
                    return  # the server died under us: this batch is not acknowledged
                if (
                    r.status_code == 200
                    and r.json()["accepted"] + r.json()["duplicates"] == batches[i].num_rows
                ):
                    with lock:
                        acked.append(i)

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    while True:  # kill mid-stream, once a good share is acknowledged
        with lock:
            if len(acked) >= len(batches) // 3:
                break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    stop.set()
    for t in threads:
        t.join()
    assert 0 < len(acked) < len(batches)

    stored = AmiLake(data / "lake").readings.read(columns=["meter_id", "interval_start_utc"])
    key = pc.binary_join_element_wise(
        stored["meter_id"], pc.cast(pc.cast(stored["interval_start_utc"], pa.int64()), pa.string()), "|"
    )
    assert pc.count_distinct(key).as_py() == stored.num_rows  # nothing twice
    want = pa.concat_tables([batches[i] for i in acked])
    want_key = pc.binary_join_element_wise(
        pc.cast(want["meter_id"], pa.string()),
        pc.cast(pc.cast(want["interval_start_utc"], pa.int64()), pa.string()),
        "|",
    )
    assert pc.all(pc.is_in(want_key, value_set=key)).as_py()  # every acknowledged reading is there

    proc = _start(data, port)  # restart: re-sending everything stores each reading exactly once
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {TOKEN}"}
        ) as c:
            dup = 0
            for b in batches:
                rep = c.post("/api/ami/readings", content=_arrow(b), headers={"Content-Type": ARROW}).json()
                dup += rep["duplicates"]
        assert dup >= want.num_rows
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    final = AmiLake(data / "lake").readings.read(columns=["meter_id", "interval_start_utc"])
    assert final.num_rows == readings.num_rows
    fkey = pc.binary_join_element_wise(
        final["meter_id"], pc.cast(pc.cast(final["interval_start_utc"], pa.int64()), pa.string()), "|"
    )
    assert pc.count_distinct(fkey).as_py() == readings.num_rows
