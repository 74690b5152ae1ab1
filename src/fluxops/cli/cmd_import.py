"""``fluxops import pandapower <network>`` / ``fluxops import simbench <code>``: a real network → validate →
load into the configured store, printing what the import kept, approximated and dropped."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from fluxops.cli.cmd_grid import DATA_DIR_OPTION, console, print_info, settings_for, store_location
from fluxops.grid.importers.pandapower_mapping import ImportReport
from fluxops.grid.models import Grid


def _load(grid: Grid, report: ImportReport, data_dir: Path | None, seconds: float) -> None:
    from fluxops.grid.validation import validate_grid
    from fluxops.storage import open_store

    validate_grid(grid)
    settings = settings_for(data_dir)
    store = open_store(settings)
    try:
        result = store.load_grid(grid)
        print_info(
            result.info,
            title=f"imported {grid.meta.name} ({grid.meta.source})"
            + ("" if result.changed else ": unchanged"),
        )
        console.print(f"[dim]import:[/dim] {seconds:.1f} s · [dim]store:[/dim] {store_location(settings)}")
        console.print(f"[dim]synthesized feeder breakers:[/dim] {report.synthesized_breakers}")
        console.print(f"[dim]layout:[/dim] {grid.meta.params.get('layout', 'geographic')}")
        for what, n in report.carried.items():
            console.print(f"[dim]carried:[/dim] {what} ({n})")
        for what, n in report.dropped.items():
            console.print(f"[dim]not modelled (dropped):[/dim] {what} ({n})")
        for note in report.notes:
            console.print(f"[dim]note:[/dim] {note}")
    finally:
        store.close()


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Import a real network (needs the \\[import] extra: pandapower, simbench; OpenDSS scripts too)."
    )
    app.add_typer(group, name="import")

    @group.command("pandapower")
    def import_pandapower(
        network: str = typer.Argument(
            help="a pandapower.networks function, e.g. mv_oberrhein, case33bw, "
            "create_kerber_landnetz_freileitung_1"
            " (no coordinates: schematic layout)",
        ),
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """Import a network bundled with pandapower, validate it and load it into the store."""
        from fluxops.grid.importers.pandapower import load_pandapower_network

        t0 = time.perf_counter()
        with console.status(f"importing pandapower network {network}..."):
            grid, report = load_pandapower_network(network)
        _load(grid, report, data_dir, time.perf_counter() - t0)

    @group.command("opendss")
    def import_opendss_cmd(
        file: Path = typer.Argument(
            help="an OpenDSS script (New/Edit/Redirect/Compile …), e.g. IEEE13Nodeckt.dss"
        ),
        buscoords: Path | None = typer.Option(
            None, "--buscoords", help="a BusCoords file (name, x, y) when the script loads none"
        ),
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """Import an OpenDSS feeder (balanced positive-sequence model), validate it and load it."""
        from fluxops.grid.importers.opendss import import_opendss

        t0 = time.perf_counter()
        with console.status(f"importing OpenDSS {file.name}..."):
            grid, report = import_opendss(file, coords=buscoords)
        _load(grid, report, data_dir, time.perf_counter() - t0)

    @group.command("simbench")
    def import_simbench(
        code: str = typer.Argument(help="a SimBench code, e.g. 1-MV-rural--0-sw or 1-LV-rural1--0-sw"),
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """Import a SimBench grid, validate it and load it into the store."""
        from fluxops.grid.importers.simbench import load_simbench_network

        t0 = time.perf_counter()
        with console.status(f"importing SimBench {code} (parses the bundled CSVs, ~5 s)..."):
            grid, report = load_simbench_network(code)
        _load(grid, report, data_dir, time.perf_counter() - t0)

    @group.command("gis")
    def import_gis(
        files: list[Path] = typer.Argument(
            help="one GIS file per grid table (GeoJSON, GeoPackage, Shapefile, GeoParquet), named "
            "<table>.<ext> or by the mapping; `fluxops import gis-export` writes them"
        ),
        mapping: Path | None = typer.Option(
            None, "--mapping", help="JSON: name, snap_tolerance_m, tables.<table>.file/fields/units"
        ),
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """Import the network from GIS files (docs/geo.md), validate it and load it whole."""
        from fluxops.storage.gis_network import read_network

        t0 = time.perf_counter()
        text = mapping.read_text() if mapping is not None else "{}"
        with console.status(f"importing {len(files)} GIS files..."):
            grid = read_network(files, text, mapping.name if mapping is not None else "mapping")
        report = ImportReport(source_v_pu={}, synthesized_breakers=0)
        report.notes.append(f"tables: {', '.join(sorted(grid.meta.params['files']))}")
        _load(grid, report, data_dir, time.perf_counter() - t0)

    @group.command("gis-export")
    def export_gis(
        out_dir: Path = typer.Argument(help="folder for <table>.parquet (GeoParquet, lon/lat)"),
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """Write the stored network as the GeoParquet files `fluxops import gis` reads back, every column."""
        from fluxops.core.errors import NotFoundError
        from fluxops.grid.gis_export import export_network_geoparquet
        from fluxops.storage import open_store

        store = open_store(settings_for(data_dir))
        try:
            grid = store.read_grid()
            if grid is None:
                raise NotFoundError("no grid loaded: run `fluxops generate` or an import first")
            paths = export_network_geoparquet(grid, out_dir)
        finally:
            store.close()
        for table, path in paths.items():
            console.print(f"{table}: {path}")
