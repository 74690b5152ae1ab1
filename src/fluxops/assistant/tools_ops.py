"""Tools over operations and simulation: outages, reliability indices (IEEE 1366), work orders and
crews, acknowledging an outage (mutating: confirmed first), and a cascade with its economics."""

from __future__ import annotations

from typing import Any

from fluxops.assistant.models import ToolResult
from fluxops.assistant.ports import CascadePort, OpsPort
from fluxops.assistant.tool_base import (
    MAX_LIMIT,
    MAX_OUTAGES_SUMMED,
    MAX_ROWS_SHOWN,
    ToolContext,
    _datetime,
    _limit,
    plain,
)
from fluxops.core.errors import InvalidInputError, NotFoundError
from fluxops.ops.models import WORK_ORDER_PRIORITIES
from fluxops.ops.ports import OutageQuery, WorkOrderQuery
from fluxops.ops.query import STATUS_ALIASES


def list_outages(ctx: ToolContext, a: dict[str, Any]) -> ToolResult:
    ops: OpsPort = ctx.need("ops")
    status = a["status"] or "all"
    statuses = None if status == "all" else STATUS_ALIASES.get(status, (status,))
    since, until = _datetime(a["since"], "since"), _datetime(a["until"], "until")
    if since and until and since >= until:
        raise InvalidInputError("since must be before until", field="since")
    limit = _limit(a["limit"], 20)
    q = OutageQuery(
        statuses=statuses,
        feeder_id=a["feeder_id"],
        substation_id=a["substation_id"],
        since_utc=since,
        until_utc=until,
        limit=MAX_OUTAGES_SUMMED,
    )
    items, total = ops.list_outages(q)
    dicts = [plain(o.to_dict()) for o in items]
    data = {
        "status": status,
        "total": total,
        "customers_out": int(sum(o.customers_out for o in items)),
        "customers_affected": int(sum(o.customers_affected for o in items)),
        "customer_minutes": round(float(sum(o.customer_minutes for o in items)), 1),
        "summed_over": len(items),  # the sums cover the newest MAX_OUTAGES_SUMMED when more match
        "items": dicts[:limit],
    }
    return ToolResult(data=data, row_count=total)


def reliability_indices(ctx: ToolContext, a: dict[str, Any]) -> ToolResult:
    ops: OpsPort = ctx.need("ops")
    level = a["level"] or "system"
    start, end = _datetime(a["start"], "start"), _datetime(a["end"], "end")
    rep = ops.reliability_report(
        level=level, start_utc=start, end_utc=end, exclude_major_events=bool(a["exclude_major_events"])
    )
    rows = [r.to_dict() for r in rep.rows]
    if a["key"] is not None:
        rows = [r for r in rows if r.get("key") == a["key"]]
        if not rows:
            raise NotFoundError(
                f"no {level} {a['key']!r} in the reliability report", details={"key": a["key"]}
            )
    keep = (
        "level",
        "key",
        "customers_served",
        "customers_interrupted",
        "customer_minutes",
        "saifi",
        "saidi_min",
        "caidi_min",
        "asai",
        "maifi_e",
    )
    out = []
    for r in rows:
        d = {k: r.get(k) for k in keep}
        for k in ("saifi", "saidi_min", "caidi_min", "maifi_e"):
            v = d.get(k)
            if isinstance(v, float):
                d[k] = round(v, 4)
        out.append(d)
    data = {
        "level": level,
        "period_start_utc": plain(rep.period_start_utc),
        "period_end_utc": plain(rep.period_end_utc),
        "days_covered": round(rep.days_covered, 2),
        "period_basis": rep.period_basis,
        "major_event_days_excluded": bool(a["exclude_major_events"]),
        "rows": plain(out[:MAX_ROWS_SHOWN]),
    }
    return ToolResult(data=data, row_count=len(rows))


def list_work_orders(ctx: ToolContext, a: dict[str, Any]) -> ToolResult:
    ops: OpsPort = ctx.need("ops")
    statuses: tuple[str, ...] | None = None
    if a["status"] == "open":
        statuses = ("open", "assigned", "in_progress")
    elif a["status"] is not None:
        statuses = (a["status"],)
    wos = ops.dispatch.list_work_orders(
        WorkOrderQuery(statuses=statuses, priority=a["priority"], asset_id=a["asset_id"], limit=MAX_LIMIT)
    )
    limit = _limit(a["limit"], 20)
    by_priority = {p: sum(1 for w in wos if w.priority == p) for p in WORK_ORDER_PRIORITIES}
    data = {"total": len(wos), "by_priority": by_priority, "items": [plain(w.to_dict()) for w in wos[:limit]]}
    return ToolResult(data=data, row_count=len(wos))


def list_crews(ctx: ToolContext, a: dict[str, Any]) -> ToolResult:
    ops: OpsPort = ctx.need("ops")
    crews = ops.dispatch.list_crews()
    if a["available_only"]:
        crews = [c for c in crews if c.status == "available"]
    by_status: dict[str, int] = {}
    for c in crews:
        by_status[c.status] = by_status.get(c.status, 0) + 1
    data = {
        "total": len(crews),
        "by_status": by_status,
        "items": [plain(c.to_dict()) for c in crews[:MAX_ROWS_SHOWN]],
    }
    return ToolResult(data=data, row_count=len(crews))


def acknowledge_outage(ctx: ToolContext, a: dict[str, Any]) -> ToolResult:
    ops: OpsPort = ctx.need("ops")
    rec = ops.acknowledge(a["outage_id"], actor=ctx.actor)
    return ToolResult(data={"outage": plain(rec.to_dict())}, row_count=1)


# --- cascade ----------------------------------------------------------------------------------------


def run_cascade(ctx: ToolContext, a: dict[str, Any]) -> ToolResult:
    cascade: CascadePort = ctx.need("cascade")
    pz = a["patient_zero"]
    if not pz:
        raise InvalidInputError("name at least one patient zero", field="patient_zero")
    if len(pz) > 20:
        raise InvalidInputError("at most 20 patient zeros", field="patient_zero")
    known = set(ctx.assets().asset_id)
    missing = [p for p in pz if p not in known]
    if missing:
        raise NotFoundError(f"no asset {missing[0]!r}", details={"patient_zero": missing[0]})
    out = cascade.economic_impact(patient_zero=list(pz), scenario=a["scenario"] or "normal")
    impact = out.get("impact", {})
    data = {
        "cascade": plain(out.get("cascade", {})),
        "impact": plain(
            {k: v for k, v in impact.items() if not isinstance(v, dict | list) or k == "by_class"}
        ),
    }
    return ToolResult(data=data, row_count=1)
