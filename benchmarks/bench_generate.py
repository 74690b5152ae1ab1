"""Synthetic utility generation: time and peak memory per preset, plus the figures it produces.

Anchors (issue 2 §3): `demo` "well under a minute", `houston` "a few minutes within a few GB" on
this 2-core machine; `houston` counts against the seed's hierarchy (275 substations, ~91,500
distribution transformers, ~62,000 poles, ~597,000 meters). Each preset runs in a fresh subprocess
so its peak RSS (ru_maxrss) is its own; the import baseline is reported separately.
`stress` (~2.5 M meters) runs only with ``--stress``. Writes docs/benchmarks/generate.md.
Run: ``.venv/bin/python benchmarks/bench_generate.py [--stress] [--presets tiny demo]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "benchmarks" / "generate.md"
SEED_HIERARCHY = {"substations": 275, "transformers": 91_500, "poles": 62_000, "meters": 597_000}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child(preset: str) -> dict[str, Any]:
    """Runs in the subprocess: generate, validate, build the topology, summarise, measure."""
    from fluxops.grid.generator import generate_grid
    from fluxops.grid.map_assets import build_map_assets, build_meter_points, to_ipc_bytes
    from fluxops.grid.summaries import feeder_summaries, kpis
    from fluxops.grid.topology import GridTopology
    from fluxops.grid.validation import validate_grid

    base = _rss_mb()
    t0 = time.perf_counter()
    grid = generate_grid(preset, seed=42)
    t1 = time.perf_counter()
    gen_rss = _rss_mb()
    validate_grid(grid)
    t2 = time.perf_counter()
    topo = GridTopology.build(grid)
    t3 = time.perf_counter()
    fs = feeder_summaries(grid, topo)
    k = kpis(grid)
    out: dict[str, Any] = {
        "preset": preset,
        "generate_s": t1 - t0,
        "validate_s": t2 - t1,
        "topology_s": t3 - t2,
        "import_rss_mb": base,
        "generate_rss_mb": gen_rss,
        "counts": grid.counts(),
        "map_assets": k["map_assets"],
        "peak_mw": k["peak_mw"],
        "customers_by_class": k["customers_by_class"],
        "critical": k["critical_customers"],
        "length_km": k["length_km"],
        "ties": int((grid.devices.device_type == "tie_switch").sum()),
        "feeders_per_sub": grid.feeders.groupby("substation_id").size().describe().to_dict(),
        "customers_per_feeder": fs.customers.describe().to_dict(),
        "feeder_peak_mva": (fs.peak_kva / 1000).describe().to_dict(),
        "max_loading_pct": float(fs.max_segment_loading_pct.max()),
        "max_drop_pct": float(fs.max_voltage_drop_pct.max()),
        "untied_feeders": int((fs.tie_points.map(len) == 0).sum()),
        "meters_per_transformer": len(grid.meters) / max(len(grid.transformers), 1),
    }
    if preset != "stress":
        t4 = time.perf_counter()
        table = build_map_assets(grid, topo)
        out["map_build_s"] = time.perf_counter() - t4
        out["map_bytes"] = {str(c): len(to_ipc_bytes(table, c)) for c in (None, "lz4", "zstd")}
        meters = build_meter_points(grid)
        out["meter_bytes"] = {str(c): len(to_ipc_bytes(meters, c)) for c in (None, "zstd")}
    out["total_rss_mb"] = _rss_mb()
    return out


def run(preset: str) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", preset]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def render(results: list[dict[str, Any]]) -> str:
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    lines = [
        "## Synthetic utility generation (issue 2 §3, §8)",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared with other jobs), "
        f"{mem_gib:.0f} GiB RAM, Python {platform.python_version()}. Run by `benchmarks/bench_generate.py`, "
        "seed 42, one fresh process per preset; memory is the process's peak RSS (ru_maxrss), which includes "
        "the import baseline shown.",
        "",
        _row(
            "preset",
            "generate s",
            "validate s",
            "topology s",
            "peak RSS after generate (MB)",
            "import baseline (MB)",
            "peak RSS, all steps (MB)",
        ),
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            _row(
                r["preset"],
                f"{r['generate_s']:.2f}",
                f"{r['validate_s']:.2f}",
                f"{r['topology_s']:.2f}",
                f"{r['generate_rss_mb']:,.0f}",
                f"{r['import_rss_mb']:,.0f}",
                f"{r['total_rss_mb']:,.0f}",
            )
        )
    lines += [
        "",
        "Anchor: `demo` must generate well under a minute, `houston` in a few minutes within a few GB.",
        "",
        _row(
            "preset",
            "substations",
            "feeders",
            "segments",
            "devices",
            "poles",
            "transformers",
            "meters",
            "map assets",
            "ties",
            "feeders without tie",
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        c = r["counts"]
        lines.append(
            _row(
                r["preset"],
                *(
                    f"{c[k]:,}"
                    for k in (
                        "substations",
                        "feeders",
                        "line_segments",
                        "devices",
                        "poles",
                        "transformers",
                        "meters",
                    )
                ),
                f"{r['map_assets']:,}",
                r["ties"],
                r["untied_feeders"],
            )
        )
    lines += [
        "",
        _row(
            "preset",
            "feeders/substation (mean, max)",
            "customers/feeder (min–max)",
            "feeder peak MVA (mean, max)",
            "max segment loading %",
            "max primary drop %",
            "meters/transformer",
            "peak MW",
        ),
        "|---|---|---|---|---:|---:|---:|---:|",
    ]
    for r in results:
        fps, cpf, mva = r["feeders_per_sub"], r["customers_per_feeder"], r["feeder_peak_mva"]
        lines.append(
            _row(
                r["preset"],
                f"{fps['mean']:.2f}, {fps['max']:.0f}",
                f"{cpf['min']:,.0f}–{cpf['max']:,.0f}",
                f"{mva['mean']:.2f}, {mva['max']:.2f}",
                f"{r['max_loading_pct']:.1f}",
                f"{r['max_drop_pct']:.2f}",
                f"{r['meters_per_transformer']:.2f}",
                f"{r['peak_mw']:,.1f}",
            )
        )
    hou = next((r for r in results if r["preset"] == "houston"), None)
    if hou is not None:
        lines += [
            "",
            "`houston` against the seed's hierarchy:",
            "",
            _row("element", "seed", "generated", "ratio"),
            "|---|---:|---:|---:|",
        ]
        for key, want in SEED_HIERARCHY.items():
            got = hou["counts"][key]
            lines.append(_row(key, f"{want:,}", f"{got:,}", f"{got / want:.3f}"))
    payload = [r for r in results if "map_bytes" in r]
    if payload:
        lines += [
            "",
            "Map payloads (`fluxops.grid.map_assets`), Arrow IPC stream bytes:",
            "",
            _row(
                "preset",
                "map assets",
                "build s",
                "uncompressed",
                "lz4",
                "zstd",
                "meters uncompressed",
                "meters zstd",
            ),
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in payload:
            mb, mt = r["map_bytes"], r["meter_bytes"]
            lines.append(
                _row(
                    r["preset"],
                    f"{r['map_assets']:,}",
                    f"{r['map_build_s']:.2f}",
                    f"{mb['None']:,}",
                    f"{mb['lz4']:,}",
                    f"{mb['zstd']:,}",
                    f"{mt['None']:,}",
                    f"{mt['zstd']:,}",
                )
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--presets", nargs="*", default=["tiny", "demo", "houston"])
    ap.add_argument("--stress", action="store_true", help="also run the ~2.5 M meter preset (minutes, GBs)")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    presets = list(args.presets) + (["stress"] if args.stress else [])
    results = []
    for preset in presets:
        r = run(preset)
        print(
            f"{preset}: generate {r['generate_s']:.2f} s, peak RSS {r['generate_rss_mb']:.0f} MB", flush=True
        )
        results.append(r)
    text = render(results)
    if not args.no_write:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
