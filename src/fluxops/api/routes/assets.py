"""``/api/assets``: filtered, cursor-paginated asset listing and one asset's full record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from fluxops.api.deps import LoadedGrid, asset_reads, get_loaded_grid, get_store, grid_cache
from fluxops.api.params import bbox_query, choices_query, id_path, id_query
from fluxops.api.security import require_role
from fluxops.core.errors import InvalidInputError, NotFoundError
from fluxops.grid.element_rows import ElementRows
from fluxops.grid.models import ASSET_TYPES, DEVICE_TYPES
from fluxops.grid.ports import ASSET_STATUSES, MAX_PAGE_SIZE, AssetPage, AssetQuery, AssetRow
from fluxops.grid.query import DEFAULT_PAGE_SIZE, build_asset_query, parse_id
from fluxops.grid.topology import GridTopology
from fluxops.ops.switching import device_states
from fluxops.storage.asset_reads import NotReady

T = TypeVar("T")
MAX_CURSOR_CHARS = 1000  # an opaque `next_cursor` is an encoded (type, id) key, far shorter
router = APIRouter(prefix="/api/assets", tags=["assets"], dependencies=[Depends(require_role("viewer"))])


# Which per-type table holds an asset's attributes (devices share one table, typed by device_type).
TABLE_BY_TYPE: dict[str, str] = {
    "substation": "substations",
    "substation_transformer": "substation_transformers",
    "feeder": "feeders",
    "line_segment": "line_segments",
    **dict.fromkeys(DEVICE_TYPES, "devices"),
    "pole": "poles",
    "transformer": "transformers",
    "meter": "meters",
}


class AssetOut(BaseModel):
    asset_id: str
    asset_type: str
    name: str
    feeder_id: str | None
    substation_id: str | None
    lon: float
    lat: float
    status: str


class AssetPageOut(BaseModel):
    items: list[AssetOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page; null on the last")
    limit: int


class AssetDetailOut(AssetOut):
    attributes: dict[str, Any] = Field(..., description="The element's row from its per-type table")
    customer: dict[str, Any] | None = Field(None, description="Meters: the customer served")
    phases: str | None = Field(
        None,
        description="Phases the element is on (A, B, C, AB, AC, BC, ABC): segments, devices, transformers "
        "and meters; null for other types or where unknown",
    )
    path_to_substation: list[str] = Field(..., description="Element ids from this asset up to the substation")
    downstream: dict[str, float] = Field(
        ..., description="Downstream transformers, meters, customers, critical customers and load"
    )


def _out(row: AssetRow) -> AssetOut:
    return AssetOut(
        asset_id=row.asset_id,
        asset_type=row.asset_type,
        name=row.name,
        feeder_id=row.feeder_id,
        substation_id=row.substation_id,
        lon=row.lon,
        lat=row.lat,
        status=row.status,
    )


def _either(value: str | None, older: str | None, name: str, older_name: str) -> str | None:
    """A filter given by its name or its older name (both: they must agree)."""
    if value is not None and older is not None and value != older:
        raise InvalidInputError(f"{name} and {older_name} name different ids; give one", field=older_name)
    return value if value is not None else older


class _NotWarm(Exception):
    """Answering needs a store read or a first build: leave the event loop for the thread pool."""


@dataclass(frozen=True)
class _InMemory:
    """What answering from memory needs: the store, its write generation, the grid as stored and the
    live configuration. ``inline``: the caller is the event loop, so nothing may be read or built."""

    store: Any
    gen: int
    base: LoadedGrid
    loaded: LoadedGrid
    inline: bool

    def derived(self, grid: LoadedGrid, key: str, build: Callable[[], T]) -> T:
        if self.inline and not grid.built(key):
            raise _NotWarm(key)
        return grid.derived(key, build)

    def element(self, table: str, element_id: str) -> dict[str, Any]:
        base = self.base
        rows = self.derived(base, f"element_rows:{table}", lambda: ElementRows(base.grid, table))
        return rows.get(element_id) or {}


def _in_memory(request: Request, *, inline: bool = False) -> _InMemory | None:
    """Set when this store lets reads be answered from memory (`write_generation`: DuckDB, one writer)
    and a grid is loaded; None: ask the store (never inline: `_NotWarm`)."""
    store = get_store(request)
    gen_of = getattr(store, "write_generation", None)
    gen = gen_of() if callable(gen_of) else None
    cache = grid_cache(request.app)
    loaded: LoadedGrid | None
    if not isinstance(gen, int):
        loaded = None
    elif inline:
        loaded = cache.peek(store)
    else:
        try:
            loaded = get_loaded_grid(request)
        except NotFoundError:
            loaded = None
    base = cache.stored() if loaded is not None else None
    if (
        not isinstance(gen, int)
        or loaded is None
        or base is None
        or base.info.content_hash != loaded.stored_hash
    ):
        if inline:
            raise _NotWarm("grid")
        return None
    return _InMemory(store, gen, base, loaded, inline)


def _page(request: Request, query: AssetQuery, inline: bool = False) -> AssetPage:
    mem = _in_memory(request, inline=inline)
    reads = asset_reads(request.app)
    read = not inline
    page = (
        reads.list_assets(mem.store, mem.gen, mem.base.info.content_hash, query, read=read) if mem else None
    )
    if page is None:
        if inline:
            raise _NotWarm("store")
        page = get_store(request).list_assets(query)
    return page


async def _answer(inline: Callable[[], T], threaded: Callable[[], T]) -> T:
    """``inline()`` on the event loop when everything it needs is in memory (no thread hop: under 64
    clients the thread pool was where requests queued, issue 8 §5), else ``threaded()`` in the pool."""
    try:
        return inline()
    except (_NotWarm, NotReady):
        return await run_in_threadpool(threaded)


@router.get(
    "",
    summary="List assets (filters, bbox, cursor pagination); `transformer_id`: the meters on a transformer",
    response_model=AssetPageOut,
)
async def list_assets(
    request: Request,
    type: str | None = choices_query(ASSET_TYPES, "Asset types"),
    status: str | None = choices_query(ASSET_STATUSES, "Statuses"),
    feeder_id: str | None = id_query("Feeder id, e.g. FDR-0001-01"),
    substation_id: str | None = id_query("Substation id, e.g. SUB-0001"),
    transformer_id: str | None = id_query("Distribution transformer id: the meters it serves"),
    feeder: str | None = id_query("Older name of `feeder_id`"),
    substation: str | None = id_query("Older name of `substation_id`"),
    bbox: str | None = bbox_query(),
    cursor: str | None = Query(
        None, min_length=1, max_length=MAX_CURSOR_CHARS, description="`next_cursor` of the previous page"
    ),
    limit: int | None = Query(
        None,
        ge=1,
        le=MAX_PAGE_SIZE,
        description=f"Page size, default {DEFAULT_PAGE_SIZE}, at most {MAX_PAGE_SIZE}",
    ),
) -> Response:
    query = build_asset_query(
        types=type,
        statuses=status,
        feeder_id=_either(feeder_id, feeder, "feeder_id", "feeder"),
        substation_id=_either(substation_id, substation, "substation_id", "substation"),
        transformer_id=transformer_id,
        bbox=bbox,
        cursor=cursor,
        limit=limit,
    )
    page = await _answer(lambda: _page(request, query, True), lambda: _page(request, query))
    # `AssetRow` has `AssetOut`'s fields in its order: orjson encodes the page without a model per row
    body = {"items": page.items, "next_cursor": page.next_cursor, "limit": query.limit}
    return Response(orjson.dumps(body), media_type="application/json")


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    """Attributes as JSON: a segment's WKB geometry becomes its [lon, lat] vertex list."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key == "geometry_wkb" and isinstance(value, bytes):
            import shapely

            out["coordinates"] = shapely.get_coordinates(shapely.from_wkb(value)).tolist()
        elif isinstance(value, bytes):
            continue
        else:
            out[key] = value
    return out


def _phases(attributes: dict[str, Any]) -> str | None:
    """The element's phases: ``phases`` (segments, devices, meters) or a transformer's ``phase``."""
    value = attributes.get("phases", attributes.get("phase"))
    return str(value) if isinstance(value, str) and value else None


@router.get(
    "/{asset_id}",
    summary="One asset: attributes, path up to its substation, downstream counts",
    responses={404: {"description": "No asset with this id"}},
)
async def get_asset(request: Request, asset_id: str = id_path("Asset id")) -> AssetDetailOut:
    asset_id = parse_id(asset_id, field="asset_id")
    return await _answer(lambda: _detail(request, asset_id, True), lambda: _detail(request, asset_id))


def _detail(request: Request, asset_id: str, inline: bool = False) -> AssetDetailOut:
    store = get_store(request)
    mem = _in_memory(request, inline=inline)
    if mem is not None:
        reads = asset_reads(request.app)
        row = reads.get_asset(mem.store, mem.gen, mem.base.info.content_hash, asset_id, read=not inline)
    else:
        row = store.get_asset(asset_id)
    if row is None:
        raise NotFoundError(f"no asset {asset_id!r}", details={"field": "asset_id", "asset_id": asset_id})

    def element(table: str, element_id: str) -> dict[str, Any]:
        return mem.element(table, element_id) if mem else store.get_element(table, element_id) or {}

    attributes = _jsonable(element(TABLE_BY_TYPE[row.asset_type], asset_id))
    customer = None
    if row.asset_type == "meter" and attributes.get("customer_id"):
        customer = _jsonable(element("customers", str(attributes["customer_id"])))
    loaded = mem.loaded if mem is not None else get_loaded_grid(request)

    def derived(key: str, build: Callable[[], T]) -> T:
        return mem.derived(loaded, key, build) if mem is not None else loaded.derived(key, build)

    topology = derived("topology", lambda: GridTopology.build(loaded.grid))
    if row.asset_type in DEVICE_TYPES and "state" in attributes:  # as operated now (`fluxops.ops.switching`)
        live = derived("device_states", lambda: device_states(loaded.grid))
        attributes["state"] = live.get(asset_id, attributes["state"])
    base = _out(row)
    return AssetDetailOut(
        **base.model_dump(),
        attributes=attributes,
        customer=customer,
        phases=_phases(attributes),
        path_to_substation=topology.path_to_substation(asset_id),
        downstream=topology.downstream(asset_id),
    )
