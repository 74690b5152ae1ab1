"""The AMI HTTP API on a real server: NDJSON, CSV and Arrow bodies, rejection reports, idempotency,
events handed to in-process subscribers, analytics endpoints answering from the ingested data."""

from __future__ import annotations

import asyncio
import io
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pyarrow as pa
import pyarrow.csv as pacsv

from conftest import Server, settings_for
from fluxops.ami.synth import AmiSynthesizer
from fluxops.api.app import create_app
from fluxops.grid.models import Grid
from fluxops.storage import open_store

ARROW = "application/vnd.apache.arrow.stream"


def _day() -> date:
    return (datetime.now(UTC) - timedelta(days=2)).date()


def _arrow(t: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, t.schema) as w:
        w.write_table(t)
    return bytes(sink.getvalue().to_pybytes())


def test_three_formats_idempotent_and_analytics(server: Server) -> None:
    day = AmiSynthesizer(_grid(server)).day(_day())
    r = day.readings.drop_columns(["delivered_utc"])
    a, b, c = r.slice(0, 20_000), r.slice(20_000, 300), r.slice(20_300)
    with server.client() as cl:
        rep = cl.post("/api/ami/readings", content=_arrow(a), headers={"Content-Type": ARROW}).json()
        assert (rep["accepted"], rep["rejected"]) == (20_000, 0)
        rows = b.cast(
            pa.schema([f.with_type(pa.string()) if pa.types.is_dictionary(f.type) else f for f in b.schema])
        )
        nd = b"\n".join(orjson.dumps(x) for x in rows.to_pylist())
        rep = cl.post(
            "/api/ami/readings", content=nd, headers={"Content-Type": "application/x-ndjson"}
        ).json()
        assert rep["accepted"] == 300
        buf = io.BytesIO()
        pacsv.write_csv(
            c.cast(
                pa.schema(
                    [f.with_type(pa.string()) if pa.types.is_dictionary(f.type) else f for f in c.schema]
                )
            ),
            buf,
        )
        rep = cl.post(
            "/api/ami/readings", content=buf.getvalue(), headers={"Content-Type": "text/csv"}
        ).json()
        assert rep["accepted"] == c.num_rows
        again = cl.post("/api/ami/readings", content=_arrow(a), headers={"Content-Type": ARROW}).json()
        assert (again["accepted"], again["duplicates"]) == (0, 20_000)
        _wait_materialized(cl, rep["batch_seq"])  # analytics answer from the refresher's materialization
        th = cl.get(
            "/api/ami/transformers/load", params={"date": _day().isoformat(), "limit": 100_000}
        ).json()
        assert "rows" in th, th
        assert sum(x["readings"] for x in th["rows"]) == r.num_rows
        for path in (
            "/api/ami/feeders/summary",
            "/api/ami/substations/summary",
            "/api/ami/voltage/meters",
            "/api/ami/voltage/transformers",
            "/api/ami/consumption/classes",
            "/api/ami/completeness",
            "/api/ami/transformers/latest",
            "/api/ami/transformers/thermal",
            "/api/ami/feeders/load",
        ):
            resp = cl.get(path)
            assert resp.status_code == 200, (path, resp.text)
            assert resp.json()["count"] > 0, path
        for name in cl.get("/api/ami/checks").json()["checks"]:
            assert cl.get(f"/api/ami/checks/{name}").status_code == 200, name
        arrow = cl.get("/api/ami/completeness", headers={"Accept": ARROW})
        assert pa.ipc.open_stream(arrow.content).read_all().num_rows == 1


def _wait_materialized(cl: httpx.Client, seq: int) -> None:
    """Until the background refresher has materialized batch ``seq`` (GETs never refresh themselves)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        r = cl.get("/api/ami/completeness")
        if int(r.headers["X-Data-Watermark"]) >= seq:
            return
        time.sleep(0.05)
    raise AssertionError(f"batch {seq} never materialized")


def _grid(server: Server):  # type: ignore[no-untyped-def]
    return server.store.read_grid()


def test_bad_bodies_are_4xx_naming_the_field(server: Server) -> None:
    with server.client() as cl:
        r = cl.post("/api/ami/readings", content=b"hello", headers={"Content-Type": "text/plain"})
        assert r.status_code == 422 and r.json()["details"]["field"] == "content-type"
        r = cl.post(
            "/api/ami/readings", content=b"{not json", headers={"Content-Type": "application/x-ndjson"}
        )
        assert r.status_code == 422 and r.json()["details"]["field"] == "body"
        r = cl.post(
            "/api/ami/readings",
            content=b'{"meter_id": "x"}',
            headers={"Content-Type": "application/x-ndjson"},
        )
        assert r.status_code == 422 and r.json()["details"]["field"] == "interval_start_utc"
        bad = b'{"meter_id": "nope", "interval_start_utc": "2020-01-01T00:00:00Z", "kwh_delivered": "abc"}\n'
        rep = cl.post(
            "/api/ami/readings", content=bad, headers={"Content-Type": "application/x-ndjson"}
        ).json()
        assert (
            rep["rejected"] == 1 and rep["rejections"][0]["reason"] == "missing or non-numeric kwh_delivered"
        )


def test_events_reach_subscribers_after_durable_write(server: Server) -> None:
    got: list[pa.Table] = []
    server.app.state.ami_ingest.subscribe(got.append)
    meter = server.store.read_grid().meters["meter_id"].iloc[3]
    when = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    body = orjson.dumps({"meter_id": meter, "event_type": "last_gasp", "event_time_utc": when})
    with server.client() as cl:
        rep = cl.post(
            "/api/ami/events", content=body, headers={"Content-Type": "application/x-ndjson"}
        ).json()
        assert rep["accepted"] == 1
        assert (
            cl.post("/api/ami/events", content=body, headers={"Content-Type": "application/x-ndjson"}).json()[
                "duplicates"
            ]
            == 1
        )
        listed = cl.get("/api/ami/events", params={"meter_id": meter}).json()
    assert len(got) == 1 and got[0]["meter_id"].to_pylist() == [meter]
    assert got[0]["feeder_id"][0].as_py() != ""
    assert listed["count"] == 1 and listed["rows"][0]["event_type"] == "last_gasp"


def test_demo_mode_runs_the_live_simulator_in_process(tmp_path: Path, tiny: Grid) -> None:
    settings = settings_for(tmp_path / "data")
    settings.data_dir.mkdir(parents=True)
    store = open_store(settings)
    store.load_grid(tiny)
    app = create_app(settings, store=store)
    app.state.demo = True

    async def run() -> None:
        async with app.router.lifespan_context(app):
            assert app.state.ami_simulator is app.state.ami
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not app.state.ami.lake.readings.files():
                await asyncio.sleep(0.2)
            assert app.state.ami.lake.readings.files(), "no live readings arrived"

    try:
        asyncio.run(run())
    finally:
        store.close()


def test_analytics_before_any_reading_are_empty_not_errors(server: Server) -> None:
    """A fresh utility has no readings: every analytics read answers 200 with no rows (a 404 would tell
    the UI the endpoint is missing, and a 500 would be a bug)."""
    paths = [
        "/api/ami/events",
        "/api/ami/transformers/load",
        "/api/ami/transformers/latest",
        "/api/ami/transformers/thermal",
        "/api/ami/feeders/load",
        "/api/ami/feeders/summary",
        "/api/ami/substations/load",
        "/api/ami/substations/summary",
        "/api/ami/voltage/meters",
        "/api/ami/voltage/transformers",
        "/api/ami/voltage/latest",
        "/api/ami/consumption/classes",
        "/api/ami/completeness",
    ]
    with server.client() as c:
        for path in paths:
            r = c.get(path)
            assert r.status_code == 200, (path, r.status_code, r.text[:200])
            assert r.json()["count"] == 0, path
