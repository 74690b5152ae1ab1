"""AMI API: ingestion (NDJSON, CSV, Arrow IPC) and analytics answers under ``/api/ami``.

The runtime behind it (lake, analytics, ingestion service, simulator, compactor) is
`fluxops.api.ami_runtime.AmiRuntime`; these routes parse, authorize and delegate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson
import pyarrow as pa
from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from fluxops.ami.formats import ParseLimits, parse_table
from fluxops.ami.models import EVENT_TYPES
from fluxops.api.ami_runtime import AmiRuntime, Materialization, ami_runtime
from fluxops.api.deps import ARROW_STREAM_MEDIA_TYPE
from fluxops.api.metrics import timed_compaction
from fluxops.api.params import BoundedDate, BoundedDateTime, id_query, one_of_query
from fluxops.api.response_cache import cached, cached_now
from fluxops.api.security import require_role
from fluxops.storage.ami_queries import CHECKS, AmiQueries

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/ami", tags=["ami"])
VIEWER = [Depends(require_role("viewer"))]
OPERATOR = [Depends(require_role("operator"))]
ADMIN = [Depends(require_role("admin"))]
MAX_LIMIT = 200_000
MAX_LOADING_PCT = 10_000.0  # a filter threshold; 100x rating is past any transformer's survival


def on_startup(app: FastAPI) -> None:
    rt = ami_runtime(app)
    rt.start()
    if getattr(app.state, "demo", False) and rt.owner:
        app.state.ami_simulator = rt  # tells the ops routes a live AMI feed runs (no synthetic fault feed)
        rt.start_simulator()


def on_shutdown(app: FastAPI) -> None:
    rt: AmiRuntime | None = getattr(app.state, "ami", None)
    if rt is not None:
        rt.stop()


# --- bodies in ------------------------------------------------------------------------------------


def _json(payload: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS),
        status_code=status,
        media_type="application/json",
    )


def _table_response(request: Request, table: pa.Table, mat: Materialization | None = None) -> Response:
    """Rows as JSON ({"count", "rows"}), or an Arrow IPC stream when the client accepts it; analytics
    answers carry the materialization they come from (``X-Data-Watermark``, ``X-Data-As-Of``)."""
    headers = mat.headers() if mat is not None else {}
    if ARROW_STREAM_MEDIA_TYPE in request.headers.get("accept", ""):
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as w:
            w.write_table(table)
        return Response(sink.getvalue().to_pybytes(), media_type=ARROW_STREAM_MEDIA_TYPE, headers=headers)
    resp = _json({"count": table.num_rows, "rows": table.to_pylist()})
    resp.headers.update(headers)
    return resp


# Statuses an ingestion body can add to what `fluxops.api.openapi` derives (401/403/422).
INGEST_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {
        "description": "Body larger than FLUXOPS_INGEST__MAX_BODY_BYTES (default 64 MiB), refused before "
        "it is read; `details.limit_bytes` names the limit"
    },
    422: {
        "description": "Body not parseable (malformed JSON: `details.line`, `details.column`), nested "
        "deeper than FLUXOPS_INGEST__MAX_JSON_DEPTH, or a column nested, duplicated or missing "
        "(`details.field`). Bad rows in a parseable body are a 200 with a rejection report"
    },
}


async def _ingest(request: Request, kind: str, correction: bool = False) -> Response:
    """Read the body (only now: the role dependency already ran, and `BodyLimitMiddleware` counts it
    against the size limit), then parse, validate and write it in the thread pool: parsing a 50 MB CSV
    on the event loop stalled every other request, ``/health`` included, for seconds (issue 8 §2)."""
    rt = ami_runtime(request.app)
    limits = ParseLimits.from_settings(request.app.state.settings.ingest)
    ctype = request.headers.get("content-type", "")
    body = await request.body()

    def work() -> Any:
        table = parse_table(ctype, body, limits)
        if kind == "events":
            return rt.ingest_events(table)
        return rt.ingest_readings(table, correction=correction)

    rep = await run_in_threadpool(work)
    return _json(rep.to_dict())


# --- ingestion ------------------------------------------------------------------------------------


@router.post("/readings", dependencies=OPERATOR, responses=INGEST_RESPONSES)
async def post_readings(request: Request) -> Response:
    """Interval readings; idempotent on (meter_id, interval_start_utc). 200 with a rejection report."""
    return await _ingest(request, "readings")


@router.post("/readings/corrections", dependencies=OPERATOR, responses=INGEST_RESPONSES)
async def post_corrections(request: Request) -> Response:
    """Explicit corrections: replace stored readings with the same key (or add them)."""
    return await _ingest(request, "readings", correction=True)


@router.post("/events", dependencies=OPERATOR, responses=INGEST_RESPONSES)
async def post_events(request: Request) -> Response:
    """Meter events (last_gasp, power_restore, voltage_sag/swell, tamper, reverse_flow)."""
    return await _ingest(request, "events")


@router.post("/refresh", dependencies=OPERATOR)
def post_refresh(request: Request) -> Response:
    """Materialize every accepted batch now (the refresher thread does this in the background)."""
    mat = ami_runtime(request.app).refresh_now()
    resp = _json({"watermark": mat.seq, "as_of_utc": mat.headers()["X-Data-As-Of"], "seconds": mat.seconds})
    resp.headers.update(mat.headers())
    return resp


@router.post("/compact", dependencies=ADMIN)
def post_compact(request: Request) -> Response:
    lake = ami_runtime(request.app).lake
    reps = timed_compaction("api", lambda: lake.compact(min_files=2))
    return _json({k: vars(v) for k, v in reps.items()})


# --- analytics ------------------------------------------------------------------------------------

Limit = Query(1000, ge=1, le=MAX_LIMIT)


async def _answer(
    request: Request,
    ask: Callable[[AmiQueries], pa.Table],
    *,
    derived: bool = True,
    cache: bool = True,
) -> Response:
    """Answer from the last materialization (never refreshed here: the refresher thread does that);
    ``derived=False`` for raw reads (readings, events), which see every accepted batch at once.

    A derived answer is built once per materialization (`fluxops.api.response_cache`: keyed by its
    watermark and time, the grid and the UTC date, which defaults a missing ``date``) and, once built,
    answered on the event loop (no thread hop: issue 8 §5); ``cache=False`` for derived answers that
    also read raw readings (the checks)."""
    rt = ami_runtime(request.app)
    if derived and cache:
        version = rt.peek_version()
        hit = cached_now(request, version) if version is not None else None
        if hit is not None:
            return hit
    return await run_in_threadpool(_answer_sync, request, rt, ask, derived, cache)


def _answer_sync(
    request: Request, rt: AmiRuntime, ask: Callable[[AmiQueries], pa.Table], derived: bool, cache: bool
) -> Response:
    q, mat = rt.queries()
    if not derived or not cache:
        return _table_response(request, ask(q), mat if derived else None)
    version = rt.version_key(rt.grid_hash(), mat)
    return cached(request, version, lambda: _table_response(request, ask(q), mat))


@router.get("/readings", dependencies=VIEWER)
async def get_readings(
    request: Request,
    meter_id: str = id_query("Meter id", required=True),
    start: BoundedDate | None = None,
    end: BoundedDate | None = None,
    limit: int = Limit,
) -> Response:
    def ask(q: AmiQueries) -> pa.Table:
        return q.readings(meter_id=meter_id, start=start, end=end, limit=limit)

    return await _answer(request, ask, derived=False)


@router.get("/events", dependencies=VIEWER)
async def get_events(
    request: Request,
    since: BoundedDateTime | None = None,
    event_type: str | None = one_of_query(EVENT_TYPES, "Event type"),
    meter_id: str | None = id_query("Meter id"),
    limit: int = Limit,
) -> Response:
    def ask(q: AmiQueries) -> pa.Table:
        return q.events(since=since, event_type=event_type, meter_id=meter_id, limit=limit)

    return await _answer(request, ask, derived=False)


@router.get("/transformers/load", dependencies=VIEWER)
async def get_transformer_load(
    request: Request,
    day: BoundedDate | None = Query(None, alias="date"),
    transformer_id: str | None = id_query("Transformer id"),
    feeder_id: str | None = id_query("Feeder id"),
    limit: int = Limit,
) -> Response:
    """Transformer load per hour: kWh, average and 15-min peak kW, % of rating, hot spot, aging."""
    return await _answer(
        request,
        lambda q: q.transformer_hours(
            day=day, transformer_id=transformer_id, feeder_id=feeder_id, limit=limit
        ),
    )


@router.get("/transformers/latest", dependencies=VIEWER)
async def get_transformer_latest(
    request: Request,
    feeder_id: str | None = id_query("Feeder id"),
    min_loading_pct: float | None = Query(None, ge=0, le=MAX_LOADING_PCT, allow_inf_nan=False),
    limit: int = Limit,
) -> Response:
    return await _answer(
        request,
        lambda q: q.transformer_latest(feeder_id=feeder_id, min_loading_pct=min_loading_pct, limit=limit),
    )


@router.get("/transformers/thermal", dependencies=VIEWER)
async def get_transformer_thermal(
    request: Request, start: BoundedDate | None = None, end: BoundedDate | None = None, limit: int = Limit
) -> Response:
    """IEEE C57.91 per transformer over a period: max hot spot, equivalent aging, % loss of life."""
    return await _answer(request, lambda q: q.transformer_thermal(start=start, end=end, limit=limit))


def _group_load(level: str) -> Any:
    async def handler(
        request: Request, day: BoundedDate | None = Query(None, alias="date"), limit: int = Limit
    ) -> Response:
        return await _answer(request, lambda q: q.group_hourly(level, day=day, limit=limit))

    handler.__doc__ = f"{level.capitalize()} load per hour (sum of its transformers' average kW)."
    return handler


def _group_summary(level: str) -> Any:
    async def handler(
        request: Request, start: BoundedDate | None = None, end: BoundedDate | None = None, limit: int = Limit
    ) -> Response:
        return await _answer(request, lambda q: q.group_summary(level, start=start, end=end, limit=limit))

    handler.__doc__ = f"Peak kW and hour, average kW, load factor and energy per {level} over a period."
    return handler


for _level in ("feeder", "substation"):
    router.add_api_route(f"/{_level}s/load", _group_load(_level), methods=["GET"], dependencies=VIEWER)
    router.add_api_route(f"/{_level}s/summary", _group_summary(_level), methods=["GET"], dependencies=VIEWER)


@router.get("/voltage/meters", dependencies=VIEWER)
async def get_voltage_meters(
    request: Request,
    day: BoundedDate | None = Query(None, alias="date"),
    status: str | None = one_of_query(("normal", "warning", "critical"), "ANSI C84.1 status"),
    limit: int = Limit,
) -> Response:
    """ANSI C84.1 compliance per meter and day: intervals/minutes outside Range A and B, min/avg/max V."""
    return await _answer(request, lambda q: q.voltage_meters(day=day, status=status, limit=limit))


@router.get("/voltage/transformers", dependencies=VIEWER)
async def get_voltage_transformers(
    request: Request, day: BoundedDate | None = Query(None, alias="date"), limit: int = Limit
) -> Response:
    return await _answer(request, lambda q: q.voltage_transformers(day=day, limit=limit))


@router.get("/voltage/latest", dependencies=VIEWER)
def get_voltage_latest(request: Request, limit: int = Limit) -> Response:
    rt = ami_runtime(request.app)
    return _table_response(request, rt.meter_voltage_latest(limit=limit), rt.materialization())


@router.get("/consumption/classes", dependencies=VIEWER)
async def get_class_consumption(
    request: Request, start: BoundedDate | None = None, end: BoundedDate | None = None
) -> Response:
    return await _answer(request, lambda q: q.class_consumption(start=start, end=end))


@router.get("/completeness", dependencies=VIEWER)
async def get_completeness(
    request: Request, start: BoundedDate | None = None, end: BoundedDate | None = None
) -> Response:
    """Meters and readings received vs expected per day; reporting latency percentiles."""
    return await _answer(request, lambda q: q.completeness(start=start, end=end))


@router.get("/checks", dependencies=VIEWER)
def list_checks() -> Response:
    """The seed generator's sample/validation queries, each answered by ``/checks/{name}``."""
    return _json({"checks": sorted(CHECKS)})


@router.get("/checks/{name}", dependencies=VIEWER)
async def get_check(request: Request, name: str, days: int = Query(7, ge=1, le=366)) -> Response:
    return await _answer(request, lambda q: q.check(name, days=days), cache=False)
