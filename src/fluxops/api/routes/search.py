"""``GET /api/search?q=``: premises (address, customer name, account, meter), assets and streets,
ranked, with coordinates to fly to (`fluxops.grid.search`)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from pydantic import BaseModel, Field

from fluxops.api.deps import LoadedGrid, get_loaded_grid, grid_cache
from fluxops.api.params import choices_query
from fluxops.api.security import require_role
from fluxops.grid.query import parse_choices
from fluxops.grid.search import MAX_HITS, MAX_QUERY_CHARS, MIN_QUERY_CHARS, SEARCH_KINDS, SearchIndex

router = APIRouter(prefix="/api", tags=["search"], dependencies=[Depends(require_role("viewer"))])
log = logging.getLogger("fluxops.api.search")
DEFAULT_HITS = 20
QUERY_PATTERN = r"\S[\s\S]*\S"  # at least two characters that are not blanks, anywhere


class SearchHit(BaseModel):
    kind: str = Field(..., description=f"What was found: {', '.join(SEARCH_KINDS)} (meter = a premise)")
    id: str = Field(..., description="Asset id (meters: the meter id; streets: 'Street, ZIP')")
    label: str
    detail: str = ""
    lon: float
    lat: float
    score: int = Field(..., description="100 exact, 80 prefix, 60 word start, 40 anywhere")
    feeder_id: str | None = None
    substation_id: str | None = None
    transformer_id: str | None = None
    customer_id: str | None = None
    customer_name: str | None = None
    account_id: str | None = None
    address: str | None = None
    zip_code: str | None = None
    customer_class: str | None = None
    premises: int | None = Field(None, description="Streets: premises on it")
    bbox: list[float] | None = Field(None, description="Streets: minLon, minLat, maxLon, maxLat")


class SearchOut(BaseModel):
    query: str
    items: list[SearchHit]
    count: int


_lock = threading.Lock()


def search_index(app: FastAPI, loaded: LoadedGrid) -> SearchIndex:
    """The index of the grid as stored, built once per stored grid: operating a switch changes the
    live configuration (a new `LoadedGrid`) but no address, name or id, so it never rebuilds it."""
    key = loaded.stored_hash
    with _lock:
        held: tuple[str, SearchIndex] | None = getattr(app.state, "search_index", None)
        if held is not None and held[0] == key:
            return held[1]
        index = SearchIndex.build(loaded.grid)
        app.state.search_index = (key, index)
        return index


def on_startup(app: FastAPI) -> None:
    """Build the index in the background so the first search does not wait for it (demo: ~1 s)."""

    def warm() -> None:
        try:
            search_index(app, grid_cache(app).get(app.state.store))
        except Exception:  # no grid loaded yet, or a store error: the first search builds it
            log.debug("search index not warmed", exc_info=True)

    threading.Thread(target=warm, name="search-index-warm", daemon=True).start()


@router.get(
    "/search",
    response_model=SearchOut,
    summary="Search premises (address, customer name, account, meter), assets and streets, ranked",
)
def search(
    request: Request,
    q: str = Query(
        ...,
        min_length=MIN_QUERY_CHARS,
        max_length=MAX_QUERY_CHARS,
        pattern=QUERY_PATTERN,
        description="Words to find: an address ('1203 Elm St 77045'), a customer name, an account number, "
        "a meter / transformer / feeder / substation id, a street",
    ),
    kind: str | None = choices_query(SEARCH_KINDS, "Only these kinds"),
    limit: int = Query(DEFAULT_HITS, ge=1, le=MAX_HITS, description=f"Hits, at most {MAX_HITS}"),
    loaded: LoadedGrid = Depends(get_loaded_grid),
) -> dict[str, Any]:
    kinds = parse_choices(kind, allowed=SEARCH_KINDS, field="kind") if kind is not None else None
    items = search_index(request.app, loaded).search(q, kinds=kinds, limit=limit)
    return {"query": q, "items": items, "count": len(items)}
