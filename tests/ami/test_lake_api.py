"""Issue 8 §3 over HTTP on a real server: concurrent ``POST /api/ami/compact`` leave one generation; a
stored date older than the newest days is queryable; a damaged lake file is quarantined, named in
``/health?detailed=true``, and neither reads nor the next ingest fail."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from conftest import Server
from fluxops.ami.synth import AmiSynthesizer
from fluxops.api.ami_runtime import ami_runtime
from fluxops.grid.models import Grid

ARROW = "application/vnd.apache.arrow.stream"
OLD = date(2026, 1, 5)
NEW = date(2026, 1, 25)


def _arrow(t: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, t.schema) as w:
        w.write_table(t)
    return bytes(sink.getvalue().to_pybytes())


def _stored(readings: pa.Table) -> pa.Table:
    """Synthetic readings as the lake stores them (delivery time = ingestion time)."""
    return (
        readings.drop_columns(["delivered_utc"])
        .append_column("ingested_utc", readings["delivered_utc"])
        .append_column("is_correction", pa.array(np.zeros(readings.num_rows, dtype=bool)))
    )


def _fill(server: Server, tiny: Grid, days: list[date], pieces: int) -> dict[date, pa.Table]:
    """Each day's readings written in ``pieces`` batches through the server's own lake."""
    rt = ami_runtime(server.app)
    rt.service()  # dims for the grid
    out = {}
    for d in days:
        rows = AmiSynthesizer(tiny).day(d).readings
        step = -(-rows.num_rows // pieces)
        for i in range(0, rows.num_rows, step):
            rt.lake.readings.append(_stored(rows.slice(i, step)))
        out[d] = rows
    return out


def _meter_rows(c: object, meter: str, d: date) -> int:
    r = c.get("/api/ami/readings", params={"meter_id": meter, "start": str(d), "end": str(d)})  # type: ignore[attr-defined]
    assert r.status_code == 200, r.text
    return int(r.json()["count"])


def test_a_stored_date_older_than_the_newest_days_is_queryable(server: Server, tiny: Grid) -> None:
    rows = _fill(server, tiny, [OLD, *(NEW + timedelta(days=k) for k in range(3))], pieces=1)
    meter = rows[OLD]["meter_id"][0].as_py()
    with server.client() as c:
        assert _meter_rows(c, meter, OLD) == 96  # 0 before: only the newest days were read
        assert _meter_rows(c, meter, NEW) == 96


def test_concurrent_compactions_over_http_leave_one_generation(server: Server, tiny: Grid) -> None:
    rows = _fill(server, tiny, [OLD, NEW], pieces=6)
    lake = ami_runtime(server.app).lake.readings
    go = threading.Barrier(3)
    codes: list[int] = []

    def post() -> None:
        with server.client() as c:
            go.wait()
            codes.append(c.post("/api/ami/compact").status_code)

    threads = [threading.Thread(target=post) for _ in range(3)]
    for t in threads:
        t.start()
    lake.compact(min_files=2)  # the background compactor's call, beside them
    for t in threads:
        t.join()
    assert codes == [200, 200, 200]
    assert len(lake.files()) == 2
    stored = lake.read()
    key = pc.binary_join_element_wise(
        stored["meter_id"], pc.cast(pc.cast(stored["interval_start_utc"], pa.int64()), pa.string()), "|"
    )
    assert stored.num_rows == rows[OLD].num_rows + rows[NEW].num_rows == pc.count_distinct(key).as_py()


@pytest.mark.parametrize("damage", ["truncated", "missing"])
def test_damaged_file_is_quarantined_named_in_health_and_nothing_else_fails(
    server: Server, tiny: Grid, damage: str
) -> None:
    rows = _fill(server, tiny, [OLD, NEW], pieces=2)
    lake = ami_runtime(server.app).lake.readings
    bad = lake.files(OLD, OLD)[1]
    if damage == "missing":
        bad.unlink()
    else:
        with open(bad, "r+b") as fh:
            fh.truncate(bad.stat().st_size // 3)
    meter_late = rows[OLD]["meter_id"][rows[OLD].num_rows - 1].as_py()  # in the damaged second half
    meter_early = rows[OLD]["meter_id"][0].as_py()
    with server.client() as c:
        health = c.get("/health", params={"detailed": "true"}).json()  # seen before any read trips on it
        assert health["status"] == "degraded"
        assert [(d["file"], d["reason"].split(":")[0]) for d in health["lake"]["damaged"]] == [
            (bad.name, damage)
        ]
        assert _meter_rows(c, meter_early, NEW) == 96  # undamaged dates: 200
        assert _meter_rows(c, meter_early, OLD) == 96  # the damaged date: 200, with what is intact
        assert _meter_rows(c, meter_late, OLD) == 0
        health = c.get("/health", params={"detailed": "true"}).json()
        assert health["status"] == "degraded" and not health["lake"]["damaged"]
        assert [q["file"] for q in health["lake"]["quarantined"]] == [bad.name]
        # the head-end re-sends the lost half: stored again (the de-dup index forgot those keys)
        half = rows[OLD].slice(lake.rows(OLD, OLD))
        r = c.post("/api/ami/readings", content=_arrow(half), headers={"Content-Type": ARROW})
        assert r.status_code == 200, r.text
        assert r.json()["accepted"] == half.num_rows
        assert _meter_rows(c, meter_late, OLD) == 96
    assert lake.rows(OLD, OLD) == rows[OLD].num_rows
