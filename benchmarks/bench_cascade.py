"""Cascade engine: one cascade on `demo` and `houston`, Monte Carlo on `demo`, vs pandapower in the same run.

Anchors (issue 4 §5): one cascade on `demo` "well under 100 ms"; pandapower `runpp` on the same sub-grid
in the same process, times the number of power flows our cascade solved, is what a pandapower-based
cascade would at least cost. Patient zeros: a fixed sample (seeded) of line segments, feeder breakers and
substation transformers. Writes docs/benchmarks/cascade.md.
Run: ``.venv/bin/python benchmarks/bench_cascade.py [--mc-runs 1000] [--skip-houston]``
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "benchmarks" / "cascade.md"


def _patient_zeros(grid: Any, n: int, seed: int = 7) -> list[str]:
    rng = np.random.default_rng(seed)
    segs = list(rng.choice(grid.line_segments["segment_id"].to_numpy(), n, replace=False))
    brks = list(rng.choice(grid.feeders["head_device_id"].to_numpy(), max(1, n // 3), replace=False))
    stx = list(
        rng.choice(grid.substation_transformers["transformer_id"].to_numpy(), max(1, n // 3), replace=False)
    )
    return [str(x) for x in segs + brks + stx]


def bench_cascades(preset: str, n: int) -> dict[str, Any]:
    import fluxops.cascade.state as state_mod
    from fluxops.cascade.context import build_context, local_context
    from fluxops.cascade.engine import resolve_patient_zero, run_cascade, substation_of
    from fluxops.cascade.scenarios import get_scenario
    from fluxops.grid.generator import generate_grid

    t0 = time.perf_counter()
    grid = generate_grid(preset, seed=42)
    t_gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    ctx = build_context(grid)
    t_ctx = time.perf_counter() - t0
    sc = get_scenario("summer_peak")
    pzs = _patient_zeros(grid, n)
    # warm the per-substation sub-grid contexts (built once per substation set, then cached)
    t0 = time.perf_counter()
    for pz in pzs:
        local_context(ctx, {substation_of(ctx, resolve_patient_zero(ctx, [pz])[0])})
    t_local = time.perf_counter() - t0
    calls = {"n": 0}
    real = state_mod.run_powerflow

    def counting(*a: Any, **k: Any) -> Any:
        calls["n"] += 1
        return real(*a, **k)

    state_mod.run_powerflow = counting  # type: ignore[assignment]
    times, pfs, waves, cust = [], [], [], []
    slowest = pzs[0]
    try:
        for pz in pzs:
            best = float("inf")
            for _ in range(3):  # best of 3: the machine is shared, the minimum is the engine's own time
                calls["n"] = 0
                t = time.perf_counter()
                r = run_cascade(ctx, patient_zero=[pz], scenario=sc)
                best = min(best, (time.perf_counter() - t) * 1000.0)
            times.append(best)
            slowest = pz if best >= max(times) else slowest
            pfs.append(calls["n"])
            waves.append(r.totals.waves)
            cust.append(r.totals.peak_customers_out)
    finally:
        state_mod.run_powerflow = real  # type: ignore[assignment]
    # pandapower on the sub-grid of the first line-segment patient zero
    pp_ms, pp_ours_ms, pp_buses = _pandapower(ctx, pzs[0], sc)
    return {
        "preset": preset,
        "buses": int(ctx.cg.n_bus),
        "customers": int(ctx.cg.total_customers),
        "gen_s": t_gen,
        "ctx_s": t_ctx,
        "local_warm_s": t_local,
        "n": len(pzs),
        "median_ms": statistics.median(times),
        "p90_ms": float(np.percentile(times, 90)),
        "max_ms": max(times),
        "slowest": slowest,
        "median_pfs": statistics.median(pfs),
        "max_waves": max(waves),
        "median_customers": statistics.median(cust),
        "pp_runpp_ms": pp_ms,
        "ours_pf_ms": pp_ours_ms,
        "pp_buses": pp_buses,
        "pp_cascade_floor_ms": pp_ms * statistics.median(pfs) if pp_ms else None,
    }


def _pandapower(ctx: Any, pz: str, sc: Any) -> tuple[float | None, float, int]:
    from fluxops.cascade.context import local_context, scenario_loads
    from fluxops.cascade.engine import resolve_patient_zero, substation_of
    from fluxops.network.powerflow import run_powerflow

    local = local_context(ctx, {substation_of(ctx, resolve_patient_zero(ctx, [pz])[0])})
    p, q = scenario_loads(local, sc.load_multiplier, sc.residential_heating_factor)
    ours = []
    for _ in range(10):
        t = time.perf_counter()
        run_powerflow(local.cg, p_kw=p, q_kvar=q)
        ours.append((time.perf_counter() - t) * 1000.0)
    try:
        import pandapower as pp

        from fluxops.network.pandapower_export import to_pandapower
    except ImportError:
        return None, statistics.median(ours), int(local.cg.n_bus)
    net = to_pandapower(local.cg, p_kw=p, q_kvar=q)
    pp.runpp(net)  # warm-up (numba compile)
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        pp.runpp(net)
        runs.append((time.perf_counter() - t) * 1000.0)
    return statistics.median(runs), statistics.median(ours), int(local.cg.n_bus)


def bench_monte_carlo(runs: int) -> dict[str, Any]:
    from fluxops.cascade.context import build_context
    from fluxops.cascade.montecarlo import MonteCarloConfig, run_monte_carlo
    from fluxops.cascade.scenarios import get_scenario
    from fluxops.grid.generator import generate_grid

    grid = generate_grid("demo", seed=42)
    ctx = build_context(grid)
    # a borderline case: the substation transformer whose loss spreads (bus-tie transfer, then a hot-spot
    # trip) at 1.1x summer load but not at 0.9x, so the draws decide; else the worst one
    import dataclasses

    from fluxops.cascade.engine import run_cascade

    sc0 = get_scenario("summer_peak")

    def spreads(x: str, m: float) -> bool:
        r = run_cascade(ctx, patient_zero=[x], scenario=dataclasses.replace(sc0, load_multiplier=m))
        return any(w.customers_out_new > 0 for w in r.waves[1:])

    stx = [str(x) for x in grid.substation_transformers["transformer_id"]]
    border = [x for x in stx if spreads(x, 1.1) and not spreads(x, 0.9)]
    pz = border[0] if border else stx[0]
    t = time.perf_counter()
    res = run_monte_carlo(
        ctx, patient_zero=[pz], scenario=get_scenario("summer_peak"), mc=MonteCarloConfig(runs=runs)
    )
    dt = time.perf_counter() - t
    d = res.distributions
    return {
        "runs": runs,
        "patient_zero": pz,
        "seconds": dt,
        "ms_per_run": dt * 1000.0 / runs,
        "customers_out": (d["customers_out"].p10, d["customers_out"].p50, d["customers_out"].p90),
        "mwh": (d["mwh_unserved"].p10, d["mwh_unserved"].p50, d["mwh_unserved"].p90),
        "p_beyond": res.p_cascade_beyond_first_wave,
    }


def bench_screening() -> dict[str, Any]:
    from fluxops.cascade.context import build_context
    from fluxops.cascade.scenarios import get_scenario
    from fluxops.cascade.screening import run_screening
    from fluxops.grid.generator import generate_grid

    ctx = build_context(generate_grid("demo", seed=42))
    t = time.perf_counter()
    res = run_screening(ctx, scenario=get_scenario("summer_peak"))
    dt = time.perf_counter() - t
    top = res.candidates[0]
    return {
        "seconds": dt,
        "cascades": res.cascades_run,
        "elements": res.elements_screened,
        "ms_per_cascade": dt * 1000.0 / max(res.cascades_run, 1),
        "top": f"{top.element_id} ({top.element_type}, {top.customers_out:,} customers, "
        f"{top.risk_customer_minutes:,.0f} expected customer-minutes/yr)",
        "propagating": sum(1 for c in res.candidates if c.propagated),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mc-runs", type=int, default=1000)
    ap.add_argument("--n", type=int, default=15)
    ap.add_argument("--skip-houston", action="store_true")
    ap.add_argument("--screening", action="store_true", help="also time the full N-1 screening of demo")
    args = ap.parse_args()
    rows = [bench_cascades("demo", args.n)]
    if not args.skip_houston:
        rows.append(bench_cascades("houston", max(3, args.n // 3)))
    mc = bench_monte_carlo(args.mc_runs)
    scr = bench_screening() if args.screening else None
    lines = [
        "## Cascade engine",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores shared with other "
        f"work; Python {platform.python_version()}. Scenario `summer_peak` (42 °C, design peak). Patient "
        "zeros: a seeded sample of line segments, feeder breakers and substation transformers. Times are "
        "wall-clock per cascade, best of 3 runs each (protection, FLISR with power-flow checks, "
        "overload/thermal waves, outage "
        "groups, restoration plan), after the per-substation sub-grid contexts are built (a one-off, cached "
        "per grid).",
        "",
        "| grid | buses | customers | cascades | median ms | p90 ms | max ms "
        "| power flows / cascade (median) | our PF on sub-grid ms | pandapower runpp on sub-grid ms "
        "| pandapower floor for the same cascade ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        pp = f"{r['pp_runpp_ms']:.1f} ({r['pp_buses']} buses)" if r["pp_runpp_ms"] else "n/a"
        floor = f"{r['pp_cascade_floor_ms']:.0f}" if r["pp_cascade_floor_ms"] else "n/a"
        lines.append(
            f"| {r['preset']} | {r['buses']:,} | {r['customers']:,} | {r['n']} | {r['median_ms']:.1f} "
            f"| {r['p90_ms']:.1f} | {r['max_ms']:.1f} ({r['slowest']}) | {r['median_pfs']:.0f} "
            f"| {r['ours_pf_ms']:.2f} | {pp} "
            f"| {floor} |"
        )
    lines += [
        "",
        "One-off costs: "
        + "; ".join(
            f"{r['preset']}: generate {r['gen_s']:.1f} s, compile + context {r['ctx_s']:.2f} s, "
            f"sub-grid contexts for the sample {r['local_warm_s']:.1f} s"
            for r in rows
        )
        + ".",
        "",
        f"Monte Carlo on `demo` (loss of {mc['patient_zero']}, a substation transformer whose loss "
        "spreads at 1.1× but not 0.9× summer load; `summer_peak`, load σ 8 %, ambient σ 2 °C): "
        f"{mc['runs']} runs in {mc['seconds']:.1f} s ({mc['ms_per_run']:.1f} ms per run). Customers out "
        f"P10/P50/P90 = {mc['customers_out'][0]:.0f} / {mc['customers_out'][1]:.0f} / "
        f"{mc['customers_out'][2]:.0f}; "
        f"MWh unserved P10/P50/P90 = {mc['mwh'][0]:.1f} / {mc['mwh'][1]:.1f} / {mc['mwh'][2]:.1f}; "
        f"share of runs where the cascade spread beyond the first protective operation {mc['p_beyond']:.2f}.",
        "",
        *(
            [
                f"N-1 screening of `demo` (`summer_peak`): {scr['cascades']:,} cascades (one per section, "
                f"every device, substation transformer and substation) ranking {scr['elements']:,} elements "
                f"in {scr['seconds']:.0f} s ({scr['ms_per_cascade']:.1f} ms per cascade); "
                f"{scr['propagating']:,} elements whose loss spreads beyond the first protective operation; "
                f"top: {scr['top']}.",
                "",
            ]
            if scr
            else []
        ),
        "Reading: the pandapower floor is `runpp` time × the number of power flows our engine solved for the "
        "same cascade (FLISR candidate checks and per-wave flows) — a pandapower-based cascade would cost at "
        "least that, before its own topology work.",
        "",
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
