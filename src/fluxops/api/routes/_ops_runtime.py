"""Wiring of the ops domain into the app (a composition root; kept apart from the route handlers).

One `OpsService` per loaded grid, rebuilt when the grid's content hash changes; one `StreamHub` for the
app's lifetime so stream clients survive a grid reload. At startup the service subscribes to accepted
AMI events (the AMI routes expose their ingestion service as ``app.state.ami_ingest``, transformer
loading as ``app.state.ami_loading`` and analytics as ``app.state.ami``); in demo mode
(``app.state.demo``, set by `fluxops demo`) a fault feed runs in-process (`fluxops.ops.faults`) unless
the AMI live simulator runs (``app.state.ami_simulator``); ``FLUXOPS_DEMO_FEED=1`` runs it in any case.
The leading underscore keeps the app's route discovery from loading this module as a router.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from datetime import UTC, datetime, time
from typing import Any

import pyarrow as pa
from fastapi import FastAPI

from fluxops.api.deps import grid_cache
from fluxops.ops.service import OpsService
from fluxops.ops.stream import StreamHub
from fluxops.storage.ops_store import OpsTableStore

log = logging.getLogger(__name__)
DEMO_FEED_ENV = "FLUXOPS_DEMO_FEED"


class _AmiVoltage:
    """Meter voltage status from the AMI analytics (``app.state.ami``), when they are installed."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def meter_voltage_status(self) -> pa.Table | None:
        ami = getattr(self.app.state, "ami", None)
        if ami is None or not hasattr(ami, "meter_voltage_latest"):
            return None
        try:  # kept by the AMI runtime, folded forward from the lake files written since the last read
            table: pa.Table = ami.meter_voltage_latest(limit=10_000_000)
        except Exception:  # no readings yet
            return None
        return table.select(["meter_id", "status"])


class _AmiAging:
    """Accumulated transformer insulation aging from the AMI hot-spot history (``app.state.ami``)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def transformer_aging(self) -> pa.Table | None:
        ami = getattr(self.app.state, "ami", None)
        if ami is None or not hasattr(ami, "queries"):
            return None
        try:
            table: pa.Table = ami.queries()[0].transformer_aging()
        except Exception:  # no readings yet: health from service age alone
            return None
        return table


class _AmiCoverage:
    """When the utility's data begin: the first day of the AMI lake (``app.state.ami``), so reliability
    indices say what period they cover instead of assuming a year."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def history_start_utc(self) -> datetime | None:
        starts = [t for t in (self._lake_start(), self._outage_history_start()) if t is not None]
        return min(starts) if starts else None

    def _lake_start(self) -> datetime | None:
        ami = getattr(self.app.state, "ami", None)
        lake = getattr(ami, "lake", None)
        if lake is None:
            return None
        try:
            days = lake.readings.partitions()
        except Exception:  # no lake yet
            return None
        return datetime.combine(days[0], time(0), tzinfo=UTC) if days else None

    def _outage_history_start(self) -> datetime | None:
        """The outage records' own start when the failure history was written into them (issue 12)."""
        from fluxops.storage.oms_history import history_window_start

        try:
            return history_window_start(self.app.state.store)
        except Exception:  # coverage unknown: the lake's start alone
            log.exception("reading the outage history window failed")
            return None


class OpsRuntime:
    """Holds the current grid's service; rebuilt on grid change (thread-safe)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.hub = StreamHub()
        self._lock = threading.Lock()
        self._hash: str | None = None
        self._service: OpsService | None = None
        self._current: tuple[str, OpsService] | None = None  # the two above, for lock-free readers

    def service(self) -> OpsService:
        store = self.app.state.store
        loaded = grid_cache(self.app).get(store)
        with self._lock:
            if self._service is None or self._hash != loaded.info.content_hash:
                if self._service is not None:
                    self._service.stop()
                svc = OpsService(
                    OpsTableStore(store),
                    loaded.grid,
                    hub=self.hub,
                    asset_status_sink=store.set_asset_status,
                    loading=getattr(self.app.state, "ami_loading", None),
                    voltage=_AmiVoltage(self.app),
                    aging=_AmiAging(self.app),
                    coverage=_AmiCoverage(self.app),
                )
                if _demo(self.app):
                    svc.dispatch.seed_demo_crews()
                svc.start()
                self._service, self._hash = svc, loaded.info.content_hash
                self._current = (loaded.info.content_hash, svc)
            return self._service

    def peek(self) -> OpsService | None:
        """The current grid's service when that is known without a store query (the grid cache is
        current at the store's write generation and this service was built for it), else None: the
        event loop then leaves the answer to a thread, which calls `service`."""
        loaded = grid_cache(self.app).peek(self.app.state.store)
        current = self._current  # (hash, service), replaced whole
        if loaded is None or current is None or current[0] != loaded.info.content_hash:
            return None
        return current[1]

    def submit(self, events: pa.Table) -> None:
        """AMI event subscriber: hand accepted events to the current grid's engine."""
        try:
            self.service().submit_events(events)
        except Exception:  # never fail the ingest that called us; the events are durable in the AMI log
            log.exception("could not hand AMI events to the outage engine")

    def stop(self) -> None:
        with self._lock:
            if self._service is not None:
                self._service.stop()
                self._service = None
                self._current = None


def _ami_ingest(app: FastAPI) -> Any | None:
    """The AMI ingestion service, when the AMI routes expose one (``subscribe`` + ``ingest_events``)."""
    ingest = getattr(app.state, "ami_ingest", None)
    return ingest if ingest is not None and hasattr(ingest, "subscribe") else None


def _demo(app: FastAPI) -> bool:
    return bool(getattr(app.state, "demo", False)) or os.environ.get(DEMO_FEED_ENV) == "1"


def on_startup(app: FastAPI) -> None:
    rt = OpsRuntime(app)
    app.state.ops = rt
    ingest = _ami_ingest(app)
    if ingest is not None:
        ingest.subscribe(rt.submit)
    with contextlib.suppress(Exception):  # no grid loaded yet: built on first use
        rt.service()
    explicit = os.environ.get(DEMO_FEED_ENV) == "1"
    if ingest is not None and not getattr(ingest, "owner", True):
        return  # several workers: only the one owning the AMI lake writer injects demo faults
    if explicit or (_demo(app) and getattr(app.state, "ami_simulator", None) is None):
        _start_fault_feed(app, rt, ingest)


def _start_fault_feed(app: FastAPI, rt: OpsRuntime, ingest: Any | None) -> None:
    """Demo without the AMI live simulator: inject faults through the AMI ingestion (or, when there is
    none, straight into the outage engine's subscriber)."""
    from fluxops.ops.faults import DemoFeed, FaultInjector

    try:
        svc = rt.service()
    except Exception:
        log.warning("demo fault feed not started: no grid loaded")
        return
    svc.dispatch.seed_demo_crews()
    sink = ingest.ingest_events if ingest is not None and hasattr(ingest, "ingest_events") else rt.submit
    feed = DemoFeed(FaultInjector(svc.tree), sink, on_synthetic=svc.mark_synthetic)
    feed.start()
    app.state.ops_demo_feed = feed


def on_shutdown(app: FastAPI) -> None:
    feed = getattr(app.state, "ops_demo_feed", None)
    if feed is not None:
        feed.stop()
    rt: OpsRuntime | None = getattr(app.state, "ops", None)
    if rt is not None:
        rt.stop()
