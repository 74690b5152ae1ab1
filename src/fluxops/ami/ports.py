"""What the AMI domain needs from storage, and what it offers other domains in-process.

Storage implements `ReadingLog` / `EventLog` (`fluxops.storage.lake.AmiLake`: durable Parquet appends).
Other domains (ops: outage detection) subscribe to accepted events with an `EventSubscriber`: the
ingestion service calls every subscriber with each accepted batch of events *after* the durable write,
in the ingesting thread; subscribers must be quick (queue the work) and must not raise.
A message that can be neither parsed nor stored goes to a `DeadLetterStore` with its reason and its
payload bytes (`fluxops.storage.deadletter.DeadLetterDir`), so that every MQTT message ends acknowledged;
an operator replays it once the cause is fixed (`fluxops.ami.replay`), and the letter then says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal, Protocol

import pyarrow as pa

if TYPE_CHECKING:
    from fluxops.ami.ingest import IngestReport

# Receives an Arrow table with `fluxops.ami.models.EVENT_SCHEMA` columns plus transformer_id, feeder_id,
# substation_id (resolved from the meter registry).
EventSubscriber = Callable[[pa.Table], None]


@dataclass(frozen=True)
class DeadLetter:
    """A message that could not be stored: where it came from, why, and how big its kept payload is."""

    id: str
    received_utc: datetime
    source: str  # "mqtt"
    topic: str
    reason: str
    error: str  # the exception's class name
    attempts: int  # store attempts made (more than 1 after transient storage errors)
    payload_bytes: int
    # replays (`fluxops.ami.replay`): "pending" until a replay stored the payload; ``reason``/``error``
    # then say why the latest replay was refused, if it was
    status: Literal["pending", "stored"] = "pending"
    replays: int = 0
    replayed_utc: datetime | None = None


class Ingestor(Protocol):
    """What a message is stored through: the ingestion service (validate, de-duplicate, write)."""

    def ingest_readings(self, table: pa.Table, *, correction: bool = False) -> IngestReport: ...

    def ingest_events(self, table: pa.Table) -> IngestReport: ...


class DeadLetterStore(Protocol):
    """Durable keeping of rejected messages (payload bytes included) for an operator to inspect."""

    def put(
        self, *, source: str, topic: str, reason: str, error: str, attempts: int, payload: bytes
    ) -> DeadLetter:
        """Write durably (fsync) before returning, so the message may then be acknowledged."""
        ...

    def recent(self, *, limit: int) -> list[DeadLetter]:
        """The newest ``limit`` letters, newest first."""
        ...

    def count(self) -> int: ...

    def get_payload(self, letter_id: str) -> bytes | None:
        """The kept payload bytes, None for an unknown id."""
        ...


class ReplayableStore(DeadLetterStore, Protocol):
    """A dead-letter store whose letters can be replayed (and say how their last replay went)."""

    def get(self, letter_id: str) -> DeadLetter | None:
        """One letter, None for an unknown id."""
        ...

    def pending_ids(self) -> list[str]:
        """Ids of the letters not stored yet, oldest first."""
        ...

    def record_replay(
        self, letter_id: str, *, stored: bool, reason: str | None = None, error: str | None = None
    ) -> DeadLetter:
        """Count a replay durably: ``stored`` marks the letter stored; otherwise the refusal's reason
        and error replace the letter's."""
        ...


class ReadingLog(Protocol):
    """Durable, append-only store of readings (`READING_SCHEMA` minus ``batch_seq``, which it assigns)."""

    def append_readings(self, table: pa.Table) -> int:
        """Write durably (fsync) and return the batch sequence number."""
        ...

    def reading_keys(self, day: date) -> pa.Table:
        """``meter_id``, ``interval_start_utc`` of stored readings starting on ``day`` (UTC)."""
        ...

    def removed_epoch(self) -> int:
        """A value that changes whenever stored rows were taken out of the log (a damaged file
        quarantined), so a de-duplication index built from `reading_keys` must be rebuilt."""
        ...


class EventLog(Protocol):
    def append_events(self, table: pa.Table) -> int: ...

    def event_keys(self, day: date) -> pa.Table:
        """``meter_id``, ``event_type``, ``event_time_utc`` of stored events on ``day`` (UTC)."""
        ...

    def removed_epoch(self) -> int:
        """As `ReadingLog.removed_epoch`."""
        ...
