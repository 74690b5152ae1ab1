"""``/api/geo``: the geo layers (water, flood zones, buildings, canopy, vegetation spans), flood exposure
of substations and pad-mounted equipment, the vegetation trim plan, exports of any selection, and (admin)
generation and imports. The work is in `fluxops.geo` and `fluxops.storage.geo_*`; routes parse,
authorize and delegate.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from fluxops.api.deps import AppStore, LoadedGrid, get_loaded_grid, get_store
from fluxops.api.openapi import error_responses
from fluxops.api.params import JsonInt, bbox_query, choices_query, one_of_query
from fluxops.api.routes.spatial import PolygonGeometry
from fluxops.api.security import require_role
from fluxops.core.errors import InvalidInputError, NotFoundError
from fluxops.geo import trim_plan, vegetation
from fluxops.geo.layers import GEO_LAYERS, IMPORTABLE
from fluxops.geo.spatial import MAX_ITEMS, parse_polygon
from fluxops.grid.query import parse_bbox
from fluxops.storage import geo_export, geo_generate, geo_import, geo_layers_store, vegetation_store

router = APIRouter(tags=["geo"])
_viewer = [Depends(require_role("viewer"))]
_admin = [Depends(require_role("admin"))]
OUTPUTS = tuple(geo_export.MEDIA_TYPES)
MAX_IDS = 10_000


def _alternatives(words: tuple[str, ...]) -> str:
    return rf"^({'|'.join(re.escape(w) for w in words)})$"


@router.get(
    "/api/geo/layers",
    summary="The geo layers: features stored, source, grid, synthetic note",
    dependencies=_viewer,
)
def list_geo_layers(store: AppStore = Depends(get_store)) -> dict[str, Any]:
    meta = geo_layers_store.list_meta(store)
    info = store.get_grid_info()
    items = []
    for layer in GEO_LAYERS.values():
        m = meta.get(layer.name)
        items.append(
            {
                "name": layer.name,
                "description": layer.description,
                "geometry": layer.geometry,
                "min_zoom": layer.min_zoom,
                "properties": [{"name": p, "description": d} for p, _, d in layer.props],
                "tilejson": f"/api/tiles/{layer.name}.json",
                "features": None if m is None else m["features"],
                "source": None if m is None else m["source"],
                "source_name": None if m is None else m["source_name"],
                "note": None if m is None else m["note"],
                "updated_utc": None if m is None else m["updated_utc"],
                "current": m is not None
                and (m["grid_hash"] is None or (info is not None and m["grid_hash"] == info.content_hash)),
                "generated_by": layer.generated_by,
            }
        )
    return {"items": items}


_TIERS = ("high", "medium", "low", "unknown")


@router.get(
    "/api/geo/flood/exposure",
    summary="Substations and pad-mounted transformers in a flood zone, with their freeboard (ft)",
    dependencies=_viewer,
    responses=error_responses(404, 422),
)
def get_flood_exposure(
    types: str | None = choices_query(("substation", "transformer"), "Only these asset types"),
    zone: str | None = one_of_query(("AE", "X500"), "Only this zone"),
    tier: str | None = choices_query(_TIERS, "Only these tiers"),
    limit: int = Query(1000, ge=1, le=MAX_ITEMS, description="Items returned (all are counted)"),
    loaded: LoadedGrid = Depends(get_loaded_grid),
    store: AppStore = Depends(get_store),
) -> dict[str, Any]:
    meta = geo_layers_store.get_meta(store, "flood_zones")
    version = "none" if meta is None else meta["version"]
    # per grid and flood-layer version: the terrain and point-in-zone work is done once
    table, meta = loaded.derived(
        f"flood_exposure:{version}", lambda: geo_generate.flood_exposure(store, loaded.grid)
    )
    if types:
        table = table[table.asset_type.isin(types.split(","))]
    if zone:
        table = table[table.zone == zone]
    if tier:
        table = table[table.tier.isin(tier.split(","))]
    head = table.head(limit)
    return {
        "count": len(table),
        "by_tier": {t: int((table.tier == t).sum()) for t in _TIERS},
        "by_type": {t: int((table.asset_type == t).sum()) for t in ("substation", "transformer")},
        "flood_zones_source": meta["source_name"],
        "note": meta["note"],
        "truncated": len(table) > limit,
        "items": head.astype(object).where(head.notna(), None).to_dict("records"),
    }


@router.get(
    "/api/geo/vegetation/trim-plan",
    summary="Spans ordered by vegetation risk reduced per dollar; the prefix the budget buys is selected",
    dependencies=_viewer,
    responses=error_responses(404, 422),
)
def get_trim_plan(
    budget_usd: float = Query(..., ge=0, le=1e12, allow_inf_nan=False, description="Budget, USD"),
    per_span_usd: float = Query(trim_plan.TrimCosts.per_span_usd, ge=0, le=1e7, allow_inf_nan=False),
    per_tree_usd: float = Query(trim_plan.TrimCosts.per_tree_usd, ge=0, le=1e7, allow_inf_nan=False),
    per_felled_tree_usd: float = Query(
        trim_plan.TrimCosts.per_felled_tree_usd, ge=0, le=1e7, allow_inf_nan=False
    ),
    fell_hazard_trees: bool = Query(True, description="Fell strike-capable trees as part of a span's trim"),
    selected_only: bool = Query(False, description="Only the spans the budget buys"),
    limit: int = Query(1000, ge=1, le=MAX_ITEMS, description="Spans returned"),
    loaded: LoadedGrid = Depends(get_loaded_grid),
    store: AppStore = Depends(get_store),
) -> dict[str, Any]:
    meta = vegetation_store.get_meta(store)
    if meta is None or meta["grid_hash"] != loaded.stored_hash:
        raise NotFoundError(
            "no vegetation inventory for the loaded grid: run `fluxops geo vegetation generate`",
            details={"field": "vegetation"},
        )
    trees = vegetation_store.read_trees(store)
    spans = loaded.derived("vegetation_spans", lambda: vegetation.span_context(loaded.grid))
    costs = trim_plan.TrimCosts(per_span_usd, per_tree_usd, per_felled_tree_usd, fell_hazard_trees)
    result = trim_plan.trim_plan(trees, spans, meta["params"]["regime"], budget_usd=budget_usd, costs=costs)
    plan = result.pop("plan")
    if selected_only:
        plan = plan[plan.selected]
    return {
        **result,
        "count": len(plan),
        "truncated": len(plan) > limit,
        "items": plan.head(limit).to_dict("records"),
    }


def _export_response(props: Any, geoms: Any, output: str, layer: str) -> Response:
    body = geo_export.encode(props, geoms, output)
    name = f"{layer}.{geo_export.EXTENSIONS[output]}"
    return Response(
        body,
        media_type=geo_export.MEDIA_TYPES[output],
        headers={"Content-Disposition": f'attachment; filename="{name}"', "X-Feature-Count": str(len(props))},
    )


_EXPORT_RESPONSES = {
    200: {
        "content": {t: {} for t in geo_export.MEDIA_TYPES.values()},
        "description": "The selection as a file",
    },
    **error_responses(404, 422),
}


@router.get(
    "/api/geo/export",
    summary="Export a layer's features in a box or with these ids as GeoJSON, GeoParquet or CSV",
    dependencies=_viewer,
    response_class=Response,
    responses=_EXPORT_RESPONSES,  # type: ignore[arg-type]
)
def get_export(
    layer: str = Query(..., pattern=_alternatives(geo_export.EXPORT_LAYERS), description="Layer"),
    output: str = one_of_query(OUTPUTS, "File format", default="geojson"),
    bbox: str | None = bbox_query(),
    ids: str | None = Query(
        None,
        max_length=8000,
        pattern=r"^[^\s,]+(,[^\s,]+)*$",
        description="Feature ids (comma list, at most 8,000 characters; POST for more)",
    ),
    store: AppStore = Depends(get_store),
) -> Response:
    id_list = ids.split(",") if ids else None
    if id_list is not None and len(id_list) > MAX_IDS:
        raise InvalidInputError(f"at most {MAX_IDS} ids", field="ids")
    box = parse_bbox(bbox) if bbox else None
    corners = None if box is None else (box.min_lon, box.min_lat, box.max_lon, box.max_lat)
    props, geoms = geo_export.select(store, layer, bbox=corners, ids=id_list)
    return _export_response(props, geoms, output, layer)


class ExportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    layer: Literal[geo_export.EXPORT_LAYERS]  # type: ignore[valid-type]
    output: Literal["geojson", "geoparquet", "csv"] = "geojson"
    polygon: PolygonGeometry | None = Field(None, description="Only features meeting this polygon")
    ids: (
        Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]], Field(max_length=MAX_IDS)] | None
    ) = None


@router.post(
    "/api/geo/export",
    summary="Export a layer's features inside a GeoJSON polygon and/or with these ids",
    dependencies=_viewer,
    response_class=Response,
    responses=_EXPORT_RESPONSES,  # type: ignore[arg-type]
)
def post_export(body: ExportQuery, store: AppStore = Depends(get_store)) -> Response:
    polygon = parse_polygon(body.polygon.model_dump()) if body.polygon is not None else None
    props, geoms = geo_export.select(store, body.layer, polygon=polygon, ids=body.ids)
    return _export_response(props, geoms, body.output, body.layer)


GeneratedLayer = Literal["water", "flood_zones", "buildings", "canopy"]


class GenerateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    layers: Annotated[
        list[Literal["water", "flood_zones", "buildings", "canopy"]], Field(min_length=1, max_length=4)
    ] = Field(["water", "flood_zones", "buildings", "canopy"], description="Layers to generate")
    seed: JsonInt = Field(0, ge=0, le=2**31 - 1)


@router.post(
    "/api/admin/geo/generate",
    summary="Generate the synthetic geo layers of the loaded grid (each replaced whole)",
    dependencies=_admin,
    responses=error_responses(404, 422),
)
def post_generate(
    body: GenerateIn, loaded: LoadedGrid = Depends(get_loaded_grid), store: AppStore = Depends(get_store)
) -> dict[str, Any]:
    counts = geo_generate.generate_layers(
        store,
        loaded.grid,
        grid_hash=loaded.stored_hash,
        layers=tuple(dict.fromkeys(body.layers)),
        seed=body.seed,
    )
    return {"features": counts}


@router.post(
    "/api/admin/geo/import",
    summary="Import a geo layer from a file in the body (GeoJSON, GeoPackage, zipped Shapefile, GeoParquet)",
    dependencies=_admin,
    responses=error_responses(413, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def post_import(
    request: Request,
    layer: str = Query(..., pattern=_alternatives(IMPORTABLE), description="Layer to replace"),
    filename: str = Query(
        ...,
        min_length=3,
        max_length=200,
        pattern=r"^[A-Za-z0-9._-]+$",
        description="The file's name; its suffix names the format",
    ),
    mapping: str | None = Query(None, max_length=4000, description='JSON {"property": "source field"}'),
    store: AppStore = Depends(get_store),
) -> dict[str, Any]:
    data = await request.body()
    if not data:
        raise InvalidInputError("the request body holds no file", field="body")

    def work() -> int:
        with tempfile.TemporaryDirectory() as tmp:
            path = FsPath(tmp) / filename
            path.write_bytes(data)
            parsed = geo_import.parse_mapping(mapping, path)
            return geo_import.import_layer(store, path, layer=layer, mapping=parsed, source_name=filename)

    n = await run_in_threadpool(work)
    return {"layer": layer, "features": n, "source_name": filename}
