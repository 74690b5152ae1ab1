"""Grid read views: substations, feeders, topology edges, KPIs, and the columnar map payloads.

All computed from the loaded grid (`fluxops.api.deps.LoadedGrid`), which is read once per grid
content hash. The map payloads are Arrow IPC streams, built and gzipped once per grid and served
with an ETag so a browser reload costs a 304.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from fluxops.api.deps import (
    ARROW_STREAM_MEDIA_TYPE,
    ArrowPayload,
    LoadedGrid,
    arrow_payload,
    get_loaded_grid,
    loaded_grid,
)
from fluxops.api.params import bbox_query, id_query
from fluxops.api.security import require_role
from fluxops.core.errors import InvalidInputError, NotFoundError
from fluxops.grid.map_assets import build_map_assets, build_meter_points
from fluxops.grid.query import parse_bbox, parse_id
from fluxops.grid.summaries import feeder_summaries, kpis, substation_summaries, topology_edges
from fluxops.grid.topology import GridTopology

router = APIRouter(prefix="/api", tags=["grid"], dependencies=[Depends(require_role("viewer"))])


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: NaN/NA become null, NumPy scalars become Python ones."""
    rows: list[dict[str, Any]] = pa.Table.from_pandas(frame, preserve_index=False).to_pylist()
    for row in rows:
        for key, value in row.items():
            if isinstance(value, float) and not math.isfinite(value):
                row[key] = None
    return rows


def _topology(loaded: LoadedGrid) -> GridTopology:
    return loaded.derived("topology", lambda: GridTopology.build(loaded.grid))


def _arrow_response(request: Request, payload: ArrowPayload) -> Response:
    headers = {
        "ETag": payload.etag,
        "Cache-Control": "private, no-cache",  # revalidate each time; a 304 costs nothing
        "Vary": "Accept-Encoding, Authorization",
        "X-Row-Count": str(payload.rows),
    }
    if payload.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(
            payload.gzipped,
            media_type=ARROW_STREAM_MEDIA_TYPE,
            headers={**headers, "Content-Encoding": "gzip"},
        )
    return Response(payload.raw, media_type=ARROW_STREAM_MEDIA_TYPE, headers=headers)


@router.get("/substations", summary="Substations with capacity, feeders, customers and connected load")
def list_substations(loaded: LoadedGrid = Depends(get_loaded_grid)) -> list[dict[str, Any]]:
    topo = _topology(loaded)
    return _records(loaded.derived("substation_summaries", lambda: substation_summaries(loaded.grid, topo)))


@router.get("/feeders", summary="Feeders: customers, connected kVA, length, bbox, tie points")
def list_feeders(
    substation: str | None = id_query("Only the feeders of this substation id"),
    loaded: LoadedGrid = Depends(get_loaded_grid),
) -> list[dict[str, Any]]:
    topo = _topology(loaded)
    frame = loaded.derived("feeder_summaries", lambda: feeder_summaries(loaded.grid, topo))
    if substation is not None:
        substation = parse_id(substation, field="substation")
        if substation not in set(loaded.grid.substations["substation_id"]):
            raise NotFoundError(f"no substation {substation!r}", details={"field": "substation"})
        frame = frame[frame["substation_id"] == substation]
    return _records(frame)


@router.get("/topology", summary="Topology edges (segments and devices) of one feeder or inside a bbox")
def get_topology(
    feeder: str | None = id_query("Feeder id; `feeder` or `bbox` is required"),
    bbox: str | None = bbox_query(),
    loaded: LoadedGrid = Depends(get_loaded_grid),
) -> dict[str, Any]:
    if feeder is None and bbox is None:
        raise InvalidInputError("one of feeder or bbox is required", field="feeder")
    box = parse_bbox(bbox) if bbox is not None else None
    if feeder is not None:
        feeder = parse_id(feeder, field="feeder")
        if feeder not in set(loaded.grid.feeders["feeder_id"]):
            raise NotFoundError(f"no feeder {feeder!r}", details={"field": "feeder"})
    edges = topology_edges(loaded.grid, feeder_id=feeder, bbox=box)
    return {"count": len(edges), "edges": _records(edges)}


@router.get("/kpis", summary="Customers, connected load and counts by asset type, computed from the grid")
async def get_kpis(loaded: LoadedGrid = Depends(loaded_grid)) -> dict[str, Any]:
    """Built once per grid (in the thread pool), then answered on the event loop."""
    if loaded.built("kpis"):
        return loaded.derived("kpis", lambda: kpis(loaded.grid))
    return await run_in_threadpool(loaded.derived, "kpis", lambda: kpis(loaded.grid))


_ARROW_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {ARROW_STREAM_MEDIA_TYPE: {}}, "description": "Arrow IPC stream (gzip when accepted)"},
    304: {"description": "Unchanged since the ETag in If-None-Match"},
}


@router.get(
    "/map/assets",
    summary="Every map asset (ids, type, coordinates, colour attributes) as one Arrow IPC stream",
    response_class=Response,
    responses=_ARROW_RESPONSE,
)
async def map_assets(request: Request, loaded: LoadedGrid = Depends(loaded_grid)) -> Response:
    """Built and gzipped once per grid (in the thread pool), then answered on the event loop."""

    def payload() -> ArrowPayload:
        topo = _topology(loaded)
        return loaded.derived(
            "map_assets",
            lambda: arrow_payload(build_map_assets(loaded.grid, topo), etag=loaded.etag("map-assets")),
        )

    return _arrow_response(
        request, payload() if loaded.built("map_assets") else await run_in_threadpool(payload)
    )


@router.get(
    "/map/meters",
    summary="Meters (id, coordinates, transformer row, feeder) as an Arrow IPC stream; optional bbox",
    response_class=Response,
    responses=_ARROW_RESPONSE,
)
def map_meters(
    request: Request,
    bbox: str | None = bbox_query(),
    loaded: LoadedGrid = Depends(get_loaded_grid),
) -> Response:
    if bbox is None:
        payload = loaded.derived(
            "map_meters",
            lambda: arrow_payload(build_meter_points(loaded.grid), etag=loaded.etag("map-meters")),
        )
        return _arrow_response(request, payload)
    box = parse_bbox(bbox)
    table = loaded.derived("map_meters_table", lambda: build_meter_points(loaded.grid))
    lon, lat = table["lon"], table["lat"]
    mask = pc.and_(
        pc.and_(pc.greater_equal(lon, box.min_lon), pc.less_equal(lon, box.max_lon)),
        pc.and_(pc.greater_equal(lat, box.min_lat), pc.less_equal(lat, box.max_lat)),
    )
    box_key = f"{box.min_lon},{box.min_lat},{box.max_lon},{box.max_lat}"
    return _arrow_response(request, arrow_payload(table.filter(mask), etag=loaded.etag(f"meters-{box_key}")))
