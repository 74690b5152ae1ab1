"""``fluxops generate`` (synthetic utility -> validate -> load) and ``fluxops info`` (what is loaded)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from fluxops.core.config import Settings, get_settings
from fluxops.core.errors import InvalidInputError
from fluxops.grid.models import MAP_ASSET_TYPES
from fluxops.grid.ports import GridInfo, GridStore

console = Console()

DATA_DIR_OPTION = typer.Option(
    None, "--data-dir", help="Data directory (default: FLUXOPS_DATA_DIR or ./data)"
)


def settings_for(data_dir: Path | None = None) -> Settings:
    """The process settings, with command-line overrides applied (never mutating the cached ones)."""
    settings = get_settings()
    return settings.model_copy(update={"data_dir": data_dir}) if data_dir is not None else settings


def store_location(settings: Settings) -> str:
    if settings.store.backend == "duckdb":
        return f"duckdb {settings.duckdb_path}"
    return f"postgres schema {settings.store.postgres_schema}"


def generate_and_load(store: GridStore, *, preset: str, seed: int) -> None:
    """Generate, validate and load one preset, reporting each stage with its time."""
    from fluxops.grid.generator import PRESETS, generate_grid
    from fluxops.grid.validation import validate_grid

    if preset not in PRESETS:
        raise InvalidInputError(
            f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}", field="preset"
        )
    timings: dict[str, float] = {}
    with console.status(f"generating the [bold]{preset}[/bold] utility (seed {seed})..."):
        t0 = time.perf_counter()
        grid = generate_grid(preset, seed=seed)
        timings["generate"] = time.perf_counter() - t0
    with console.status("validating topology (radial feeders, every meter traced to a substation)..."):
        t0 = time.perf_counter()
        validate_grid(grid)
        timings["validate"] = time.perf_counter() - t0
    with console.status(f"loading {sum(grid.counts().values()):,} rows into the store..."):
        t0 = time.perf_counter()
        report = store.load_grid(grid)
        timings["load"] = time.perf_counter() - t0
    print_info(
        report.info, title=f"loaded {preset} (seed {seed})" + ("" if report.changed else ": unchanged")
    )
    console.print(" · ".join(f"{stage} {seconds:.1f} s" for stage, seconds in timings.items()))


def print_info(info: GridInfo, *, title: str, extra: dict[str, Any] | None = None) -> None:
    table = Table(title=title, show_header=True, title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in info.counts.items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    lines = {
        "name": info.name,
        "source": info.source,
        "loaded": info.loaded_utc.isoformat(timespec="seconds"),
        "content hash": info.content_hash[:16],
        **(extra or {}),
    }
    for key, value in lines.items():
        console.print(f"[dim]{key}:[/dim] {value}")


def register(app: typer.Typer) -> None:
    @app.command()
    def generate(
        preset: str = typer.Option("demo", help="tiny | demo | houston | stress"),
        seed: int = typer.Option(42, help="Random seed: the same seed gives the same grid"),
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """Generate a synthetic utility, validate it and load it into the configured store."""
        from fluxops.storage import open_store

        settings = settings_for(data_dir)
        store = open_store(settings)
        try:
            generate_and_load(store, preset=preset, seed=seed)
            console.print(f"[dim]store:[/dim] {store_location(settings)}")
        finally:
            store.close()

    @app.command()
    def info(data_dir: Path | None = DATA_DIR_OPTION) -> None:
        """Show what is loaded: grid name, source, row counts, content hash and store."""
        from fluxops.storage import open_store

        settings = settings_for(data_dir)
        store = open_store(settings)
        try:
            grid_info = store.get_grid_info()
            if grid_info is None:
                console.print(f"no grid loaded in {store_location(settings)}: run `fluxops generate`")
                return
            by_type = store.count_assets_by_type()
            map_assets = sum(n for t, n in by_type.items() if t in MAP_ASSET_TYPES)
            print_info(
                grid_info,
                title=f"{grid_info.name} ({grid_info.source})",
                extra={
                    "params": grid_info.params,
                    "map assets": f"{map_assets:,}",
                    "store": store_location(settings),
                },
            )
        finally:
            store.close()
