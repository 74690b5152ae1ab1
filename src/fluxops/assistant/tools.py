"""Typed tools over the domain services, each with a JSON schema in OpenAI "strict" form.

Strict form: every object has ``additionalProperties: false`` and lists every property in
``required``; an optional argument is a nullable type (``["string", "null"]``). Bounds that strict mode
does not express are checked by the handler and refused naming the field (`InvalidInputError`).

A tool returns a `ToolResult`: JSON-able data plus evidence (row counts, SQL run, citations). Handlers
never invent figures: every number in ``data`` comes from a service, the grid or the lake.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar, cast

import pandas as pd
import pyarrow as pa

from fluxops.assistant.models import ToolResult
from fluxops.assistant.ports import AmiPort, CascadePort, OpsPort, SqlPort
from fluxops.assistant.retrieval import DocumentIndex
from fluxops.core.errors import CapabilityError, InvalidInputError, NotFoundError
from fluxops.grid.assets import asset_index
from fluxops.grid.models import ASSET_TYPES, ID_COLUMNS, Grid
from fluxops.grid.topology import GridTopology
from fluxops.ops.models import OUTAGE_STATUSES, WORK_ORDER_PRIORITIES, WORK_ORDER_STATUSES
from fluxops.ops.ports import OutageQuery, WorkOrderQuery
from fluxops.ops.query import STATUS_ALIASES

T = TypeVar("T")
ROLE_ORDER: dict[str, int] = {"viewer": 0, "operator": 1, "admin": 2}
MAX_ROWS_SHOWN = 50  # rows a tool puts in its data (counts always cover every row)
MAX_LIMIT = 500
MAX_OUTAGES_SUMMED = 5000
SQL_DEFAULT_LIMIT = 200
SQL_MAX_LIMIT = 5000
SCENARIOS: tuple[str, ...] = ("normal", "summer_peak", "winter_storm", "hurricane")
RELIABILITY_LEVELS: tuple[str, ...] = ("system", "substation", "feeder")


@dataclass
class ToolContext:
    """The services a tool may use, built by a composition root (API request, CLI command, test).

    ``derive(key, build)`` caches what is built from the grid (the asset index, the topology) for as
    long as the caller's grid lives (the API passes ``LoadedGrid.derived``)."""

    grid: Grid
    ops: OpsPort | None = None
    ami: AmiPort | None = None
    cascade: CascadePort | None = None
    sql: SqlPort | None = None
    docs: DocumentIndex | None = None
    actor: str = "unknown"
    derive: Callable[[str, Callable[[], Any]], Any] | None = None
    _local: dict[str, Any] = field(default_factory=dict, repr=False)

    def _derived(self, key: str, build: Callable[[], T]) -> T:
        if self.derive is not None:
            return cast(T, self.derive(key, build))
        if key not in self._local:
            self._local[key] = build()
        return cast(T, self._local[key])

    def assets(self) -> pd.DataFrame:
        return self._derived("assistant_asset_index", lambda: asset_index(self.grid))

    def topology(self) -> GridTopology:
        return self._derived("topology", lambda: GridTopology.build(self.grid))

    def need(self, what: str) -> Any:
        svc = getattr(self, what)
        if svc is None:
            raise CapabilityError(f"the {what} service is not available here", details={"service": what})
        return svc


Handler = Callable[[ToolContext, dict[str, Any]], ToolResult]


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    properties: dict[str, dict[str, Any]]
    handler: Handler
    role: str = "viewer"  # the least role that may call it (as the matching API route)
    mutating: bool = False  # changes state: an operator must confirm the call first

    def parameters(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": self.properties,
            "required": list(self.properties),
            "additionalProperties": False,
        }

    def spec(self) -> dict[str, Any]:
        """The Chat Completions tool definition (strict)."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters(),
                "strict": True,
            },
        }


# --- argument validation (the strict-schema subset the tools use) -------------------------------

_JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def _check(schema: dict[str, Any], value: Any, path: str) -> None:
    types = schema.get("type")
    type_list = [types] if isinstance(types, str) else list(types or [])
    if type_list and not any(_JSON_TYPES[t](value) for t in type_list):
        raise InvalidInputError(f"{path} must be {' or '.join(type_list)}", field=path)
    if value is None:
        return
    if "enum" in schema and value not in schema["enum"]:
        allowed = [e for e in schema["enum"] if e is not None]
        raise InvalidInputError(f"{path} must be one of {allowed}", field=path)
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            _check(schema["items"], item, f"{path}[{i}]")


def validate_arguments(tool: Tool, args: Any) -> dict[str, Any]:
    """The arguments as the tool's schema allows them, or `InvalidInputError` naming the field."""
    if not isinstance(args, dict):
        raise InvalidInputError("tool arguments must be a JSON object", field="arguments")
    unknown = sorted(set(args) - set(tool.properties))
    if unknown:
        raise InvalidInputError(f"unknown argument {unknown[0]!r} for {tool.name}", field=unknown[0])
    out: dict[str, Any] = {}
    for name, schema in tool.properties.items():
        if name not in args:  # strict: every field is required; a lenient caller's omission = null
            types = schema.get("type")
            if isinstance(types, list) and "null" in types:
                out[name] = None
                continue
            raise InvalidInputError(f"missing argument {name!r} for {tool.name}", field=name)
        _check(schema, args[name], name)
        out[name] = args[name]
    return out


# --- small shared helpers ---------------------------------------------------------------------------


def _s(desc: str, *, nullable: bool = True, enum: tuple[str, ...] | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {"type": ["string", "null"] if nullable else "string", "description": desc}
    if enum is not None:
        d["enum"] = [*enum, None] if nullable else list(enum)
    return d


def _i(desc: str) -> dict[str, Any]:
    return {"type": ["integer", "null"], "description": desc}


def _limit(value: int | None, default: int, maximum: int = MAX_LIMIT, name: str = "limit") -> int:
    if value is None:
        return default
    if not 1 <= value <= maximum:
        raise InvalidInputError(f"{name} must be within [1, {maximum}]", field=name)
    return value


def _date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        d = date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInputError(f"{name} must be a date YYYY-MM-DD", field=name) from exc
    if not 2000 <= d.year <= 2099:
        raise InvalidInputError(f"{name} must be within 2000-2099", field=name)
    return d


def _datetime(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInputError(f"{name} must be an ISO 8601 date or time", field=name) from exc
    if not 2000 <= t.year <= 2099:
        raise InvalidInputError(f"{name} must be within 2000-2099", field=name)
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def plain(value: Any) -> Any:
    """A JSON-able copy (timestamps as ISO text, NaN as null, numpy scalars as Python)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return None
    return value


def _rows(table: pa.Table, limit: int = MAX_ROWS_SHOWN) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], plain(table.slice(0, limit).to_pylist()))


def _frame_rows(df: pd.DataFrame, limit: int = MAX_ROWS_SHOWN) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], plain(df.head(limit).to_dict(orient="records")))


# --- grid tools -------------------------------------------------------------------------------------


def find_assets(ctx: ToolContext, a: dict[str, Any]) -> ToolResult:
    df = ctx.assets()
    if a["asset_type"] is not None:
        df = df[df.asset_type == a["asset_type"]]
    if a["feeder_id"] is not None:
        df = df[df.feeder_id == a["feeder_id"]]
    if a["substation_id"] is not None:
        df = df[df.substation_id == a["substation_id"]]
    if a["bbox"] is not None:
        b = a["bbox"]
        if len(b) != 4 or not (b[0] <= b[2] and b[1] <= b[3]):
            raise InvalidInputError("bbox must be [min_lon, min_lat, max_lon, max_lat]", field="bbox")
        df = df[(df.max_lon >= b[0]) & (df.min_lon <= b[2]) & (df.max_lat >= b[1]) & (df.min_lat <= b[3])]
    if a["query"] is not None:
        q = a["query"].strip().lower()
        if not q:
            raise InvalidInputError("query must not be empty", field="query")
        ids = df.asset_id.str.lower()
        exact = df[ids == q]
        df = (
            exact
            if len(exact)
            else df[ids.str.contains(q, regex=False) | df.name.str.lower().str.contains(q, regex=False)]
        )
    limit = _limit(a["limit"], 20)
    by_type = {str(k): int(v) for k, v in df.asset_type.value_counts().sort_index().items()}
    cols = ["asset_id", "asset_type", "name", "feeder_id", "substation_id", "lon", "lat"]
    return ToolResult(
        data={"total": len(df), "by_type": by_type, "items": _frame_rows(df[cols], limit)},
        row_count=len(df),
    )


_TYPE_TABLE: dict[str, str] = {
    "substation": "substations",
    "substation_transformer": "substation_transformers",
    "feeder": "feeders",
    "line_segment": "line_segments",
    "pole": "poles",
    "transformer": "transformers",
    "meter": "meters",
}


def _record(grid: Grid, asset_type: str, asset_id: str) -> dict[str, Any]:
    table = _TYPE_TABLE.get(asset_type, "devices")
    df: pd.DataFrame = getattr(grid, table)
    row = df[df[ID_COLUMNS[table]] == asset_id]
    if not len(row):
        return {}
    rec = {k: v for k, v in row.iloc[0].to_dict().items() if k != "geometry_wkb"}
    return cast(dict[str, Any], plain(rec))


def asset_detail(ctx: ToolContext, a: dict[str, Any]) -> ToolResult:
    asset_id = a["asset_id"]
    idx = ctx.assets()
    hit = idx[idx.asset_id == asset_id]
    if not len(hit):
        raise NotFoundError(f"no asset {asset_id!r}", details={"asset_id": asset_id})
    row = hit.iloc[0]
    topo = ctx.topology()
    try:
        path = topo.path_to_substation(asset_id)
    except (KeyError, ValueError):
        path = []
    try:
        downstream = topo.downstream(asset_id)
    except (KeyError, ValueError):
        downstream = {}
    data = {
        "asset_id": asset_id,
        "asset_type": row.asset_type,
        "name": row["name"],
        "feeder_id": row.feeder_id,
        "substation_id": row.substation_id,
        "lon": float(row.lon),
        "lat": float(row.lat),
        "attributes": _record(ctx.grid, str(row.asset_type), asset_id),
        "path_to_substation": path,
        "path_length": len(path),
        "downstream": plain(downstream),
    }
    return ToolResult(data=cast(dict[str, Any], plain(data)), row_count=1)


def transformer_meters(ctx: ToolContext, a: dict[str, Any]) -> ToolResult:
    xid = a["transformer_id"]
    xf = ctx.grid.transformers
    if not (xf.transformer_id == xid).any():
        raise NotFoundError(f"no distribution transformer {xid!r}", details={"transformer_id": xid})
    m = ctx.grid.meters[ctx.grid.meters.transformer_id == xid]
    c = ctx.grid.customers.set_index("meter_id")
    joined = m[["meter_id", "customer_id", "address"]].copy()
    joined["customer_class"] = c.reindex(m.meter_id)["customer_class"].to_numpy()
    joined["is_critical"] = c.reindex(m.meter_id)["is_critical"].to_numpy()
    rating = float(xf.loc[xf.transformer_id == xid, "rating_kva"].iloc[0])
    by_class = {str(k): int(v) for k, v in joined.customer_class.value_counts().sort_index().items()}
    return ToolResult(
        data={
            "transformer_id": xid,
            "rating_kva": rating,
            "meters": len(joined),
            "by_class": by_class,
            "critical_customers": int(joined.is_critical.eq(True).sum()),
            "items": _frame_rows(joined, MAX_ROWS_SHOWN),
        },
        row_count=len(joined),
    )


def grid_summary(ctx: ToolContext, a: dict[str, Any]) -> ToolResult:
    g = ctx.grid
    counts = {n: len(getattr(g, n)) for n in ID_COLUMNS}
    classes = {str(k): int(v) for k, v in g.customers.customer_class.value_counts().sort_index().items()}
    devices = {str(k): int(v) for k, v in g.devices.device_type.value_counts().sort_index().items()}
    data = {
        "name": g.meta.name,
        "counts": counts,
        "customers_by_class": classes,
        "devices_by_type": devices,
        "critical_customers": int(g.customers.is_critical.astype(bool).sum()),
        "line_km": round(float(g.line_segments.length_km.sum()), 3),
    }
    return ToolResult(data=data, row_count=sum(counts.values()))


# --- AMI tools --------------------------------------------------------------------------------------


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


# --- ops tools --------------------------------------------------------------------------------------


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


# --- documents and SQL ------------------------------------------------------------------------------


def search_documents(ctx: ToolContext, a: dict[str, Any]) -> ToolResult:
    docs: DocumentIndex = ctx.need("docs")
    q = a["query"].strip()
    if not q:
        raise InvalidInputError("query must not be empty", field="query")
    limit = _limit(a["limit"], 5, 20)
    hits = docs.search(q, limit=limit)
    return ToolResult(
        data={"query": q, "hits": [h.to_dict() for h in hits], "retrieval": docs.method},
        row_count=len(hits),
        citations=hits,
    )


def describe_views(ctx: ToolContext, a: dict[str, Any]) -> ToolResult:
    sql: SqlPort = ctx.need("sql")
    views = sql.views()
    return ToolResult(data={"views": views}, row_count=len(views))


def run_sql(ctx: ToolContext, a: dict[str, Any]) -> ToolResult:
    sql: SqlPort = ctx.need("sql")
    text = a["sql"]
    if not text.strip():
        raise InvalidInputError("sql must not be empty", field="sql")
    if len(text) > 20_000:
        raise InvalidInputError("sql is longer than 20000 characters", field="sql")
    limit = _limit(a["limit"], SQL_DEFAULT_LIMIT, SQL_MAX_LIMIT)
    table, truncated = sql.run(text, limit=limit)
    return ToolResult(
        data={"columns": table.column_names, "rows": _rows(table, limit), "truncated": truncated},
        row_count=table.num_rows,
        sql=[text],
    )


# --- the registry -----------------------------------------------------------------------------------

TOOLS: dict[str, Tool] = {
    t.name: t
    for t in (
        Tool(
            "grid_summary",
            "Counts of every asset table of the loaded grid, customers by class, devices by type, "
            "km of line.",
            {},
            grid_summary,
        ),
        Tool(
            "find_assets",
            "Find assets by id or name text, type, feeder, substation or bounding box; returns the total, "
            "counts by type and the first rows.",
            {
                "query": _s("Text in the asset id or name"),
                "asset_type": _s("Asset type", enum=ASSET_TYPES),
                "feeder_id": _s("Feeder id, e.g. FDR-0001-01"),
                "substation_id": _s("Substation id, e.g. SUB-0001"),
                "bbox": {
                    "type": ["array", "null"],
                    "items": {"type": "number"},
                    "description": "[min_lon, min_lat, max_lon, max_lat]",
                },
                "limit": _i("Rows to list (1-500, default 20)"),
            },
            find_assets,
        ),
        Tool(
            "asset_detail",
            "One asset's attributes, its electrical path up to the substation and its downstream totals.",
            {"asset_id": _s("Asset id", nullable=False)},
            asset_detail,
        ),
        Tool(
            "transformer_meters",
            "The meters (customers) served by one distribution transformer, by customer class.",
            {"transformer_id": _s("Distribution transformer id", nullable=False)},
            transformer_meters,
        ),
        Tool(
            "meter_history",
            "A meter's interval history from the AMI lake: energy (kWh), peak demand (kW), voltage range.",
            {
                "meter_id": _s("Meter id", nullable=False),
                "start_date": _s("First UTC date YYYY-MM-DD (default: the latest day in the lake)"),
                "end_date": _s("Last UTC date YYYY-MM-DD (default: start_date)"),
            },
            meter_history,
        ),
        Tool(
            "feeder_load",
            "Feeder or substation load from AMI: peak kW and its hour, average kW, load factor, energy kWh.",
            {
                "level": _s("feeder or substation", nullable=False, enum=("feeder", "substation")),
                "id": _s("One feeder / substation id (null: all, highest peak first)"),
                "start_date": _s("First UTC date YYYY-MM-DD (default: latest day)"),
                "end_date": _s("Last UTC date YYYY-MM-DD (default: start_date)"),
                "limit": _i("Rows (1-500, default 10)"),
            },
            feeder_load,
        ),
        Tool(
            "transformer_loading",
            "Distribution transformer loading (% of rating) at the latest complete hour, highest first.",
            {
                "feeder_id": _s("Only this feeder"),
                "min_loading_pct": {"type": ["number", "null"], "description": "Only at or above this %"},
                "limit": _i("Rows (1-500, default 10)"),
            },
            transformer_loading,
        ),
        Tool(
            "voltage_compliance",
            "ANSI C84.1 service-voltage compliance of every meter on one day: meters outside range A "
            "(114-126 V) and range B (110-127 V), worst meters first.",
            {"date": _s("UTC date YYYY-MM-DD (default: latest day)"), "limit": _i("Worst meters listed")},
            voltage_compliance,
        ),
        Tool(
            "list_outages",
            "Outages (OMS) by status (active, history, all or one status), feeder, substation and "
            "start time.",
            {
                "status": _s("Which outages", enum=("active", "history", "all", *OUTAGE_STATUSES)),
                "feeder_id": _s("Feeder id"),
                "substation_id": _s("Substation id"),
                "since": _s("start_utc >= since (ISO 8601)"),
                "until": _s("start_utc < until (ISO 8601)"),
                "limit": _i("Rows listed (1-500, default 20)"),
            },
            list_outages,
        ),
        Tool(
            "reliability_indices",
            "IEEE 1366 indices (SAIFI, SAIDI, CAIDI, ASAI, MAIFIe) from outage records for the system, "
            "each substation or each feeder.",
            {
                "level": _s("system, substation or feeder", enum=RELIABILITY_LEVELS),
                "key": _s("One substation / feeder id"),
                "start": _s("Period start (ISO 8601; default: last 365 days or the data there are)"),
                "end": _s("Period end (ISO 8601; default: now)"),
                "exclude_major_events": {
                    "type": ["boolean", "null"],
                    "description": "Exclude Major Event Days",
                },
            },
            reliability_indices,
        ),
        Tool(
            "list_work_orders",
            "Work orders by status ('open' = open, assigned or in progress), priority or asset.",
            {
                "status": _s("Status", enum=("open", *WORK_ORDER_STATUSES)),
                "priority": _s("Priority", enum=WORK_ORDER_PRIORITIES),
                "asset_id": _s("Asset id"),
                "limit": _i("Rows listed"),
            },
            list_work_orders,
        ),
        Tool(
            "list_crews",
            "Field crews and their status.",
            {"available_only": {"type": ["boolean", "null"], "description": "Only available crews"}},
            list_crews,
        ),
        Tool(
            "run_cascade",
            "Simulate a cascade from one or more patient-zero elements under a scenario (protection, power "
            "flow, C57.91 thermal limits) with its economic impact (ICE method) and restoration cost.",
            {
                "patient_zero": {"type": "array", "items": {"type": "string"}, "description": "Element ids"},
                "scenario": _s("Scenario preset", enum=SCENARIOS),
            },
            run_cascade,
            role="operator",
        ),
        Tool(
            "acknowledge_outage",
            "Acknowledge an outage (changes its record; the operator must confirm the call).",
            {"outage_id": _s("Outage id", nullable=False)},
            acknowledge_outage,
            role="operator",
            mutating=True,
        ),
        Tool(
            "search_documents",
            "Search the operating procedures, standard summaries, manual and uploaded documents; returns "
            "passages with document, heading and line.",
            {"query": _s("What to look for", nullable=False), "limit": _i("Passages (1-20, default 5)")},
            search_documents,
        ),
        Tool(
            "describe_views",
            "The read-only SQL views (asset model, outages, work orders, AMI lake) and their columns.",
            {},
            describe_views,
        ),
        Tool(
            "run_sql",
            "Run one read-only SELECT (or WITH) over the documented views, DuckDB SQL; row limit and "
            "statement timeout apply.",
            {"sql": _s("One SELECT statement", nullable=False), "limit": _i("Rows (1-5000, default 200)")},
            run_sql,
        ),
    )
}


def tool_specs(role: str) -> list[dict[str, Any]]:
    """The tool definitions a principal of ``role`` may call."""
    rank = ROLE_ORDER.get(role, -1)
    return [t.spec() for t in TOOLS.values() if ROLE_ORDER[t.role] <= rank]
