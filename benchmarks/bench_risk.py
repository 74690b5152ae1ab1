"""Asset risk (issue 12): failure-history generation and model training time on a preset, and the test
metrics of every model on the held-out split (published failure rates, 5 years, seed 0).

Anchor: the brief's scale target — ``houston`` (~400 K assets × 1,826 days) must not be a Python loop;
history generation is timed per preset. Each preset runs in a fresh subprocess (its own peak RSS).
Writes docs/benchmarks/risk.md.
Run: ``.venv/bin/python benchmarks/bench_risk.py [--presets demo houston] [--bootstrap 200]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "benchmarks" / "risk.md"
END = datetime(2026, 12, 1, tzinfo=UTC)


def _without_signals(h: Any) -> Any:
    """The same history (same failures, same truth) without the inspection records and AMI signals:
    the 'before' of the comparison."""
    from dataclasses import replace

    from fluxops.risk.ami_signals import empty_ami
    from fluxops.risk.inspection import empty_inspections

    years, events = empty_ami()
    return replace(h, inspections=empty_inspections(), ami_years=years, ami_events=events)


def _headline(ev: dict[str, Any]) -> dict[str, Any]:
    t, c = ev["test"], ev.get("ceilings", {})
    served = ev["chosen"]
    return {
        "chosen": served,
        "validation_auprc": {k: v["auprc"] for k, v in ev["validation"].items()},
        "auprc": {k: v["overall"]["auprc"] for k, v in t.items()}
        | {f"ceiling:{k}": v["overall"]["auprc"] for k, v in c.items()},
        "roc_auc": {k: v["overall"]["roc_auc"]["value"] for k, v in t.items()},
    }


def child(preset: str, bootstrap: int, gnn: bool, history_only: bool, before: bool = True) -> dict[str, Any]:
    from fluxops.grid.generator import generate_grid
    from fluxops.risk.assets import risk_assets
    from fluxops.risk.history import generate_history
    from fluxops.risk.models import TrainConfig, evaluate, fit_served
    from fluxops.risk.transformer_card import transformer_evaluation

    grid = generate_grid(preset, seed=42)
    t0, c0 = time.perf_counter(), time.process_time()
    assets = risk_assets(grid)
    t1, c1 = time.perf_counter(), time.process_time()
    h = generate_history(assets, end_utc=END, years=5, seed=0)
    t2, c2 = time.perf_counter(), time.process_time()
    rss_hist = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    base = {
        "preset": preset,
        "assets": len(assets),
        "asset_days": len(assets) * h.n_days,
        "failures": len(h.failures),
        "assets_s": t1 - t0,
        "history_s": t2 - t1,
        "assets_cpu_s": c1 - c0,
        "history_cpu_s": c2 - c1,
        "rss_after_history_mb": rss_hist,
    }
    if history_only:
        return base | {"rss_peak_mb": rss_hist, "evaluated": False}
    cfg = TrainConfig(bootstrap=bootstrap, gnn=gnn)
    ev = evaluate(h, cfg)
    t3, c3 = time.perf_counter(), time.process_time()
    fit_served(h, ev["chosen"], cfg)
    t4, c4 = time.perf_counter(), time.process_time()
    xf = transformer_evaluation(h, cfg)
    t5, c5 = time.perf_counter(), time.process_time()
    compare = {"after": _headline(ev)}
    if before:
        compare["before"] = _headline(evaluate(_without_signals(h), cfg))
    return base | {
        "inspections": len(h.inspections),
        "ami_anomaly_days": len(h.ami_events),
        "compare": compare,
        "transformer_card": {
            "chosen": xf["chosen"],
            "validation": {k: v["auprc"] for k, v in xf["validation"].items()},
            "split": xf["split"],
            "test": {k: v["overall"] for k, v in xf["test"].items()},
            "s": t5 - t4,
            "cpu_s": c5 - c4,
        },
        "evaluated": True,
        "evaluate_s": t3 - t2,
        "evaluate_cpu_s": c3 - c2,
        "fit_served_cpu_s": c4 - c3,
        "validation": ev["validation"],
        "validation_margin_auprc": ev["validation_margin_auprc"],
        "fit_served_s": t4 - t3,
        "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "chosen": ev["chosen"],
        "split": ev["split"],
        "test": {k: v["overall"] for k, v in ev["test"].items()},
        "ceilings": {k: v["overall"] for k, v in ev.get("ceilings", {}).items()},
        "by_type": {k: v["by_type"] for k, v in ev["test"].items()},
    }


def child_serving(preset: str, api_requests: int) -> dict[str, Any]:
    """Serving figures: the served LightGBM fit on every substation and labelled year, scoring every
    asset, and GET /api/risk/assets over HTTP (in-process ASGI client) on a store holding the grid."""
    import statistics
    import tempfile

    from fastapi.testclient import TestClient

    from fluxops.api.app import create_app
    from fluxops.core.config import Settings
    from fluxops.grid.generator import generate_grid
    from fluxops.risk.assets import risk_assets
    from fluxops.risk.history import generate_history
    from fluxops.risk.models import LightGBMModel, Snapshots, TrainConfig, _stack, fit_served, make_model
    from fluxops.risk.service import RiskService
    from fluxops.storage import open_store
    from fluxops.storage.risk_files import RiskFileStore

    grid = generate_grid(preset, seed=42)
    assets = risk_assets(grid)
    t0 = time.perf_counter()
    h = generate_history(assets, end_utc=END, years=5, seed=0)
    hist_s = time.perf_counter() - t0
    cfg = TrainConfig(bootstrap=0)
    # where the served fit's time goes: features of every cut-off, the float32 matrix and bins, boosting
    import numpy as np

    tp0, cp0 = time.perf_counter(), time.process_time()
    snaps = Snapshots(h)
    x, y = _stack(snaps, range(1, h.years), np.ones(len(h.assets), bool))
    tp1, cp1 = time.perf_counter(), time.process_time()
    lgbm = make_model("lightgbm", cfg)
    assert isinstance(lgbm, LightGBMModel)
    ds = lgbm.dataset(x, y)
    ds.construct()
    tp2, cp2 = time.perf_counter(), time.process_time()
    import lightgbm

    lightgbm.train(lgbm.params(), ds, num_boost_round=cfg.lgbm_rounds)
    tp3, cp3 = time.perf_counter(), time.process_time()
    profile = {
        "rows": len(y),
        "features_s": tp1 - tp0,
        "features_cpu_s": cp1 - cp0,
        "dataset_s": tp2 - tp1,
        "dataset_cpu_s": cp2 - cp1,
        "boosting_s": tp3 - tp2,
        "boosting_cpu_s": cp3 - cp2,
    }
    del x, y, ds, snaps
    t1, c1 = time.perf_counter(), time.process_time()
    model, _, _ = fit_served(h, "lightgbm", cfg)  # features of every year, fit, scores
    t2, c2 = time.perf_counter(), time.process_time()
    assert isinstance(model, LightGBMModel)
    t3 = time.perf_counter()
    x_all = Snapshots(h).at(h.years)  # features of every asset at the end of the history
    t4, c4 = time.perf_counter(), time.process_time()
    model.predict(x_all)
    t5, c5 = time.perf_counter(), time.process_time()
    out = {
        "preset": preset,
        "assets": len(assets),
        "history_s": hist_s,
        "fit_lightgbm_s": t2 - t1,
        "fit_lightgbm_cpu_s": c2 - c1,
        "features_all_s": t4 - t3,
        "score_all_s": t5 - t4,
        "score_all_cpu_s": c5 - c4,
        "profile": profile,
    }
    if api_requests <= 0:
        return out
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        store = open_store(settings)
        store.load_grid(grid)
        info = store.get_grid_info()
        assert info is not None
        svc = RiskService(RiskFileStore(Path(tmp)))
        svc.store.save_history(info.content_hash, h)
        svc.train(info.content_hash, TrainConfig(bootstrap=0))
        svc.jobs.shutdown()
        app = create_app(settings, store=store)
        token = app.state.bootstrap_token
        with TestClient(app) as client:
            hdr = {"Authorization": f"Bearer {token}"}
            lat: list[float] = []
            for i in range(api_requests + 3):
                q = {"limit": 100, "sort": "-probability" if i % 2 else "-risk_customer_minutes_per_y"}
                ts = time.perf_counter()
                r = client.get("/api/risk/assets", params=q, headers=hdr)
                if i >= 3:  # the first calls read the model's files
                    lat.append((time.perf_counter() - ts) * 1000.0)
                assert r.status_code == 200, r.text
        store.close()
    lat.sort()
    return out | {
        "api_requests": len(lat),
        "api_p50_ms": statistics.median(lat),
        "api_p90_ms": lat[int(0.9 * (len(lat) - 1))],
    }


def load_label(before: tuple[float, ...], after: tuple[float, ...]) -> str:
    """'busy' when the 1-minute load average exceeded 3 before or after the run, else 'quiet'."""
    busy = max(before[0], after[0]) > 3.0
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average before "
        f"{' '.join(f'{x:.1f}' for x in before)}, after {' '.join(f'{x:.1f}' for x in after)}: "
        f"**{'busy' if busy else 'quiet'}** "
        f"({os.cpu_count()} cores; wall times on a busy machine are upper bounds, CPU seconds in brackets)"
    )


def render_serving(rows: list[dict[str, Any]], load: str) -> list[str]:
    lines = [
        "",
        "### Serving figures (issue 12 targets)",
        "",
        f"{load}. Targets: history on `houston` "
        "(5 years) ≤ 120 s, LightGBM training on `houston` ≤ 60 s, scoring every `houston` asset ≤ 2 s, "
        "`GET /api/risk/assets` p50 ≤ 50 ms.",
        "",
        "| preset | assets | history s | LightGBM served fit s (CPU) | features of all assets s "
        "| scoring all assets s (CPU) | GET /api/risk/assets p50 / p90 ms (n) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        api = "–"
        if "api_p50_ms" in r:
            api = f"{r['api_p50_ms']:.1f} / {r['api_p90_ms']:.1f} ({r['api_requests']})"
        lines.append(
            f"| {r['preset']} | {r['assets']:,} | {r['history_s']:.1f} | {r['fit_lightgbm_s']:.1f} "
            f"({r['fit_lightgbm_cpu_s']:.1f}) | {r['features_all_s']:.2f} | {r['score_all_s']:.2f} "
            f"({r.get('score_all_cpu_s', float('nan')):.2f}) | {api} |"
        )
    prof = [r for r in rows if "profile" in r]
    if prof:
        lines += [
            "",
            "Where the LightGBM fit's time goes (a separate pass before the served fit; 63 bins, float32, "
            "1 thread, 300 rounds): wall s (CPU s)",
            "",
            "| preset | training rows | features of every cut-off | float32 matrix + bins | boosting |",
            "|---|---|---|---|---|",
        ]
        for r in prof:
            p = r["profile"]
            lines.append(
                f"| {r['preset']} | {p['rows']:,} | {p['features_s']:.1f} ({p['features_cpu_s']:.1f}) "
                f"| {p['dataset_s']:.1f} ({p['dataset_cpu_s']:.1f}) | {p['boosting_s']:.1f} "
                f"({p['boosting_cpu_s']:.1f}) |"
            )
    return lines


def _t(r: dict[str, Any], key: str) -> str:
    if f"{key}_s" not in r:
        return "–"
    return f"{r[f'{key}_s']:.1f} ({r[f'{key}_cpu_s']:.1f} CPU)"


def _fmt(r: dict[str, float]) -> str:
    if "ci_lo" in r:
        return f"{r['value']:.4f} [{r['ci_lo']:.4f}, {r['ci_hi']:.4f}]"
    return f"{r['value']:.4f}"


def render(results: list[dict[str, Any]], bootstrap: int) -> str:
    lines = [
        "## Asset risk: failure history and likelihood models (issue 12)\n",
        "`benchmarks/bench_risk.py`: grid seed 42, 5 years of history ending 2026-12-01, hazard seed 0, "
        f"published rates (docs/risk.md); held-out substations (25 %), test year = last year; "
        f"{bootstrap} bootstrap replicates for the 95 % intervals.\n",
        "Times are wall seconds with this process's CPU seconds in brackets: the machine is shared, so wall "
        "time can be many times the CPU time.\n",
        "| preset | assets | asset-days | failures | asset table s | history s | evaluate s | served fit s "
        "| peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['preset']} | {r['assets']:,} | {r['asset_days']:,} | {r['failures']:,} "
            f"| {_t(r, 'assets')} | {_t(r, 'history')} | {_t(r, 'evaluate')} | {_t(r, 'fit_served')} "
            f"| {r['rss_peak_mb']:.0f} |"
        )
    for r in (r for r in results if r["evaluated"]):
        s = r["split"]
        lines += [
            "",
            f"**{r['preset']}** — test: {s['test_assets']:,} assets on {len(s['test_substations'])} held-out "
            f"substations, {s['test_positives']} failing in the test year; chosen by validation: "
            f"`{r['chosen']}` (validation AUPRC: "
            + ", ".join(f"{k} {v['auprc']:.4f}" for k, v in r["validation"].items())
            + ").\n",
            "| model | AUPRC | ROC AUC | Brier | ECE | top-10 % capture |",
            "|---|---|---|---|---|---|",
        ]
        for kind, m in r["test"].items():
            lines.append(
                f"| {kind} | {_fmt(m['auprc'])} | {_fmt(m['roc_auc'])} | {_fmt(m['brier'])} "
                f"| {_fmt(m['ece'])} | {_fmt(m['top10_capture'])} |"
            )
        for name, m in r.get("ceilings", {}).items():
            lines.append(
                f"| *ceiling: {name}* | {_fmt(m['auprc'])} | {_fmt(m['roc_auc'])} | {_fmt(m['brier'])} "
                f"| {_fmt(m['ece'])} | {_fmt(m['top10_capture'])} |"
            )
        if r.get("ceilings"):
            lines += [
                "",
                "Ceilings (diagnostic, from the hidden truth, never models; `risk/ceilings.py`): "
                "`known_drivers` = the truth without the unobserved condition; `own_history` = that plus "
                "the Bayes posterior of the condition from the asset's own past failures.",
            ]
        lines += [
            "",
            "By asset type (types with at least 5 failing assets in the test year), ROC AUC / AUPRC:",
            "",
        ]
        types = sorted({t for v in r["by_type"].values() for t in v})
        lines.append("| model | " + " | ".join(f"{t}" for t in types) + " |")
        lines.append("|---|" + "---|" * len(types))
        for kind, bt in r["by_type"].items():
            cells = [
                f"{bt[t]['roc_auc']:.3f} / {bt[t]['auprc']:.3f} (n={bt[t]['assets']}, +{bt[t]['positives']})"
                if t in bt
                else "–"
                for t in types
            ]
            lines.append(f"| {kind} | " + " | ".join(cells) + " |")
        lines += render_compare(r)
    return "\n".join(lines) + "\n"


def _ratio(a: float | None, b: float | None) -> str:
    return f"{100.0 * a / b:.0f} %" if a is not None and b else "–"


def render_compare(r: dict[str, Any]) -> list[str]:
    """Served model against the oracle and the known-drivers ceiling, without and with the inspection
    records and AMI signals (same failures, same truth, same split), and the transformer card."""
    cmp = r.get("compare", {})
    out: list[str] = []
    if cmp:
        out += [
            "",
            f"**{r['preset']}: inspection records and AMI signals** ({r.get('inspections', 0):,} inspection "
            f"records, {r.get('ami_anomaly_days', 0):,} abnormal-voltage days). 'before' = the same history "
            "(same failures and truth) with those tables removed. AUPRC on the test year:",
            "",
            "| | served (chosen) | served AUPRC | oracle | known_drivers ceiling | served / oracle "
            "| served / known_drivers | best baseline |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for label in ("before", "after"):
            if label not in cmp:
                continue
            c = cmp[label]
            a = c["auprc"]
            sv, orc, kd = a[c["chosen"]]["value"], a["oracle"]["value"], a.get("ceiling:known_drivers")
            kdv = kd["value"] if kd else None
            base = max(("past_failures", "age_only"), key=lambda k: a[k]["value"])
            out.append(
                f"| {label} | `{c['chosen']}` | {_fmt(a[c['chosen']])} | {_fmt(a['oracle'])} "
                f"| {_fmt(kd) if kd else '–'} | {_ratio(sv, orc)} | {_ratio(sv, kdv)} "
                f"| {base} {_fmt(a[base])} |"
            )
    xf = r.get("transformer_card")
    if xf:
        sp = xf["split"]
        out += [
            "",
            f"**{r['preset']}: transformer card** ({sp['test_transformers']:,} transformers on the held-out "
            f"substations, {sp['test_positives']} failing in the test year; {sp['train_positives']} failing "
            f"transformer-years to train on); chosen by validation: `{xf['chosen']}` (validation AUPRC: "
            + ", ".join(f"{k} {v:.4f}" for k, v in xf["validation"].items())
            + f"); {xf['s']:.1f} s ({xf['cpu_s']:.1f} CPU).",
            "",
            "| model | AUPRC | ROC AUC | Brier | ECE | top-10 % capture |",
            "|---|---|---|---|---|---|",
        ]
        for kind, m in xf["test"].items():
            out.append(
                f"| {kind} | {_fmt(m['auprc'])} | {_fmt(m['roc_auc'])} | {_fmt(m['brier'])} "
                f"| {_fmt(m['ece'])} | {_fmt(m['top10_capture'])} |"
            )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--presets", nargs="*", default=["demo"])
    parser.add_argument("--history-presets", nargs="*", default=[], help="presets timed for history only")
    parser.add_argument("--history-only", action="store_true")
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--gnn", action="store_true", help="also the GraphSAGE model (needs torch)")
    parser.add_argument("--child", default=None)
    parser.add_argument("--serving-presets", nargs="*", default=[], help="presets for the serving figures")
    parser.add_argument("--api-requests", type=int, default=50, help="GET /api/risk/assets calls (demo only)")
    parser.add_argument("--serving-child", default=None)
    parser.add_argument("--serving-only", action="store_true", help="rewrite only the serving section")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.bootstrap, args.gnn, args.history_only)))
        return 0
    if args.serving_child:
        print(json.dumps(child_serving(args.serving_child, args.api_requests)))
        return 0
    serving = []
    load_before = os.getloadavg()
    for preset in args.serving_presets:
        n_api = args.api_requests if preset == "demo" else 0
        out = subprocess.run(
            [sys.executable, __file__, "--serving-child", preset, "--api-requests", str(n_api)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        serving.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"{preset}: serving {serving[-1]}", flush=True)
    load = load_label(load_before, os.getloadavg())
    if args.serving_only:
        text = OUT.read_text() if OUT.exists() else ""
        head = text.split("\n### Serving figures")[0].rstrip("\n")
        OUT.write_text(head + "\n" + "\n".join(render_serving(serving, load)) + "\n")
        print(f"wrote {OUT}")
        return 0
    results = []
    runs = [(p, False) for p in args.presets] + [(p, True) for p in args.history_presets]
    for preset, history_only in runs:
        out = subprocess.run(
            [sys.executable, __file__, "--child", preset, "--bootstrap", str(args.bootstrap)]
            + (["--gnn"] if args.gnn else [])
            + (["--history-only"] if history_only else []),
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"{preset}: history {results[-1]['history_s']:.1f} s", flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    text = render(results, args.bootstrap) + f"\nMetrics run: {load_label(load_before, os.getloadavg())}.\n"
    if serving:
        text += "\n".join(render_serving(serving, load)) + "\n"
    elif OUT.exists() and "\n### Serving figures" in OUT.read_text():  # keep the last serving run's figures
        text += "\n### Serving figures" + OUT.read_text().split("\n### Serving figures", 1)[1]
    OUT.write_text(text)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
