"""Operations records: outages, their event log, the meters they hold, work orders and crews.

Declared once as pyarrow schemas (`OPS_TABLES`) so the store derives DuckDB and PostgreSQL DDL from
the same declaration as the grid tables; the dataclasses are the in-process shapes the services and
the API exchange. Outage states follow the OMS convention (Oracle NMS / SmartMAP): an outage is
*proposed* by the prediction engine, *confirmed* by an operator or crew, *restored* when every
customer it holds has supply again; a proposal absorbed into a larger one when more evidence arrives
becomes *merged* (kept for the audit trail, never counted in reliability indices). An operator
*cancels* a proposal that was no outage (a head-end or meter fault that sent last-gasps while the supply
was on): kept for the audit trail, its customer rows dropped, never counted in reliability indices.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

OUTAGE_STATUSES: tuple[str, ...] = ("proposed", "confirmed", "restored", "merged", "cancelled")
OPEN_OUTAGE_STATUSES: tuple[str, ...] = ("proposed", "confirmed")
# device: a protective device operated; transformer: a distribution transformer's fuse cutout;
# lights_out: one customer's service (a single meter) with nothing upstream implicated.
OUTAGE_KINDS: tuple[str, ...] = ("device", "transformer", "lights_out")
OUTAGE_EVENT_TYPES: tuple[str, ...] = (
    "proposed",
    "extended",  # more customers / a higher device after more last-gasps (roll-up)
    "merged",  # this proposal was absorbed into another outage
    "nested",  # a larger outage now contains this one
    "confirmed",
    "acknowledged",
    "partial_restore",
    "restored",
    "cancelled",  # an operator found it was no outage (false last-gasps)
    "cause_coded",  # the operator recorded (or changed) its cause
)
METER_EVENT_TYPES: tuple[str, ...] = ("last_gasp", "power_restore")
# Cause categories of IEEE Std 1782-2014 (collecting and categorizing distribution interruption
# events), lower-cased: what the crew found, recorded by the operator (often after restoration).
OUTAGE_CAUSES: tuple[str, ...] = (
    "equipment",  # equipment failure (deterioration, overload, manufacturer defect)
    "vegetation",
    "animal",
    "lightning",
    "weather",  # weather other than lightning (wind, ice, flood, heat)
    "public",  # vehicle, dig-in, vandalism, foreign contact by the public
    "utility",  # utility or contractor operation or error
    "power_supply",  # loss of transmission or generation supply
    "unknown",
)

WORK_ORDER_STATUSES: tuple[str, ...] = ("open", "assigned", "in_progress", "completed", "cancelled")
WORK_ORDER_PRIORITIES: tuple[str, ...] = ("critical", "high", "medium", "low")
WORK_ORDER_TYPES: tuple[str, ...] = ("outage_repair", "inspection", "maintenance", "replacement")
CREW_STATUSES: tuple[str, ...] = ("available", "assigned", "off_shift")
# overhead: line crew (bucket truck; overhead lines, poles, fuses, reclosers, pole-mount transformers);
# underground: cable crew (cable, splices, pad-mount transformers); substation: breakers, power
# transformers, bus work; service: a troubleshooter for one customer's service and meter.
CREW_SKILLS: tuple[str, ...] = ("overhead", "underground", "substation", "service")

_s = pa.string()
_t = pa.timestamp("us", tz="UTC")
_i = pa.int64()
_f = pa.float64()

OUTAGES_SCHEMA = pa.schema(
    [
        pa.field("outage_id", _s, nullable=False),
        pa.field("status", _s, nullable=False),  # OUTAGE_STATUSES
        pa.field("kind", _s, nullable=False),  # OUTAGE_KINDS
        pa.field("device_id", _s, nullable=False),  # predicted device / transformer / meter
        pa.field("device_type", _s, nullable=False),  # fuse, recloser, breaker, ..., transformer, meter
        pa.field("feeder_id", _s, nullable=True),
        pa.field("substation_id", _s, nullable=True),
        pa.field("lon", _f, nullable=True),  # where the predicted device is (WGS84), for the map
        pa.field("lat", _f, nullable=True),
        pa.field("parent_outage_id", _s, nullable=True),  # nested: the larger outage containing it
        pa.field("merged_into_id", _s, nullable=True),
        pa.field("start_utc", _t, nullable=False),  # earliest last-gasp
        pa.field("proposed_utc", _t, nullable=False),  # when the engine proposed it (processing time)
        pa.field("confirmed_utc", _t, nullable=True),
        pa.field("acknowledged_utc", _t, nullable=True),
        pa.field("acknowledged_by", _s, nullable=True),
        pa.field("restored_utc", _t, nullable=True),
        pa.field("updated_utc", _t, nullable=False),
        pa.field("customers_affected", _i, nullable=False),
        pa.field("critical_customers_affected", _i, nullable=False),
        pa.field("customers_out", _i, nullable=False),  # still without supply
        pa.field("reports", _i, nullable=False),  # last-gasps attributed to it
        pa.field("customer_minutes", _f, nullable=False),  # restored customer-minutes
        pa.field("storm_mode", pa.bool_(), nullable=False),
        # made from demo-injected faults (`fluxops.ops.faults`), not from the grid: kept out of the
        # reliability indices and restoration statistics unless asked. Nullable only so an existing
        # table can gain the column (ALTER ... DEFAULT FALSE); always written.
        pa.field("synthetic", pa.bool_(), nullable=True),
        pa.field("cause_code", _s, nullable=True),  # OUTAGE_CAUSES; null until an operator records it
        # written from the asset-risk failure history (`fluxops.risk.oms_history`), not by the live
        # engine: always restored, never active, no alarms; counted in reliability like any real outage.
        # Nullable only so an existing table can gain the column (older rows were all live).
        pa.field("historical", pa.bool_(), nullable=True),
    ]
)

OUTAGE_EVENTS_SCHEMA = pa.schema(
    [
        pa.field("event_id", _s, nullable=False),  # outage_id + ':' + sequence
        pa.field("outage_id", _s, nullable=False),
        pa.field("event_type", _s, nullable=False),  # OUTAGE_EVENT_TYPES
        pa.field("event_utc", _t, nullable=False),
        pa.field("customers", _i, nullable=False),  # restored in this step / affected after extension
        pa.field("customers_out_after", _i, nullable=False),
        pa.field("actor", _s, nullable=False),  # "oms" or the operator's id
        pa.field("detail", _s, nullable=True),
        pa.field("feeder_id", _s, nullable=True),
        pa.field("substation_id", _s, nullable=True),
        pa.field("start_utc", _t, nullable=False),  # the outage's start, for step durations
    ]
)

OUTAGE_METERS_SCHEMA = pa.schema(
    [
        pa.field("outage_id", _s, nullable=False),
        pa.field("meter_id", _s, nullable=False),
        pa.field("out_utc", _t, nullable=False),
        pa.field("restored_utc", _t, nullable=True),
    ]
)

WORK_ORDERS_SCHEMA = pa.schema(
    [
        pa.field("work_order_id", _s, nullable=False),
        pa.field("work_type", _s, nullable=False),  # WORK_ORDER_TYPES
        pa.field("priority", _s, nullable=False),  # WORK_ORDER_PRIORITIES
        pa.field("status", _s, nullable=False),  # WORK_ORDER_STATUSES
        pa.field("asset_id", _s, nullable=True),
        pa.field("outage_id", _s, nullable=True),
        pa.field("crew_id", _s, nullable=True),
        pa.field("description", _s, nullable=False),
        pa.field("created_utc", _t, nullable=False),
        pa.field("assigned_utc", _t, nullable=True),
        pa.field("started_utc", _t, nullable=True),
        pa.field("completed_utc", _t, nullable=True),
        pa.field("updated_utc", _t, nullable=False),
        pa.field("estimated_hours", _f, nullable=True),
    ]
)

CREWS_SCHEMA = pa.schema(
    [
        pa.field("crew_id", _s, nullable=False),
        pa.field("name", _s, nullable=False),
        pa.field("size", _i, nullable=False),
        pa.field("status", _s, nullable=False),  # CREW_STATUSES
        pa.field("substation_id", _s, nullable=True),  # home base
        pa.field("lon", _f, nullable=True),
        pa.field("lat", _f, nullable=True),
        # comma list of CREW_SKILLS (what work the crew is qualified and equipped for); nullable only so an
        # existing table can gain the column; null = not recorded (proposals then treat it as unknown)
        pa.field("skills", _s, nullable=True),
    ]
)

# table name -> (schema, primary key columns)
OPS_TABLES: dict[str, tuple[pa.Schema, tuple[str, ...]]] = {
    "outages": (OUTAGES_SCHEMA, ("outage_id",)),
    "outage_events": (OUTAGE_EVENTS_SCHEMA, ("event_id",)),
    "outage_meters": (OUTAGE_METERS_SCHEMA, ("outage_id", "meter_id")),
    "work_orders": (WORK_ORDERS_SCHEMA, ("work_order_id",)),
    "crews": (CREWS_SCHEMA, ("crew_id",)),
}


@dataclass(frozen=True)
class TraceConfig:
    """Parameters of the outage prediction engine; stored nowhere secret, passed in explicitly.

    The roll-up rule (a device is predicted when enough of its live customers report) is the
    configurable rule commercial OMS prediction engines use (Oracle NMS "rollup" thresholds); the
    values here are defaults an operator tunes, not measured figures.
    """

    window_s: float = 120.0  # last-gasps this close together may roll up into one outage
    rollup_fraction: float = 0.5  # share of a level's live meters that must report to predict it
    min_reports: int = 2  # a single report never implicates a device: it is a lights-out
    # Storm mode: at least ``storm_min_feeders`` distinct feeders with ``min_reports`` or more
    # last-gasps each within ``storm_window_s``. Why feeders, not a count of last-gasps: one recloser
    # or breaker lockout sends hundreds of last-gasps (679 on the demo) from one feeder and is one
    # outage a crew fixes; weather hits many feeders at once. Policy values: at the EIA-861 SAIFI of
    # 1.3 the demo utility sees ~1.4 outages/h, so 5 feeders within 15 min by chance is a Poisson tail
    # of ~3e-5 per window (λ = 0.35); a storm front crosses that in minutes.
    storm_min_feeders: int = 5
    storm_window_s: float = 900.0
    momentary_max_min: float = 5.0  # IEEE 1366-2022: interruptions of <= 5 min are momentary

    def __post_init__(self) -> None:
        if not (0.0 < self.rollup_fraction <= 1.0):
            raise ValueError("rollup_fraction must be in (0, 1]")
        if (
            self.window_s <= 0
            or self.min_reports < 1
            or self.storm_min_feeders < 1
            or self.storm_window_s <= 0
        ):
            raise ValueError("window_s, min_reports, storm_min_feeders and storm_window_s must be positive")


@dataclass(frozen=True)
class MeterEvent:
    """One head-end event as the outage engine needs it (the AMI domain owns the full record)."""

    meter_id: str
    event_type: str  # METER_EVENT_TYPES (others are ignored by the engine)
    event_utc: datetime


@dataclass(frozen=True)
class OutageRecord:
    outage_id: str
    status: str
    kind: str
    device_id: str
    device_type: str
    feeder_id: str | None
    substation_id: str | None
    start_utc: datetime
    proposed_utc: datetime
    updated_utc: datetime
    customers_affected: int
    critical_customers_affected: int
    customers_out: int
    reports: int
    customer_minutes: float = 0.0
    storm_mode: bool = False
    synthetic: bool = False  # every report came from a demo-injected fault
    lon: float | None = None
    lat: float | None = None
    parent_outage_id: str | None = None
    merged_into_id: str | None = None
    confirmed_utc: datetime | None = None
    acknowledged_utc: datetime | None = None
    acknowledged_by: str | None = None
    restored_utc: datetime | None = None
    cause_code: str | None = None  # OUTAGE_CAUSES, recorded by an operator
    historical: bool = False  # from the failure history (`fluxops.risk.oms_history`), not the live engine

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_OUTAGE_STATUSES

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class OutageEventRecord:
    event_id: str
    outage_id: str
    event_type: str
    event_utc: datetime
    customers: int
    customers_out_after: int
    actor: str
    start_utc: datetime
    detail: str | None = None
    feeder_id: str | None = None
    substation_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class WorkOrder:
    work_order_id: str
    work_type: str
    priority: str
    status: str
    description: str
    created_utc: datetime
    updated_utc: datetime
    asset_id: str | None = None
    outage_id: str | None = None
    crew_id: str | None = None
    assigned_utc: datetime | None = None
    started_utc: datetime | None = None
    completed_utc: datetime | None = None
    estimated_hours: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Crew:
    crew_id: str
    name: str
    size: int
    status: str
    substation_id: str | None = None
    lon: float | None = None
    lat: float | None = None
    skills: str | None = None  # comma list of CREW_SKILLS; None: not recorded

    @property
    def skill_set(self) -> frozenset[str]:
        return frozenset(x.strip() for x in (self.skills or "").split(",") if x.strip())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class OutageDelta:
    """What one engine step changed: records to upsert, log rows to append, meter rows to upsert."""

    outages: list[OutageRecord] = field(default_factory=list)
    events: list[OutageEventRecord] = field(default_factory=list)
    meter_rows: pa.Table = field(default_factory=OUTAGE_METERS_SCHEMA.empty_table)
    dropped_meter_outage_ids: list[str] = field(default_factory=list)  # merged: their meter rows go
    storm_mode: bool = False
    ignored_events: int = 0

    @property
    def empty(self) -> bool:
        return not self.outages and not self.events and self.meter_rows.num_rows == 0
