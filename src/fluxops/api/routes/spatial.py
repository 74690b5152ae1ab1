"""``/api/spatial``: nearest assets, everything within a radius, inside a polygon or along a line, and
H3 roll-ups of customers, design load and outages. Both stores answer the same
(`fluxops.storage.spatial_queries`); list answers export as CSV / GeoJSON / Parquet (``?format=``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import asdict
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from fluxops.api.deps import AppStore, LoadedGrid, get_loaded_grid, get_store
from fluxops.api.params import FiniteFloat, choices_query, id_query, one_of_query
from fluxops.api.security import require_role
from fluxops.core.errors import NotFoundError
from fluxops.geo import hexbins, vegetation
from fluxops.geo.spatial import (
    MAX_BUFFER_M,
    MAX_ITEMS,
    MAX_K,
    MAX_RADIUS_M,
    MAX_VERTICES,
    SpatialSelection,
    check_point,
    check_types,
    parse_line,
    parse_polygon,
)
from fluxops.grid.models import ASSET_TYPES
from fluxops.storage import spatial_queries as sq
from fluxops.storage import vegetation_store
from fluxops.storage.geo_generate import vegetation_span_table

router = APIRouter(prefix="/api/spatial", tags=["spatial"], dependencies=[Depends(require_role("viewer"))])
DEFAULT_ITEMS = 1000
MAX_CELLS = 50_000

Lon = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Position = tuple[Lon, Lat]
AssetType = Literal[ASSET_TYPES]  # type: ignore[valid-type]


class PolygonGeometry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["Polygon"]
    coordinates: Annotated[
        list[Annotated[list[Position], Field(min_length=4, max_length=MAX_VERTICES)]],
        Field(min_length=1, max_length=100),
    ] = Field(..., description="Rings of [lon, lat]; the first is the outer ring, the others holes; closed")


class LineGeometry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["LineString"]
    coordinates: Annotated[list[Position], Field(min_length=2, max_length=MAX_VERTICES)]


class PolygonQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    polygon: PolygonGeometry
    types: Annotated[list[AssetType], Field(max_length=len(ASSET_TYPES))] | None = Field(
        None, description="Only these asset types (all when absent)"
    )
    limit: int = Field(DEFAULT_ITEMS, ge=1, le=MAX_ITEMS, description="Items returned (all are counted)")


class LineQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    line: LineGeometry
    buffer_m: float = Field(
        ..., gt=0, le=MAX_BUFFER_M, allow_inf_nan=False, description="Corridor half-width, m"
    )
    types: Annotated[list[AssetType], Field(max_length=len(ASSET_TYPES))] | None = None
    limit: int = Field(DEFAULT_ITEMS, ge=1, le=MAX_ITEMS)


def _types(value: str | list[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else value
    return check_types(tuple(items))


def _need_grid(store: AppStore) -> None:
    if store.get_grid_info() is None:
        raise NotFoundError(
            "no grid is loaded: run `fluxops generate` or POST /api/admin/grid", details={"grid": None}
        )


def _selection(sel: SpatialSelection) -> dict[str, Any]:
    return {
        "count": sel.count,
        "by_type": sel.by_type,
        "truncated": sel.truncated,
        "items": [asdict(h) for h in sel.items],
    }


_LON = Query(..., ge=-180, le=180, description="Longitude, WGS84 degrees")
_LAT = Query(..., ge=-90, le=90, description="Latitude, WGS84 degrees")


@router.get("/nearest", summary="The k assets nearest a point (great-circle metres), nearest first")
def get_nearest(
    lon: FiniteFloat = _LON,
    lat: FiniteFloat = _LAT,
    k: int = Query(10, ge=1, le=MAX_K, description=f"How many, at most {MAX_K}"),
    type: str | None = choices_query(ASSET_TYPES, "Only these asset types"),
    store: AppStore = Depends(get_store),
) -> dict[str, Any]:
    check_point(lon, lat)
    _need_grid(store)
    hits = sq.nearest(store, lon=lon, lat=lat, k=k, types=_types(type))
    return {"count": len(hits), "items": [asdict(h) for h in hits]}


@router.get("/within-radius", summary="Every asset within a radius (metres) of a point, nearest first")
def get_within_radius(
    lon: FiniteFloat = _LON,
    lat: FiniteFloat = _LAT,
    radius_m: FiniteFloat = Query(
        ..., gt=0, le=MAX_RADIUS_M, description=f"Radius in metres, at most {MAX_RADIUS_M:g}"
    ),
    type: str | None = choices_query(ASSET_TYPES, "Only these asset types"),
    limit: int = Query(DEFAULT_ITEMS, ge=1, le=MAX_ITEMS, description="Items returned (all are counted)"),
    store: AppStore = Depends(get_store),
) -> dict[str, Any]:
    check_point(lon, lat)
    _need_grid(store)
    sel = sq.within_radius(store, lon=lon, lat=lat, radius_m=radius_m, types=_types(type), limit=limit)
    return _selection(sel)


@router.post(
    "/within-polygon",
    summary="Every asset inside a GeoJSON polygon (boundary included); invalid or huge polygons: 422",
)
def post_within_polygon(body: PolygonQuery, store: AppStore = Depends(get_store)) -> dict[str, Any]:
    polygon = parse_polygon(body.polygon.model_dump())
    _need_grid(store)
    sel = sq.within_polygon(store, polygon=polygon, types=_types(body.types), limit=body.limit)
    return _selection(sel)


@router.post("/along-line", summary="Every asset within a buffer (metres) of a GeoJSON line, nearest first")
def post_along_line(body: LineQuery, store: AppStore = Depends(get_store)) -> dict[str, Any]:
    line = parse_line(body.line.model_dump())
    _need_grid(store)
    sel = sq.along_line(store, line=line, buffer_m=body.buffer_m, types=_types(body.types), limit=body.limit)
    return _selection(sel)


class _CellCache:
    """Per grid content hash, metric and resolution: every point's H3 cell and its weight (outage
    metrics are not cached: outages change without the grid changing)."""

    def __init__(self, size: int = 12) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str, str, int], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, store: AppStore, metric: str, resolution: int) -> tuple[np.ndarray, np.ndarray]:
        info = store.get_grid_info()
        if info is None:
            raise NotFoundError("no grid is loaded", details={"grid": None})
        grid_bound = metric in ("customers", "load_kw")
        key = (str(id(store)), info.content_hash, metric, resolution)
        if grid_bound:
            with self._lock:
                hit = self._items.get(key)
                if hit is not None:
                    self._items.move_to_end(key)
                    return hit
        points = sq.h3_points(store, metric)
        lon = points.column("lon").to_numpy()
        lat = points.column("lat").to_numpy()
        value = (hexbins.cells_at(lon, lat, resolution), points.column("w").to_numpy())
        if grid_bound:
            with self._lock:
                self._items[key] = value
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return value


_base_cells_lock = threading.Lock()


def _cell_cache(request: Request) -> _CellCache:
    with _base_cells_lock:
        cache: _CellCache | None = getattr(request.app.state, "h3_cells", None)
        if cache is None:
            cache = _CellCache()
            request.app.state.h3_cells = cache
        return cache


@router.get("/h3", summary="Customers, design load (kW) or outages summed per H3 cell (resolution 6-10)")
def get_h3(
    request: Request,
    resolution: int = Query(
        8, ge=hexbins.MIN_RESOLUTION, le=hexbins.MAX_RESOLUTION, description="H3 resolution"
    ),
    metric: str = one_of_query(sq.H3_METRICS, "What to sum", default="customers"),
    limit: int = Query(5000, ge=1, le=MAX_CELLS, description="Cells returned, largest value first"),
    boundaries: bool = Query(False, description="Include each cell's boundary ring ([lon, lat])"),
    store: AppStore = Depends(get_store),
) -> dict[str, Any]:
    cells, weights = _cell_cache(request).get(store, metric, resolution)
    total_cells, total, out = hexbins.aggregate(cells, weights, limit=limit, boundaries=boundaries)
    return {
        "metric": metric,
        "resolution": resolution,
        "cell_area_km2": round(hexbins.RESOLUTION_AREA_KM2[resolution], 5),
        "cells_total": total_cells,
        "points": len(cells),
        "value_total": round(total, 3),
        "truncated": len(out) < total_cells,
        "items": [asdict(c) for c in out],
    }


_SPAN_SORTS = ("months_to_encroachment", "fall_in_exposure", "risk")


@router.get(
    "/vegetation",
    summary="Per overhead span: trees, clearance now, months to encroachment, fall-in exposure and risk",
)
def get_vegetation(
    feeder: str | None = id_query("Only the spans of this feeder"),
    sort: str = one_of_query(
        _SPAN_SORTS,
        "Order: soonest encroachment, largest fall-in exposure, or largest vegetation risk",
        default="months_to_encroachment",
    ),
    limit: int = Query(DEFAULT_ITEMS, ge=1, le=MAX_ITEMS, description="Spans returned (all are counted)"),
    loaded: LoadedGrid = Depends(get_loaded_grid),
    store: AppStore = Depends(get_store),
) -> dict[str, Any]:
    meta = vegetation_store.get_meta(store)
    if meta is None or meta["grid_hash"] != loaded.stored_hash:
        raise NotFoundError(
            "no vegetation inventory for the loaded grid: run `fluxops geo vegetation generate`",
            details={"field": "vegetation"},
        )
    trees = vegetation_store.read_trees(store, feeder_id=feeder)
    spans = loaded.derived("vegetation_spans", lambda: vegetation.span_context(loaded.grid))
    regime = meta["params"]["regime"]
    table = vegetation_span_table(trees, spans, regime) if len(trees) else None  # with the one risk
    if table is None or table.empty:
        return {"count": 0, "params": meta["params"], "items": []}
    ascending = sort == "months_to_encroachment"
    table = table.sort_values([sort, "segment_id"], ascending=[ascending, True], na_position="last")
    items = table.head(limit).astype(object).where(table.head(limit).notna(), None).to_dict("records")
    return {
        "count": len(table),
        "trees": int(table.trees.sum()),
        "encroaching_now": int(table.encroaching_now.sum()),
        "params": meta["params"],
        "truncated": len(table) > limit,
        "items": items,
    }
