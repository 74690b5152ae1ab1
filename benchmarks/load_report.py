"""The figures `bench_load_api` reports for one load phase (a profile run for a while against the same
server and feed): per-route latency percentiles, offered and achieved rate, server CPU per answer, and
the server's RSS over the phase (slope of every sample and of the per-window floor)."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

try:  # python -m benchmarks.bench_load_api
    from benchmarks.load_client import MIX, NO_STATUS, TARGET_ROUTES, Sample
except ImportError:  # python benchmarks/bench_load_api.py
    from load_client import MIX, NO_STATUS, TARGET_ROUTES, Sample  # type: ignore[no-redef]

BUSY_LOAD = 3.0  # 1-min load average above which a run is labelled busy (the project's rule)
TARGET_MS = 200.0
FLOOR_WINDOW_S = 30.0


@dataclass
class Phase:
    profile: str  # "closed" or "console"
    clients: int
    think_mean_s: float  # 0: closed loop
    samples: list[Sample]
    wall_s: float
    server_cpu_s: float
    clients_cpu_s: float
    fed: int  # readings the feed posted during the phase
    fed_rate: float
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    rss: list[tuple[float, float]] = field(default_factory=list)  # (s since the phase began, MB)

    @property
    def busy(self) -> bool:
        return self.load_before[0] > BUSY_LOAD

    @property
    def ok(self) -> list[Sample]:
        return [s for s in self.samples if s.status in (200, 304)]


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs), q)) if xs else float("nan")


def slope_mb_per_min(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) samples, in MB per minute (nan with fewer than 3)."""
    if len(points) < 3:
        return float("nan")
    t, v = np.asarray(points, dtype=float).T
    return float(np.polyfit(t, v, 1)[0] * 60.0)


def floor_points(
    points: list[tuple[float, float]], window_s: float = FLOOR_WINDOW_S
) -> list[tuple[float, float]]:
    """The lowest sample of each ``window_s`` window: what the process keeps between its transient
    peaks (a refresh, a payload being encoded), so its slope is growth, not noise."""
    if not points:
        return []
    t = np.asarray([p[0] for p in points])
    v = np.asarray([p[1] for p in points])
    win = (t // window_s).astype(int)
    out = []
    for w in np.unique(win):
        sel = win == w
        i = int(np.argmin(v[sel]))
        out.append((float(t[sel][i]), float(v[sel][i])))
    return out


def _label(p: Phase) -> str:
    lb, la = p.load_before, p.load_after
    word = "**busy**" if p.busy else "quiet"
    return (
        f"{word} (1-min load average {lb[0]:.1f} before, 5-min {lb[1]:.1f}; {la[0]:.1f} at the end, "
        "the run's own server, feed and clients included)"
    )


def _rows(p: Phase) -> list[str]:
    rows = []
    for route in MIX:
        xs = [s.ms for s in p.ok if s.route == route]
        n304 = sum(1 for s in p.ok if s.route == route and s.status == 304)
        bad = Counter(s.status for s in p.samples if s.route == route and s.status not in (200, 304))
        note = f"{n304:,} × 304" if route == "grid_state" else ""
        if bad:
            codes = ", ".join(f"{n} × {'no status' if c == NO_STATUS else c}" for c, n in sorted(bad.items()))
            note = (note + "; " if note else "") + f"errors: {codes}"
        target = " (target ≤ 200 ms)" if route in TARGET_ROUTES else ""
        rows.append(
            f"| {route}{target} | {len(xs):,} | {len(xs) / p.wall_s:.1f} | {pct(xs, 50):.0f} | "
            f"{pct(xs, 95):.0f} | {pct(xs, 99):.0f} | {note} |"
        )
    all_ms = [s.ms for s in p.ok]
    errors = len(p.samples) - len(p.ok)
    rows.append(
        f"| **all** | {len(p.ok):,} | {len(p.ok) / p.wall_s:.1f} | {pct(all_ms, 50):.0f} | "
        f"{pct(all_ms, 95):.0f} | {pct(all_ms, 99):.0f} | {errors} errors |"
    )
    return rows


def verdict(p: Phase) -> str:
    """Which target routes had p99 ≤ 200 ms in this phase, and what that may be taken to show."""
    p99 = {r: pct([s.ms for s in p.ok if s.route == r], 99) for r in TARGET_ROUTES}
    met = [r for r, v in p99.items() if v <= TARGET_MS]
    missed = [f"{r} {v:,.0f} ms" for r, v in p99.items() if not v <= TARGET_MS]
    figures = f"p99 ≤ 200 ms on {', '.join(met) or 'none'}" + (
        f"; missed: {', '.join(missed)}" if missed else ""
    )
    if p.profile == "closed":
        scope = "this is the issue's 64-client figure" if p.clients == 64 else f"{p.clients} clients, not 64"
        if p.busy:
            scope += "; on a busy machine it says little about the target (CPU share dominates)"
    else:
        scope = (
            f"think-time profile (mean {p.think_mean_s:g} s): it shows what {p.clients} operator consoles "
            "see, not that the closed-loop target is met"
        )
    return f"Target: {figures} — {scope}."


def render(p: Phase) -> list[str]:
    n_req = len(p.samples)
    offered = (
        "as fast as answered (closed loop, zero think time)"
        if p.think_mean_s <= 0
        else f"{p.clients / p.think_mean_s:,.1f} requests/s nominal ({p.clients} clients ÷ "
        f"{p.think_mean_s:g} s mean think time; less while answers take time)"
    )
    vals = [v for _t, v in p.rss]
    floor = floor_points(p.rss)
    half = [pt for pt in p.rss if pt[0] >= (p.rss[-1][0] / 2 if p.rss else 0)]
    title = "closed loop" if p.profile == "closed" else f"operator consoles, think time {p.think_mean_s:g} s"
    lines = [
        f"#### Profile `{p.profile}`: {p.clients} clients, {title}, {p.wall_s:.0f} s — {_label(p)}",
        "",
        f"Offered: {offered}. Achieved: {len(p.ok) / p.wall_s:,.1f} answers/s ({len(p.ok):,} answered, "
        f"{n_req - len(p.ok)} errors). Feed: {p.fed_rate:,.0f} readings/s ({p.fed:,} readings)"
        + (" — below the issue's 5,000/s" if p.fed_rate < 5000 else "")
        + ".",
        "",
        "| route | requests | req/s | p50 | p95 | p99 | notes |",
        "|---|---|---|---|---|---|---|",
        *_rows(p),
        "",
        f"Server CPU: {p.server_cpu_s:,.1f} CPU-s ({p.server_cpu_s / p.wall_s:.2f} of {os.cpu_count()} "
        "cores; "
        f"**{1000 * p.server_cpu_s / max(len(p.ok), 1):.1f} ms per answered request**, ingestion, analytics "
        f"refreshes and the demo fault feed included). Clients: {1000 * p.clients_cpu_s / max(n_req, 1):.2f} "
        "ms CPU per request.",
        "",
        (
            f"Server RSS: start {vals[0]:,.0f} MB, end {vals[-1]:,.0f} MB, max {max(vals):,.0f} MB; "
            f"slope **{slope_mb_per_min(p.rss):+,.1f} MB/min** over every sample "
            f"({slope_mb_per_min(half):+,.1f} over the second half), floor (lowest of each "
            f"{FLOOR_WINDOW_S:.0f} s) {floor[0][1]:,.0f} → {floor[-1][1]:,.0f} MB, slope "
            f"**{slope_mb_per_min(floor):+,.1f} MB/min**."
            if vals
            else "Server RSS: no samples."
        ),
        "",
        verdict(p),
        "",
    ]
    return lines
