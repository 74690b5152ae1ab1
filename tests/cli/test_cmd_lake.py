"""``fluxops lake check|repair|clear-quarantine`` as a user runs them: a real subprocess over a real lake."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from fluxops.storage.lake import AmiLake


def _fluxops(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLUXOPS_")}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-c", "from fluxops.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _batch(k: int) -> pa.Table:
    t0 = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1_000_000)
    us = pa.timestamp("us", tz="UTC")
    return pa.table(
        {
            "meter_id": [f"MTR-{k:04d}"] * 96,
            "interval_start_utc": pa.array(t0 + 900_000_000 * np.arange(96)).cast(us),
            "kwh_delivered": np.full(96, 0.4),
            "kwh_received": np.zeros(96),
            "voltage_v": np.full(96, 120.0),
            "quality": ["valid"] * 96,
            "ingested_utc": pa.array(np.full(96, t0)).cast(us),
            "is_correction": np.zeros(96, dtype=bool),
        }
    )


def test_check_reports_repair_refuses_beside_a_writer_then_rebuilds(tmp_path: Path) -> None:
    data = tmp_path / "data"
    lake = AmiLake(data / "lake")
    for k in range(3):
        lake.append_readings(_batch(k))
    bad = lake.readings.files()[1]
    with open(bad, "r+b") as fh:
        fh.truncate(100)
    dd = ("--data-dir", str(data))

    chk = _fluxops("lake", "check", *dd)
    assert chk.returncode == 1, chk.stdout + chk.stderr
    assert bad.name in chk.stdout and "truncated" in chk.stdout

    busy = _fluxops("lake", "repair", *dd)  # this test process still holds the writer lock
    assert busy.returncode == 2 and "Traceback" not in busy.stderr
    assert [ln for ln in busy.stderr.splitlines() if ln.strip()] == [busy.stderr.strip()]
    assert "another process" in busy.stderr

    lake.close()
    rep = _fluxops("lake", "repair", *dd)
    assert rep.returncode == 0, rep.stdout + rep.stderr
    assert "after: 1 partitions, 2 live files, 192 rows" in rep.stdout
    assert _fluxops("lake", "check", *dd).returncode == 1  # still quarantined: health stays degraded
    assert "cleared 1" in _fluxops("lake", "clear-quarantine", *dd).stdout
    ok = _fluxops("lake", "check", *dd)
    assert ok.returncode == 0 and "ok" in ok.stdout
