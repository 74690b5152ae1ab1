"""Bounding-box query latency on both stores with the `demo` grid, against a NumPy full scan.

For each box size (0.5, 2, 10, 50 km square, centred on random assets so boxes land where the grid
is), measures p50/p95 of
* the API's query: `list_assets(AssetQuery(bbox=..., limit=MAX_PAGE_SIZE))`, the first page;
* the whole answer: every matching asset_id through the spatial index (`query_arrow`);
* the anchor: a NumPy full scan of the asset index's min/max columns (ids of every match).
Every box's hit count is checked against NumPy. Also times a full grid load and an idempotent
re-load per store. Writes docs/benchmarks/bbox.md.

Run: .venv/bin/python benchmarks/bench_bbox.py   (PostgreSQL part skipped if the server is absent)
"""

from __future__ import annotations

import math
import os
import platform
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from fluxops.grid.assets import asset_index
from fluxops.grid.generator import generate_grid
from fluxops.grid.ports import MAX_PAGE_SIZE, AssetQuery, BBox
from fluxops.storage.duckdb_store import DuckDBStore

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "benchmarks" / "bbox.md"
PG_DSN = os.environ.get("FLUXOPS_TEST_POSTGRES_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
SIZES_KM = (0.5, 2.0, 10.0, 50.0)
REPEATS = {0.5: 100, 2.0: 100, 10.0: 40, 50.0: 15}
KM_PER_DEG_LAT = 111.32  # mean length of one degree of latitude (WGS84), km


def boxes(frame: Any, size_km: float, n: int, rng: np.random.Generator) -> list[BBox]:
    idx = rng.integers(0, len(frame), n)
    out = []
    for lon, lat in zip(frame.lon.to_numpy()[idx], frame.lat.to_numpy()[idx], strict=True):
        half_lat = size_km / 2 / KM_PER_DEG_LAT
        half_lon = size_km / 2 / (KM_PER_DEG_LAT * math.cos(math.radians(lat)))
        out.append(BBox(lon - half_lon, lat - half_lat, lon + half_lon, lat + half_lat))
    return out


def pct(xs: list[float]) -> tuple[float, float]:
    a = np.asarray(xs) * 1000
    return float(np.percentile(a, 50)), float(np.percentile(a, 95))


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    result = fn()
    return time.perf_counter() - t, result


def bench_store(store: Any, grid: Any, frame: Any, all_boxes: dict[float, list[BBox]]) -> dict[str, Any]:
    """Load timings, then per box size the latency of each query path (name -> size -> p50/p95)."""
    load_s, report = timed(lambda: store.load_grid(grid))
    reload_s, again = timed(lambda: store.load_grid(grid))
    assert report.changed and not again.changed
    srid = ", 4326" if store.dialect == "postgres" else ""
    exact = "max_lon >= ? AND min_lon <= ? AND max_lat >= ? AND min_lat <= ?"
    # (label, sql, params from a box); the first is what list_assets uses on this backend
    if store.dialect == "duckdb":
        paths = [
            (
                "all ids: min/max columns (Hilbert-ordered, zone maps)",
                f"SELECT asset_id FROM assets WHERE {exact}",
                lambda b: [b.min_lon, b.max_lon, b.min_lat, b.max_lat],
            ),
            (
                "all ids: RTREE `ST_Intersects`",
                "SELECT asset_id FROM assets WHERE ST_Intersects(geom, ST_MakeEnvelope(?, ?, ?, ?))",
                lambda b: [b.min_lon, b.min_lat, b.max_lon, b.max_lat],
            ),
        ]
    else:
        paths = [
            (
                "all ids: GiST `&&` + min/max",
                f"SELECT asset_id FROM assets WHERE geom && ST_MakeEnvelope(?, ?, ?, ?{srid}) AND {exact}",
                lambda b: [
                    b.min_lon,
                    b.min_lat,
                    b.max_lon,
                    b.max_lat,
                    b.min_lon,
                    b.max_lon,
                    b.min_lat,
                    b.max_lat,
                ],
            ),
        ]
    mn_lon, mx_lon = frame.min_lon.to_numpy(), frame.max_lon.to_numpy()
    mn_lat, mx_lat = frame.min_lat.to_numpy(), frame.max_lat.to_numpy()
    timings: dict[str, dict[float, tuple[float, float]]] = {}
    hits: dict[float, float] = {}
    for size, bxs in all_boxes.items():
        page_t: list[float] = []
        path_t: dict[str, list[float]] = {label: [] for label, _, _ in paths}
        counts = []
        for b in bxs:
            n = int(
                (
                    (mx_lon >= b.min_lon)
                    & (mn_lon <= b.max_lon)
                    & (mx_lat >= b.min_lat)
                    & (mn_lat <= b.max_lat)
                ).sum()
            )
            dt, page = timed(lambda b=b: store.list_assets(AssetQuery(bbox=b, limit=MAX_PAGE_SIZE)))
            assert len(page.items) == min(n, MAX_PAGE_SIZE)
            page_t.append(dt)
            for label, sql, make in paths:
                dt, ids = timed(lambda sql=sql, p=make(b): store.query_arrow(sql, p))
                assert ids.num_rows == n, (label, b, ids.num_rows, n)
                path_t[label].append(dt)
            counts.append(n)
        hits[size] = float(np.median(counts))
        timings.setdefault(f"`list_assets` first page (≤ {MAX_PAGE_SIZE}, id order, status join)", {})[
            size
        ] = pct(page_t)
        for label, ts in path_t.items():
            timings.setdefault(label, {})[size] = pct(ts)
    return {"load_s": load_s, "reload_s": reload_s, "timings": timings, "hits": hits}


def numpy_anchor(frame: Any, all_boxes: dict[float, list[BBox]]) -> dict[float, tuple[float, float]]:
    ids = frame.asset_id.to_numpy()
    mn_lon, mx_lon = frame.min_lon.to_numpy(), frame.max_lon.to_numpy()
    mn_lat, mx_lat = frame.min_lat.to_numpy(), frame.max_lat.to_numpy()
    out = {}
    for size, bxs in all_boxes.items():
        ts = []
        for b in bxs:
            dt, _ = timed(
                lambda b=b: ids[
                    (mx_lon >= b.min_lon)
                    & (mn_lon <= b.max_lon)
                    & (mx_lat >= b.min_lat)
                    & (mn_lat <= b.max_lat)
                ]
            )
            ts.append(dt)
        out[size] = pct(ts)
    return out


def main() -> int:
    t0 = time.perf_counter()
    grid = generate_grid("demo", seed=42)
    gen_s = time.perf_counter() - t0
    frame = asset_index(grid)
    rng = np.random.default_rng(2026)
    all_boxes = {s: boxes(frame, s, REPEATS[s], rng) for s in SIZES_KM}
    anchor = numpy_anchor(frame, all_boxes)
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = DuckDBStore(Path(tmp) / "bench.duckdb")
        try:
            results["DuckDB 1.5.5 + spatial (RTREE)"] = bench_store(store, grid, frame, all_boxes)
        finally:
            store.close()
    pg_note = ""
    try:
        from fluxops.storage.postgres_store import PostgresStore

        pg = PostgresStore(PG_DSN, schema=f"fluxops_bench_{uuid.uuid4().hex[:8]}")
    except Exception as exc:  # no server: report it, keep the DuckDB figures
        pg_note = f"PostgreSQL part not run: {exc}"
    else:
        try:
            version = pg.health()["postgis_version"]
            results[f"PostgreSQL 15 + PostGIS {version} (GiST)"] = bench_store(pg, grid, frame, all_boxes)
        finally:
            pg.drop_schema()
            pg.close()
    write(grid, frame, gen_s, anchor, results, pg_note)
    print(OUT.read_text())
    return 0


def write(grid: Any, frame: Any, gen_s: float, anchor: Any, results: dict[str, Any], pg_note: str) -> None:
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()[0]
    hits = next(iter(results.values()))["hits"] if results else {}
    lines = [
        "## Bounding-box queries (`benchmarks/bench_bbox.py`)\n",
        f"Grid: `demo`, seed 42: {len(frame):,} assets in the spatial index (meters included), "
        f"{sum(grid.counts().values()):,} rows over all tables, generated in {gen_s:.1f} s. "
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {mem_gib:.0f} GiB RAM, Python "
        f"{platform.python_version()}; shared with other jobs while measured (1-min load average "
        f"{load:.1f} at the end), so treat p95 as noisy. Boxes are squares centred on random assets; "
        "latencies in ms (p50 / p95), in-process, no HTTP. Every query's hit count was checked "
        "against the NumPy answer for every box.\n",
        "| store | query | " + " | ".join(f"{s:g} km" for s in SIZES_KM) + " |",
        "|---|---|" + "---|" * len(SIZES_KM),
        "| | boxes / median hits | "
        + " | ".join(f"{REPEATS[s]} / {hits.get(s, float('nan')):,.0f}" for s in SIZES_KM)
        + " |",
        "| NumPy (anchor) | full scan of the min/max columns, ids of matches | "
        + " | ".join("{:.2f} / {:.2f}".format(*anchor[s]) for s in SIZES_KM)
        + " |",
    ]
    for name, res in results.items():
        for label, by_size in res["timings"].items():
            lines.append(
                f"| {name} | {label} | "
                + " | ".join("{:.1f} / {:.1f}".format(*by_size[s]) for s in SIZES_KM)
                + " |"
            )
    lines.append("")
    lines.append(
        "| store | full load of `demo` (hash, stage, index, swap) | idempotent re-load (hash only) |"
    )
    lines.append("|---|---|---|")
    for name, res in results.items():
        lines.append(f"| {name} | {res['load_s']:.2f} s | {res['reload_s']:.2f} s |")
    lines.append(
        "\nWhat `list_assets` uses: on DuckDB the min/max predicates over the Hilbert-ordered `assets` "
        "table (row-group statistics skip most of it); the RTREE path is measured next to it because it "
        "was the first design, and its per-row fetches made it the slower one in every run here. On "
        "PostgreSQL the GiST index on `geom` finds candidates and the min/max columns make the answer "
        "exact. Both are far from the in-memory NumPy scan because they also pay SQL planning, "
        "materialization and the Python round trip; the API adds JSON on top."
    )
    if pg_note:
        lines.append(f"\n{pg_note}")
    lines.append(
        "\nRun: `.venv/bin/python benchmarks/bench_bbox.py`, "
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC.\n"
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
