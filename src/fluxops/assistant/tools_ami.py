"""Tools over the AMI lake: a meter's history, feeder/substation load and peaks, transformer loading,
voltage compliance (ANSI C84.1)."""

from __future__ import annotations

from typing import Any

from fluxops.assistant.models import ToolResult
from fluxops.assistant.ports import AmiPort
from fluxops.assistant.tool_base import (
    ToolContext,
    _date,
    _frame_rows,
    _limit,
    _rows,
    plain,
)
from fluxops.core.errors import InvalidInputError, NotFoundError


def meter_history(ctx: ToolContext, a: dict[str, Any]) -> ToolResult:
    ami: AmiPort = ctx.need("ami")
    mid = a["meter_id"]
    if not (ctx.grid.meters.meter_id == mid).any():
        raise NotFoundError(f"no meter {mid!r}", details={"meter_id": mid})
    start, end = _date(a["start_date"], "start_date"), _date(a["end_date"], "end_date")
    if start and end and (end - start).days > 31:
        raise InvalidInputError("at most 31 days of interval history at once", field="end_date")
    t = ami.readings(meter_id=mid, start=start, end=end, limit=96 * 32)
    n = t.num_rows
    data: dict[str, Any] = {"meter_id": mid, "intervals": n}
    if n:
        df = t.to_pandas()
        volts = df.voltage_v.dropna()
        data.update(
            first_interval_utc=plain(df.interval_start_utc.min()),
            last_interval_utc=plain(df.interval_start_utc.max()),
            kwh_delivered=round(float(df.kwh_delivered.sum()), 3),
            kwh_received=round(float(df.kwh_received.sum()), 3),
            peak_kw=round(float(df.kwh_delivered.max() * 4), 3),
            peak_interval_utc=plain(df.interval_start_utc.iloc[int(df.kwh_delivered.to_numpy().argmax())]),
            voltage_min_v=round(float(volts.min()), 2) if len(volts) else None,
            voltage_avg_v=round(float(volts.mean()), 2) if len(volts) else None,
            voltage_max_v=round(float(volts.max()), 2) if len(volts) else None,
            outage_intervals=int((df.quality == "outage").sum()),
        )
    return ToolResult(data=data, row_count=n)


def feeder_load(ctx: ToolContext, a: dict[str, Any]) -> ToolResult:
    ami: AmiPort = ctx.need("ami")
    level = a["level"]
    start, end = _date(a["start_date"], "start_date"), _date(a["end_date"], "end_date")
    t = ami.group_summary(level, start=start, end=end, limit=100_000)
    key = f"{level}_id"
    rows = _rows(t, t.num_rows)
    if a["id"] is not None:
        known = ctx.grid.feeders.feeder_id if level == "feeder" else ctx.grid.substations.substation_id
        if not (known == a["id"]).any():
            raise NotFoundError(f"no {level} {a['id']!r}", details={key: a["id"]})
        rows = [r for r in rows if r.get(key) == a["id"]]
    limit = _limit(a["limit"], 10)
    for r in rows:
        for k in ("peak_kw", "avg_kw", "energy_kwh"):
            if r.get(k) is not None:
                r[k] = round(float(r[k]), 1)
        if r.get("load_factor") is not None:
            r["load_factor"] = round(float(r["load_factor"]), 3)
    return ToolResult(
        data={
            "level": level,
            "start_date": plain(start),
            "end_date": plain(end),
            "items": rows[:limit],
            "groups": len(rows),
        },
        row_count=len(rows),
    )


def transformer_loading(ctx: ToolContext, a: dict[str, Any]) -> ToolResult:
    ami: AmiPort = ctx.need("ami")
    m = a["min_loading_pct"]
    if m is not None and not 0 <= m <= 10_000:
        raise InvalidInputError("min_loading_pct must be within [0, 10000]", field="min_loading_pct")
    t = ami.transformer_latest(feeder_id=a["feeder_id"], min_loading_pct=m, limit=100_000)
    limit = _limit(a["limit"], 10)
    rows = _rows(t, limit)
    for r in rows:
        for k in ("loading_pct", "kw_avg", "hot_spot_c"):
            if r.get(k) is not None:
                r[k] = round(float(r[k]), 1)
    hour = rows[0]["hour_utc"] if rows else None
    return ToolResult(
        data={"hour_utc": hour, "transformers": t.num_rows, "items": rows}, row_count=t.num_rows
    )


def voltage_compliance(ctx: ToolContext, a: dict[str, Any]) -> ToolResult:
    ami: AmiPort = ctx.need("ami")
    day = _date(a["date"], "date")
    limit = _limit(a["limit"], 10)
    t = ami.voltage_meters(day=day, status=None, limit=10_000_000)
    if t.num_rows == 0:
        return ToolResult(data={"date": plain(day), "meters": 0}, row_count=0)
    df = t.to_pandas()
    counts = {s: int((df.status == s).sum()) for s in ("normal", "warning", "critical")}
    worst = df[df.status != "normal"].sort_values(
        ["intervals_outside_a", "meter_id"], ascending=[False, True]
    )
    d = df.date.iloc[0]
    data = {
        "date": plain(d),
        "meters": len(df),
        "by_status": counts,
        "meters_outside_range_a": counts["warning"] + counts["critical"],
        "meters_outside_range_b": counts["critical"],
        "pct_outside_range_a": round(100.0 * (counts["warning"] + counts["critical"]) / len(df), 2),
        "range_a_v": [114.0, 126.0],
        "range_b_v": [110.0, 127.0],
        "worst": _frame_rows(
            worst[["meter_id", "status", "minutes_outside_a", "minutes_outside_b", "v_min", "v_max"]], limit
        ),
    }
    return ToolResult(data=data, row_count=len(df))
