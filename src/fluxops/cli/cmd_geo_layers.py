"""``fluxops geo generate|layers|flood|trim-plan|import|export``: the geo layers (water, flood zones,
buildings, canopy, vegetation spans) from the command line, the same code paths as ``/api/geo``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from fluxops.cli.cmd_geo import _store, console, geo_app
from fluxops.cli.cmd_grid import DATA_DIR_OPTION


@geo_app.command("generate")
def generate_cmd(
    layers: str = typer.Option("water,flood_zones,buildings,canopy", "--layers", help="Comma list"),
    seed: int = typer.Option(0, "--seed", min=0),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """Generate the synthetic geo layers of the loaded grid (each replaced whole)."""
    from fluxops.storage import geo_generate

    with _store(data_dir) as store:
        info = store.get_grid_info()
        counts = geo_generate.generate_layers(
            store, store.read_grid(), grid_hash=info.content_hash, layers=tuple(layers.split(",")), seed=seed
        )
    for name, n in counts.items():
        console.print(f"{name}: {n:,} features ({geo_generate.SYNTHETIC_NOTE[name]})")


@geo_app.command("layers")
def layers_cmd(data_dir: Path | None = DATA_DIR_OPTION) -> None:
    """The stored geo layers: features, source, when."""
    from fluxops.geo.layers import GEO_LAYERS
    from fluxops.storage import geo_layers_store

    with _store(data_dir) as store:
        meta = geo_layers_store.list_meta(store)
    t = Table("layer", "features", "source", "updated (UTC)", "note")
    for name in GEO_LAYERS:
        m = meta.get(name)
        if m is None:
            t.add_row(name, "-", "not stored", "", "")
        else:
            t.add_row(
                name,
                f"{m['features']:,}",
                f"{m['source']}: {m['source_name']}",
                m["updated_utc"] or "",
                m["note"] or "",
            )
    console.print(t)


@geo_app.command("flood")
def flood_cmd(
    top: int = typer.Option(15, "--top", min=1),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """Substations and pad-mounted transformers in a flood zone, lowest freeboard first."""
    from fluxops.storage import geo_generate

    with _store(data_dir) as store:
        table, meta = geo_generate.flood_exposure(store, store.read_grid())
    counts = table.tier.value_counts().to_dict()
    console.print(
        f"{len(table):,} sites in a flood zone ({meta['source_name']}): "
        + ", ".join(f"{counts.get(k, 0):,} {k}" for k in ("high", "medium", "low", "unknown"))
    )
    t = Table("asset", "type", "zone", "stream", "flood elev ft", "pad elev ft", "freeboard ft", "tier")
    for r in table.head(top).to_dict("records"):
        fb = r["freeboard_ft"]
        t.add_row(
            r["asset_id"],
            r["asset_type"],
            r["zone"],
            str(r["stream"]),
            f"{r['flood_elev_ft']:.0f}",
            "unknown" if fb != fb else f"{r['pad_elev_ft']:.1f}",
            "unknown" if fb != fb else f"{fb:+.1f}",
            r["tier"],
        )
    console.print(t)


@geo_app.command("trim-plan")
def trim_plan_cmd(
    budget_usd: float = typer.Option(..., "--budget-usd", min=0),
    top: int = typer.Option(15, "--top", min=1),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """Spans ordered by vegetation risk reduced per dollar; those the budget buys."""
    from fluxops.core.errors import NotFoundError
    from fluxops.geo import trim_plan, vegetation
    from fluxops.storage import vegetation_store

    with _store(data_dir) as store:
        meta = vegetation_store.get_meta(store)
        if meta is None or meta["grid_hash"] != store.get_grid_info().content_hash:
            raise NotFoundError(
                "no vegetation inventory for the loaded grid: run `fluxops geo vegetation generate`"
            )
        trees = vegetation_store.read_trees(store)
        spans = vegetation.span_context(store.read_grid())
    result = trim_plan.trim_plan(
        trees, spans, meta["params"]["regime"], budget_usd=budget_usd, costs=trim_plan.TrimCosts()
    )
    console.print(
        f"{result['spans_selected']:,} of {result['spans_considered']:,} spans for "
        f"${result['cost_selected_usd']:,.0f}: "
        f"risk {result['risk_total_before']:.2f} reduced by {result['risk_reduced_selected']:.2f}"
    )
    t = Table("span", "risk before", "after", "cost USD", "per k$", "cumulative USD", "in budget")
    for r in result["plan"].head(top).to_dict("records"):
        t.add_row(
            r["segment_id"],
            f"{r['risk_before']:.3f}",
            f"{r['risk_after']:.3f}",
            f"{r['cost_usd']:,.0f}",
            f"{r['reduced_per_kusd']:.4f}",
            f"{r['cumulative_cost_usd']:,.0f}",
            "yes" if r["selected"] else "no",
        )
    console.print(t)


@geo_app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help="GeoJSON, GeoPackage, Shapefile (.shp or .zip) or GeoParquet"),
    layer: str = typer.Option(..., "--layer", help="water, flood_zones, buildings or canopy"),
    mapping: Path | None = typer.Option(None, "--mapping", help='JSON file {"property": "source field"}'),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """Import a geo layer from a file, replacing the stored one (all features or none)."""
    from fluxops.core.errors import InvalidInputError
    from fluxops.storage import geo_import

    text = None
    if mapping is not None:
        try:
            text = mapping.read_text()
        except OSError as exc:
            raise InvalidInputError(
                f"{mapping}: cannot read the mapping file ({exc.strerror})", field="mapping"
            ) from None
    with _store(data_dir) as store:
        n = geo_import.import_layer(store, file, layer=layer, mapping=geo_import.parse_mapping(text, file))
    console.print(f"{layer}: {n:,} features imported from {file.name}")


@geo_app.command("export")
def export_cmd(
    layer: str = typer.Argument(..., help="A geo layer or an asset layer (substations, segments, ...)"),
    out: Path = typer.Option(..., "--out", help="File to write; .geojson, .parquet (GeoParquet) or .csv"),
    bbox: str | None = typer.Option(None, "--bbox", help="minLon,minLat,maxLon,maxLat"),
    polygon: Path | None = typer.Option(None, "--polygon", help="GeoJSON file holding a Polygon (geometry)"),
    ids: str | None = typer.Option(None, "--ids", help="Comma list of feature ids"),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """Export a selection of a layer (a box, a polygon, ids; all when none is given)."""
    from fluxops.core.errors import InvalidInputError
    from fluxops.geo.spatial import parse_polygon
    from fluxops.grid.query import parse_bbox
    from fluxops.storage import geo_export

    fmt = {".geojson": "geojson", ".json": "geojson", ".parquet": "geoparquet", ".csv": "csv"}.get(
        out.suffix.lower()
    )
    if fmt is None:
        raise InvalidInputError(f"{out.name}: the suffix must be .geojson, .parquet or .csv", field="out")
    b = parse_bbox(bbox) if bbox else None
    poly = None
    if polygon is not None:
        try:
            doc = json.loads(polygon.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise InvalidInputError(
                f"{polygon.name}: not a readable GeoJSON file ({exc})", field="polygon"
            ) from None
        poly = parse_polygon(doc.get("geometry", doc) if isinstance(doc, dict) else {})
    with _store(data_dir) as store:
        props, geoms = geo_export.select(
            store,
            layer,
            bbox=None if b is None else (b.min_lon, b.min_lat, b.max_lon, b.max_lat),
            polygon=poly,
            ids=ids.split(",") if ids else None,
        )
    out.write_bytes(geo_export.encode(props, geoms, fmt))
    console.print(f"{layer}: {len(props):,} features -> {out}")


def register(app: typer.Typer) -> None:
    """The commands hang on ``fluxops geo`` (registered by `fluxops.cli.cmd_geo`)."""
