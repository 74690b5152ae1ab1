"""``/api/tiles``: Mapbox Vector Tiles of every asset layer and every geo layer (water, flood zones,
buildings, canopy, vegetation: `fluxops.geo.layers`), from either store, and their TileJSON.

A tile is encoded by the database (DuckDB spatial or PostGIS ``ST_AsMVT``), kept in an in-process LRU
(`fluxops.geo.tiles.TileCache`, 64 MiB) keyed by the stored grid's content hash, and served with a strong
ETag over (content hash, layer, z/x/y), so a revalidation costs a 304 and a new grid changes every ETag.
Below a layer's minimum zoom the tile is empty (200, no body): see `fluxops.geo.tiles` for the rules.

Live status is not in a tile (a tile would then change with every outage and could not be cached):
``GET /api/tiles/status`` lists the assets whose live status is not normal (a few hundred to a few
thousand ids, from the outage engine's state snapshot), and the map colours the asset tiles' features
from it (`frontend/src/map/layers/geoStatus.ts`); its ETag names the state version, so an unchanged
state is a 304.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import orjson
import pyarrow.compute as pc
from fastapi import APIRouter, Depends, Header, Path, Request, Response

from fluxops.api.deps import AppStore, get_store
from fluxops.api.openapi import error_responses
from fluxops.api.security import require_role
from fluxops.core.errors import NotFoundError, StorageError
from fluxops.geo import tiles as geo_tiles
from fluxops.geo.layers import GEO_LAYERS, GeoLayer
from fluxops.ops.state import STATUS_CODES
from fluxops.storage import geo_layers_store
from fluxops.storage.geo_tiles import layer_bounds, render_geo_tile
from fluxops.storage.spatial_queries import grid_bounds, render_tile

MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
CACHE_CONTROL = "private, max-age=60"  # then revalidate: a 304 when the grid is unchanged
ALL_LAYERS = (*geo_tiles.LAYERS, *GEO_LAYERS)
LAYER_PATTERN = rf"^({'|'.join(re.escape(n) for n in ALL_LAYERS)})$"
router = APIRouter(prefix="/api/tiles", tags=["tiles"], dependencies=[Depends(require_role("viewer"))])
_cache_lock = threading.Lock()


def tile_cache(request: Request) -> geo_tiles.TileCache:
    with _cache_lock:
        cache: geo_tiles.TileCache | None = getattr(request.app.state, "tile_cache", None)
        if cache is None:
            cache = geo_tiles.TileCache()
            request.app.state.tile_cache = cache
        return cache


def _content_hash(store: AppStore) -> str:
    info = store.get_grid_info()
    if info is None:
        raise NotFoundError(
            "no grid is loaded: run `fluxops generate` or POST /api/admin/grid", details={"grid": None}
        )
    return info.content_hash


def _layer_path() -> Any:
    return Path(..., pattern=LAYER_PATTERN, description=f"Layer: one of {', '.join(ALL_LAYERS)}")


def _geo_version(store: AppStore, layer: GeoLayer, grid_hash: str) -> str:
    """The stored version of a geo layer ("none" when absent or made for another grid: its tiles are
    empty), so an import or a regeneration changes every ETag of that layer."""
    meta = geo_layers_store.get_meta(store, layer.name)
    if meta is None or (meta["grid_hash"] is not None and meta["grid_hash"] != grid_hash):
        return "none"
    return str(meta["version"])


@router.get("", summary="The tile layers, their minimum zooms, TileJSON links and the tile cache's state")
def list_layers(request: Request) -> dict[str, Any]:
    return {
        "layers": [
            {
                "name": layer.name,
                "description": layer.description,
                "geometry": layer.geometry,
                "min_zoom": layer.min_zoom,
                "asset_types": list(layer.asset_types),
                "tilejson": f"/api/tiles/{layer.name}.json",
            }
            for layer in geo_tiles.LAYERS.values()
        ]
        + [
            {
                "name": layer.name,
                "description": layer.description,
                "geometry": layer.geometry,
                "min_zoom": layer.min_zoom,
                "asset_types": [],
                "tilejson": f"/api/tiles/{layer.name}.json",
            }
            for layer in GEO_LAYERS.values()
        ],
        "cache": tile_cache(request).stats(),
    }


_status_lock = threading.Lock()


@router.get(
    "/status",
    summary="The assets whose live status is not normal (warning, critical, out): the asset tiles' colours",
    response_class=Response,
    responses={
        200: {"content": {"application/json": {}}, "description": "Columnar: asset_id, status (code)"},
        304: {"description": "Unchanged since the ETag in If-None-Match (the same state version)"},
        **error_responses(404, 422),
    },
)
def get_tile_status(
    request: Request, if_none_match: str | None = Header(None, alias="If-None-Match")
) -> Response:
    """``{epoch, version, codes, asset_id: [...], status: [...]}``, ``status`` an index into ``codes``;
    every asset not listed is normal. Encoded once per state version and shared by every reader."""
    state = request.app.state.ops.service().state
    version, table = state.compact(None)
    etag = f'"{state.epoch}.{version}.tilestatus"'
    headers = {"ETag": etag, "Cache-Control": "no-cache", "X-State-Version": str(version)}
    if if_none_match and etag in [t.strip().removeprefix("W/") for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    with _status_lock:
        hit: tuple[str, bytes] | None = getattr(request.app.state, "tile_status_body", None)
    if hit is not None and hit[0] == etag:
        return Response(hit[1], media_type="application/json", headers=headers)
    off = table.filter(pc.not_equal(table["status"], 0))
    body = orjson.dumps(
        {
            "epoch": state.epoch,
            "version": version,
            "codes": list(STATUS_CODES),
            "asset_id": off["asset_id"].to_pylist(),
            "status": off["status"].to_pylist(),
        }
    )
    with _status_lock:
        request.app.state.tile_status_body = (etag, body)
    return Response(body, media_type="application/json", headers=headers)


@router.get("/{layer}.json", summary="TileJSON 3.0 of one layer (tile URL template, zooms, bounds, fields)")
def get_tilejson(
    request: Request, layer: str = _layer_path(), store: AppStore = Depends(get_store)
) -> dict[str, Any]:
    digest = _content_hash(store)
    base = str(request.base_url).rstrip("/")
    url = f"{base}/api/tiles/{layer}/{{z}}/{{x}}/{{y}}.mvt"
    geo = GEO_LAYERS.get(layer)
    if geo is not None:
        version = _geo_version(store, geo, digest)
        bounds = layer_bounds(store, layer) if version != "none" else None
        return geo_tiles.tilejson(geo.tile_layer(), tiles_url=url, bounds=bounds, version=version)
    spec = geo_tiles.get_layer(layer)
    return geo_tiles.tilejson(
        spec, tiles_url=url, bounds=grid_bounds(store, spec.asset_types), version=digest[:12]
    )


@router.get(
    "/{layer}/{z}/{x}/{y}.mvt",
    summary="One Mapbox Vector Tile (protobuf) of a layer; empty below the layer's minimum zoom",
    response_class=Response,
    responses={
        200: {"content": {MVT_MEDIA_TYPE: {}}, "description": "The tile (empty body: nothing at this zoom)"},
        304: {"description": "Unchanged since the ETag in If-None-Match"},
    },
)
def get_tile(
    request: Request,
    layer: str = _layer_path(),
    z: int = Path(..., ge=0, le=geo_tiles.MAX_ZOOM, description=f"Zoom 0..{geo_tiles.MAX_ZOOM}"),
    x: int = Path(..., ge=0, le=2**geo_tiles.MAX_ZOOM - 1, description="Column, 0..2^z - 1"),
    y: int = Path(
        ..., ge=0, le=2**geo_tiles.MAX_ZOOM - 1, description="Row (XYZ, from the north), 0..2^z - 1"
    ),
    store: AppStore = Depends(get_store),
) -> Response:
    geo = GEO_LAYERS.get(layer)
    spec = geo.tile_layer() if geo is not None else geo_tiles.get_layer(layer)
    tile = geo_tiles.validate_tile(z, x, y)
    digest = _content_hash(store)
    if geo is not None:  # a geo layer's tiles change with its own version, not only the grid's
        digest = f"{digest}:{_geo_version(store, geo, digest)}"
    etag = geo_tiles.tile_etag(digest, spec.name, tile)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    cache = tile_cache(request)
    key = (str(id(store)), digest, spec.name, tile.key)
    body = cache.get(key)
    if body is not None:
        return Response(body, media_type=MVT_MEDIA_TYPE, headers={**headers, "X-Tile-Cache": "hit"})
    if geo is None:
        body = render_tile(store, spec, tile, digest)
    else:
        version = digest.rsplit(":", 1)[1]
        body = b"" if version == "none" else render_geo_tile(store, geo, tile, version)
    current = _content_hash(store)
    if geo is not None:
        current = f"{current}:{_geo_version(store, geo, current)}"
    if current != digest:  # a grid load landed while encoding: which grid is unknown
        raise StorageError("the grid changed while the tile was encoded; retry")
    cache.put(key, body)
    return Response(body, media_type=MVT_MEDIA_TYPE, headers={**headers, "X-Tile-Cache": "miss"})
