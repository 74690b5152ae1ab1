# ruff: noqa: E501  (markdown table rows)
"""AMI throughput: backfill (generate + durable lake write), aggregation into transformer-hour loads,
HTTP ingestion (Arrow IPC and NDJSON) into a real server process, MQTT ingestion through Mosquitto,
against the seed's approach (string-built multi-row ``INSERT … VALUES`` of 500 rows, its "streaming"
path that topped out near 5,000 rows/s; reference/ami-generator-inventory.md §2.3) in the same run.

Aims (issue 3 §6): bulk ≥ 1 M readings/s, HTTP Arrow ≥ 300 K readings/s.
Run: ``.venv/bin/python benchmarks/bench_ami.py [--preset demo] [--houston]``. Writes docs/benchmarks/ami.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import orjson
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "benchmarks" / "ami.md"
TOKEN = "bench-token-0123456789abcdef012345"
ARROW = "application/vnd.apache.arrow.stream"
SERVER = """
import sys, uvicorn
from pathlib import Path
from fluxops.api.app import create_app
from fluxops.core.config import ServerSettings, Settings
s = Settings(data_dir=Path(sys.argv[1]), server=ServerSettings(bootstrap_token=sys.argv[3]))
uvicorn.run(create_app(s), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _arrow(t: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, t.schema) as w:
        w.write_table(t)
    return bytes(sink.getvalue().to_pybytes())


def bench_backfill(grid: Any, day: date, lake_dir: Path) -> tuple[dict[str, float], Any]:
    from fluxops.ami.synth import AmiSynthesizer
    from fluxops.cli.cmd_ami import _lake_rows
    from fluxops.storage.lake import AmiLake

    t0 = time.perf_counter()
    synth = AmiSynthesizer(grid)
    t1 = time.perf_counter()
    gen = synth.day(day)
    t2 = time.perf_counter()
    lake = AmiLake(lake_dir)
    lake.readings.append(_lake_rows(gen.readings), bulk=True)
    lake.events.append(gen.events.append_column("ingested_utc", gen.events["event_time_utc"]))
    t3 = time.perf_counter()
    n = gen.readings.num_rows
    lake.close()
    return {
        "meters": float(synth.n),
        "readings": float(n),
        "events": float(gen.events.num_rows),
        "setup_s": t1 - t0,
        "generate_s": t2 - t1,
        "write_s": t3 - t2,
        "rate_generate": n / (t2 - t1),
        "rate_write": n / (t3 - t2),
        "rate_total": n / (t3 - t1),
    }, gen


def bench_aggregate(grid: Any, lake_dir: Path) -> dict[str, float]:
    from fluxops.storage.ami_analytics import _DERIVED_SQL, AmiAnalytics
    from fluxops.storage.lake import AmiLake

    a = AmiAnalytics(AmiLake(lake_dir))
    a.write_dims(grid)
    day = a.lake.readings.partitions()[-1]
    cur = a._session(a.lake.readings.files(day, day), materialize_dims=True)
    t0 = time.perf_counter()
    th = cur.execute(_DERIVED_SQL["transformer_hour"], {"day": day}).arrow()
    th = th.read_all() if isinstance(th, pa.RecordBatchReader) else th
    t1 = time.perf_counter()
    cur.close()
    rep = a.refresh()
    n = a.lake.readings.read(columns=["batch_seq"]).num_rows
    return {
        "rows": float(n),
        "transformer_hours": float(th.num_rows),
        "transformer_hour_s": t1 - t0,
        "rate": n / (t1 - t0),
        "refresh_all_s": rep.seconds,
    }


def bench_seed_insert(rows: pa.Table) -> dict[str, float]:
    """The seed's path, locally: f-string ``INSERT … VALUES (…),(…)`` of 500 rows per statement."""
    con = duckdb.connect()
    con.execute("CREATE TABLE r (meter_id VARCHAR, ts TIMESTAMPTZ, kwh DOUBLE, v DOUBLE)")
    recs = rows.select(["meter_id", "interval_start_utc", "kwh_delivered", "voltage_v"]).to_pylist()
    t0 = time.perf_counter()
    for i in range(0, len(recs), 500):
        vals = ",".join(
            f"('{r['meter_id']}', '{r['interval_start_utc'].isoformat()}', {r['kwh_delivered']}, "
            f"{r['voltage_v'] if r['voltage_v'] is not None else 'NULL'})"
            for r in recs[i : i + 500]
        )
        con.execute(f"INSERT INTO r VALUES {vals}")
    dt = time.perf_counter() - t0
    return {"rows": float(len(recs)), "s": dt, "rate": len(recs) / dt}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(data), str(port), TOKEN], stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code < 500:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def bench_http(
    grid: Any, readings: pa.Table, tmp: Path, *, arrow_rows: int, ndjson_rows: int
) -> dict[str, float]:
    from fluxops.core.config import ServerSettings, Settings
    from fluxops.storage import open_store

    data = tmp / "http"
    data.mkdir()
    store = open_store(Settings(data_dir=data, server=ServerSettings(bootstrap_token=TOKEN)))
    store.load_grid(grid)
    store.close()
    proc, url = _server(data)
    out: dict[str, float] = {}
    try:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=url, headers=headers, timeout=300) as c:  # warm-up: registry, seen index
            c.post(
                "/api/ami/readings", content=_arrow(readings.slice(0, 1000)), headers={"Content-Type": ARROW}
            )
        arrow_part = readings.slice(1000, arrow_rows)
        bodies = [_arrow(arrow_part.slice(i, 50_000)) for i in range(0, arrow_part.num_rows, 50_000)]
        accepted = [0]
        lock = threading.Lock()

        def send(k: int) -> None:
            with httpx.Client(base_url=url, headers=headers, timeout=300) as c:
                for b in bodies[k::2]:
                    r = c.post("/api/ami/readings", content=b, headers={"Content-Type": ARROW}).json()
                    with lock:
                        accepted[0] += r["accepted"]

        t0 = time.perf_counter()
        ths = [threading.Thread(target=send, args=(k,)) for k in range(2)]
        for t in ths:
            t.start()
        for t in ths:
            t.join()
        dt = time.perf_counter() - t0
        out.update(arrow_rows=float(accepted[0]), arrow_s=dt, arrow_rate=accepted[0] / dt)
        nd_part = readings.slice(1000 + arrow_rows, ndjson_rows)
        plain = nd_part.cast(
            pa.schema(
                [f.with_type(pa.string()) if pa.types.is_dictionary(f.type) else f for f in nd_part.schema]
            )
        )
        nd_bodies = []
        for i in range(0, plain.num_rows, 10_000):
            nd_bodies.append(b"\n".join(orjson.dumps(r) for r in plain.slice(i, 10_000).to_pylist()))
        t0 = time.perf_counter()
        n_nd = 0
        with httpx.Client(base_url=url, headers=headers, timeout=300) as c:
            for b in nd_bodies:
                r = c.post(
                    "/api/ami/readings", content=b, headers={"Content-Type": "application/x-ndjson"}
                ).json()
                n_nd += r["accepted"]
        dt = time.perf_counter() - t0
        out.update(ndjson_rows=float(n_nd), ndjson_s=dt, ndjson_rate=n_nd / dt)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    return out


def bench_mqtt(grid: Any, readings: pa.Table, tmp: Path, *, rows: int) -> dict[str, float]:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from fluxops.ami.ingest import IngestService
    from fluxops.ami.mqtt import MqttIngest
    from fluxops.ami.validation import MeterRegistry
    from fluxops.storage.deadletter import DeadLetterDir
    from fluxops.storage.lake import AmiLake

    lake = AmiLake(tmp / "mqtt-lake")
    me = grid.meters
    svc = IngestService(
        MeterRegistry(me["meter_id"], me["transformer_id"], me["feeder_id"], me["substation_id"]), lake, lake
    )
    prefix = f"fluxops-bench/{uuid.uuid4().hex[:8]}"
    sub = MqttIngest(
        svc,
        broker="127.0.0.1:1883",
        topic=f"{prefix}/#",
        client_id=f"bench-{uuid.uuid4().hex[:8]}",
        dead_letters=DeadLetterDir(tmp / "mqtt-deadletter"),
    )
    sub.start()
    sub.connected.wait(10)
    part = readings.slice(0, rows)
    msgs = [_arrow(part.slice(i, 20_000)) for i in range(0, part.num_rows, 20_000)]
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    pub.connect("127.0.0.1", 1883)
    pub.loop_start()
    t0 = time.perf_counter()
    for m in msgs:
        pub.publish(f"{prefix}/readings", m, qos=1)
    while sub.stats.messages < len(msgs):
        time.sleep(0.01)
    dt = time.perf_counter() - t0
    pub.loop_stop()
    pub.disconnect()
    sub.stop()
    lake.close()
    return {"rows": float(sub.stats.readings_accepted), "s": dt, "rate": sub.stats.readings_accepted / dt}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="demo")
    ap.add_argument("--houston", action="store_true", help="also backfill + aggregate one houston day")
    ap.add_argument(
        "--houston-only", action="store_true", help="only houston; appends to the existing section"
    )
    args = ap.parse_args()
    if args.houston_only:
        houston_only()
        return
    from fluxops.grid.generator import generate_grid

    day = (datetime.now(UTC) - timedelta(days=2)).date()
    summer = date(2025, 8, 5)
    tmp = Path(tempfile.mkdtemp(prefix="bench-ami-"))
    grid = generate_grid(args.preset, seed=0)
    res: dict[str, Any] = {}
    res["backfill"], gen = bench_backfill(grid, summer, tmp / "lake")
    res["aggregate"] = bench_aggregate(grid, tmp / "lake")
    res["seed_insert"] = bench_seed_insert(gen.readings.slice(0, 20_000))
    live = bench_backfill(grid, day, tmp / "lake-live")[1].readings.drop_columns(["delivered_utc"])
    live = live.cast(
        pa.schema([f.with_type(pa.string()) if pa.types.is_dictionary(f.type) else f for f in live.schema])
    )
    del gen
    res["http"] = bench_http(grid, live, tmp, arrow_rows=2_000_000, ndjson_rows=200_000)
    res["mqtt"] = bench_mqtt(grid, live, tmp, rows=1_000_000)
    del live
    if args.houston:
        hg = generate_grid("houston", seed=0)
        res["houston_backfill"], _ = bench_backfill(hg, summer, tmp / "lake-houston")
        res["houston_aggregate"] = bench_aggregate(hg, tmp / "lake-houston")
    res["peak_rss_gb"] = _rss_gb()
    write_md(res, args.preset)
    print(orjson.dumps(res, option=orjson.OPT_INDENT_2).decode())


def houston_only() -> None:
    """One houston day: backfill (generate + durable write) and transformer-hour aggregation; the figures
    replace the extrapolation line of the existing section."""
    from fluxops.grid.generator import generate_grid

    tmp = Path(tempfile.mkdtemp(prefix="bench-ami-houston-"))
    t0 = time.perf_counter()
    hg = generate_grid("houston", seed=0)
    t_grid = time.perf_counter() - t0
    hb, _ = bench_backfill(hg, date(2025, 8, 5), tmp / "lake")
    ha = bench_aggregate(hg, tmp / "lake")
    load = os.getloadavg()[0]
    text = OUT.read_text()
    keep = [
        ln
        for ln in text.splitlines()
        if not ln.startswith("Houston (~57.5 M") and not ln.startswith("| houston")
    ]
    block = [
        "",
        f"Houston, measured ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {load:.1f}; grid generated in "
        f"{t_grid:.0f} s; {int(hb['meters']):,} meters; peak RSS {_rss_gb():.1f} GiB):",
        "",
        "| what | rows | seconds | rows/s |",
        "|---|---:|---:|---:|",
        f"| houston backfill: generate | {hb['readings']:,.0f} | {hb['generate_s']:.1f} | {hb['rate_generate']:,.0f} |",
        f"| houston backfill: durable lake write | {hb['readings']:,.0f} | {hb['write_s']:.1f} | {hb['rate_write']:,.0f} |",
        f"| houston backfill: generate + write | {hb['readings']:,.0f} | {hb['generate_s'] + hb['write_s']:.1f} | {hb['rate_total']:,.0f} |",
        f"| houston: aggregate one day into transformer-hour loads | {ha['rows']:,.0f} | {ha['transformer_hour_s']:.2f} | {ha['rate']:,.0f} |",
        f"| houston: full incremental refresh of that day | {ha['rows']:,.0f} | {ha['refresh_all_s']:.2f} | {ha['rows'] / ha['refresh_all_s']:,.0f} |",
        "",
    ]
    OUT.write_text("\n".join(keep).rstrip() + "\n" + "\n".join(block))
    print("\n".join(block))


def write_md(r: dict[str, Any], preset: str) -> None:
    b, a, s, h, m = r["backfill"], r["aggregate"], r["seed_insert"], r["http"], r["mqtt"]
    load = os.getloadavg()[0]
    lines = [
        "## AMI: backfill, ingestion, aggregation (`benchmarks/bench_ami.py`)",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()} cores "
        f"(shared: 1-min load average {load:.1f} at the end of the run, so these are lower bounds), "
        f"preset `{preset}` ({int(b['meters']):,} meters), one summer day (2025-08-05).",
        "",
        "| what | rows | seconds | rows/s |",
        "|---|---:|---:|---:|",
        f"| seed's approach: 500-row string-built `INSERT … VALUES` into DuckDB | {s['rows']:,.0f} | {s['s']:.2f} | {s['rate']:,.0f} |",
        f"| backfill: generate (load shapes, 96 power flows, voltages, outages, events) | {b['readings']:,.0f} | {b['generate_s']:.1f} | {b['rate_generate']:,.0f} |",
        f"| backfill: durable lake write (Parquet, fsync) | {b['readings']:,.0f} | {b['write_s']:.1f} | {b['rate_write']:,.0f} |",
        f"| backfill: generate + write | {b['readings']:,.0f} | {b['generate_s'] + b['write_s']:.1f} | {b['rate_total']:,.0f} |",
        f"| aggregate one day into transformer-hour loads (DuckDB) | {a['rows']:,.0f} | {a['transformer_hour_s']:.2f} | {a['rate']:,.0f} |",
        f"| full incremental refresh of that day (all derived datasets + C57.91) | {a['rows']:,.0f} | {a['refresh_all_s']:.2f} | {a['rows'] / a['refresh_all_s']:,.0f} |",
        f"| HTTP ingest, Arrow IPC, 50K/request, 2 clients, server process | {h['arrow_rows']:,.0f} | {h['arrow_s']:.1f} | {h['arrow_rate']:,.0f} |",
        f"| HTTP ingest, NDJSON, 10K/request | {h['ndjson_rows']:,.0f} | {h['ndjson_s']:.1f} | {h['ndjson_rate']:,.0f} |",
        f"| MQTT ingest (Mosquitto, QoS 1, Arrow 20K/message, ack after fsync) | {m['rows']:,.0f} | {m['s']:.1f} | {m['rate']:,.0f} |",
    ]
    if "houston_backfill" in r:
        hb, ha = r["houston_backfill"], r["houston_aggregate"]
        lines += [
            f"| houston backfill: generate + write | {hb['readings']:,.0f} | {hb['generate_s'] + hb['write_s']:.1f} | {hb['rate_total']:,.0f} |",
            f"| houston: aggregate one day into transformer-hour loads | {ha['rows']:,.0f} | {ha['transformer_hour_s']:.2f} | {ha['rate']:,.0f} |",
        ]
    else:
        est = 57_500_000 / a["rate"]
        lines += [
            "",
            f"Houston (~57.5 M readings/day) was not run here (`--houston`); **extrapolated** linearly from the "
            f"`{preset}` day: transformer-hour aggregation ≈ {est:.1f} s, backfill ≈ {57_500_000 / b['rate_total']:.0f} s.",
        ]
    lines += [
        "",
        f"Speed-up over the seed's path: bulk backfill ×{b['rate_total'] / s['rate']:,.0f}, "
        f"HTTP Arrow ×{h['arrow_rate'] / s['rate']:,.0f}. Peak RSS of the benchmark process {r['peak_rss_gb']:.1f} GiB.",
        "",
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines))


if __name__ == "__main__":
    main()
