"""``fluxops geo tile|nearest|h3``: the geospatial operations of the API from the command line
(issue 13), on whichever store the settings name."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from fluxops.cli.cmd_grid import DATA_DIR_OPTION, settings_for

console = Console()
geo_app = typer.Typer(help="Geospatial operations: vector tiles, nearest assets, H3 roll-ups.")


@contextmanager
def _store(data_dir: Path | None) -> Iterator[Any]:
    from fluxops.core.errors import NotFoundError
    from fluxops.storage import open_store

    store = open_store(settings_for(data_dir))
    try:
        if store.get_grid_info() is None:
            raise NotFoundError("no grid is loaded: run `fluxops generate` first")
        yield store
    finally:
        store.close()


@geo_app.command("tile")
def tile_cmd(
    layer: str = typer.Argument(..., help="substations, segments, devices, transformers, poles or meters"),
    z: int = typer.Argument(...),
    x: int = typer.Argument(...),
    y: int = typer.Argument(...),
    out: Path = typer.Option(..., "--out", help="Where to write the .mvt (protobuf)"),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """Encode one Mapbox Vector Tile of a layer and write it to a file."""
    from fluxops.geo import tiles as gt
    from fluxops.storage.spatial_queries import render_tile

    spec = gt.get_layer(layer)
    tile = gt.validate_tile(z, x, y)
    with _store(data_dir) as store:
        body = render_tile(store, spec, tile)
    out.write_bytes(body)
    note = "" if body else f" (empty: nothing of {layer} at z{z}; the layer starts at z{spec.min_zoom})"
    console.print(f"{layer} {tile.key}: {len(body):,} bytes -> {out}{note}")


@geo_app.command("nearest")
def nearest_cmd(
    lon: float = typer.Option(..., "--lon"),
    lat: float = typer.Option(..., "--lat"),
    k: int = typer.Option(10, "-k", min=1, max=1000),
    asset_type: list[str] | None = typer.Option(None, "--type", help="Asset type (repeatable)"),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """The k assets nearest a point (great-circle metres)."""
    from fluxops.geo.spatial import check_point, check_types
    from fluxops.storage.spatial_queries import nearest

    check_point(lon, lat)
    types = check_types(tuple(asset_type or ()))
    with _store(data_dir) as store:
        hits = nearest(store, lon=lon, lat=lat, k=k, types=types)
    t = Table("asset", "type", "name", "feeder", "distance m")
    for h in hits:
        t.add_row(h.asset_id, h.asset_type, h.name, h.feeder_id or "", f"{h.distance_m:,.1f}")
    console.print(t)


@geo_app.command("h3")
def h3_cmd(
    resolution: int = typer.Option(8, "--resolution", min=6, max=10),
    metric: str = typer.Option(
        "customers", "--metric", help="customers, load_kw, outages or outage_customers"
    ),
    top: int = typer.Option(10, "--top", min=1),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """Sum customers, design load (kW) or outages per H3 cell; print the largest cells."""
    from fluxops.core.errors import InvalidInputError
    from fluxops.geo import hexbins
    from fluxops.storage.spatial_queries import H3_METRICS, h3_points

    if metric not in H3_METRICS:
        raise InvalidInputError(f"metric must be one of {', '.join(H3_METRICS)}", field="metric")
    with _store(data_dir) as store:
        points = h3_points(store, metric)
    lon, lat, w = (points.column(c).to_numpy() for c in ("lon", "lat", "w"))
    cells = hexbins.cells_at(lon, lat, resolution)
    n, total, out = hexbins.aggregate(cells, w, limit=top, boundaries=False)
    console.print(
        f"{metric} at resolution {resolution}: {len(lon):,} points in {n:,} cells, total {total:,.1f}"
    )
    t = Table("cell", "points", metric, "lon", "lat")
    for c in out:
        t.add_row(c.cell, f"{c.points:,}", f"{c.value:,.1f}", f"{c.lon:.5f}", f"{c.lat:.5f}")
    console.print(t)


def register(app: typer.Typer) -> None:
    app.add_typer(geo_app, name="geo")
