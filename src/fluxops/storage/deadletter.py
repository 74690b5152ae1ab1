"""Dead letters on disk: messages ingestion could not store, kept with their reason and payload bytes.

Implements `fluxops.ami.ports.DeadLetterStore` as two files per letter under ``<data_dir>/deadletter``:
``<id>.bin`` (the payload, byte for byte) and ``<id>.json`` (the `DeadLetter` record). Each is written
to a temporary name, fsync'd and renamed, the payload first and the record last, so a listed letter
always has its payload and a crash leaves at worst an orphan ``.bin`` (never listed). Ids sort by time
(``20261207T164715123456Z-1a2b3c4d``), so listing is a sorted directory read; plain files because the
writer may be `fluxops ami mqtt` while a server lists them (no database lock shared between them).

A replay (`fluxops.ami.replay`) rewrites only the record (same temporary-name, fsync, rename), counting
the replay and marking the letter stored or giving the new refusal's reason; the payload is never
touched, so a stored letter stays as evidence of what was sent and can be replayed again (idempotent
ingestion answers it with duplicates).
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from dataclasses import asdict, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from fluxops.ami.ports import DeadLetter
from fluxops.core.clock import utc_now
from fluxops.core.config import Settings
from fluxops.core.errors import StorageError

_ID = re.compile(r"^\d{8}T\d{12}Z-[0-9a-f]{8}$")
_REPLAY_LOCK = threading.Lock()


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def dead_letter_dir(settings: Settings) -> Path:
    return settings.data_dir / "deadletter"


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class DeadLetterDir:
    """A directory of dead letters (thread- and process-safe: every letter has its own files)."""

    def __init__(self, root: Path) -> None:
        self.dir = root

    def put(
        self, *, source: str, topic: str, reason: str, error: str, attempts: int, payload: bytes
    ) -> DeadLetter:
        now = utc_now()
        letter = DeadLetter(
            id=f"{now:%Y%m%dT%H%M%S%f}Z-{uuid.uuid4().hex[:8]}",
            received_utc=now,
            source=source,
            topic=topic,
            reason=reason,
            error=error,
            attempts=attempts,
            payload_bytes=len(payload),
        )
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            _write(self.dir / f"{letter.id}.bin", payload)
            self._write_record(letter)
        except OSError as exc:
            raise StorageError(f"cannot write a dead letter in {self.dir}: {exc}") from exc
        return letter

    def _write_record(self, letter: DeadLetter) -> None:
        record = {**asdict(letter), "received_utc": _iso(letter.received_utc)}
        record["replayed_utc"] = None if letter.replayed_utc is None else _iso(letter.replayed_utc)
        _write(self.dir / f"{letter.id}.json", json.dumps(record).encode())
        fd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _ids(self) -> list[str]:
        if not self.dir.is_dir():
            return []
        return sorted(p.name[:-5] for p in self.dir.glob("*.json") if _ID.match(p.name[:-5]))

    def count(self) -> int:
        return len(self._ids())

    def _read(self, lid: str) -> DeadLetter | None:
        try:
            raw: dict[str, Any] = json.loads((self.dir / f"{lid}.json").read_text())
            raw["received_utc"] = datetime.fromisoformat(raw["received_utc"])
            if raw.get("replayed_utc") is not None:
                raw["replayed_utc"] = datetime.fromisoformat(raw["replayed_utc"])
            return DeadLetter(**raw)
        except (OSError, ValueError, TypeError, KeyError):
            return None  # removed meanwhile, or not ours: skip rather than fail the listing

    def recent(self, *, limit: int) -> list[DeadLetter]:
        letters = (self._read(lid) for lid in reversed(self._ids()[-limit:] if limit > 0 else []))
        return [d for d in letters if d is not None]

    def get(self, letter_id: str) -> DeadLetter | None:
        if not _ID.match(letter_id):
            return None  # also keeps a crafted id from naming a path outside the directory
        return self._read(letter_id)

    def pending_ids(self) -> list[str]:
        return [lid for lid in self._ids() if (d := self._read(lid)) is not None and d.status == "pending"]

    def record_replay(
        self, letter_id: str, *, stored: bool, reason: str | None = None, error: str | None = None
    ) -> DeadLetter:
        with _REPLAY_LOCK:  # two replays of one letter in this process: neither count is lost
            letter = self.get(letter_id)
            if letter is None:
                raise StorageError(f"dead letter {letter_id} vanished during its replay")
            changed = replace(
                letter,
                replays=letter.replays + 1,
                replayed_utc=utc_now(),
                status="stored" if stored or letter.status == "stored" else "pending",
                reason=letter.reason if stored else reason or letter.reason,
                error=letter.error if stored else error or letter.error,
            )
            try:
                self._write_record(changed)
            except OSError as exc:
                raise StorageError(f"cannot update dead letter {letter_id}: {exc}") from exc
            return changed

    def get_payload(self, letter_id: str) -> bytes | None:
        if not _ID.match(letter_id):
            return None  # also keeps a crafted id from naming a path outside the directory
        try:
            return (self.dir / f"{letter_id}.bin").read_bytes()
        except FileNotFoundError:
            return None
