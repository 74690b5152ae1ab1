"""``fluxops demo``'s first start (issue 8 §1): AMI history written once, ending exactly where the live
feed starts, and a run path that needs none of the dev, import or spark extras."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from fluxops.grid.models import Grid

TOKEN = "demo-first-start-token-0123456789abcdef"
NOT_IN_RUN_EXTRAS = ["httpx", "hypothesis", "playwright", "pandapower", "simbench", "numba", "pyspark"]


def _settings(data_dir: Path, days: int) -> Any:
    from fluxops.core.config import Settings

    return Settings(data_dir=data_dir, demo_backfill_days=days, demo_seed=7)


def _keys(t: pa.Table) -> pa.Table:
    return t.select(["meter_id", "interval_start_utc"]).cast(
        pa.schema(
            [("meter_id", pa.string()), ("interval_start_utc", t.schema.field("interval_start_utc").type)]
        )
    )


def _lake_files(data_dir: Path) -> list[str]:
    return sorted(str(p.relative_to(data_dir)) for p in (data_dir / "lake").rglob("*.parquet"))


def test_history_written_once_then_skipped(duckdb_store: Any, tiny_grid: Grid, tmp_path: Path) -> None:
    from fluxops.cli.cmd_serve import DEMO_HISTORY_MARKER, demo_history
    from fluxops.storage.lake import AmiLake

    duckdb_store.load_grid(tiny_grid)
    settings = _settings(tmp_path, 2)
    now = datetime(2026, 6, 15, 12, 30, tzinfo=UTC)
    live_start = demo_history(settings, duckdb_store, now=now)
    assert live_start == now - timedelta(hours=1)
    lake = AmiLake(settings.lake_dir)
    try:
        assert lake.readings.partitions() == [live_start.date() - timedelta(days=1), live_start.date()]
        today = lake.readings.read(live_start.date(), live_start.date(), columns=["interval_start_utc"])
        newest = pc.max(pc.cast(today["interval_start_utc"], pa.int64())).as_py()
        assert newest < int(live_start.timestamp() * 1e6)  # today only up to the live feed's start
    finally:
        lake.close()
    assert (settings.lake_dir / DEMO_HISTORY_MARKER).exists()
    files = _lake_files(tmp_path)
    assert demo_history(settings, duckdb_store, now=now + timedelta(days=1)) is None  # second start
    assert _lake_files(tmp_path) == files


def test_no_history_when_switched_off(duckdb_store: Any, tiny_grid: Grid, tmp_path: Path) -> None:
    from fluxops.cli.cmd_serve import demo_history

    duckdb_store.load_grid(tiny_grid)
    assert demo_history(_settings(tmp_path, 0), duckdb_store) is None
    assert _lake_files(tmp_path) == []


def test_history_and_live_feed_meet_without_gap_or_overlap(tiny_grid: Grid, tmp_path: Path) -> None:
    """History until T plus a live simulator started at T (same seed) is exactly the synthetic day as
    delivered by T + 3 h: every reading and event once."""
    from fluxops.ami.simulator import CallableSink, LiveSimulator, SimulatorParams
    from fluxops.ami.synth import AmiSynthesizer, SynthParams
    from fluxops.cli.cmd_ami import backfill
    from fluxops.storage.lake import AmiLake

    settings = _settings(tmp_path, 1)
    t = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
    end = t + timedelta(hours=3)
    backfill(settings, tiny_grid, days=1, end=t.date(), seed=7, refresh=False, until=t)
    got_r: list[pa.Table] = []
    got_e: list[pa.Table] = []
    synth = AmiSynthesizer(tiny_grid, SynthParams(seed=7))
    sim = LiveSimulator(
        synth,
        CallableSink(got_r.append, got_e.append),
        SimulatorParams(speed=100_000, start_utc=t),
        clock=lambda: end,
    )
    time.sleep(0.2)  # 0.2 s at 100,000x passes `end`; the clock caps the simulator there
    sim.tick()
    lake = AmiLake(settings.lake_dir)
    try:
        hist_r = lake.readings.read(t.date(), t.date(), columns=["meter_id", "interval_start_utc"])
        hist_e = lake.events.read(t.date(), t.date(), columns=["meter_id", "event_type", "event_time_utc"])
    finally:
        lake.close()
    assert hist_r.num_rows and got_r and got_e  # both sides hold readings; the afternoon has events

    day = synth.day(t.date())
    end_us = int(end.timestamp() * 1e6)
    due = day.readings.filter(pc.less_equal(pc.cast(day.readings["delivered_utc"], pa.int64()), end_us))
    both = pa.concat_tables([_keys(hist_r), *(_keys(x) for x in got_r)])
    assert both.num_rows == due.num_rows
    assert both.group_by(["meter_id", "interval_start_utc"]).aggregate([]).num_rows == both.num_rows
    assert both.sort_by([("meter_id", "ascending"), ("interval_start_utc", "ascending")]).equals(
        _keys(due).sort_by([("meter_id", "ascending"), ("interval_start_utc", "ascending")])
    )

    ev_due = day.events.filter(pc.less_equal(pc.cast(day.events["event_time_utc"], pa.int64()), end_us))
    ev_times = np.sort(
        np.concatenate([pc.cast(x["event_time_utc"], pa.int64()).to_numpy() for x in [hist_e, *got_e]])
    )
    assert np.array_equal(ev_times, np.sort(pc.cast(ev_due["event_time_utc"], pa.int64()).to_numpy()))


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLUXOPS_")}
    env.update(extra)
    return env


def test_run_path_needs_no_dev_extras(tiny_grid: Grid, tmp_path: Path) -> None:
    """The CLI, the app with its demo startup (live simulator, fault feed) and the simulator's in-process
    path, in a process where httpx and every package outside the run extras cannot be imported."""
    from fluxops.storage.duckdb_store import DuckDBStore

    store = DuckDBStore(tmp_path / "fluxops.duckdb")
    store.load_grid(tiny_grid)
    store.close()
    script = textwrap.dedent(
        f"""
        import asyncio, sys, time
        for name in {NOT_IN_RUN_EXTRAS!r}:
            sys.modules[name] = None  # `import name` raises ImportError
        import fluxops.cli
        from fluxops.ami.simulator import HttpSink
        from fluxops.api.app import create_app
        from fluxops.core.config import Settings
        from fluxops.core.errors import CapabilityError

        async def main():
            app = create_app(Settings(data_dir={str(tmp_path)!r}))
            app.state.demo = True
            async with app.router.lifespan_context(app):
                for _ in range(300):
                    sim = app.state.ami.simulator
                    if sim is not None and sim.readings_sent:
                        break
                    await asyncio.sleep(0.1)
                assert sim is not None and sim.readings_sent > 0, "the live feed sent nothing"

        asyncio.run(main())
        try:
            HttpSink("http://127.0.0.1:9", None)
        except CapabilityError as exc:
            print("HttpSink:", exc.message)
        print("ok")
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=_env(), timeout=300
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "Traceback" not in out and "ERROR" not in out, out
    assert "HttpSink: posting to a server needs httpx" in out and out.rstrip().endswith("ok"), out


def test_demo_backfills_on_first_start_only(tmp_path: Path) -> None:
    """`fluxops demo` twice on one data directory: the first start prints the AMI history it wrote
    before the admin URL, the second goes straight to serving."""
    import socket

    def start() -> str:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from fluxops.cli import main; main()",
                "demo",
                "--port",
                str(port),
                "--data-dir",
                str(tmp_path),
                "--no-faults",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=_env(FLUXOPS_SERVER__BOOTSTRAP_TOKEN=TOKEN, FLUXOPS_DEMO_PRESET="tiny", COLUMNS="200"),
        )
        seen = []
        try:
            assert proc.stdout is not None
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                line = proc.stdout.readline()
                if not line:
                    break
                seen.append(line)
                if "?token=" in line:
                    break
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            if proc.stdout is not None:
                proc.stdout.close()
        out = "".join(seen)
        assert f"?token={TOKEN}" in out, out
        return out

    first = start()
    assert "AMI history: 2 days" in first and "first start only" in first, first
    second = start()
    assert "AMI history" not in second and "generating" not in second, second


@pytest.mark.parametrize("days", [-1, 3661])
def test_backfill_days_setting_is_bounded(days: int) -> None:
    from pydantic import ValidationError

    from fluxops.core.config import Settings

    with pytest.raises(ValidationError):
        Settings(demo_backfill_days=days)
