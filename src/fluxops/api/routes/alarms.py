"""Alarm list: `GET /api/alarms` (viewer) and `POST /api/alarms/{id}/ack` (operator, audited by the
audit middleware like every mutating call). Alarms are derived on each read from the AMI lake's
meter events and the latest complete transformer hour (`fluxops.ops.alarms`); acknowledgements are
stored per alarm id (`fluxops.storage.alarm_store`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from fluxops.api.ami_runtime import ami_runtime
from fluxops.api.params import id_path, one_of_query
from fluxops.api.security import require_role
from fluxops.core.errors import NotFoundError
from fluxops.ops.alarms import SEVERITIES, Alarm, AlarmAck, AlarmConfig, list_alarms, parse_alarm_id
from fluxops.security.roles import Principal
from fluxops.storage.alarm_store import AlarmAckTableStore

router = APIRouter(prefix="/api", tags=["alarms"])
VIEWER = [Depends(require_role("viewer"))]
OPERATOR = require_role("operator")
MAX_EVENTS = 5000  # newest meter events read per request
MAX_TRANSFORMERS = 100_000


def on_startup(app: FastAPI) -> None:
    acks = AlarmAckTableStore(app.state.store)
    acks.ensure_tables()
    app.state.alarm_acks = acks
    app.state.alarm_config = AlarmConfig()


def _acks(request: Request) -> AlarmAckTableStore:
    acks: AlarmAckTableStore = request.app.state.alarm_acks
    return acks


def _derive(
    request: Request, *, hours: int, severity: str | None, acknowledged: bool | None, limit: int
) -> list[Any]:
    q, _ = ami_runtime(request.app).queries()
    since = datetime.now(UTC) - timedelta(hours=hours)
    events = q.events(since=since, event_type=None, meter_id=None, limit=MAX_EVENTS).to_pylist()
    hot = q.transformer_latest(feeder_id=None, min_loading_pct=None, limit=MAX_TRANSFORMERS).to_pylist()
    hot = [r for r in hot if r.get("hour_utc") is not None and r["hour_utc"] >= since]
    cfg: AlarmConfig = request.app.state.alarm_config
    return list_alarms(
        events,
        hot,
        _acks(request).list_acks(),
        cfg,
        severity=severity,
        acknowledged=acknowledged,
        limit=limit,
    )


@router.get("/alarms", dependencies=VIEWER)
def get_alarms(
    request: Request,
    hours: int = Query(24, ge=1, le=24 * 31, description="Look back this many hours"),
    severity: str | None = one_of_query(SEVERITIES, "Severity"),
    acknowledged: bool | None = Query(None, description="Only acknowledged (true) or unacknowledged (false)"),
    limit: int = Query(500, ge=1, le=5000),
) -> dict[str, Any]:
    """Alarms newest first: last-gasps, restores, voltage outside ANSI C84.1 Range B (Range A: warning),
    transformer hot spot ≥ 110 °C (≥ 140 °C critical), each with its acknowledgement."""
    rows = _derive(request, hours=hours, severity=severity, acknowledged=acknowledged, limit=limit)
    cfg: AlarmConfig = request.app.state.alarm_config
    return {
        "items": [a.to_dict() for a in rows],
        "total": len(rows),
        "unacknowledged": sum(1 for a in rows if a.acknowledged_utc is None),
        "thresholds": {
            "range_a_v": list(cfg.range_a_v),
            "range_b_v": list(cfg.range_b_v),
            "hot_spot_warning_c": cfg.hot_spot_warning_c,
            "hot_spot_critical_c": cfg.hot_spot_critical_c,
        },
    }


def _find(request: Request, alarm_id: str) -> Alarm | None:
    """The alarm with this id, looked up from its own evidence (the meter's events at that second, or
    the transformer's hour), however old it is."""
    parsed = parse_alarm_id(alarm_id)
    if parsed is None:
        return None
    kind, source, t = parsed
    q, _ = ami_runtime(request.app).queries()
    cfg: AlarmConfig = request.app.state.alarm_config
    if kind == "thermal":
        hours = q.transformer_hours(day=t.date(), transformer_id=source, feeder_id=None, limit=48).to_pylist()
        rows = [r for r in hours if r.get("hour_utc") is not None and r["hour_utc"].astimezone(UTC) == t]
        found = list_alarms([], rows, {}, cfg)
    else:
        events = q.events(since=t, event_type=None, meter_id=source, limit=1000).to_pylist()
        found = list_alarms(events, [], {}, cfg, limit=1_000_000)
    return next((a for a in found if a.alarm_id == alarm_id), None)


class AckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Annotated[str | None, Field(None, max_length=500)] = None


@router.post("/alarms/{alarm_id}/ack")
def post_ack(
    request: Request,
    principal: Annotated[Principal, Depends(OPERATOR)],
    alarm_id: str = id_path("Alarm id"),
    body: AckIn | None = None,
) -> dict[str, Any]:
    """Acknowledge an alarm (the first acknowledgement stands; acknowledging again returns it)."""
    if _find(request, alarm_id) is None:
        raise NotFoundError(f"no alarm {alarm_id!r}", details={"alarm_id": alarm_id})
    ack = _acks(request).put_ack(
        AlarmAck(alarm_id, principal.actor, datetime.now(UTC), body.note if body is not None else None)
    )
    return {
        "alarm_id": ack.alarm_id,
        "acknowledged_by": ack.acknowledged_by,
        "acknowledged_utc": ack.acknowledged_utc,
        "note": ack.note,
    }
