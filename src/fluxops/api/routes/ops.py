"""Operations API: outages (OMS), work orders, crews, reliability (IEEE 1366), live grid state and the
server-sent-event stream.

The wiring (one `OpsService` per loaded grid, the AMI subscription, the demo fault feed) lives in
`fluxops.api.routes._ops_runtime`; its ``on_startup`` / ``on_shutdown`` are this module's hooks.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from fluxops.api.openapi import error_responses
from fluxops.api.params import (
    BoundedDateTime,
    IdText,
    Text,
    choices_query,
    finite,
    id_path,
    id_query,
    offset_query,
    one_of,
    one_of_path,
    one_of_query,
    page_limit_query,
)
from fluxops.api.routes._ops_runtime import OpsRuntime, on_shutdown, on_startup
from fluxops.api.security import require_role
from fluxops.core.errors import InvalidInputError
from fluxops.grid.query import parse_choices, parse_id, parse_limit
from fluxops.ops.models import (
    OUTAGE_CAUSES,
    OUTAGE_KINDS,
    OUTAGE_STATUSES,
    WORK_ORDER_PRIORITIES,
    WORK_ORDER_STATUSES,
    WORK_ORDER_TYPES,
)
from fluxops.ops.ports import OutageQuery, WorkOrderQuery
from fluxops.ops.query import STATUS_ALIASES, parse_statuses
from fluxops.ops.reliability import INTERVALS, LEVELS
from fluxops.ops.service import OpsService
from fluxops.ops.stream import MESSAGE_TYPES, StreamHub
from fluxops.ops.workorders import ACTIONS as WORK_ORDER_ACTIONS

__all__ = ["on_shutdown", "on_startup", "router"]
router = APIRouter(prefix="/api", tags=["ops"])
VIEWER = [Depends(require_role("viewer"))]
OPERATOR = [Depends(require_role("operator"))]
OUTAGE_ACTIONS = ("acknowledge", "confirm", "restore", "cancel")
# an outage without a completed repair order (or no longer open): nothing proposed
NO_REPAIR: dict[str, Any] = {
    "restore_proposed": False,
    "repair_work_order_id": None,
    "repair_completed_utc": None,
}
MAX_WORK_HOURS = 24 * 365  # what `fluxops.ops.workorders.new_work_order` accepts (under a year)
HEARTBEAT_S = 15.0  # SSE comment line so proxies keep the connection open


def _svc(request: Request) -> OpsService:
    rt: OpsRuntime = request.app.state.ops
    return rt.service()


def _actor(request: Request) -> str:
    from fluxops.api.audit import PRINCIPAL_KEY

    principal = request.scope.get(PRINCIPAL_KEY)
    return str(getattr(principal, "actor", "unknown"))


# --- outages ----------------------------------------------------------------------------------


@router.get(
    "/outages",
    summary="Outages, active and history, with filters",
    dependencies=VIEWER,
    response_model=dict[str, Any],
)
async def list_outages(
    request: Request,
    status: str | None = choices_query(
        (*STATUS_ALIASES, *OUTAGE_STATUSES), "active, history, or proposed,confirmed,restored,merged"
    ),
    kind: str | None = choices_query(OUTAGE_KINDS, "device, transformer, lights_out"),
    feeder: str | None = id_query("Feeder id"),
    substation: str | None = id_query("Substation id"),
    device: str | None = id_query("Protective device id"),
    since: BoundedDateTime | None = Query(None, description="start_utc >= since (ISO 8601)"),
    until: BoundedDateTime | None = Query(None, description="start_utc < until (ISO 8601)"),
    limit: int | None = page_limit_query(),
    offset: int = offset_query(),
) -> Response:
    """On the event loop when the page is known for the store's current write generation and the ETR
    model is fresh (64 clients polling the active outages: no thread hop, no query, the items encoded
    once); otherwise read in a thread (issue 8 §5)."""
    q = OutageQuery(
        statuses=parse_statuses(status),
        kinds=parse_choices(kind, allowed=OUTAGE_KINDS, field="kind") if kind else None,
        feeder_id=parse_id(feeder, field="feeder") if feeder else None,
        substation_id=parse_id(substation, field="substation") if substation else None,
        device_id=parse_id(device, field="device") if device else None,
        since_utc=since,
        until_utc=until,
        limit=parse_limit(limit),
        offset=offset,
    )
    rt: OpsRuntime = request.app.state.ops
    svc = rt.peek()
    body = _outage_page(request, svc, q, inline=True) if svc is not None else None
    if body is None:
        body = await run_in_threadpool(lambda: _outage_page(request, _svc(request), q, inline=False))
    assert body is not None  # inline=False always answers
    return Response(body, media_type="application/json")


_OutageRows = tuple[list[Any], int, list[dict[str, Any]], dict[str, dict[str, Any]]]
_OUTAGE_ROWS_KEPT = 32  # distinct queries kept per store write generation
_OUTAGE_ROWS_LOCK = threading.Lock()
_JSON_OPTS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


@dataclass
class _OutagePage:
    """One query's page at one store write generation, and its items encoded per ETR model."""

    rows: _OutageRows
    items_json: dict[Any, bytes] = field(default_factory=dict)  # ETR model fit time -> items array


def _outage_page(request: Request, svc: OpsService, q: OutageQuery, *, inline: bool) -> bytes | None:
    """The answer's JSON; None when ``inline`` (the event loop) and it needs a store read."""
    etr_at = svc.etr_model_at()
    page = _outage_rows(request, svc, q, read=not inline)
    if page is None or (inline and etr_at is None):
        return None
    items_json = page.items_json.get(etr_at) if etr_at is not None else None
    if items_json is None:
        items, _total, rows, repair = page.rows
        etr = svc.etr(items, refit=not inline)
        empty = {"etr_utc": None, "etr_basis": None}
        encoded = orjson.dumps(
            [
                {**row, **etr.get(o.outage_id, empty), **repair.get(o.outage_id, NO_REPAIR)}
                for o, row in zip(items, rows, strict=True)
            ],
            default=str,
            option=_JSON_OPTS,
        )
        items_json = encoded
        at = svc.etr_model_at()
        if at is not None:
            page.items_json = {at: encoded}  # one model at a time: the previous one is never asked again
    # storm mode and the KPIs depend on the clock and the engine: computed for every answer
    tail = orjson.dumps({"total": page.rows[1], "storm_mode": svc.storm_mode(), "kpis": svc.kpis()})
    return b'{"items":' + items_json + b"," + tail[1:]


def _outage_rows(
    request: Request, svc: OpsService, q: OutageQuery, *, read: bool = True
) -> _OutagePage | None:
    """The page, its total, the rows as dicts and the repair proposals: all read from the store, so on a
    store that counts its writes (`write_generation`: DuckDB, one writer) they are kept until the next
    write (a new outage, a status change, a work order) and 64 clients polling the active outages cost
    one set of queries per write. None when not kept and ``read`` is False."""
    store = request.app.state.store
    gen_of = getattr(store, "write_generation", None)
    gen = gen_of() if callable(gen_of) else None

    def fetch() -> _OutagePage:
        items, total = svc.list_outages(q)
        return _OutagePage((items, total, [o.to_dict() for o in items], svc.restore_proposals(items)))

    if not isinstance(gen, int):
        return fetch() if read else None
    state = request.app.state
    key = (gen, id(svc), q)
    with _OUTAGE_ROWS_LOCK:
        memo: dict[Any, _OutagePage] | None = getattr(state, "outage_rows", None)
        if memo is None:
            memo = state.outage_rows = {}
        hit = memo.get(key)
    if hit is None:
        if not read:
            return None
        hit = fetch()
        with _OUTAGE_ROWS_LOCK:
            if len(memo) >= _OUTAGE_ROWS_KEPT or any(k[0] != gen for k in memo):
                memo.clear()  # an older generation's answers are never served again
            memo[key] = hit
    return hit


@router.get(
    "/outages/{outage_id}",
    summary="One outage with its event log, meters and nested outages",
    dependencies=VIEWER,
)
def get_outage(request: Request, outage_id: str = id_path("Outage id")) -> dict[str, Any]:
    svc = _svc(request)
    rec, events, meters = svc.get_outage(parse_id(outage_id, field="outage_id"))
    etr = svc.etr([rec]).get(rec.outage_id, {"etr_utc": None, "etr_basis": None})
    repair = svc.restore_proposals([rec]).get(rec.outage_id, NO_REPAIR)
    children, _n = svc.list_outages(OutageQuery(parent_outage_id=rec.outage_id, limit=5000))
    return {
        **rec.to_dict(),
        **etr,
        **repair,
        "events": [e.to_dict() for e in events],
        "meter_ids": meters,
        "nested_outage_ids": [c.outage_id for c in children],
    }


@router.post(
    "/outages/{outage_id}/{action}",
    summary="Operator action: acknowledge, confirm, restore, or cancel a proposal that was no outage",
    dependencies=OPERATOR,
    responses=error_responses(409),
)
def outage_action(
    request: Request,
    outage_id: str = id_path("Outage id"),
    action: str = one_of_path(OUTAGE_ACTIONS, "Action"),
) -> dict[str, Any]:
    svc = _svc(request)
    oid = parse_id(outage_id, field="outage_id")
    actor = _actor(request)
    rec = {
        "acknowledge": svc.acknowledge,
        "confirm": svc.confirm,
        "restore": svc.restore,
        "cancel": svc.cancel,
    }[action](oid, actor=actor)
    return rec.to_dict()


class OutageCauseIn(BaseModel):
    """The cause an operator records (IEEE 1782 categories)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    cause_code: one_of(OUTAGE_CAUSES)  # type: ignore[valid-type]


@router.put(
    "/outages/{outage_id}/cause",
    summary="Record an outage's cause (open or restored; IEEE 1782 categories)",
    dependencies=OPERATOR,
    responses=error_responses(409),
)
def set_outage_cause(
    request: Request, body: OutageCauseIn, outage_id: str = id_path("Outage id")
) -> dict[str, Any]:
    rec = _svc(request).set_cause(
        parse_id(outage_id, field="outage_id"), body.cause_code, actor=_actor(request)
    )
    return rec.to_dict()


# --- work orders and crews --------------------------------------------------------------------


@router.get("/work-orders", summary="Work orders (priority, then newest first)", dependencies=VIEWER)
def list_work_orders(
    request: Request,
    status: str | None = choices_query(
        WORK_ORDER_STATUSES, "open, assigned, in_progress, completed, cancelled"
    ),
    priority: str | None = one_of_query(WORK_ORDER_PRIORITIES, "Priority"),
    crew: str | None = id_query("Crew id"),
    outage: str | None = id_query("Outage id"),
    asset: str | None = id_query("Asset id"),
    limit: int | None = page_limit_query(),
) -> list[dict[str, Any]]:
    q = WorkOrderQuery(
        statuses=parse_choices(status, allowed=WORK_ORDER_STATUSES, field="status") if status else None,
        priority=priority,
        crew_id=crew,
        outage_id=outage,
        asset_id=asset,
        limit=parse_limit(limit),
    )
    return [w.to_dict() for w in _svc(request).dispatch.list_work_orders(q)]


class WorkOrderIn(BaseModel):
    """A new work order (unknown fields are refused)."""

    model_config = ConfigDict(extra="forbid", strict=True)  # JSON types as declared
    work_type: one_of(WORK_ORDER_TYPES)  # type: ignore[valid-type]
    priority: one_of(WORK_ORDER_PRIORITIES)  # type: ignore[valid-type]
    description: Text
    asset_id: IdText | None = None
    outage_id: IdText | None = None
    estimated_hours: finite(gt=0, lt=MAX_WORK_HOURS) | None = None  # type: ignore[valid-type]


class WorkOrderPatch(BaseModel):
    """Fields to change; absent (or null) ``work_type`` / ``priority`` / ``description`` stay as they are,
    a null ``asset_id`` / ``estimated_hours`` clears them."""

    model_config = ConfigDict(extra="forbid", strict=True)  # JSON types as declared
    work_type: one_of(WORK_ORDER_TYPES) | None = None  # type: ignore[valid-type]
    priority: one_of(WORK_ORDER_PRIORITIES) | None = None  # type: ignore[valid-type]
    description: Text | None = None
    asset_id: IdText | None = None
    estimated_hours: finite(gt=0, lt=MAX_WORK_HOURS) | None = None  # type: ignore[valid-type]

    def changes(self) -> dict[str, Any]:
        keep_null = {"asset_id", "estimated_hours"}
        return {
            k: v for k, v in self.model_dump(exclude_unset=True).items() if v is not None or k in keep_null
        }


class WorkOrderActionIn(BaseModel):
    """``assign`` names the crew; the other actions take no body (or an empty object)."""

    model_config = ConfigDict(extra="forbid", strict=True)  # JSON types as declared
    crew_id: IdText | None = None


@router.post(
    "/work-orders",
    summary="Create a work order",
    status_code=201,
    dependencies=OPERATOR,
    responses=error_responses(409),
)
def create_work_order(request: Request, body: WorkOrderIn) -> dict[str, Any]:
    wo = _svc(request).dispatch.create_work_order(
        work_type=body.work_type,
        priority=body.priority,
        description=body.description,
        asset_id=body.asset_id,
        outage_id=body.outage_id,
        estimated_hours=body.estimated_hours,
    )
    return wo.to_dict()


@router.get("/work-orders/{work_order_id}", summary="One work order", dependencies=VIEWER)
def get_work_order(request: Request, work_order_id: str = id_path("Work order id")) -> dict[str, Any]:
    return _svc(request).dispatch.get_work_order(parse_id(work_order_id, field="work_order_id")).to_dict()


@router.patch(
    "/work-orders/{work_order_id}",
    summary="Edit priority, description, estimated_hours, asset_id or work_type of an unfinished order",
    dependencies=OPERATOR,
    responses=error_responses(409),
)
def update_work_order(
    request: Request, body: WorkOrderPatch, work_order_id: str = id_path("Work order id")
) -> dict[str, Any]:
    wo = _svc(request).dispatch.update_work_order(
        parse_id(work_order_id, field="work_order_id"), body.changes()
    )
    return wo.to_dict()


@router.post(
    "/work-orders/{work_order_id}/{action}",
    summary="Transition: assign (body crew_id), unassign, start, complete, cancel",
    dependencies=OPERATOR,
    responses=error_responses(409),
)
def work_order_action(
    request: Request,
    work_order_id: str = id_path("Work order id"),
    action: str = one_of_path(tuple(WORK_ORDER_ACTIONS), "Transition"),
    body: WorkOrderActionIn | None = None,
) -> dict[str, Any]:
    crew = body.crew_id if body is not None else None
    wo = _svc(request).dispatch.transition_work_order(
        parse_id(work_order_id, field="work_order_id"), action, crew_id=crew
    )
    return wo.to_dict()


@router.delete(
    "/work-orders/{work_order_id}",
    summary="Delete an open/completed/cancelled work order",
    status_code=204,
    dependencies=OPERATOR,
    responses=error_responses(409),
)
def delete_work_order(request: Request, work_order_id: str = id_path("Work order id")) -> Response:
    _svc(request).dispatch.delete_work_order(parse_id(work_order_id, field="work_order_id"))
    return Response(status_code=204)


@router.get("/crews", summary="Crews and whether they are available", dependencies=VIEWER)
def list_crews(request: Request) -> list[dict[str, Any]]:
    return [c.to_dict() for c in _svc(request).dispatch.list_crews()]


# --- reliability, grid state, stream -----------------------------------------------------------


@router.get("/reliability", summary="IEEE 1366 indices from outage records", dependencies=VIEWER)
def reliability(
    request: Request,
    level: str = one_of_query(LEVELS, "Aggregation level", default="system"),
    start: BoundedDateTime | None = Query(
        None, description="period start (ISO 8601); default the later of end − 365 days and the data start"
    ),
    end: BoundedDateTime | None = Query(None, description="period end (ISO 8601); default now"),
    interval: str = one_of_query(INTERVALS, "Interval", default="all"),
    exclude_major_events: bool = Query(False, description="leave out IEEE 1366 Major Event Days (2.5 β)"),
    include_synthetic: bool = Query(False, description="count outages made by demo-injected faults"),
    annualize: bool = Query(False, description="add per-year extrapolations (× 365.25 / days), labelled"),
) -> dict[str, Any]:
    if level not in LEVELS:
        raise InvalidInputError(f"level must be one of {LEVELS}", field="level")
    if interval not in INTERVALS:
        raise InvalidInputError(f"interval must be one of {INTERVALS}", field="interval")
    rep = _svc(request).reliability_report(
        level=level,
        start_utc=start,
        end_utc=end,
        interval=interval,
        exclude_major_events=exclude_major_events,
        include_synthetic=include_synthetic,
        annualize=annualize,
    )
    med = rep.med
    return {
        "level": level,
        "interval": interval,
        "method": "IEEE 1366-2022; sustained > 5 min; MAIFI_E counts momentary events",
        "period": {
            "start_utc": rep.period_start_utc.isoformat(),
            "end_utc": rep.period_end_utc.isoformat(),
            "days_covered": round(rep.days_covered, 3),
            "basis": rep.period_basis,
            "data_start_utc": rep.data_start_utc.isoformat() if rep.data_start_utc else None,
            "data_start_source": rep.data_start_source,
        },
        "customers_served": rep.customers_served,
        "include_synthetic": rep.include_synthetic,
        "annualized": rep.annualized,
        "major_event_days": {
            "t_med_min": med.t_med_min,
            "med_threshold_source": med.threshold_source,
            "rule": med.rule,
            "customer_share": med.customer_share,
            "days": [d.isoformat() for d in med.days],
            "history_days": med.history_days,
            "history_span_days": round(med.history_span_days, 3),
            "excluded": exclude_major_events,
        },
        "rows": [r.to_dict() for r in rep.rows],
    }


@router.get("/stream", summary="Server-sent events: asset_status, outage, kpi", dependencies=VIEWER)
async def stream(
    request: Request,
    types: str | None = choices_query(MESSAGE_TYPES, "asset_status, outage, kpi"),
    last_event_id: str | None = Header(None, alias="Last-Event-ID"),
) -> StreamingResponse:
    wanted = frozenset(parse_choices(types, allowed=MESSAGE_TYPES, field="types")) if types else None
    after = int(last_event_id) if last_event_id and last_event_id.isdigit() else None
    rt: OpsRuntime = request.app.state.ops
    svc = await asyncio.to_thread(rt.service)
    hub: StreamHub = rt.hub
    sub = hub.subscribe(
        asyncio.get_running_loop(), types=wanted | {"resync"} if wanted else None, after_seq=after
    )
    hello = {"seq": hub.seq, "kpis": svc.kpis(), "state_version": svc.state.version}

    async def events() -> AsyncIterator[bytes]:
        try:
            yield f"retry: 3000\nevent: hello\ndata: {json.dumps(hello)}\n\n".encode()
            while True:
                try:
                    msg = await asyncio.wait_for(sub.get(), timeout=HEARTBEAT_S)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield b": ping\n\n"
                    continue
                data = json.dumps(msg.data, default=str)
                yield f"id: {msg.seq}\nevent: {msg.type}\ndata: {data}\n\n".encode()
                if msg.type == "resync":
                    return
        finally:
            hub.unsubscribe(sub)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
