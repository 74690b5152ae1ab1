"""``fluxops lake check|repair|clear-quarantine``: the AMI Parquet lake's integrity (issue 8 §3).

``check`` is read-only and safe beside a running server; ``repair`` takes the lake's writer lock, so it
refuses (one line, exit 2) while a server or MQTT subscriber writes the same lake."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from fluxops.cli.cmd_grid import DATA_DIR_OPTION, settings_for

if TYPE_CHECKING:
    from fluxops.storage.lake_check import LakeCheck

console = Console()
lake_app = typer.Typer(help="The AMI Parquet lake: verify manifests and files, repair, clear quarantine.")
DEEP = typer.Option(False, "--deep", help="Also decode every data page (reads all the data)")


def _print(title: str, chk: LakeCheck) -> None:
    status = "[green]ok[/green]" if chk.ok else f"[red]{len(chk.findings)} problem(s)[/red]"
    console.print(
        f"{title}: {chk.partitions} partitions, {chk.files} live files, {chk.rows:,} rows; {status}"
    )
    if chk.findings:
        t = Table("dataset", "date", "file", "problem")
        for f in chk.findings:
            t.add_row(f.dataset, f.date, f.file, f.problem)
        console.print(t)


@lake_app.command("check")
def check_cmd(data_dir: Path | None = DATA_DIR_OPTION, deep: bool = DEEP) -> None:
    """Verify every manifest entry exists and its footer and row count read; list orphans and
    quarantined files. Exit 1 when anything is wrong."""
    from fluxops.storage.lake_check import check_lake

    chk = check_lake(settings_for(data_dir).lake_dir, deep=deep)
    _print("lake", chk)
    if not chk.ok:
        raise typer.Exit(1)


@lake_app.command("repair")
def repair_cmd(data_dir: Path | None = DATA_DIR_OPTION, deep: bool = DEEP) -> None:
    """Quarantine damaged files, delete orphans and replaced files, build or rebuild manifests (refused
    while another process writes the lake)."""
    from fluxops.storage.lake_check import repair_lake

    before, after = repair_lake(settings_for(data_dir).lake_dir, deep=deep)
    _print("before", before)
    _print("after", after)


@lake_app.command("clear-quarantine")
def clear_cmd(data_dir: Path | None = DATA_DIR_OPTION) -> None:
    """Delete quarantined files and their records (after re-sending the lost data); health turns ok."""
    from fluxops.storage.lake_manifest import clear_quarantine

    n = clear_quarantine(settings_for(data_dir).lake_dir)
    console.print(f"cleared {n} quarantined file(s)")


def register(app: typer.Typer) -> None:
    app.add_typer(lake_app, name="lake")
