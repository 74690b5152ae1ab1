"""``fluxops outages list`` and ``fluxops reliability`` as a user runs them (subprocess, DuckDB file)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ops_feeders import build_feeders, meters_of

from fluxops.core.config import Settings
from fluxops.ops.models import MeterEvent
from fluxops.ops.service import OpsService
from fluxops.storage import open_store
from fluxops.storage.ops_store import OpsTableStore


def fluxops(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLUXOPS_")}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-c", "from fluxops.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.slow  # three interpreter start-ups: ~20 s on the shared 2-core machine
def test_cli_lists_outages_and_reliability(tmp_path: Path) -> None:
    store = open_store(Settings(data_dir=tmp_path))
    grid = build_feeders()
    store.load_grid(grid)
    svc = OpsService(OpsTableStore(store), grid)
    t0 = datetime.now(UTC) - timedelta(hours=3)
    svc.process_events([MeterEvent(m, "last_gasp", t0) for m in meters_of("T3", "T4")])
    svc.process_events([MeterEvent("M3-0", "power_restore", t0 + timedelta(minutes=50))])
    store.close()
    d = str(tmp_path)
    r = fluxops("outages", "list", "--data-dir", d)
    assert r.returncode == 0, r.stderr
    assert "OUT-000001" in r.stdout and "FUS1" in r.stdout and "restored" in r.stdout
    r = fluxops("reliability", "--level", "feeder", "--data-dir", d)
    assert r.returncode == 0, r.stderr
    # F1 serves 24 customers; 8 out for 50 min: SAIFI 0.3333, SAIDI 16.67 min
    assert "0.3333" in r.stdout and "16.67" in r.stdout and "50.0" in r.stdout
    r = fluxops("outages", "replay", "--data-dir", d)  # no AMI events stored: nothing to rebuild
    assert r.returncode == 0 and "replayed 0" in r.stdout, r.stderr
    r = fluxops("outages", "list", "--status", "sleeping", "--data-dir", d)
    assert r.returncode == 2 and "unknown status" in r.stderr and "Traceback" not in r.stderr
