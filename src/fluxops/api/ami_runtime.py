"""The AMI runtime: one per app, holding the lake, the analytics engine, the event bus and the current
grid's `IngestService` (rebuilt when the grid's content hash changes).

Published as ``app.state.ami_ingest`` (``subscribe(callback)``, ``ingest_events(table)``,
``ingest_readings(table)``) and ``app.state.ami_loading`` (``transformer_loading()``) for the ops routes.

Analytics are answered from the last materialization, never refreshed on the read path (issue 8 §5): a
refresh under a live feed takes seconds, and 64 readers must not each wait for it. A refresher thread is
woken by every accepted batch, coalesces what arrives while it works (at most one refresh per
``REFRESH_MIN_INTERVAL_S``) and publishes a `Materialization` (the lake batch seq the derived data
covers and when it was made); the routes send it as ``X-Data-Watermark`` / ``X-Data-As-Of``. Before the
first materialization of a fresh lake, analytics answer empty with watermark 0 and as-of ``none``.

With several worker processes (``fluxops serve --workers N``, PostgreSQL only) exactly one of them owns
the lake writer (an ``flock`` on ``<lake>/.ingest-owner.lock`` taken at startup): it ingests, refreshes,
compacts and runs the demo simulator; the others answer ingestion with 503 + ``Retry-After`` and read the
owner's materialization from ``derived/_state.json``.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from fastapi import FastAPI

from fluxops.ami.ingest import EventBus, IngestReport, IngestService
from fluxops.ami.ports import EventSubscriber
from fluxops.ami.validation import MeterRegistry, TimeWindow
from fluxops.api.deps import grid_cache
from fluxops.api.metrics import timed_compaction
from fluxops.core.errors import StorageError
from fluxops.storage.ami_analytics import AmiAnalytics
from fluxops.storage.ami_queries import AmiQueries
from fluxops.storage.lake import AmiLake
from fluxops.storage.latest_voltage import LatestVoltage

log = logging.getLogger(__name__)
COMPACT_EVERY_S = 60.0
DEMO_SPEED = 30.0
DEMO_LOOKBACK_H = 1.0
# Batches arriving faster are coalesced. A refresh redoes its whole day, so under a 5,000 readings/s feed
# its cost grows with the day: at 10 s it was 13 % of the server's CPU on `demo` (py-spy, 64 clients);
# the analytics are hourly and 15-minute figures, and every answer says its as-of time.
REFRESH_MIN_INTERVAL_S = 30.0
REFRESH_POLL_S = 30.0  # the refresher also looks for unmaterialized batches this often
INGEST_RETRY_AFTER_S = 1
OWNER_LOCK = ".ingest-owner.lock"


@dataclass(frozen=True)
class Materialization:
    """What the derived analytics cover: lake batches up to ``seq``, made at ``as_of_utc`` (None: never)."""

    seq: int
    as_of_utc: datetime | None
    seconds: float = 0.0

    def headers(self) -> dict[str, str]:
        as_of = self.as_of_utc.isoformat().replace("+00:00", "Z") if self.as_of_utc else "none"
        return {"X-Data-Watermark": str(self.seq), "X-Data-As-Of": as_of}


class AmiRuntime:
    """Lake + analytics + event bus + the current grid's ingestion service (thread-safe)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.lake = AmiLake(app.state.settings.lake_dir)
        self.analytics = AmiAnalytics(self.lake)
        self._queries = AmiQueries(self.analytics)
        self._latest_voltage = LatestVoltage(self.analytics)
        self.bus = EventBus()
        self._lock = threading.Lock()
        self._hash: str | None = None
        self._svc: IngestService | None = None
        self._stop = threading.Event()
        self._dirty = threading.Event()  # set by every accepted batch; the refresher clears it
        self._compactor: threading.Thread | None = None
        self._refresher: threading.Thread | None = None
        self._mat_lock = threading.Lock()
        self._materialized = self._stored_materialization()
        self._owner_fd: int | None = None
        self.owner = True  # False in a worker that does not own the lake writer (multi-worker serving)
        self.refresh_count = 0  # refreshes this process ran (the tests read it)
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
                window = TimeWindow.from_settings(self.app.state.settings.ingest)
                self._svc = IngestService(reg, self.lake, self.lake, bus=self.bus, window=window)
                self._hash = loaded.info.content_hash
            return self._svc

    def grid_hash(self) -> str | None:
        """The content hash of the grid the ingestion service (and the analytics' dims) were built for."""
        with self._lock:
            return self._hash

    def _check_owner(self) -> None:
        if not self.owner:
            raise StorageError(
                "this worker process does not own the AMI lake writer (one writer per lake); "
                "retry: ingestion is served by one worker",
                details={"retry_after_s": INGEST_RETRY_AFTER_S},
            )

    def ingest_readings(self, table: pa.Table, *, correction: bool = False) -> IngestReport:
        self._check_owner()
        rep = self.service().ingest_readings(table, correction=correction)
        if rep.accepted:
            self._dirty.set()  # the refresher materializes it; readers never wait for that
        return rep

    def ingest_events(self, table: pa.Table) -> IngestReport:
        self._check_owner()
        return self.service().ingest_events(table)

    # --- analytics: answered from the last materialization ----------------------------------------

    def _stored_materialization(self) -> Materialization:
        """The watermark a previous refresh (this process, a previous run, or the owner worker) left in
        ``derived/_state.json``; its modification time is the as-of."""
        path = self.analytics.dir / "_state.json"
        try:
            st = path.stat()
            seq = int(json.loads(path.read_text())["watermark"])
        except (OSError, ValueError, KeyError):
            return Materialization(0, None)
        return Materialization(seq, datetime.fromtimestamp(st.st_mtime, UTC) if seq else None)

    def materialization(self) -> Materialization:
        """What the analytics answer from now (never waits for a refresh)."""
        if not self.owner:  # the owner worker refreshes; follow what it wrote
            return self._stored_materialization()
        with self._mat_lock:
            return self._materialized

    def queries(self) -> tuple[AmiQueries, Materialization]:
        """The analytics and the materialization they answer from (no refresh on the read path)."""
        self.service()  # dims for the current grid (rewritten when the grid changes)
        return self._queries, self.materialization()

    def meter_voltage_latest(self, *, limit: int) -> pa.Table:
        """Each meter's latest voltage and ANSI status (raw data, newest day; `AmiQueries`' answer):
        kept in memory and folded forward from the lake files written since the last call, so the
        outage engine's periodic read and ``/api/ami/voltage/latest`` never re-read the whole day."""
        self.service()  # dims for the current grid
        return self._latest_voltage.table(limit)

    def peek_version(self) -> tuple[object, ...] | None:
        """The version key analytics answers are cached under (`fluxops.api.response_cache`), when it is
        known without a store query or a file read: this process owns the lake (its materialization is
        in memory) and the grid cache is current for the ingestion service's grid. None otherwise."""
        if not self.owner:
            return None
        loaded = grid_cache(self.app).peek(self.app.state.store)
        h = self._hash
        if loaded is None or h is None or loaded.info.content_hash != h:
            return None
        return self.version_key(h, self.materialization())

    @staticmethod
    def version_key(grid_hash: str | None, mat: Materialization) -> tuple[object, ...]:
        """What a derived answer depends on: the grid, the materialization and the UTC date (a missing
        ``date`` parameter means today)."""
        return ("ami", grid_hash, mat.seq, mat.as_of_utc, datetime.now(UTC).date())

    def refresh_now(self) -> Materialization:
        """Materialize every batch accepted so far, in the caller's thread (``POST /api/ami/refresh``, the
        refresher thread, tests). Incremental: only the dates that received batches since the watermark."""
        self.service()  # dims for the current grid
        rep = self.analytics.refresh()
        mat = Materialization(rep.watermark, datetime.now(UTC), rep.seconds)
        with self._mat_lock:
            self._materialized = mat
            self.refresh_count += 1
        return mat

    def pending(self) -> bool:
        return self.lake.readings.last_seq > self.materialization().seq

    def _refresh_loop(self) -> None:
        if self.pending():
            self._dirty.set()  # batches a previous run accepted but never materialized
        while not self._stop.is_set():
            self._dirty.wait(REFRESH_POLL_S)
            if self._stop.is_set():
                return
            self._dirty.clear()
            if not self.pending():
                continue
            try:
                mat = self.refresh_now()
                log.debug("AMI analytics materialized to seq %d in %.2f s", mat.seq, mat.seconds)
            except Exception:  # no grid yet, a torn file: keep answering from the previous one
                log.exception("AMI analytics refresh failed")
            # coalesce: batches arriving during the pause are materialized together
            if self._stop.wait(REFRESH_MIN_INTERVAL_S):
                return

    # the ops LoadingSource (app.state.ami_loading)
    def transformer_loading(self) -> pa.Table | None:
        try:
            q, _mat = self.queries()
            return q.transformer_latest(feeder_id=None, min_loading_pct=None, limit=10_000_000)
        except Exception:  # no grid, no data yet: the map shows design loading
            return None

    def start_simulator(self) -> None:
        """Demo: the live head-end simulator feeding this process's ingestion (30× real time from one
        hour ago, then real time), so the map and outages move. When `fluxops demo` has just written
        history it starts where that ends (``app.state.ami_live_start_utc``)."""
        from fluxops.ami.simulator import CallableSink, LiveSimulator, SimulatorParams, default_start
        from fluxops.ami.synth import AmiSynthesizer, SynthParams

        def run() -> None:
            try:
                grid = grid_cache(self.app).get(self.app.state.store).grid
                sim = LiveSimulator(
                    AmiSynthesizer(grid, SynthParams(seed=self.app.state.settings.demo_seed)),
                    CallableSink(self.ingest_readings, self.ingest_events),
                    SimulatorParams(
                        speed=DEMO_SPEED,
                        start_utc=getattr(self.app.state, "ami_live_start_utc", None)
                        or default_start(DEMO_LOOKBACK_H),
                    ),
                )
            except Exception:
                log.exception("AMI demo simulator not started")
                return
            self.simulator = sim
            sim.run_until(self._stop)

        threading.Thread(target=run, name="ami-demo-simulator", daemon=True).start()

    def claim_ownership(self) -> bool:
        """Multi-worker serving: become the one worker that writes the lake, if no other has."""
        fd = os.open(self.lake.root / OWNER_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            self.owner = False
            return False
        self._owner_fd, self.owner = fd, True
        return True

    def start(self) -> None:
        if getattr(self.app.state, "multi_worker", False) and not self.claim_ownership():
            log.info("AMI: another worker owns the lake writer; this one serves reads only")
            return
        self._refresher = threading.Thread(target=self._refresh_loop, name="ami-refresher", daemon=True)
        self._refresher.start()

        def loop() -> None:
            while not self._stop.wait(COMPACT_EVERY_S):
                try:
                    timed_compaction("background", lambda: self.lake.compact(min_files=16))
                except Exception:
                    log.exception("AMI lake compaction failed")

        self._compactor = threading.Thread(target=loop, name="ami-compactor", daemon=True)
        self._compactor.start()

    def stop(self) -> None:
        self._stop.set()
        self._dirty.set()
        for t in (self._refresher, self._compactor):
            if t is not None:
                t.join(timeout=30)
        if self._owner_fd is not None:
            os.close(self._owner_fd)
            self._owner_fd = None


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
