"""Power flow, N-1 and exact betweenness: fluxops.network vs pandapower / networkx in the same run.

Run: ``.venv/bin/python benchmarks/bench_powerflow.py [--quick]``; writes docs/benchmarks/powerflow.md.
Anchors (issue #4 §5, domain-facts §1.2/§1.4): pandapower ``runpp`` ≈ 43 ms on mv_oberrhein (numba),
N-1 ≈ 52 ms per contingency. Both sides solve the same physics: line charging on both (the import
carries pandapower's capacitance), ``pfe_kw = i0_percent = 0`` on the pandapower side (no magnetizing
branch in our model); N-1 results are compared contingency by contingency (max loading, min voltage).
"""

from __future__ import annotations

import argparse
import copy
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandapower as pp
import pandapower.networks as pn

from fluxops.grid.importers.pandapower import import_pandapower_net
from fluxops.grid.models import Grid, grid_from_tables
from fluxops.network.centrality import centrality
from fluxops.network.compiled import CompiledGrid, compile_grid
from fluxops.network.contingency import run_n_minus_1
from fluxops.network.energization import energize
from fluxops.network.pandapower_export import to_pandapower
from fluxops.network.powerflow import prepare_sweep, run_powerflow

OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "powerflow.md"
READING = """Reading: "single power flow" for fluxops includes energization, BFS and factorization of the
topology (the smaller figure reuses them, as cascade waves and Monte Carlo load draws do). N-1 rows
compare the worst line loading and the lowest voltage of every contingency with pandapower's (same
physics, per case); pandapower on the `demo` extract is timed on an evenly spaced sample of the outages,
ours on all of them. Our N-1 groups outages by substation transformer tree and solves each group as one
multi-column sweep (docs/physics.md §3); a pandapower loop re-solves the whole net each time.
Betweenness: exact on every bus (closed form on the radial operating forest, igraph where loops exist)
against networkx's sampled estimator (`k` sources); "exact Brandes" is networkx's per-source time ×
number of buses.
"""


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000.0 * statistics.median(times)


def numba_state() -> str:
    try:
        import numba

        return f"numba {numba.__version__}"
    except ImportError:
        return "numba not installed (pandapower runs its pure-Python NR path)"


def oberrhein() -> tuple[Any, Any, CompiledGrid]:
    net = pn.mv_oberrhein()
    grid, _ = import_pandapower_net(net, name="mv_oberrhein")
    ref = copy.deepcopy(net)
    ref.trafo["pfe_kw"] = 0.0
    ref.trafo["i0_percent"] = 0.0
    return net, ref, compile_grid(grid)


def single_pf(ref: Any, cg: CompiledGrid, rows: list[str]) -> None:
    pp_ms = median_ms(lambda: pp.runpp(ref), 7)
    ours_ms = median_ms(lambda: run_powerflow(cg), 21)
    plan = prepare_sweep(cg, energize(cg))
    reuse_ms = median_ms(lambda: run_powerflow(cg, plan=plan), 51)
    r = run_powerflow(cg)
    rows.append(
        f"| single power flow, mv_oberrhein ({cg.n_bus} buses incl. switch buses) | {pp_ms:.1f} ms | "
        f"{ours_ms:.2f} ms ({reuse_ms:.2f} ms reusing the topology plan) | {pp_ms / ours_ms:.0f}× | "
        f"{r.iterations} it, mismatch {r.max_mismatch_mva:.1e} MVA |"
    )


def n1_oberrhein(ref: Any, cg: CompiledGrid, rows: list[str], quick: bool) -> None:
    lines = list(ref.line.index)[: 40 if quick else None]
    edges = np.array([np.flatnonzero(cg.edge_ids == f"SEG-{i}")[0] for i in lines])
    pp_max, pp_vmin = [], []
    t0 = time.perf_counter()
    for i in lines:
        ref.line.at[i, "in_service"] = False
        pp.runpp(ref)
        lp = ref.res_line.loading_percent.to_numpy()
        pp_max.append(np.nanmax(lp))
        pp_vmin.append(np.nanmin(ref.res_bus.vm_pu.to_numpy()[ref.bus.vn_kv.to_numpy() < 100]))
        ref.line.at[i, "in_service"] = True
    pp_each = 1000.0 * (time.perf_counter() - t0) / len(lines)
    ours_total = median_ms(lambda: run_n_minus_1(cg, edges=edges), 5)
    res = run_n_minus_1(cg, edges=edges)
    # pandapower's max covers lines only; ours covers lines and devices: compare on lines
    line_only = []
    for e in edges:
        r = run_powerflow(cg, failed_edges=[e])
        seg = cg.edge_kind == 0
        line_only.append(np.nanmax(np.where(seg & r.edge_energized, r.loading_pct, np.nan), initial=0.0))
    d_load = float(np.max(np.abs(np.array(pp_max) - np.array(line_only))))
    d_v = float(np.max(np.abs(np.array(pp_vmin) - res.min_vm_pu)))
    ours_each = ours_total / len(lines)
    rows.append(
        f"| N-1 mv_oberrhein, {len(lines)} line outages | {pp_each:.1f} ms each "
        f"({pp_each * len(lines) / 1000:.1f} s) | {ours_each:.3f} ms each "
        f"({ours_total:.0f} ms, {res.method}) | "
        f"{pp_each / ours_each:.0f}× | max Δ loading {d_load:.1e} %, max Δ min-V {d_v:.1e} pu |"
    )


def demo_substation(grid: Grid, k: int) -> Grid:
    """The k-th substation of a generated grid with everything it owns (a realistic feeder set)."""
    sub = grid.substations["substation_id"].iloc[k]
    tables = {}
    for name, df in grid.tables().items():
        if "substation_id" in df.columns:
            tables[name] = df[df["substation_id"] == sub]
        else:
            tables[name] = df[
                df["meter_id"].isin(grid.meters.loc[grid.meters.substation_id == sub, "meter_id"])
            ]
    devices = tables["devices"]
    tables["devices"] = devices.assign(
        tie_feeder_id=devices["tie_feeder_id"].where(
            devices["tie_feeder_id"].isin(tables["feeders"]["feeder_id"])
        )
    )
    return grid_from_tables(grid.meta, tables)


def n1_demo(rows: list[str], quick: bool) -> Grid:
    from fluxops.grid.generator import generate_grid

    grid = generate_grid("demo", seed=42)
    cg_all = compile_grid(grid)
    t_all = median_ms(lambda: run_powerflow(cg_all), 3)
    res_all_t0 = time.perf_counter()
    res_all = run_n_minus_1(cg_all)
    all_s = time.perf_counter() - res_all_t0
    rows.append(
        f"| single power flow, whole `demo` ({cg_all.n_bus:,} buses, {len(grid.feeders)} feeders) | – | "
        f"{t_all:.0f} ms | – | converged |"
    )
    rows.append(
        f"| N-1 whole `demo`, all {len(res_all.edges):,} line segments | – | "
        f"{1000 * all_s / len(res_all.edges):.3f} ms "
        f"each ({all_s:.1f} s) | – | {int(res_all.converged.sum()):,} converged |"
    )
    # the substation with the most feeders (ties between its own feeders stay inside the extract)
    busiest = grid.feeders.groupby("substation_id").size().idxmax()
    sub = demo_substation(grid, int(np.flatnonzero(grid.substations["substation_id"] == busiest)[0]))
    cg = compile_grid(sub)
    net = to_pandapower(cg)
    pp.runpp(net)
    edges = np.flatnonzero(cg.edge_kind == 0)
    sample = edges[:: max(1, len(edges) // (15 if quick else 40))]
    line_of_edge = dict(zip(net.line["edge"].astype(int), net.line.index, strict=True))
    pp_max = []
    t0 = time.perf_counter()
    for e in sample:
        li = line_of_edge[int(e)]
        net.line.at[li, "in_service"] = False
        pp.runpp(net)
        pp_max.append(np.nanmax(net.res_line.loading_percent.to_numpy(), initial=0.0))
        net.line.at[li, "in_service"] = True
    pp_each = 1000.0 * (time.perf_counter() - t0) / len(sample)
    ours_total = median_ms(lambda: run_n_minus_1(cg, edges=edges), 3)
    ours_each = ours_total / len(edges)
    res = run_n_minus_1(cg, edges=sample)
    seg = cg.edge_kind == 0
    line_max = [
        np.nanmax(np.where(seg & r.edge_energized, r.loading_pct, np.nan), initial=0.0)
        for r in (run_powerflow(cg, failed_edges=[e]) for e in sample)
    ]
    d_load = float(np.max(np.abs(np.array(pp_max) - np.array(line_max))))
    rows.append(
        f"| N-1 `demo` substation {sub.substations.substation_id.iloc[0]} "
        f"({len(sub.feeders)} feeders, {cg.n_bus:,} buses), "
        f"{len(edges)} line outages (pandapower: {len(sample)} sampled) | {pp_each:.0f} ms each | "
        f"{ours_each:.3f} ms each ({ours_total:.0f} ms, {res.method}) | {pp_each / ours_each:.0f}× | "
        f"max Δ loading {d_load:.1e} % |"
    )
    return grid


def betweenness(rows: list[str], preset: str, quick: bool) -> None:
    from fluxops.grid.generator import generate_grid

    grid = generate_grid(preset, seed=42)
    cg = compile_grid(grid)
    t0 = time.perf_counter()
    c = centrality(cg)
    ours_s = time.perf_counter() - t0
    g = nx.Graph()
    g.add_nodes_from(range(cg.n_bus))
    live = cg.closed_state
    g.add_edges_from(zip(cg.from_bus[live].tolist(), cg.to_bus[live].tolist(), strict=True))
    k = 10 if quick else 50
    t0 = time.perf_counter()
    approx = nx.betweenness_centrality(g, k=k, normalized=False, seed=0)
    nx_s = time.perf_counter() - t0
    est = np.array([approx[i] for i in range(cg.n_bus)])
    top = np.argsort(-c.betweenness)[:100]
    top_est = set(np.argsort(-est)[:100].tolist())
    overlap = len(top_est & set(top.tolist()))
    rel = np.abs(est[top] - c.betweenness[top]) / c.betweenness[top]
    exact_nx_s = nx_s / k * cg.n_bus
    rows.append(
        f"| exact betweenness, `{preset}` ({cg.n_bus:,} buses, {int(live.sum()):,} live edges) | "
        f"networkx k={k} sampling {nx_s:.1f} s (exact Brandes ≈ {exact_nx_s / 3600:.1f} h extrapolated) | "
        f"exact {ours_s:.2f} s | "
        f"{nx_s / ours_s:.0f}× vs sampling | sampled top-100 overlap {overlap}/100, median rel. error of the "
        f"sample on the top 100: {100 * float(np.median(rel)):.0f} % (the operating graph is a forest of "
        f"{cg.n_source} source trees; k={k} samples leave most trees unsampled) |"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer pandapower contingencies (CI smoke)")
    ap.add_argument("--betweenness-preset", default="houston")
    args = ap.parse_args()
    rows: list[str] = []
    _, ref, cg = oberrhein()
    single_pf(ref, cg, rows)
    print(rows[-1], flush=True)
    n1_oberrhein(ref, cg, rows, args.quick)
    print(rows[-1], flush=True)
    n1_demo(rows, args.quick)
    print(*rows[-3:], sep="\n", flush=True)
    betweenness(rows, args.betweenness_preset, args.quick)
    print(rows[-1], flush=True)
    header = [
        "## Power flow, N-1 and betweenness (`benchmarks/bench_powerflow.py`)",
        "",
        f"Machine: {platform.processor() or platform.machine()}, 2 vCPU / 24 GiB shared workplace box; "
        f"Python {sys.version.split()[0]}; pandapower {pp.__version__} ({numba_state()}); "
        f"networkx {nx.__version__}. "
        "Medians after a warm-up; ±20 % noise (other jobs share the 2 cores).",
        "Same physics on both sides (mv_oberrhein with its line charging; no magnetizing branch); "
        "results compared per case.",
        "",
        "| case | anchor | fluxops.network | speed-up | agreement |",
        "|---|---|---|---|---|",
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(header + rows) + "\n\n" + READING)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
