"""The AMI read path (issue 8 §5): analytics answer from the last materialization with its watermark
(``X-Data-Watermark`` / ``X-Data-As-Of``); the refresher thread, woken by accepted batches, does every
refresh; a GET answers while a refresh is in progress instead of waiting for it. With several workers,
only the one owning the lake writer ingests; the others answer 503 with ``Retry-After``."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from fastapi import FastAPI
from live_server import LiveServer, make_settings, serve_grid

from fluxops.ami.synth import AmiSynthesizer, SynthParams
from fluxops.api.ami_runtime import AmiRuntime
from fluxops.core.errors import StorageError
from fluxops.grid.models import Grid

ARROW = "application/vnd.apache.arrow.stream"


@pytest.fixture
def own(tmp_path: Path, tiny_grid: Grid) -> Iterator[LiveServer]:
    with serve_grid(tmp_path, tiny_grid) as live:
        yield live


def _arrow(t: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, t.schema) as w:
        w.write_table(t)
    return bytes(sink.getvalue().to_pybytes())


def _readings(grid: Grid) -> pa.Table:
    return (
        AmiSynthesizer(grid, SynthParams(seed=3))
        .day(date(2026, 7, 1))
        .readings.drop_columns(["delivered_utc"])
    )


def test_analytics_get_answers_from_the_materialization_and_never_refreshes(
    own: LiveServer, tiny_grid: Grid, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt: AmiRuntime = own.app.state.ami
    entered, release = threading.Event(), threading.Event()
    threads: list[str] = []
    real_refresh = rt.analytics.refresh

    def held_refresh() -> Any:  # a refresh that takes as long as the test wants
        threads.append(threading.current_thread().name)
        entered.set()
        release.wait(120)
        return real_refresh()

    monkeypatch.setattr(rt.analytics, "refresh", held_refresh)
    with own.client(own.admin_token) as c:
        r = c.get("/api/ami/transformers/latest")
        assert r.status_code == 200 and r.json()["count"] == 0
        assert (r.headers["X-Data-Watermark"], r.headers["X-Data-As-Of"]) == ("0", "none")
        rep = c.post(
            "/api/ami/readings", content=_arrow(_readings(tiny_grid)), headers={"Content-Type": ARROW}
        )
        seq = rep.json()["batch_seq"]
        assert rep.status_code == 200 and seq >= 1
        assert entered.wait(60), "no refresh was started by the accepted batch"
        # the refresh is in progress (held): a GET answers now, from the previous materialization
        r = c.get("/api/ami/transformers/latest")
        assert r.status_code == 200 and r.headers["X-Data-Watermark"] == "0" and r.json()["count"] == 0
        release.set()
        deadline = time.monotonic() + 120
        while int(r.headers["X-Data-Watermark"]) < seq and time.monotonic() < deadline:
            time.sleep(0.05)
            r = c.get("/api/ami/transformers/latest")
        assert int(r.headers["X-Data-Watermark"]) >= seq
        assert r.headers["X-Data-As-Of"] != "none" and r.json()["count"] == len(tiny_grid.transformers)
        for path in ("/api/ami/feeders/load", "/api/ami/voltage/latest", "/api/ami/completeness"):
            assert c.get(path).headers["X-Data-Watermark"] == r.headers["X-Data-Watermark"], path
    assert threads and set(threads) == {"ami-refresher"}  # no request thread ever refreshed


def test_only_the_lake_owner_ingests_the_others_answer_503_retry_after(
    own: LiveServer, tiny_grid: Grid, tmp_path: Path
) -> None:
    # two worker processes' runtimes over one lake: the first to start owns the writer
    app_a, app_b = FastAPI(), FastAPI()
    for app in (app_a, app_b):
        app.state.settings = make_settings(tmp_path / "shared")
    a, b = AmiRuntime(app_a), AmiRuntime(app_b)
    try:
        assert a.claim_ownership() is True and b.claim_ownership() is False
        with pytest.raises(StorageError) as err:
            b.ingest_readings(_readings(tiny_grid))
        assert err.value.details["retry_after_s"] >= 1
    finally:
        a.stop()
        b.stop()
    # over HTTP, a non-owner worker's answer is 503 with Retry-After, and reads still work
    own.app.state.ami.owner = False
    with own.client(own.admin_token) as c:
        r = c.post("/api/ami/readings", content=_arrow(_readings(tiny_grid)), headers={"Content-Type": ARROW})
        assert r.status_code == 503 and int(r.headers["Retry-After"]) >= 1
        assert r.json()["code"] == "storage_error"
        assert c.get("/api/ami/transformers/latest").status_code == 200
