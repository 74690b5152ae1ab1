"""``GET /api/grid/loading``: per line segment loading and current, per bus / transformer voltage, from a
whole-grid power flow at the latest complete AMI hour of transformer demand (design peak without AMI).

Thin: picks the demand (AMI analytics via ``app.state.ami``), reuses the compiled grid and the
normal-configuration sweep plan the cascade engine caches per grid (``cascade_context``), and caches the
answer per (grid content hash, AMI hour). The domain work is `fluxops.network.loading`.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa
from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from fluxops.api.deps import ARROW_STREAM_MEDIA_TYPE, ArrowPayload, LoadedGrid, arrow_payload, get_loaded_grid
from fluxops.api.params import one_of_query
from fluxops.api.security import require_role
from fluxops.cascade.context import build_context
from fluxops.core.errors import InvalidInputError
from fluxops.network.loading import BusDemand, bus_demand_from_transformers, grid_loading

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/grid", tags=["grid"], dependencies=[Depends(require_role("viewer"))])
CACHE_ENTRIES = 8  # a few grids × hours; each entry is one Arrow payload (~segments + buses rows)

_lock = threading.Lock()


class _Answer:
    def __init__(self, payload: ArrowPayload, meta: dict[str, Any], table: pa.Table) -> None:
        self.payload, self.meta, self.table = payload, meta, table


def _cache(request: Request) -> OrderedDict[tuple[str, str], _Answer]:
    with _lock:
        state = request.app.state
        c: OrderedDict[tuple[str, str], _Answer] | None = getattr(state, "grid_loading_cache", None)
        if c is None:
            c = OrderedDict()
            state.grid_loading_cache = c
        return c


def _ami_hour(request: Request) -> tuple[pa.Table, datetime, bool, int] | None:
    """(transformer_id, kw_avg) rows of the latest complete hour (or the only, partial, hour), the hour,
    whether it is complete, and the lake's reading sequence; None without AMI data."""
    rt = getattr(request.app.state, "ami", None)
    if rt is None:
        return None
    try:
        q, mat = rt.queries()  # the last materialization (the AMI refresher keeps it current)
        h = q.a.query(
            """SELECT max(hour_utc) AS newest,
                      max(hour_utc) FILTER (WHERE hour_utc < (SELECT max(hour_utc) FROM d_transformer_hour))
                        AS prev
               FROM d_transformer_hour"""
        ).to_pylist()[0]
        if h["newest"] is None:
            return None
        hour, complete = (h["prev"], True) if h["prev"] is not None else (h["newest"], False)
        rows = q.a.query(
            """SELECT transformer_id, kw_avg FROM d_transformer_hour
               WHERE hour_utc = $h AND kw_avg IS NOT NULL""",
            {"h": hour},
        )
        return rows, hour, complete, int(mat.seq)
    except Exception:  # no derived data yet (no readings since start): design peak
        log.debug("no AMI transformer hours; loading at design peak", exc_info=True)
        return None


def _compute(request: Request, loaded: LoadedGrid) -> _Answer:
    ami = _ami_hour(request)
    if ami is None:
        key = (loaded.info.content_hash, "design_peak")
    else:
        hour, complete, seq = ami[1], ami[2], ami[3]
        key = (loaded.info.content_hash, f"{hour.isoformat()}|{'complete' if complete else seq}")
    cache = _cache(request)
    with _lock:
        hit = cache.get(key)
        if hit is not None:
            cache.move_to_end(key)
            return hit
    ctx = loaded.derived("cascade_context", lambda: build_context(loaded.grid))
    demand: BusDemand | None = None
    meta: dict[str, Any] = {"load_source": "design_peak", "hour_utc": None, "hour_complete": None}
    if ami is not None:
        rows = ami[0]
        demand = bus_demand_from_transformers(
            ctx.cg,
            rows["transformer_id"].to_numpy(zero_copy_only=False),
            rows["kw_avg"].to_numpy(zero_copy_only=False),
        )
        meta = {
            "load_source": "ami",
            "hour_utc": ami[1].isoformat(),
            "hour_complete": ami[2],
            "measured_transformers": demand.measured_transformers,
            "transformers": len(ctx.cg.xfmr_ids),
            "scale_unmeasured": demand.scale_unmeasured,
        }
    result = grid_loading(ctx.cg, demand, plan=ctx.base_plan)
    meta.update(
        converged=result.converged,
        iterations=result.iterations,
        max_loading_pct=result.max_loading_pct,
        min_v_pu=result.min_v_pu,
        max_v_pu=result.max_v_pu,
        transformers_voltage_violation=result.violations,
        reverse_flow_segments=result.reverse_flow_segments,
    )
    table = result.table.replace_schema_metadata({k: str(v) for k, v in meta.items() if v is not None})
    etag = loaded.etag("loading-" + hashlib.sha1(key[1].encode()).hexdigest()[:12])
    answer = _Answer(arrow_payload(table, etag=etag), meta, table)
    with _lock:
        cache[key] = answer
        while len(cache) > CACHE_ENTRIES:
            cache.popitem(last=False)
    return answer


@router.get(
    "/loading",
    summary="Per segment loading % and current, per bus / transformer voltage (pu), from a whole-grid "
    "power flow at the latest complete AMI hour (design peak without AMI)",
    response_class=Response,
    responses={200: {"content": {ARROW_STREAM_MEDIA_TYPE: {}, "application/json": {}}}},
)
async def get_grid_loading(
    request: Request,
    format: str = one_of_query(("arrow", "json"), "arrow (IPC stream) or json", default="arrow"),
    loaded: LoadedGrid = Depends(get_loaded_grid),
) -> Response:
    if format not in ("arrow", "json"):
        raise InvalidInputError("format must be 'arrow' or 'json'", field="format")
    answer = await run_in_threadpool(_compute, request, loaded)
    headers = {
        "X-Load-Source": str(answer.meta["load_source"]),
        "X-Load-Hour": str(answer.meta["hour_utc"] or ""),
        "Cache-Control": "private, no-cache",
        "Vary": "Accept-Encoding, Authorization",
    }
    if format == "json":
        body = orjson.dumps({**answer.meta, "rows": answer.table.to_pylist()})
        return Response(body, media_type="application/json", headers=headers)
    p = answer.payload
    headers = {**headers, "ETag": p.etag, "X-Row-Count": str(p.rows)}
    if p.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        gz = {**headers, "Content-Encoding": "gzip"}
        return Response(p.gzipped, media_type=ARROW_STREAM_MEDIA_TYPE, headers=gz)
    return Response(p.raw, media_type=ARROW_STREAM_MEDIA_TYPE, headers=headers)
