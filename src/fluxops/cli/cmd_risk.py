"""``fluxops risk history|train|evaluate|explain``: the asset-risk pipeline on the grid in the store (or
a generated preset with ``--preset``), through the same service the API uses, with rich progress."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fluxops.cli.cmd_grid import DATA_DIR_OPTION, console, settings_for
from fluxops.core.errors import InvalidInputError, NotFoundError

PRESET_OPTION = typer.Option(
    None, "--preset", help="Generate this preset instead of reading the store (tiny/demo/houston)."
)
GRID_SEED_OPTION = typer.Option(42, "--grid-seed", help="Generator seed with --preset.")


@contextmanager
def _session(data_dir: Path | None, preset: str | None, grid_seed: int) -> Iterator[tuple[Any, Any, str]]:
    """(risk service, grid, grid hash). With ``--preset`` the grid is generated and keyed by preset."""
    from fluxops.risk.service import RiskService
    from fluxops.storage.risk_files import RiskFileStore

    settings = settings_for(data_dir)
    svc = RiskService(RiskFileStore(settings.data_dir))
    try:
        if preset is not None:
            from fluxops.grid.generator import generate_grid

            yield svc, generate_grid(preset, seed=grid_seed), f"preset-{preset}-{grid_seed}"
            return
        from fluxops.storage import open_store

        store = open_store(settings)
        try:
            info, grid = store.get_grid_info(), store.read_grid()
            if info is None or grid is None:
                raise NotFoundError("no grid is loaded: run `fluxops generate` first, or pass --preset")
            yield svc, grid, info.content_hash
        finally:
            store.close()
    finally:
        svc.jobs.shutdown()


@contextmanager
def _progress(label: str) -> Iterator[Callable[[float, str], None]]:
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[msg]}"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task(label, total=1.0, msg="")

        def report(fraction: float, message: str) -> None:
            bar.update(task, completed=fraction, msg=message)

        yield report


def _metrics_table(card: dict[str, Any]) -> Table:
    ev = card.get("evaluation", card)
    t = Table(
        title=f"test year {ev['split']['test_year']}, {ev['split']['test_assets']:,} assets on held-out "
        f"substations, {ev['split']['test_positives']} failing"
    )
    t.add_column("model")
    for m in ("auprc", "roc_auc", "brier", "ece", "top10_capture"):
        t.add_column(m)
    for kind, res in ev["test"].items():
        cells = []
        for m in ("auprc", "roc_auc", "brier", "ece", "top10_capture"):
            r = res["overall"][m]
            ci = f" [{_fmt(r['ci_lo'], '.3g')}, {_fmt(r['ci_hi'], '.3g')}]" if "ci_lo" in r else ""
            cells.append(f"{_fmt(r['value'], '.4g')}{ci}")
        t.add_row(kind + (" (chosen)" if kind == ev["chosen"] else ""), *cells)
    return t


def register(app: typer.Typer) -> None:
    risk = typer.Typer(
        help="Asset risk: failure history, likelihood models, explanations.", no_args_is_help=True
    )
    app.add_typer(risk, name="risk")

    @risk.command("history")
    def history(
        years: int = typer.Option(5, "--years", help="Years of history (>= 4 for training)."),
        seed: int = typer.Option(0, "--seed", help="Seed of the hazard process."),
        end: str | None = typer.Option(None, "--end", help="History ends before this UTC day (YYYY-MM-DD)."),
        preset: str | None = PRESET_OPTION,
        grid_seed: int = GRID_SEED_OPTION,
        data_dir: Path | None = DATA_DIR_OPTION,
        oms: bool = typer.Option(
            False,
            "--oms",
            help="Also write the failures into the store's OMS outage tables as restored, historical "
            "outages (replacing an earlier history), so IEEE 1366 reliability covers the years.",
        ),
    ) -> None:
        """Generate (replace) the failure history of the grid from the documented hazard process."""
        end_utc = _parse_day(end)
        if oms and preset is not None:
            raise InvalidInputError("--oms writes into the store's grid: leave out --preset", field="oms")
        with _session(data_dir, preset, grid_seed) as (svc, grid, grid_hash), _progress("history") as report:
            meta = svc.generate_history(
                grid, grid_hash, end_utc=end_utc, years=years, seed=seed, progress=report
            )
        console.print(
            f"{meta['failures']:,} failures of {meta['assets']:,} assets over {meta['years']} years "
            f"from {meta['start_utc'][:10]} ({meta['n_days']} days) — grid {grid_hash[:16]}"
        )
        if oms:
            from fluxops.storage import open_store

            store, reader = open_store(settings_for(data_dir)), svc_for(data_dir)
            try:
                write_history_to_oms(store, reader, grid, grid_hash)
            finally:
                reader.jobs.shutdown()
                store.close()

    @risk.command("train")
    def train(
        seed: int = typer.Option(0, "--seed"),
        bootstrap: int = typer.Option(200, "--bootstrap", help="Bootstrap replicates for 95 % intervals."),
        rounds: int = typer.Option(300, "--rounds", help="LightGBM boosting rounds."),
        gnn: bool = typer.Option(False, "--gnn", help="Also the GraphSAGE model (needs torch)."),
        preset: str | None = PRESET_OPTION,
        grid_seed: int = GRID_SEED_OPTION,
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """Evaluate every model on the held-out split, serve the one validation chose, print its card."""
        from fluxops.risk.models import TrainConfig

        cfg = TrainConfig(seed=seed, bootstrap=bootstrap, lgbm_rounds=rounds, gnn=gnn)
        with _session(data_dir, preset, grid_seed) as (svc, _grid, grid_hash), _progress("train") as report:
            model_id = svc.train(grid_hash, cfg, report)
            card = svc.store.model_card(grid_hash, model_id)
        console.print(_metrics_table(card))
        margin = card["evaluation"]["validation_margin_auprc"]
        console.print(
            f"served [bold]{model_id}[/bold] ({card['kind']}): validation AUPRC "
            f"{_fmt(margin['value'], '+.4f')} over {margin['over']}"
        )

    @risk.command("evaluate")
    def evaluate_cmd(
        as_json: bool = typer.Option(False, "--json", help="Print the served model's card as JSON."),
        preset: str | None = PRESET_OPTION,
        grid_seed: int = GRID_SEED_OPTION,
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """The served model's evaluation (metrics with 95 % intervals, per model, on the test split)."""
        with _session(data_dir, preset, grid_seed) as (svc, _grid, grid_hash):
            _, card = svc.current(grid_hash)
        if as_json:
            typer.echo(json.dumps(card, indent=1))
            return
        console.print(_metrics_table(card))
        for kind, res in card["evaluation"]["test"].items():
            t = Table(title=f"{kind} by asset type (types with >= 5 failures in the test year)")
            for c in ("type", "assets", "failing", "auprc", "roc_auc", "brier", "top10_capture"):
                t.add_column(c)
            for typ, r in res["by_type"].items():
                t.add_row(
                    typ,
                    f"{r['assets']:,}",
                    str(r["positives"]),
                    *(_fmt(r[m], ".4g") for m in ("auprc", "roc_auc", "brier", "top10_capture")),
                )
            console.print(t)

    @risk.command("explain")
    def explain(
        asset_id: str = typer.Argument(..., help="Asset id"),
        preset: str | None = PRESET_OPTION,
        grid_seed: int = GRID_SEED_OPTION,
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """One asset's probability, rank and top drivers."""
        with _session(data_dir, preset, grid_seed) as (svc, _grid, grid_hash):
            out = svc.asset(grid_hash, asset_id)
        a = out["asset"]
        console.print(
            f"[bold]{a['asset_id']}[/bold] ({a['asset_type']}): "
            f"P(fail in 12 months) = {a['probability']:.4f}, "
            f"rank {a['rank']:,}; model {out['model_id']}"
        )
        t = Table("driver", "value", "log-odds", "effect")
        for d in out["drivers"]:
            v = d.get("value")
            c = d.get("log_odds_contribution")
            t.add_row(
                d["words"],
                "" if v is None else f"{v:.4g}",
                "" if c is None else f"{c:+.3f}",
                d.get("direction") or "",
            )
        console.print(t)
        if out["past_failures"]:
            console.print(f"past failures: {len(out['past_failures'])}")


def svc_for(data_dir: Path | None) -> Any:
    from fluxops.risk.service import RiskService
    from fluxops.storage.risk_files import RiskFileStore

    return RiskService(RiskFileStore(settings_for(data_dir).data_dir))


def write_history_to_oms(store: Any, svc: Any, grid: Any, grid_hash: str) -> dict[str, Any]:
    """The grid's stored failure history as restored, historical OMS outages
    (`fluxops.risk.oms_history`), with a progress bar; replaces any earlier history in the store."""
    from fluxops.ops.trace import ProtectionTree
    from fluxops.risk.oms_history import outage_history
    from fluxops.storage.oms_history import write_oms_history

    h = svc.require_history(grid_hash)
    t0 = time.perf_counter()
    with _progress("outage records") as report:
        delta = outage_history(h.failures, ProtectionTree.build(grid), grid, report)
        report(1.0, "writing the OMS tables")
        end = h.start_utc + timedelta(days=h.n_days)
        meta: dict[str, Any] = write_oms_history(
            store, delta, grid_hash=grid_hash, start_utc=h.start_utc, end_utc=end, years=h.years, seed=h.seed
        )
    console.print(
        f"OMS history: {meta['outages']:,} restored outages, {meta['customer_interruptions']:,} customer "
        f"interruptions, {h.start_utc:%Y-%m-%d} to {end:%Y-%m-%d}, in {time.perf_counter() - t0:.1f} s"
    )
    return meta


DEMO_RISK_YEARS_ENV = "FLUXOPS_DEMO_RISK_YEARS"  # years of failure history on a demo's first start; 0: none
DEMO_RISK_YEARS = 5


def demo_risk_history(settings: Any, store: Any, *, now: datetime | None = None) -> dict[str, Any] | None:
    """Once per store and grid: ``FLUXOPS_DEMO_RISK_YEARS`` (default 5) years of failure history ending
    today, kept by the risk service and written into the OMS tables, so a demo's reliability indices and
    risk models have years behind them on first start. None when it exists for this grid, is switched
    off, or no grid is loaded."""
    import os

    from fluxops.core.clock import utc_now
    from fluxops.storage.oms_history import oms_history_meta

    years = int(os.environ.get(DEMO_RISK_YEARS_ENV, DEMO_RISK_YEARS))
    info = store.get_grid_info()
    if years == 0 or info is None:
        return None
    done = oms_history_meta(store)
    if done is not None and done["grid_hash"] == info.content_hash:
        return None
    grid = store.read_grid()
    from fluxops.risk.service import RiskService
    from fluxops.storage.risk_files import RiskFileStore

    svc = RiskService(RiskFileStore(settings.data_dir))
    try:
        if svc.store.history_meta(info.content_hash) is None:
            with _progress(f"failure history ({years} y)") as report:
                svc.generate_history(
                    grid, info.content_hash, end_utc=now or utc_now(), years=years, seed=0, progress=report
                )
        return write_history_to_oms(store, svc, grid, info.content_hash)
    finally:
        svc.jobs.shutdown()


def _fmt(v: float | None, spec: str) -> str:
    return "n/a" if v is None else format(v, spec)


def _parse_day(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        d = datetime.strptime(text, "%Y-%m-%d")
    except ValueError as exc:
        raise InvalidInputError(f"--end must be YYYY-MM-DD, got {text!r}", field="end") from exc
    return d.replace(tzinfo=UTC)
