"""Live head-end simulator: replays the synthetic AMI as a head-end would deliver it.

Why a replay of `AmiSynthesizer` output: the live feed and a backfill of the same day are then the same
data, so a test or a demo can compare them. Each reading is released at its simulated delivery time
(interval end + head-end delay) and each event at its event time, by a clock that runs ``speed`` times
real time from ``start_utc`` and never passes the real now (readings from the future would be rejected,
correctly, by ingestion): an accelerated start in the past catches up, then runs in real time.

Delivery goes through a `Sink`: `HttpSink` posts Arrow IPC (or NDJSON) to ``/api/ami/readings`` and
``/api/ami/events`` with retries — at-least-once sending plus idempotent ingestion is exactly-once
storage; an in-process sink (the demo) calls the ingestion service directly.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from fluxops.ami.synth import AmiSynthesizer
from fluxops.core.clock import utc_now
from fluxops.core.errors import CapabilityError, InvalidInputError

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)
ARROW_STREAM = "application/vnd.apache.arrow.stream"


class Sink(Protocol):
    def send_readings(self, table: pa.Table) -> None: ...

    def send_events(self, table: pa.Table) -> None: ...


@dataclass(frozen=True)
class SimulatorParams:
    speed: float = 1.0  # simulated seconds per wall second
    start_utc: datetime | None = None  # default: now (pure real time)
    tick_s: float = 1.0  # wall seconds between deliveries
    max_batch: int = 50_000  # rows per request

    def __post_init__(self) -> None:
        if not 0 < self.speed <= 100_000:
            raise InvalidInputError("speed must be in (0, 100000]", field="speed")
        if self.start_utc is not None and self.start_utc.tzinfo is None:
            raise InvalidInputError("start must be tz-aware UTC", field="start_utc")


class HttpSink:
    """Posts to a running server. Retries with back-off; a batch is retried until acknowledged.

    Needs ``httpx`` (imported here, not at module level: the demo's in-process feed runs with the run
    extras only, which do not install it)."""

    def __init__(
        self, base_url: str, token: str | None, *, fmt: str = "arrow", timeout_s: float = 60.0
    ) -> None:
        if fmt not in ("arrow", "ndjson"):
            raise InvalidInputError("format must be arrow or ndjson", field="format")
        try:
            import httpx
        except ImportError:
            raise CapabilityError(
                "posting to a server needs httpx: pip install httpx (or the dev extra)"
            ) from None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http_error: type[Exception] = httpx.HTTPError
        self.client: httpx.Client = httpx.Client(base_url=base_url, headers=headers, timeout=timeout_s)
        self.fmt = fmt
        self.sent_rows = 0

    def _body(self, table: pa.Table) -> tuple[bytes, str]:
        # Plain strings: a slice of a dictionary column would ship the whole grid's dictionary.
        table = table.cast(
            pa.schema(
                [f.with_type(pa.string()) if pa.types.is_dictionary(f.type) else f for f in table.schema]
            )
        )
        if self.fmt == "arrow":
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, table.schema) as w:
                w.write_table(table)
            return bytes(sink.getvalue().to_pybytes()), ARROW_STREAM
        plain = table.cast(
            pa.schema(
                [f.with_type(pa.string()) if pa.types.is_dictionary(f.type) else f for f in table.schema]
            )
        )
        return b"\n".join(orjson.dumps(r) for r in plain.to_pylist()), "application/x-ndjson"

    def _post(self, path: str, table: pa.Table) -> None:
        body, ctype = self._body(table)
        delay = 0.5
        while True:
            try:
                r = self.client.post(path, content=body, headers={"Content-Type": ctype})
                if r.status_code == 200:
                    self.sent_rows += table.num_rows
                    return
                if 400 <= r.status_code < 500:  # our bug or bad data: retrying will not help
                    log.error("head-end batch refused (%s): %s", r.status_code, r.text[:300])
                    return
            except self._http_error as exc:
                log.warning("head-end post failed (%s); retrying", exc)
            time.sleep(delay)
            delay = min(delay * 2, 10.0)

    def send_readings(self, table: pa.Table) -> None:
        self._post("/api/ami/readings", table)

    def close(self) -> None:
        self.client.close()

    def send_events(self, table: pa.Table) -> None:
        self._post("/api/ami/events", table)


class CallableSink:
    """In-process delivery (the demo): calls ingestion functions directly."""

    def __init__(self, readings: Callable[[pa.Table], Any], events: Callable[[pa.Table], Any]) -> None:
        self._r, self._e = readings, events

    def send_readings(self, table: pa.Table) -> None:
        self._r(table)

    def send_events(self, table: pa.Table) -> None:
        self._e(table)


class LiveSimulator:
    """Delivers what became due since the last tick; one generated day cached at a time."""

    def __init__(
        self,
        synth: AmiSynthesizer,
        sink: Sink,
        params: SimulatorParams | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.synth = synth
        self.sink = sink
        self.params = params or SimulatorParams()
        self._clock = clock
        self._wall0 = time.monotonic()
        self._sim0 = self.params.start_utc or clock()
        self._sent_until = self._sim0
        self._days: dict[date, tuple[pa.Table, pa.Table]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.readings_sent = 0
        self.events_sent = 0

    def sim_now(self) -> datetime:
        sim = self._sim0 + timedelta(seconds=(time.monotonic() - self._wall0) * self.params.speed)
        return min(sim, self._clock())

    def _day(self, d: date) -> tuple[pa.Table, pa.Table]:
        if d not in self._days:
            gen = self.synth.day(d)
            r = gen.readings.sort_by("delivered_utc")
            self._days = {k: v for k, v in self._days.items() if k >= d - timedelta(days=1)}
            self._days[d] = (r, gen.events)
        return self._days[d]

    def tick(self) -> tuple[int, int]:
        """Send everything due in (last sent, sim now]; returns (readings, events) sent."""
        lo, hi = self._sent_until, self.sim_now()
        if hi <= lo:
            return 0, 0
        n_r = n_e = 0
        # readings delivered in (lo, hi] belong to intervals of the day of (lo - 1 day) .. hi
        d = (lo - timedelta(hours=2)).date()
        while d <= hi.date():
            readings, events = self._day(d)
            n_r += self._send_window(
                readings, "delivered_utc", lo, hi, drop=["delivered_utc"], kind="readings"
            )
            n_e += self._send_window(events, "event_time_utc", lo, hi, drop=[], kind="events")
            d += timedelta(days=1)
        self._sent_until = hi
        self.readings_sent += n_r
        self.events_sent += n_e
        return n_r, n_e

    def _send_window(
        self, t: pa.Table, col: str, lo: datetime, hi: datetime, *, drop: list[str], kind: str
    ) -> int:
        ts = pc.cast(t[col], pa.int64()).to_numpy(zero_copy_only=False)
        lo_us, hi_us = int(lo.timestamp() * 1e6), int(hi.timestamp() * 1e6)
        sel = np.flatnonzero((ts > lo_us) & (ts <= hi_us))
        if sel.size == 0:
            return 0
        part = t.take(pa.array(sel)).drop_columns(drop)
        for i in range(0, part.num_rows, self.params.max_batch):
            chunk = part.slice(i, self.params.max_batch)
            if kind == "readings":
                self.sink.send_readings(chunk)
            else:
                self.sink.send_events(chunk)
        return int(sel.size)

    def run(self) -> None:
        self.run_until(self._stop)

    def run_until(self, stop: threading.Event) -> None:
        while not stop.is_set() and not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("AMI simulator tick failed")
            stop.wait(self.params.tick_s)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="ami-simulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


def default_start(lookback_h: float) -> datetime:
    return datetime.now(UTC) - timedelta(hours=lookback_h)
