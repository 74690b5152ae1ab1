"""The AMI runtime: one per app, holding the lake, the analytics engine, the event bus and the current
grid's `IngestService` (rebuilt when the grid's content hash changes).

Published as ``app.state.ami_ingest`` (``subscribe(callback)``, ``ingest_events(table)``,
``ingest_readings(table)``) and ``app.state.ami_loading`` (``transformer_loading()``) for the ops routes.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pyarrow as pa
from fastapi import FastAPI

from fluxops.ami.ingest import EventBus, IngestReport, IngestService
from fluxops.ami.ports import EventSubscriber
from fluxops.ami.validation import MeterRegistry
from fluxops.api.deps import grid_cache
from fluxops.storage.ami_analytics import AmiAnalytics
from fluxops.storage.ami_queries import AmiQueries
from fluxops.storage.lake import AmiLake

log = logging.getLogger(__name__)
COMPACT_EVERY_S = 60.0
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
