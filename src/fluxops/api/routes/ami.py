"""AMI API: ingestion (NDJSON, CSV, Arrow IPC) and analytics answers under ``/api/ami``.

Composition root for the AMI domain: one `AmiRuntime` per app holds the lake, the analytics engine, the
event bus and the current grid's `IngestService` (rebuilt when the grid's content hash changes). It is
published as ``app.state.ami_ingest`` (``subscribe(callback)``, ``ingest_events(table)``,
``ingest_readings(table)``) and ``app.state.ami_loading`` (``transformer_loading()``) for the ops routes.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import date, datetime
from typing import Any

import orjson
import pyarrow as pa
from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from fluxops.ami.formats import parse_table
from fluxops.ami.ingest import EventBus, IngestReport, IngestService
from fluxops.ami.ports import EventSubscriber
from fluxops.ami.validation import MeterRegistry
from fluxops.api.deps import ARROW_STREAM_MEDIA_TYPE, grid_cache
from fluxops.api.security import require_role
from fluxops.core.errors import InvalidInputError
from fluxops.storage.ami_analytics import AmiAnalytics
from fluxops.storage.ami_queries import CHECKS, AmiQueries
from fluxops.storage.lake import AmiLake

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/ami", tags=["ami"])
VIEWER = [Depends(require_role("viewer"))]
OPERATOR = [Depends(require_role("operator"))]
ADMIN = [Depends(require_role("admin"))]
COMPACT_EVERY_S = 60.0
MAX_LIMIT = 200_000
DEMO_SPEED = 30.0
LOADING_MAX_AGE_S = 60.0  # the map's transformer loading may lag a live feed by this much
DEMO_LOOKBACK_H = 1.0


class AmiRuntime:
    """Lake + analytics + event bus + the current grid's ingestion service (thread-safe)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.lake = AmiLake(app.state.settings.lake_dir)
        self.analytics = AmiAnalytics(self.lake)
        self.queries = AmiQueries(self.analytics)
        self.bus = EventBus()
        self._lock = threading.Lock()
        self._hash: str | None = None
        self._svc: IngestService | None = None
        self._refreshed_seq = -1
        self._refreshed_at = 0.0
        self._stop = threading.Event()
        self._compactor: threading.Thread | None = None
        self.simulator: Any = None

    # the facade the ops routes use (app.state.ami_ingest)
    def subscribe(self, callback: EventSubscriber) -> None:
        self.bus.subscribe(callback)

    def service(self) -> IngestService:
        loaded = grid_cache(self.app).get(self.app.state.store)
        with self._lock:
            if self._svc is None or self._hash != loaded.info.content_hash:
                me = loaded.grid.meters
                reg = MeterRegistry(
                    me["meter_id"], me["transformer_id"], me["feeder_id"], me["substation_id"]
                )
                self.analytics.write_dims(loaded.grid)
                self._svc = IngestService(reg, self.lake, self.lake, bus=self.bus)
                self._hash = loaded.info.content_hash
            return self._svc

    def ingest_readings(self, table: pa.Table, *, correction: bool = False) -> IngestReport:
        return self.service().ingest_readings(table, correction=correction)

    def ingest_events(self, table: pa.Table) -> IngestReport:
        return self.service().ingest_events(table)

    def fresh_queries(self, *, max_age_s: float = 0.0) -> AmiQueries:
        """Analytics with derived data brought up to date (incremental: only when batches arrived since
        the last refresh, and then only the dates they touched). ``max_age_s`` lets background readers
        accept derived data that old while a live feed keeps arriving."""
        self.service()  # dims for the current grid
        seq = self.lake.readings.last_seq
        stale = time.monotonic() - self._refreshed_at >= max_age_s
        if seq != self._refreshed_seq and stale:
            self._refreshed_seq = self.analytics.refresh().watermark
            self._refreshed_at = time.monotonic()
        return self.queries

    # the ops LoadingSource (app.state.ami_loading)
    def transformer_loading(self) -> pa.Table | None:
        try:
            return self.fresh_queries().transformer_latest(
                feeder_id=None, min_loading_pct=None, limit=10_000_000
            )
        except Exception:  # no grid, no data yet: the map shows design loading
            return None

    def start_simulator(self) -> None:
        """Demo: the live head-end simulator feeding this process's ingestion (30× real time from one
        hour ago, then real time), so the map and outages move."""
        from fluxops.ami.simulator import CallableSink, LiveSimulator, SimulatorParams, default_start
        from fluxops.ami.synth import AmiSynthesizer, SynthParams

        def run() -> None:
            try:
                grid = grid_cache(self.app).get(self.app.state.store).grid
                sim = LiveSimulator(
                    AmiSynthesizer(grid, SynthParams(seed=self.app.state.settings.demo_seed)),
                    CallableSink(self.ingest_readings, self.ingest_events),
                    SimulatorParams(speed=DEMO_SPEED, start_utc=default_start(DEMO_LOOKBACK_H)),
                )
            except Exception:
                log.exception("AMI demo simulator not started")
                return
            self.simulator = sim
            sim.run_until(self._stop)

        threading.Thread(target=run, name="ami-demo-simulator", daemon=True).start()

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.wait(COMPACT_EVERY_S):
                try:
                    self.lake.compact(min_files=16)
                except Exception:
                    log.exception("AMI lake compaction failed")

        self._compactor = threading.Thread(target=loop, name="ami-compactor", daemon=True)
        self._compactor.start()

    def stop(self) -> None:
        self._stop.set()
        if self._compactor is not None:
            self._compactor.join(timeout=30)


_rt_lock = threading.Lock()


def ami_runtime(app: FastAPI) -> AmiRuntime:
    """The app's AMI runtime, created on first use (other routes may call this from their startup)."""
    with _rt_lock:
        rt: AmiRuntime | None = getattr(app.state, "ami", None)
        if rt is None:
            rt = AmiRuntime(app)
            app.state.ami = rt
            app.state.ami_ingest = rt
            app.state.ami_loading = rt
        return rt


def on_startup(app: FastAPI) -> None:
    rt = ami_runtime(app)
    rt.start()
    if getattr(app.state, "demo", False):
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


def _table_response(request: Request, table: pa.Table) -> Response:
    """Rows as JSON ({"count", "rows"}), or an Arrow IPC stream when the client accepts it."""
    if ARROW_STREAM_MEDIA_TYPE in request.headers.get("accept", ""):
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as w:
            w.write_table(table)
        return Response(sink.getvalue().to_pybytes(), media_type=ARROW_STREAM_MEDIA_TYPE)
    return _json({"count": table.num_rows, "rows": table.to_pylist()})


async def _ingest(request: Request, kind: str, correction: bool = False) -> Response:
    rt = ami_runtime(request.app)
    table = parse_table(request.headers.get("content-type", ""), await request.body())
    if kind == "events":
        rep = await run_in_threadpool(rt.ingest_events, table)
    else:
        rep = await run_in_threadpool(lambda: rt.ingest_readings(table, correction=correction))
    return _json(rep.to_dict())


# --- ingestion ------------------------------------------------------------------------------------


@router.post("/readings", dependencies=OPERATOR)
async def post_readings(request: Request) -> Response:
    """Interval readings; idempotent on (meter_id, interval_start_utc). 200 with a rejection report."""
    return await _ingest(request, "readings")


@router.post("/readings/corrections", dependencies=OPERATOR)
async def post_corrections(request: Request) -> Response:
    """Explicit corrections: replace stored readings with the same key (or add them)."""
    return await _ingest(request, "readings", correction=True)


@router.post("/events", dependencies=OPERATOR)
async def post_events(request: Request) -> Response:
    """Meter events (last_gasp, power_restore, voltage_sag/swell, tamper, reverse_flow)."""
    return await _ingest(request, "events")


@router.post("/refresh", dependencies=OPERATOR)
def post_refresh(request: Request) -> Response:
    rep = ami_runtime(request.app).analytics.refresh()
    return _json(
        {"dates": [d.isoformat() for d in rep.dates], "watermark": rep.watermark, "seconds": rep.seconds}
    )


@router.post("/compact", dependencies=ADMIN)
def post_compact(request: Request) -> Response:
    reps = ami_runtime(request.app).lake.compact(min_files=2)
    return _json({k: vars(v) for k, v in reps.items()})


# --- analytics ------------------------------------------------------------------------------------

Limit = Query(1000, ge=1, le=MAX_LIMIT)


def _q(request: Request) -> AmiQueries:
    return ami_runtime(request.app).fresh_queries()


@router.get("/readings", dependencies=VIEWER)
def get_readings(
    request: Request, meter_id: str, start: date | None = None, end: date | None = None, limit: int = Limit
) -> Response:
    return _table_response(
        request, _q(request).readings(meter_id=meter_id, start=start, end=end, limit=limit)
    )


@router.get("/events", dependencies=VIEWER)
def get_events(
    request: Request,
    since: datetime | None = None,
    event_type: str | None = None,
    meter_id: str | None = None,
    limit: int = Limit,
) -> Response:
    t = _q(request).events(since=since, event_type=event_type, meter_id=meter_id, limit=limit)
    return _table_response(request, t)


@router.get("/transformers/load", dependencies=VIEWER)
def get_transformer_load(
    request: Request,
    day: date | None = Query(None, alias="date"),
    transformer_id: str | None = None,
    feeder_id: str | None = None,
    limit: int = Limit,
) -> Response:
    """Transformer load per hour: kWh, average and 15-min peak kW, % of rating, hot spot, aging."""
    t = _q(request).transformer_hours(
        day=day, transformer_id=transformer_id, feeder_id=feeder_id, limit=limit
    )
    return _table_response(request, t)


@router.get("/transformers/latest", dependencies=VIEWER)
def get_transformer_latest(
    request: Request, feeder_id: str | None = None, min_loading_pct: float | None = None, limit: int = Limit
) -> Response:
    t = _q(request).transformer_latest(feeder_id=feeder_id, min_loading_pct=min_loading_pct, limit=limit)
    return _table_response(request, t)


@router.get("/transformers/thermal", dependencies=VIEWER)
def get_transformer_thermal(
    request: Request, start: date | None = None, end: date | None = None, limit: int = Limit
) -> Response:
    """IEEE C57.91 per transformer over a period: max hot spot, equivalent aging, % loss of life."""
    return _table_response(request, _q(request).transformer_thermal(start=start, end=end, limit=limit))


def _group_load(level: str) -> Any:
    def handler(
        request: Request, day: date | None = Query(None, alias="date"), limit: int = Limit
    ) -> Response:
        return _table_response(request, _q(request).group_hourly(level, day=day, limit=limit))

    handler.__doc__ = f"{level.capitalize()} load per hour (sum of its transformers' average kW)."
    return handler


def _group_summary(level: str) -> Any:
    def handler(
        request: Request, start: date | None = None, end: date | None = None, limit: int = Limit
    ) -> Response:
        return _table_response(request, _q(request).group_summary(level, start=start, end=end, limit=limit))

    handler.__doc__ = f"Peak kW and hour, average kW, load factor and energy per {level} over a period."
    return handler


for _level in ("feeder", "substation"):
    router.add_api_route(f"/{_level}s/load", _group_load(_level), methods=["GET"], dependencies=VIEWER)
    router.add_api_route(f"/{_level}s/summary", _group_summary(_level), methods=["GET"], dependencies=VIEWER)


@router.get("/voltage/meters", dependencies=VIEWER)
def get_voltage_meters(
    request: Request,
    day: date | None = Query(None, alias="date"),
    status: str | None = None,
    limit: int = Limit,
) -> Response:
    """ANSI C84.1 compliance per meter and day: intervals/minutes outside Range A and B, min/avg/max V."""
    if status is not None and status not in ("normal", "warning", "critical"):
        raise InvalidInputError("status must be normal, warning or critical", field="status")
    return _table_response(request, _q(request).voltage_meters(day=day, status=status, limit=limit))


@router.get("/voltage/transformers", dependencies=VIEWER)
def get_voltage_transformers(
    request: Request, day: date | None = Query(None, alias="date"), limit: int = Limit
) -> Response:
    return _table_response(request, _q(request).voltage_transformers(day=day, limit=limit))


@router.get("/voltage/latest", dependencies=VIEWER)
def get_voltage_latest(request: Request, limit: int = Limit) -> Response:
    return _table_response(request, _q(request).meter_voltage_latest(limit=limit))


@router.get("/consumption/classes", dependencies=VIEWER)
def get_class_consumption(request: Request, start: date | None = None, end: date | None = None) -> Response:
    return _table_response(request, _q(request).class_consumption(start=start, end=end))


@router.get("/completeness", dependencies=VIEWER)
def get_completeness(request: Request, start: date | None = None, end: date | None = None) -> Response:
    """Meters and readings received vs expected per day; reporting latency percentiles."""
    return _table_response(request, _q(request).completeness(start=start, end=end))


@router.get("/checks", dependencies=VIEWER)
def list_checks() -> Response:
    """The seed generator's sample/validation queries, each answered by ``/checks/{name}``."""
    return _json({"checks": sorted(CHECKS)})


@router.get("/checks/{name}", dependencies=VIEWER)
def get_check(request: Request, name: str, days: int = Query(7, ge=1, le=366)) -> Response:
    return _table_response(request, _q(request).check(name, days=days))
