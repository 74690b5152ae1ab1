"""Replaying dead letters (issue 8 §2, "nothing that was accepted is ever lost").

A message that could not be stored (MQTT: unparseable, refused whole, or past its storage retries) is
kept as a dead letter with its payload bytes. Once the cause is fixed — the lake writer free again, a
meter added to the grid, a head-end's format corrected and the letter's meters now known — an operator
replays it: the kept payload goes through the same path as when it arrived (parse, then the ingestion
service's validation, de-duplication and durable write) and the letter records the outcome:

* **stored**: the batch was written (rows that still fail validation are rejected row by row, as on any
  ingestion path, and reported); the letter is marked ``stored`` and stays listed as evidence.
* **rejected**: still unparseable or refused whole; the letter stays ``pending`` with the new reason.
* a transient storage error (the lake busy) propagates and leaves the letter untouched: retry later.

Replaying twice stores nothing twice: ingestion is idempotent on (meter_id, interval_start_utc) for
readings and (meter, type, time) for events (`fluxops.ami.ingest.SeenIndex`), so the second replay is
answered with duplicates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from fluxops.ami.formats import ParseLimits, parse_table, sniff_content_type
from fluxops.ami.ingest import IngestReport
from fluxops.ami.ports import DeadLetter, Ingestor, ReplayableStore
from fluxops.core.errors import InvalidInputError, NotFoundError, PayloadTooLargeError, StorageError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplayOutcome:
    """One replay: the letter as it now stands and, when stored, the ingestion report."""

    letter: DeadLetter
    outcome: Literal["stored", "rejected"]
    reason: str | None = None  # why it was refused again
    report: IngestReport | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.letter.id,
            "outcome": self.outcome,
            "reason": self.reason,
            "status": self.letter.status,
            "replays": self.letter.replays,
            "report": None if self.report is None else self.report.to_dict(),
        }


def replay_letter(
    store: ReplayableStore, ingest: Ingestor, letter_id: str, limits: ParseLimits | None = None
) -> ReplayOutcome:
    """Re-validate and ingest one letter's payload (module docstring); `NotFoundError` for an unknown id."""
    letter = store.get(letter_id)
    payload = store.get_payload(letter_id) if letter is not None else None
    if letter is None or payload is None:
        raise NotFoundError(f"no dead letter {letter_id!r}", details={"field": "letter_id"})
    try:
        table = parse_table(sniff_content_type(payload), payload, limits or ParseLimits())
        if letter.topic.endswith("/events"):
            report = ingest.ingest_events(table)
        else:
            report = ingest.ingest_readings(table)
    except (StorageError, OSError):
        raise  # transient: the letter stays as it was, to be replayed again
    except Exception as exc:  # refused whole, or (as on the MQTT path) a bug meeting odd input
        if not isinstance(exc, InvalidInputError | PayloadTooLargeError):
            log.exception("replay of dead letter %s failed", letter_id)
        reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        updated = store.record_replay(letter_id, stored=False, reason=reason, error=type(exc).__name__)
        return ReplayOutcome(updated, "rejected", reason=reason)
    updated = store.record_replay(letter_id, stored=True)
    return ReplayOutcome(updated, "stored", report=report)


def replay_pending(
    store: ReplayableStore, ingest: Ingestor, limits: ParseLimits | None = None
) -> list[ReplayOutcome]:
    """Replay every letter not stored yet, oldest first (the order they arrived in)."""
    return [replay_letter(store, ingest, lid, limits) for lid in store.pending_ids()]
