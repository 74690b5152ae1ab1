"""``fluxops serve --workers N`` (issue 8 §5): refused in one line on DuckDB (an embedded single-writer
file); on PostgreSQL N worker processes share one socket and one bootstrap token, and exactly one of them
owns the AMI lake writer: ingestion reaching another worker is answered 503 with ``Retry-After``."""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from fluxops.grid.models import Grid

TOKEN = "cli-workers-token-0123456789abcdef0123"
PG_DSN = os.environ.get("FLUXOPS_TEST_POSTGRES_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLUXOPS_")}
    env.update(extra)
    return env


def _cmd(*args: str) -> list[str]:
    return [sys.executable, "-c", "from fluxops.cli import main; main()", *args]


def test_workers_on_duckdb_is_refused_in_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        _cmd("serve", "--workers", "2", "--data-dir", str(tmp_path)),
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [x for x in proc.stderr.strip().splitlines() if x.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    assert "--workers 2 needs the PostgreSQL store" in lines[0] and "single-writer" in lines[0]
    assert not (tmp_path / "fluxops.duckdb").exists()  # refused before opening anything


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.postgres
def test_workers_on_postgres_one_lake_owner(postgres_store: Any, tiny_grid: Grid, tmp_path: Path) -> None:
    postgres_store.load_grid(tiny_grid)
    port = _free_port()
    env = _env(
        FLUXOPS_STORE__BACKEND="postgres",
        FLUXOPS_STORE__POSTGRES_DSN=PG_DSN,
        FLUXOPS_STORE__POSTGRES_SCHEMA=postgres_store.schema,
        FLUXOPS_SERVER__BOOTSTRAP_TOKEN=TOKEN,
    )
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            _cmd("serve", "--workers", "2", "--port", str(port), "--data-dir", str(tmp_path)),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{base}/api/kpis", headers=headers, timeout=10).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        # one worker holds the ownership lock, so this process cannot take it
        lock = tmp_path / "lake" / ".ingest-owner.lock"
        deadline = time.monotonic() + 120
        while not lock.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        fd = os.open(lock, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
        meter = str(tiny_grid.meters["meter_id"].iloc[0])
        body = (
            f'{{"meter_id": "{meter}", "interval_start_utc": "2026-07-01T00:00:00Z", "kwh_delivered": 0.3}}'
        )
        answers: list[int] = []
        for _ in range(200):  # a new connection each time: the kernel spreads them over the workers
            r = httpx.post(
                f"{base}/api/ami/readings",
                content=body,
                headers={**headers, "Content-Type": "application/x-ndjson"},
                timeout=60,
            )
            answers.append(r.status_code)
            if r.status_code == 503:
                assert int(r.headers["Retry-After"]) >= 1
            if r.status_code == 200:
                break
        assert answers[-1] == 200 and set(answers) <= {200, 503}, answers
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_worker_apps_elect_one_lake_owner(
    tmp_path: Path, tiny_grid: Grid, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker factory, two workers' startups over one data dir (in one process here, on DuckDB, which
    the factory itself does not check): the first owns the lake writer, the second serves reads only."""
    import asyncio

    from fluxops.cli.cmd_serve import DEFAULT_WORKER_THREADS, worker_app
    from fluxops.core.config import get_settings
    from fluxops.storage import open_store

    for k in [k for k in os.environ if k.startswith("FLUXOPS_")]:
        monkeypatch.delenv(k)
    monkeypatch.setenv("FLUXOPS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FLUXOPS_SERVER__BOOTSTRAP_TOKEN", TOKEN)
    get_settings.cache_clear()
    store = open_store(get_settings())
    store.load_grid(tiny_grid)
    store.close()
    a, b = worker_app(), worker_app()

    async def both() -> tuple[bool, bool, float]:
        import anyio.to_thread

        async with a.router.lifespan_context(a), b.router.lifespan_context(b):
            threads = anyio.to_thread.current_default_thread_limiter().total_tokens
            return a.state.ami.owner, b.state.ami.owner, threads

    try:  # request threads capped per worker (each holds a PostgreSQL connection)
        assert asyncio.run(both()) == (True, False, DEFAULT_WORKER_THREADS)
        assert a.state.multi_worker and not a.state.demo
    finally:
        get_settings.cache_clear()
