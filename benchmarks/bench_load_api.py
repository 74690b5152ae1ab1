"""The API under load (issue 8 §5): 64 concurrent clients over a real server on the `demo` utility while a
head-end feed posts AMI readings (Arrow) at ≥ 5,000 readings/s; per-route p50/p95/p99 and req/s, and the
server's RSS over the run.

What runs, each in its own process: ``fluxops generate`` (demo, seed 42) into a temporary data dir;
``fluxops serve`` (uvicorn, DuckDB file; ``FLUXOPS_DEMO_FEED=1`` so demo faults change outages and the
grid state during the run); ``fluxops ami simulate`` posting Arrow batches like a head-end, its speed set
so the grid's meters deliver ``--readings-per-s`` readings a second. This process runs the clients
(asyncio + httpx, one connection each) and samples the server's RSS from ``/proc`` every few seconds.

Client mix, drawn per request (seeded): asset detail, bbox page (0.5–2 km boxes around real assets),
grid KPIs, active outages (with the OMS KPIs), the map payload (Arrow), the grid state (Arrow, revalidated
with ``If-None-Match`` like the UI), and AMI analytics (transformer loading, feeder load), which answer
from the last materialization (their ``X-Data-As-Of`` age is reported).

    .venv/bin/python benchmarks/bench_load_api.py [--duration-s 600] [--clients 64] [--readings-per-s 6000]

Writes docs/benchmarks/load_api.md. Never a test: the numbers depend on the machine and its load, which the
section states.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa

from load_client import TRANSPORT_ERRORS, Answer, Connection, install_uvloop

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "benchmarks" / "load_api.md"
OUT_PG = ROOT / "docs" / "benchmarks" / "load_api_postgres.md"
PG_DSN = os.environ.get("FLUXOPS_TEST_POSTGRES_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
TOKEN = "bench-load-token-0123456789abcdef0123456789"
KM_PER_DEG_LAT = 111.32
ARROW = "application/vnd.apache.arrow.stream"
# route name -> share of requests (a UI session: mostly map panning and detail clicks)
MIX = {
    "asset": 0.20,
    "bbox": 0.25,
    "kpis": 0.10,
    "outages": 0.15,
    "grid_state": 0.10,
    "map": 0.03,
    "analytics": 0.17,
}
TARGET_ROUTES = ("asset", "bbox", "kpis", "outages")  # the p99 ≤ 200 ms routes


def fluxops_cmd(*args: str) -> list[str]:
    return [sys.executable, "-c", "from fluxops.cli import main; main()", *args]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident set of ``pid`` and its children (uvicorn workers), MB."""
    total = 0
    pids = [pid]
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(k) for k in kids]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its children (uvicorn workers) so far."""
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(k) for k in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    total = 0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
        except (OSError, IndexError, ValueError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


@dataclass
class Feed:
    """``fluxops ami simulate`` in a subprocess; counts the readings it reports posting."""

    proc: subprocess.Popen[str]
    events: list[tuple[float, int]] = field(default_factory=list)  # (monotonic, readings in that tick)
    lines: list[str] = field(default_factory=list)

    def watch(self) -> None:
        pat = re.compile(r"\+([\d,]+) readings")
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())
            m = pat.search(line)
            if m:
                self.events.append((time.monotonic(), int(m.group(1).replace(",", ""))))

    def rate(self, t0: float, t1: float) -> tuple[int, float]:
        n = sum(k for t, k in self.events if t0 <= t <= t1)
        return n, n / max(t1 - t0, 1e-9)


@dataclass
class Sample:
    route: str
    ms: float
    status: int
    data_age_s: float | None = None


class Clients:
    def __init__(self, base: str, *, n: int, seed: int, ids: list[str], centres: list[tuple[float, float]]):
        self.base, self.n, self.ids, self.centres = base, n, ids, centres
        self.rng = random.Random(seed)
        self.samples: list[Sample] = []
        self.routes = list(MIX)
        self.weights = [MIX[r] for r in self.routes]

    def _request(self, route: str, etag: dict[str, str]) -> tuple[str, dict[str, Any], dict[str, str]]:
        rng = self.rng
        if route == "asset":
            return f"/api/assets/{rng.choice(self.ids)}", {}, {}
        if route == "bbox":
            lon, lat = rng.choice(self.centres)
            km = rng.uniform(0.5, 2.0)
            dlat = km / 2 / KM_PER_DEG_LAT
            dlon = km / 2 / (KM_PER_DEG_LAT * np.cos(np.radians(lat)))
            box = f"{lon - dlon:.6f},{lat - dlat:.6f},{lon + dlon:.6f},{lat + dlat:.6f}"
            return "/api/assets", {"bbox": box, "limit": 500}, {}
        if route == "kpis":
            return "/api/kpis", {}, {}
        if route == "outages":
            return "/api/outages", {"status": "active", "limit": 200}, {}
        if route == "grid_state":
            h = {"Accept": ARROW}
            if "grid_state" in etag:
                h["If-None-Match"] = etag["grid_state"]
            return "/api/grid/state", {"format": "arrow"}, h
        if route == "map":
            return "/api/map/assets", {}, {"Accept": ARROW}
        path = rng.choice(["/api/ami/transformers/latest", "/api/ami/feeders/load"])
        return path, {"limit": 500}, {}

    async def _client(self, stop_at: float) -> None:
        etag: dict[str, str] = {}
        host, port = self.base.removeprefix("http://").split(":")
        conn = Connection(host, int(port), TOKEN)  # one keep-alive connection per client, as before
        try:
            while time.monotonic() < stop_at:
                route = self.rng.choices(self.routes, self.weights)[0]
                path, params, headers = self._request(route, etag)
                t0 = time.perf_counter()
                r: Answer | None
                try:
                    r = await asyncio.wait_for(conn.get(path, params, headers), timeout=120.0)
                    status = r.status
                except TRANSPORT_ERRORS:
                    status = 599
                    r = None
                ms = (time.perf_counter() - t0) * 1000
                age = None
                if r is not None and route == "grid_state" and "etag" in r.headers:
                    etag["grid_state"] = r.headers["etag"]
                if r is not None and route == "analytics":
                    as_of = r.headers.get("x-data-as-of", "none")
                    if as_of != "none":
                        age = (datetime.now(UTC) - datetime.fromisoformat(as_of)).total_seconds()
                self.samples.append(Sample(route, ms, status, age))
        finally:
            await conn.close()

    async def run(self, duration_s: float) -> float:
        stop_at = time.monotonic() + duration_s
        t0 = time.monotonic()
        await asyncio.gather(*(self._client(stop_at) for _ in range(self.n)))
        return time.monotonic() - t0


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) samples, in MB per minute (nan with fewer than 3)."""
    if len(points) < 3:
        return float("nan")
    t, v = np.asarray(points, dtype=float).T
    return float(np.polyfit(t, v, 1)[0] * 60.0)


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs), q)) if xs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="demo")
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--duration-s", type=float, default=600.0)
    ap.add_argument("--readings-per-s", type=float, default=6000.0)
    ap.add_argument("--rss-every-s", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=None, help="default docs/benchmarks/load_api[_postgres].md")
    ap.add_argument("--store", choices=("duckdb", "postgres"), default="duckdb")
    ap.add_argument("--workers", type=int, default=1, help="fluxops serve --workers (PostgreSQL only)")
    ap.add_argument("--pg-dsn", default=PG_DSN)
    ap.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    args = ap.parse_args()

    load_start = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
    env = {
        **os.environ,
        "FLUXOPS_DATA_DIR": str(tmp),
        "FLUXOPS_SERVER__BOOTSTRAP_TOKEN": TOKEN,
        "FLUXOPS_DEMO_FEED": "1",
        "FLUXOPS_STORE__BACKEND": args.store,
    }
    schema = f"bench_load_{uuid.uuid4().hex[:8]}"
    if args.store == "postgres":
        env |= {"FLUXOPS_STORE__POSTGRES_DSN": args.pg_dsn, "FLUXOPS_STORE__POSTGRES_SCHEMA": schema}
    t = time.perf_counter()
    subprocess.run(
        fluxops_cmd("generate", "--preset", args.preset, "--seed", "42"), env=env, check=True, cwd=ROOT
    )
    print(f"generated {args.preset} in {time.perf_counter() - t:.1f} s", flush=True)
    port = free_port()
    server = subprocess.Popen(
        fluxops_cmd("serve", "--port", str(port), "--workers", str(args.workers)),
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "server.log", "w"),  # noqa: SIM115 - lives as long as the server
    )
    base = f"http://127.0.0.1:{port}"
    feed: Feed | None = None
    try:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120) as c:
            deadline = time.monotonic() + 300
            while True:
                try:
                    if c.get("/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit(f"server did not start; see {tmp / 'server.log'}")
                time.sleep(0.5)
            t = time.perf_counter()
            m = c.get("/api/map/assets", headers={"Accept": ARROW})
            first_map_s = time.perf_counter() - t
            table = pa.ipc.open_stream(m.content).read_all()
            n_assets = table.num_rows
            rng = np.random.default_rng(args.seed)
            pick = rng.choice(n_assets, size=min(4000, n_assets), replace=False)
            ids = [str(x) for x in table.column("asset_id").take(pa.array(pick)).to_pylist()]
            lon = table.column("lon").take(pa.array(pick)).to_pylist()
            lat = table.column("lat").take(pa.array(pick)).to_pylist()
            centres = list(zip(lon, lat, strict=True))
            kpis = c.get("/api/kpis").json()
            n_meters = int(kpis.get("customers") or kpis.get("meters") or 0) or 164_017
            for path in ("/api/grid/state", "/api/outages", "/api/kpis"):
                c.get(path, params={"format": "arrow"} if "state" in path else {})
        rss0 = rss_mb(server.pid)

        speed = args.readings_per_s * 900.0 / n_meters
        lookback_h = speed * (args.duration_s + 120) / 3600 + 0.5
        feed = Feed(
            subprocess.Popen(
                fluxops_cmd(
                    "ami",
                    "simulate",
                    "--url",
                    base,
                    "--token",
                    TOKEN,
                    "--speed",
                    f"{speed:.2f}",
                    "--lookback-hours",
                    f"{lookback_h:.2f}",
                    "--preset",
                    args.preset,
                    "--grid-seed",
                    "42",
                    "--duration-s",
                    str(args.duration_s + 600),
                ),
                env={**env, "COLUMNS": "200", "PYTHONUNBUFFERED": "1"},  # its progress lines, as they come
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
        threading.Thread(target=feed.watch, daemon=True).start()
        deadline = time.monotonic() + 1200
        while len(feed.events) < 3:  # the feed synthesizes its day first; wait until it posts
            if time.monotonic() > deadline or feed.proc.poll() is not None:
                raise SystemExit("feed did not start:\n" + "\n".join(feed.lines[-20:]))
            time.sleep(0.5)
        print(f"feed posting (speed {speed:.1f}x); clients start", flush=True)

        rss: list[tuple[float, float]] = []
        stop = threading.Event()

        def sample_rss() -> None:
            t0 = time.monotonic()
            while not stop.is_set():
                rss.append((time.monotonic() - t0, rss_mb(server.pid)))
                stop.wait(args.rss_every_s)

        sampler = threading.Thread(target=sample_rss, daemon=True)
        sampler.start()
        clients = Clients(base, n=args.clients, seed=args.seed, ids=ids, centres=centres)
        t0 = time.monotonic()
        cpu0, own0 = cpu_s(server.pid), time.process_time()
        install_uvloop()
        wall = asyncio.run(clients.run(args.duration_s))
        t1 = time.monotonic()
        server_cpu, clients_cpu = cpu_s(server.pid) - cpu0, time.process_time() - own0
        stop.set()
        sampler.join()
        load_end = os.getloadavg()
        fed, fed_rate = feed.rate(t0, t1)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120) as c:
            last = c.get("/api/ami/transformers/latest", params={"limit": 1})
            watermark = last.headers.get("X-Data-Watermark")
    finally:
        if feed is not None and feed.proc.poll() is None:
            feed.proc.send_signal(signal.SIGINT)
            try:
                feed.proc.wait(30)
            except subprocess.TimeoutExpired:
                feed.proc.kill()
        server.send_signal(signal.SIGINT)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()

    samples = clients.samples
    ok = [s for s in samples if s.status in (200, 304)]
    errors = len(samples) - len(ok)
    rows = []
    for route in MIX:
        xs = [s.ms for s in ok if s.route == route]
        n304 = sum(1 for s in ok if s.route == route and s.status == 304)
        bad = Counter(s.status for s in samples if s.route == route and s.status not in (200, 304))
        note = f"{n304:,} × 304" if route == "grid_state" else ""
        if bad:
            codes = ", ".join(f"{n} × {'no status' if c == 599 else c}" for c, n in sorted(bad.items()))
            note = (note + "; " if note else "") + f"errors: {codes}"
        target = " (target ≤ 200 ms)" if route in TARGET_ROUTES else ""
        rows.append(
            f"| {route}{target} | {len(xs):,} | {len(xs) / wall:.1f} | {pct(xs, 50):.0f} | {pct(xs, 95):.0f} "
            f"| {pct(xs, 99):.0f} | {note} |"
        )
    all_ms = [s.ms for s in ok]
    ages = [s.data_age_s for s in ok if s.data_age_s is not None]
    rss_vals = [v for _t, v in rss]
    first_min = [v for t_, v in rss if t_ <= 60] or rss_vals[:1]
    last_min = [v for t_, v in rss if t_ >= rss[-1][0] - 60] or rss_vals[-1:]
    cpu = os.cpu_count()
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    # The run loads the machine itself (server, feed and 64 clients on the same cores), so only the load
    # before it says whether other jobs were running.
    busy = load_start[0] > 1.0
    machine = (
        f"{platform.machine()}, {cpu} cores, {mem_gib:.0f} GiB, Python {platform.python_version()}; "
        f"1-min load average {load_start[0]:.1f} before the run (5-min {load_start[1]:.1f}), "
        f"{load_end[0]:.1f} at its end"
        + (
            " — **busy machine**: other jobs shared the cores, and the clients, the feed and the server "
            "share them too"
            if busy
            else " — quiet machine: no other jobs; the load at the end is the run's own (server, feed and "
            "clients share the cores)"
        )
    )
    lines = [
        f"## API under load: {args.clients} clients with ingestion running, {args.store} (issue 8 §5)",
        "",
        f"Machine: {machine}. Grid: `{args.preset}`, seed 42 ({n_assets:,} map assets, {n_meters:,} meters). "
        + (
            "Store: DuckDB file; one uvicorn process (`fluxops serve`, demo faults on). "
            if args.store == "duckdb"
            else f"Store: PostgreSQL + PostGIS on loopback; `fluxops serve --workers {args.workers}` (demo "
            "faults on; one worker owns the AMI lake writer, the feed retries the others' 503s). "
        )
        + f"{args.clients} concurrent clients (one keep-alive connection each) for {wall:.0f} s; ingestion: "
        f"`fluxops ami simulate` posting Arrow batches at {fed_rate:,.0f} readings/s on average "
        f"({fed:,} readings during the run"
        + ("; below the issue's 5,000/s: the feed did not keep up on this machine" if fed_rate < 5000 else "")
        + "). Latency is client-side (request sent → body read), in ms.",
        "",
        "| route | requests | req/s | p50 | p95 | p99 | notes |",
        "|---|---|---|---|---|---|---|",
        *rows,
        f"| **all** | {len(ok):,} | {len(ok) / wall:.1f} | {pct(all_ms, 50):.0f} | {pct(all_ms, 95):.0f} "
        f"| {pct(all_ms, 99):.0f} | {errors} errors |",
        "",
        f"CPU during the run: the server used {server_cpu:,.0f} CPU-seconds "
        f"({server_cpu / wall:.2f} of the {cpu} cores on average; "
        f"{1000 * server_cpu / max(len(ok), 1):.1f} ms per answered request, ingestion, analytics refreshes "
        f"and the demo fault feed included), this process's {args.clients} clients {clients_cpu:,.1f} "
        f"CPU-seconds ({1000 * clients_cpu / max(len(samples), 1):.2f} ms per request). CPU per request does "
        "not depend on how busy the machine was, unlike the latencies.",
        "",
        "Errors: `no status` is a transport error on the client (connection closed or reset before an "
        "answer, e.g. a keep-alive connection the server was closing); a 5xx would be listed by code.",
        "",
        "What the read path does under this load (issue 8 §5): AMI analytics never refresh on a GET "
        "(a background refresher, woken by accepted batches, at most every 10 s; answers carry "
        "`X-Data-Watermark` / `X-Data-As-Of`); `/api/grid/state` is built once per state version (Arrow "
        "columns kept) and answers 304 to a matching `If-None-Match`; derived files are written as new "
        "generations so reads never see a half-replaced file. Targets (asset, bbox, KPI, outage p99 ≤ "
        "200 ms at 64 clients with ≥ 5,000 readings/s) are for a quiet machine; on a busy one the figures "
        "below are dominated by CPU share and say little about them.",
        "",
        "Routes: asset = `GET /api/assets/{id}`; bbox = `GET /api/assets?bbox=` (0.5–2 km, ≤ 500 rows); "
        "kpis = `GET /api/kpis`; outages = `GET /api/outages?status=active` (with OMS KPIs); "
        "grid_state = `GET /api/grid/state?format=arrow` revalidated with `If-None-Match`; "
        "map = `GET /api/map/assets` (Arrow); analytics = `GET /api/ami/transformers/latest` or "
        "`/api/ami/feeders/load`.",
        "",
        f"Analytics freshness: answers came from the last materialization (the refresher thread; no GET "
        f"refreshed); `X-Data-As-Of` age at answer p50 {pct(ages, 50):.1f} s, "
        f"max {max(ages, default=float('nan')):.1f} s; "
        f"final watermark seq {watermark}. First map payload after start: {first_map_s:.2f} s.",
        "",
        f"Server RSS (sampled every {args.rss_every_s:.0f} s): {rss0:,.0f} MB after warm-up, "
        f"first sample {rss_vals[0]:,.0f} MB, "
        f"{np.mean(first_min):,.0f} MB mean over the first minute, "
        f"{np.mean(last_min):,.0f} MB over the last, "
        f"max {max(rss_vals):,.0f} MB, end {rss_vals[-1]:,.0f} MB; "
        f"slope {_slope(rss):+,.1f} MB/min over the whole run, "
        f"{_slope([p for p in rss if p[0] >= rss[-1][0] / 2]):+,.1f} MB/min over its second half.",
        "",
        "RSS samples (s → MB): "
        + ", ".join(f"{t_:.0f} → {v:,.0f}" for t_, v in rss[:: max(1, len(rss) // 24)]),
        "",
        f"Run: `.venv/bin/python benchmarks/bench_load_api.py --duration-s {args.duration_s:.0f} "
        f"--clients {args.clients} --readings-per-s {args.readings_per_s:.0f}`, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
    ]
    out = Path(args.out or (OUT if args.store == "duckdb" else OUT_PG))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print("\n".join(lines))
    if not args.keep:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    if args.store == "postgres":
        from fluxops.storage.postgres_store import PostgresStore

        pg = PostgresStore(args.pg_dsn, schema=schema)
        pg.drop_schema()
        pg.close()


if __name__ == "__main__":
    main()
