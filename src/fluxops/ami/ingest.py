"""The ingestion service: validate, de-duplicate, write durably, then acknowledge and notify.

Why it is built this way (issue 3 §2):
* **Idempotent on (meter_id, interval_start_utc).** A `SeenIndex` per UTC day holds one bit per
  (meter, interval) — 600K meters × 96 intervals is 57.6 MB per day for houston — rebuilt lazily from
  the durable log the first time a day is touched, so it survives restarts. A re-sent reading is
  counted as ``duplicates`` and writes nothing. When the log loses rows (a damaged file quarantined,
  ``removed_epoch`` changes) the index is rebuilt, so re-sending the lost readings stores them again.
  Events are idempotent on (meter, type, time).
* **Corrections are explicit** (``correction=True``, the ``/corrections`` endpoint): they are written
  with ``is_correction`` and the analytics view takes the latest correction over the original.
* **Durable before acknowledged.** The check-write-mark sequence runs under one lock, and the write
  returns only after fsync (`ReadingLog`), so when `ingest_readings` returns, the batch is on disk.
* Event subscribers (outage detection) are called after the durable write, outside the lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fluxops.ami.models import EVENT_TYPES, INTERVAL_S, INTERVALS_PER_DAY, TS
from fluxops.ami.ports import EventLog, EventSubscriber, ReadingLog
from fluxops.ami.validation import (
    MeterRegistry,
    Rejection,
    TimeWindow,
    validate_events,
    validate_readings,
)
from fluxops.core.clock import utc_now
from fluxops.core.metrics import counter

log = logging.getLogger(__name__)
_US_PER_DAY = 86_400_000_000
# Prometheus counters (GET /metrics): rate() of accepted rows is the live feed's rows/s; rejections by
# reason tell a head-end misconfiguration (unknown meters, clock skew) from noise.
INGEST_ROWS = counter(
    "fluxops_ingest_rows_total", "AMI rows received, by dataset and outcome", ("dataset", "outcome")
)
INGEST_REJECTIONS = counter(
    "fluxops_ingest_rejections_total", "AMI rows rejected by validation, by reason", ("dataset", "reason")
)


@dataclass(frozen=True)
class IngestReport:
    """What happened to a batch: the HTTP/MQTT response body."""

    received: int
    accepted: int
    duplicates: int
    rejected: int
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)
    batch_seq: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["rejections"] = [asdict(r) for r in self.rejections]
        return d

    def count(self, dataset: str) -> IngestReport:
        """Add this batch to the ingestion counters; returns itself."""
        for outcome, n in (
            ("accepted", self.accepted),
            ("duplicate", self.duplicates),
            ("rejected", self.rejected),
        ):
            if n:
                INGEST_ROWS.inc(n, dataset=dataset, outcome=outcome)
        for reason, n in self.rejected_by_reason.items():
            INGEST_REJECTIONS.inc(n, dataset=dataset, reason=reason)
        return self


class SeenIndex:
    """Bitmaps of stored (meter, interval) keys, one per UTC day, loaded on first use."""

    def __init__(
        self, n_meters: int, loader: Callable[[date], npt.NDArray[np.int64]], max_days: int = 8
    ) -> None:
        self.n_meters = n_meters
        self._loader = loader  # day -> flat positions meter_idx * 96 + slot already stored
        self._days: dict[int, npt.NDArray[np.bool_]] = {}
        self.max_days = max_days

    def _day(self, day_no: int) -> npt.NDArray[np.bool_]:
        bm = self._days.get(day_no)
        if bm is None:
            bm = np.zeros(self.n_meters * INTERVALS_PER_DAY, dtype=bool)
            d = date.fromordinal(date(1970, 1, 1).toordinal() + day_no)
            bm[self._loader(d)] = True
            if len(self._days) >= self.max_days:  # forget the least recently loaded day
                self._days.pop(next(iter(self._days)))
            self._days[day_no] = bm
        return bm

    def split(
        self, meter_idx: npt.NDArray[np.int64], ts_us: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        day = np.floor_divide(ts_us, _US_PER_DAY)
        pos = meter_idx * INTERVALS_PER_DAY + (ts_us - day * _US_PER_DAY) // (INTERVAL_S * 1_000_000)
        seen = np.zeros(ts_us.size, dtype=bool)
        for d in np.unique(day):
            sel = day == d
            seen[sel] = self._day(int(d))[pos[sel]]
        return day, pos, seen

    def mark(self, day: npt.NDArray[np.int64], pos: npt.NDArray[np.int64]) -> None:
        for d in np.unique(day):
            self._day(int(d))[pos[day == d]] = True


class EventBus:
    """In-process fan-out of accepted event batches (outage detection subscribes here).

    Lives longer than an `IngestService` (which is rebuilt when a new grid is loaded), so subscribers
    register once at startup."""

    def __init__(self) -> None:
        self._subscribers: list[EventSubscriber] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: EventSubscriber) -> None:
        with self._lock:
            self._subscribers.append(callback)

    def unsubscribe(self, callback: EventSubscriber) -> None:
        with self._lock:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

    def publish(self, events: pa.Table) -> None:
        with self._lock:
            subs = list(self._subscribers)
        for cb in subs:
            try:
                cb(events)
            except Exception:  # a subscriber's bug must not fail an acknowledged ingest
                log.exception("AMI event subscriber failed")


class IngestService:
    """One per process and grid. Thread-safe."""

    def __init__(
        self,
        registry: MeterRegistry,
        readings: ReadingLog,
        events: EventLog,
        *,
        clock: Callable[[], datetime] = utc_now,
        bus: EventBus | None = None,
        window: TimeWindow | None = None,
    ) -> None:
        self.registry = registry
        self.window = window or TimeWindow()  # record times accepted (deployment setting)
        self._readings = readings
        self._events = events
        self._clock = clock
        self._lock = threading.Lock()
        self._event_lock = threading.Lock()
        self.bus = bus or EventBus()
        self._seen = SeenIndex(registry.size, self._stored_positions)
        self._seen_epoch = readings.removed_epoch()
        self._seen_events: dict[int, npt.NDArray[np.int64]] = {}
        self._seen_events_epoch = events.removed_epoch()

    # --- subscribers ----------------------------------------------------------------------------

    def subscribe(self, callback: EventSubscriber) -> None:
        """Call ``callback(events)`` with every accepted event batch after it is durably written."""
        self.bus.subscribe(callback)

    # --- readings -------------------------------------------------------------------------------

    def _stored_positions(self, day: date) -> npt.NDArray[np.int64]:
        keys = self._readings.reading_keys(day)
        idx = self.registry.lookup_arrow(keys["meter_id"])
        ts = pc.cast(keys["interval_start_utc"], pa.int64()).to_numpy(zero_copy_only=False)
        slot = (ts % _US_PER_DAY) // (INTERVAL_S * 1_000_000)
        ok = idx >= 0
        out: npt.NDArray[np.int64] = (idx[ok] * INTERVALS_PER_DAY + slot[ok]).astype(np.int64)
        return out

    def ingest_readings(self, table: pa.Table, *, correction: bool = False) -> IngestReport:
        """Validate and durably store a batch; re-sent readings are counted as duplicates, not rewritten."""
        now = self._clock()
        v = validate_readings(table, self.registry, now, self.window)
        vt = v.table
        ts = pc.cast(vt["interval_start_utc"], pa.int64()).to_numpy(zero_copy_only=False)
        midx = vt["meter_idx"].to_numpy(zero_copy_only=False)
        seq: int | None = None
        with self._lock:
            epoch = self._readings.removed_epoch()
            if epoch != self._seen_epoch:  # stored keys were quarantined: re-sent readings are new again
                self._seen = SeenIndex(self.registry.size, self._stored_positions)
                self._seen_epoch = epoch
            day, pos, seen = self._seen.split(midx, ts)
            write = np.ones(ts.size, dtype=bool) if correction else ~seen
            n_write = int(write.sum())
            if n_write:
                sel = pa.array(np.flatnonzero(write))
                out = vt.drop_columns(["meter_idx"]).take(sel)
                out = out.append_column("ingested_utc", _const_ts(now, n_write))
                out = out.append_column("is_correction", pa.array(np.full(n_write, correction)))
                seq = self._readings.append_readings(out)
                self._seen.mark(day[write], pos[write])
        return IngestReport(
            received=table.num_rows,
            accepted=n_write,
            duplicates=int(ts.size - n_write),
            rejected=v.rejected_count,
            rejected_by_reason=v.rejected_by_reason,
            rejections=v.rejections,
            batch_seq=seq,
        ).count("readings")

    # --- events ---------------------------------------------------------------------------------

    def _event_keys(
        self, idx: npt.NDArray[np.int64], etype: npt.NDArray[np.int64], ts_us: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int64]:
        # meter index (<2^22) | seconds in day (<2^17) | type (<2^3): unique per day in an int64.
        sec = (ts_us % _US_PER_DAY) // 1_000_000
        out: npt.NDArray[np.int64] = (idx << 20) | (sec << 3) | etype
        return out

    def _stored_event_keys(self, day_no: int) -> npt.NDArray[np.int64]:
        keys = self._seen_events.get(day_no)
        if keys is None:
            d = date.fromordinal(date(1970, 1, 1).toordinal() + day_no)
            t = self._events.event_keys(d)
            idx = self.registry.lookup_arrow(t["meter_id"])
            et = (
                pd.Index(EVENT_TYPES)
                .get_indexer(t["event_type"].to_numpy(zero_copy_only=False))
                .astype(np.int64)
            )
            ts = pc.cast(t["event_time_utc"], pa.int64()).to_numpy(zero_copy_only=False)
            ok = (idx >= 0) & (et >= 0)
            keys = np.unique(self._event_keys(idx[ok], et[ok], ts[ok]))
            self._seen_events[day_no] = keys
        return keys

    def ingest_events(self, table: pa.Table) -> IngestReport:
        now = self._clock()
        v = validate_events(table, self.registry, now, self.window)
        vt = v.table
        ts = pc.cast(vt["event_time_utc"], pa.int64()).to_numpy(zero_copy_only=False)
        midx = vt["meter_idx"].to_numpy(zero_copy_only=False).astype(np.int64)
        et = (
            pd.Index(EVENT_TYPES)
            .get_indexer(vt["event_type"].to_numpy(zero_copy_only=False))
            .astype(np.int64)
        )
        keys = self._event_keys(midx, et, ts)
        day = np.floor_divide(ts, _US_PER_DAY)
        seq: int | None = None
        accepted: pa.Table | None = None
        with self._event_lock:
            epoch = self._events.removed_epoch()
            if epoch != self._seen_events_epoch:
                self._seen_events.clear()
                self._seen_events_epoch = epoch
            new = np.ones(ts.size, dtype=bool)
            for d in np.unique(day):
                sel = day == d
                new[sel] = ~np.isin(keys[sel], self._stored_event_keys(int(d)))
            if new.any():
                sel_idx = np.flatnonzero(new)
                out = vt.drop_columns(["meter_idx"]).take(pa.array(sel_idx))
                out = out.append_column("ingested_utc", _const_ts(now, sel_idx.size))
                seq = self._events.append_events(out)
                for d in np.unique(day[new]):
                    self._seen_events[int(d)] = np.union1d(
                        self._stored_event_keys(int(d)), keys[new & (day == d)]
                    )
                accepted = self._with_topology(
                    out.append_column("batch_seq", pa.array(np.full(sel_idx.size, seq))), midx[sel_idx]
                )
        if accepted is not None:
            self.bus.publish(accepted)
        n_new = 0 if accepted is None else accepted.num_rows
        return IngestReport(
            received=table.num_rows,
            accepted=n_new,
            duplicates=int(ts.size - n_new),
            rejected=v.rejected_count,
            rejected_by_reason=v.rejected_by_reason,
            rejections=v.rejections,
            batch_seq=seq,
        ).count("events")

    def _with_topology(self, t: pa.Table, midx: npt.NDArray[np.int64]) -> pa.Table:
        r = self.registry
        return (
            t.append_column("transformer_id", pa.array(r.transformer_ids[midx], type=pa.string()))
            .append_column("feeder_id", pa.array(r.feeder_ids[midx], type=pa.string()))
            .append_column("substation_id", pa.array(r.substation_ids[midx], type=pa.string()))
        )


def _const_ts(ts: datetime, n: int) -> pa.Array:
    """``n`` copies of one timestamp, built in C (no Python datetime per row)."""
    return pa.array(np.full(n, int(ts.timestamp() * 1_000_000), dtype=np.int64)).cast(TS)


def utc_today() -> date:
    return datetime.now(UTC).date()
