"""End-to-end outage latency: a last-gasp posted to the API → the outage visible in GET /api/outages
and pushed on the SSE stream; plus a storm (thousands of last-gasps in one post).

Runs a real server (uvicorn on loopback, DuckDB file in a temp dir) over the ``demo`` preset.
Events go in through ``POST /api/ami/events`` (NDJSON), i.e. validation, the durable event log and the
in-process hand-off to the outage engine are all inside the measured time. If the AMI routes are not
installed, the script says so and measures from the in-process subscriber instead (reported as such).

Anchors in the same run: the seed's UI polled every 30 s and its outage table was a batch view (no
event path at all), and a meter's own last-gasp declaration delay is 30–45 s (AMI generator defaults).

    .venv/bin/python benchmarks/bench_outage_latency.py [--trials 40] [--preset demo]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "api"))  # the real-server helper the API tests use

from live_server import BOOTSTRAP_TOKEN, make_settings, start_uvicorn, stop_uvicorn  # noqa: E402

from fluxops.api.app import create_app  # noqa: E402
from fluxops.grid.generator import generate_grid  # noqa: E402
from fluxops.ops.faults import FaultInjector, FaultParams  # noqa: E402
from fluxops.ops.trace import ProtectionTree  # noqa: E402
from fluxops.storage import open_store  # noqa: E402

SEED_POLL_S = 30.0  # the seed UI's polling period (reference/seed-inventory.md §3.10)
DECLARATION_S = (30.0, 45.0)  # meter last-gasp declaration delay (fluxops.ami.outages.OutageParams)


class SseListener(threading.Thread):
    """Records the arrival time of every device id seen in ``outage`` messages."""

    def __init__(self, base_url: str, token: str) -> None:
        super().__init__(daemon=True)
        self.base_url, self.token = base_url, token
        self.seen: dict[str, float] = {}
        self.ready = threading.Event()
        self.stop = False

    def run(self) -> None:
        params = {"access_token": self.token, "types": "outage"}
        with (
            httpx.Client(base_url=self.base_url, timeout=None) as c,
            c.stream("GET", "/api/stream", params=params) as r,
        ):
            event = None
            for line in r.iter_lines():
                if self.stop:
                    return
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    if event == "hello":
                        self.ready.set()
                    elif event == "outage":
                        now = time.perf_counter()
                        for o in json.loads(line[6:])["outages"]:
                            self.seen.setdefault(o["device_id"], now)


def ndjson(meters: list[str], event_type: str, at: datetime) -> bytes:
    ts = at.isoformat().replace("+00:00", "Z")
    return "".join(
        json.dumps({"meter_id": m, "event_type": event_type, "event_time_utc": ts}) + "\n" for m in meters
    ).encode()


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.array(xs), q)) if xs else float("nan")


def row(label: str, xs: list[float]) -> str:
    return f"| {label} | {pct(xs, 50):.1f} ms | {pct(xs, 95):.1f} ms | {len(xs)} |"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--preset", default="demo")
    ap.add_argument("--storm-events", type=int, default=5000)
    ap.add_argument("--spacing-s", type=float, default=1.0, help="pause between single-fault trials")
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks" / "outages.md"))
    args = ap.parse_args()

    load_start = os.getloadavg()[0]
    grid = generate_grid(args.preset, seed=42)
    tree = ProtectionTree.build(grid)
    tmp = Path(tempfile.mkdtemp(prefix="bench-outages-"))
    settings = make_settings(tmp)
    store = open_store(settings)
    store.load_grid(grid)
    app = create_app(settings, store=store)
    running = start_uvicorn(app)
    base = f"http://127.0.0.1:{running.port}"
    headers = {"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
        via_http = "/api/ami/events" in c.get("/openapi.json").json()["paths"]
    inj = FaultInjector(tree, FaultParams(seed=11))
    busy = np.zeros(tree.n_meters, dtype=bool)
    lat_get: list[float] = []
    lat_sse: list[float] = []
    in_storm: list[bool] = []
    post_ms: list[float] = []
    sse = SseListener(base, BOOTSTRAP_TOKEN)
    sse.start()
    sse.ready.wait(30)

    def send(meters: list[str], event_type: str, at: datetime, client: httpx.Client) -> None:
        if via_http:
            r = client.post(
                "/api/ami/events",
                content=ndjson(meters, event_type, at),
                headers={"Content-Type": "application/x-ndjson"},
            )
            r.raise_for_status()
        else:
            import pyarrow as pa

            app.state.ops.submit(
                pa.table(
                    {
                        "meter_id": meters,
                        "event_type": [event_type] * len(meters),
                        "event_time_utc": pa.array([at] * len(meters), pa.timestamp("us", tz="UTC")),
                    }
                )
            )

    with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
        app.state.ops.service()  # build the engine before timing
        done = 0
        while done < args.trials:
            fault = inj.draw(datetime.now(UTC), busy)
            if fault is None:
                break
            gasps = inj.last_gasps(fault)
            meters = [str(m) for m in gasps.column("meter_id").to_pylist()]
            if len(meters) < 2:
                continue
            busy[fault.meters] = True
            at = datetime.now(UTC) - timedelta(seconds=35)
            t0 = time.perf_counter()
            send(meters, "last_gasp", at, c)
            post_ms.append((time.perf_counter() - t0) * 1000)
            while True:
                got = c.get("/api/outages", params={"status": "active", "limit": 5000}).json()
                if any(o["device_id"] == fault.element_id for o in got["items"]):
                    lat_get.append((time.perf_counter() - t0) * 1000)
                    in_storm.append(bool(got["storm_mode"]))
                    break
                if time.perf_counter() - t0 > 30:
                    print("timeout waiting for", fault.element_id, file=sys.stderr)
                    break
                time.sleep(0.002)
            for _ in range(200):
                if fault.element_id in sse.seen:
                    break
                time.sleep(0.005)
            if fault.element_id in sse.seen:
                lat_sse.append((sse.seen[fault.element_id] - t0) * 1000)
            done += 1
            time.sleep(args.spacing_s)

        # storm: thousands of last-gasps from many simultaneous faults in one post
        storm_faults = []
        storm_meters: list[str] = []
        zone_meters = 0
        while len(storm_meters) < args.storm_events:
            f = inj.draw(datetime.now(UTC), busy)
            if f is None:
                break
            busy[f.meters] = True
            ms = [str(m) for m in inj.last_gasps(f).column("meter_id").to_pylist()]
            if len(ms) >= 2:
                storm_faults.append(f.element_id)
                storm_meters += ms
                zone_meters += len(f.meters)

        def out_in_store() -> int:
            items = c.get("/api/outages", params={"status": "active", "limit": 5000}).json()["items"]
            return sum(int(o["customers_out"]) for o in items)

        before = out_in_store()
        at = datetime.now(UTC) - timedelta(seconds=40)
        t0 = time.perf_counter()
        send(storm_meters, "last_gasp", at, c)
        storm_post_ms = (time.perf_counter() - t0) * 1000
        storm_ms = float("nan")
        while time.perf_counter() - t0 < 120:
            if out_in_store() >= before + zone_meters:  # every faulted customer is in a listed outage
                storm_ms = (time.perf_counter() - t0) * 1000
                break
            time.sleep(0.01)
        final = c.get("/api/outages", params={"status": "active", "limit": 5000}).json()
        exact = len(set(storm_faults) & {o["device_id"] for o in final["items"]})
        storm_flag = final["storm_mode"]
    sse.stop = True
    stop_uvicorn(running)
    store.close()

    load_end = os.getloadavg()[0]
    py = platform.python_version()
    machine = (
        f"{platform.machine()}, {platform.system()}, Python {py}; shared 2-core VM, 24 GiB "
        f"(1-min load average {load_start:.1f} at start, {load_end:.1f} at end: other work shares the cores)"
    )
    path = (
        "POST /api/ami/events (NDJSON) → validation → durable event log → OMS engine"
        if via_http
        else ("in-process AMI subscriber call (the AMI events route was not installed)")
    )
    lines = [
        "## Outages: last-gasp → outage visible (issue 3 §6)",
        "",
        f"Machine: {machine}. Grid: `{args.preset}` preset, seed 42 ({tree.n_meters:,} meters, "
        f"{tree.n_devices:,} devices in service, {tree.n_transformers:,} transformers). Store: DuckDB file. "
        f"Real server: uvicorn on loopback. Input path: {path}. Faults drawn by `fluxops.ops.faults` "
        f"(85 % of last-gasps delivered), one fault every ~{args.spacing_s:.1f} s plus processing: a "
        "fast sequence, so storm mode (≥ 500 last-gasps within 120 s) switches on part-way.",
        "",
        "| measure | p50 | p95 | n |",
        "|---|---|---|---|",
        row("POST of one fault's last-gasps (acknowledged)", post_ms),
        row("posted → visible in `GET /api/outages` (polled every 2 ms), all trials", lat_get),
        row("  … trials in normal mode", [x for x, s_ in zip(lat_get, in_storm, strict=False) if not s_]),
        row(
            "  … trials after storm mode switched on (0.5 s batching)",
            [x for x, s_ in zip(lat_get, in_storm, strict=False) if s_],
        ),
        row("posted → pushed on `GET /api/stream` (SSE)", lat_sse),
        "",
        f"Storm: one post of {len(storm_meters):,} last-gasps from {len(storm_faults):,} simultaneous faults "
        f"(acknowledged in {storm_post_ms:,.0f} ms): every faulted customer inside an active outage after "
        f"{storm_ms:,.0f} ms; storm mode reported: {storm_flag}; {exact:,} of the {len(storm_faults):,} "
        "faulted devices predicted exactly (adjacent simultaneous faults roll up to a common upstream "
        "device, as an OMS roll-up does).",
        "",
        f"Anchors (same run, fixed figures): the seed's UI polled every {SEED_POLL_S:.0f} s and its outage "
        "table was a batch view with random values (reference/seed-inventory.md §1.3–1.4); a meter's own "
        f"last-gasp declaration delay is {DECLARATION_S[0]:.0f}–{DECLARATION_S[1]:.0f} s. The OMS adds the "
        "figures above on top of the declaration delay.",
        "",
    ]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
