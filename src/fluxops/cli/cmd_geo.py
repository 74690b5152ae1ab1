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
    layer: str = typer.Argument(
        ..., help="An asset layer (substations, segments, ...) or a geo layer (water, flood_zones, ...)"
    ),
    z: int = typer.Argument(...),
    x: int = typer.Argument(...),
    y: int = typer.Argument(...),
    out: Path = typer.Option(..., "--out", help="Where to write the .mvt (protobuf)"),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """Encode one Mapbox Vector Tile of a layer and write it to a file."""
    from fluxops.geo import tiles as gt
    from fluxops.geo.layers import GEO_LAYERS
    from fluxops.storage.geo_tiles import render_geo_tile
    from fluxops.storage.spatial_queries import render_tile

    geo = GEO_LAYERS.get(layer)
    spec = geo.tile_layer() if geo is not None else gt.get_layer(layer)
    tile = gt.validate_tile(z, x, y)
    with _store(data_dir) as store:
        body = render_tile(store, spec, tile) if geo is None else render_geo_tile(store, geo, tile)
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


veg_app = typer.Typer(help="Vegetation near overhead spans: a generated tree inventory, grow-in and fall-in.")
geo_app.add_typer(veg_app, name="vegetation")


@veg_app.command("generate")
def vegetation_generate_cmd(
    seed: int = typer.Option(0, "--seed"),
    as_of: str = typer.Option("2026-01-01", "--as-of", help="Inventory date YYYY-MM-DD"),
    trees_per_km: float = typer.Option(30.0, "--trees-per-km", min=0.0, max=1000.0),
    corridor_m: float = typer.Option(30.0, "--corridor-m", min=1.0, max=100.0),
    regime: str = typer.Option(
        "prc4293", "--regime", help="prc4293 (4/6/10 ft by kV) or go95_minimum (18 in)"
    ),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """Generate the tree inventory of the loaded grid's overhead spans and store it (replacing any)."""
    from datetime import date

    from fluxops.core.errors import InvalidInputError
    from fluxops.geo import vegetation
    from fluxops.storage import vegetation_store

    if regime not in ("prc4293", "go95_minimum"):
        raise InvalidInputError("regime must be prc4293 or go95_minimum", field="regime")
    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        raise InvalidInputError(f"--as-of {as_of!r} is not a date YYYY-MM-DD", field="as_of") from None
    params = vegetation.VegetationParams(
        seed=seed,
        as_of=day,
        trees_per_km=trees_per_km,
        corridor_m=corridor_m,
        regime=regime,  # type: ignore[arg-type]
    )
    with _store(data_dir) as store:
        grid = store.read_grid()
        info = store.get_grid_info()
        trees = vegetation.generate_trees(grid, params)
        vegetation.required_clearance_m(vegetation.span_context(grid).v_kv.to_numpy(), params.regime)
        n = vegetation_store.save_trees(store, trees, grid_hash=info.content_hash, params=params)
        from fluxops.storage.geo_generate import save_vegetation_layer

        spans_n = save_vegetation_layer(store, grid, grid_hash=info.content_hash)
    console.print(
        f"{n:,} trees along the overhead spans of {info.name} (seed {seed}, as of {day}); "
        f"{spans_n:,} spans in the vegetation layer"
    )


@veg_app.command("spans")
def vegetation_spans_cmd(
    top: int = typer.Option(10, "--top", min=1),
    by: str = typer.Option(
        "months", "--by", help="months (soonest encroachment), exposure (fall-in) or risk (vegetation risk)"
    ),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """The spans whose vegetation encroaches soonest (or with the largest fall-in exposure)."""
    from fluxops.core.errors import NotFoundError
    from fluxops.geo import vegetation
    from fluxops.storage import vegetation_store

    with _store(data_dir) as store:
        meta = vegetation_store.get_meta(store)
        info = store.get_grid_info()
        if meta is None or meta["grid_hash"] != info.content_hash:
            raise NotFoundError(
                "no vegetation inventory for the loaded grid: run `fluxops geo vegetation generate`"
            )
        trees = vegetation_store.read_trees(store)
        spans = vegetation.span_context(store.read_grid())
    from fluxops.storage.geo_generate import vegetation_span_table

    table = vegetation_span_table(trees, spans, meta["params"]["regime"])
    key = {"exposure": "fall_in_exposure", "risk": "risk"}.get(by, "months_to_encroachment")
    table = table.sort_values(
        [key, "segment_id"], ascending=[key == "months_to_encroachment", True], na_position="last"
    )
    console.print(
        f"{len(trees):,} trees on {len(table):,} spans; {int(table.encroaching_now.sum()):,} inside the "
        f"required clearance now"
    )
    t = Table(
        "span", "feeder", "trees", "clearance m", "required m", "months", "strike-capable", "fall-in", "risk"
    )
    for row in table.head(top).to_dict("records"):
        m = float(row["months_to_encroachment"])
        t.add_row(
            str(row["segment_id"]),
            str(row["feeder_id"]),
            str(row["trees"]),
            f"{float(row['min_clearance_m']):.2f}",
            f"{float(row['required_clearance_m']):.2f}",
            "-" if m != m else f"{m:.1f}",
            str(row["strike_capable_trees"]),
            f"{float(row['fall_in_exposure']):.2f}",
            f"{float(row['risk']):.3f}",
        )
    console.print(t)


def register(app: typer.Typer) -> None:
    app.add_typer(geo_app, name="geo")
