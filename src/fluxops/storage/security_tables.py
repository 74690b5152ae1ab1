"""`SecurityTables`: the SecurityStore half of `SqlStore` (hashed API keys, append-only audit log)."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from fluxops.core.errors import ConflictError, InvalidInputError
from fluxops.security.ports import ApiKeyRecord, AuditEntry
from fluxops.storage.session import Session


def utc(value: datetime) -> datetime:
    """Timestamps leave the store tz-aware UTC whatever the driver returns."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _key(row: tuple[Any, ...]) -> ApiKeyRecord:
    return ApiKeyRecord(
        key_id=row[0],
        key_hash=row[1],
        role=row[2],
        label=row[3],
        created_utc=utc(row[4]),
        revoked=bool(row[5]),
    )


class SecurityTables:
    """Implements `fluxops.security.ports.SecurityStore` over the store's sessions."""

    def _session(self) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def add_api_key(self, record: ApiKeyRecord) -> None:
        with self._write() as s:
            if s.rows("SELECT 1 FROM api_keys WHERE key_id = ?", [record.key_id]):
                raise ConflictError(f"api key {record.key_id!r} exists", details={"key_id": record.key_id})
            s.execute(
                "INSERT INTO api_keys (key_id, key_hash, role, label, created_utc, revoked) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    record.key_id,
                    record.key_hash,
                    record.role,
                    record.label,
                    record.created_utc,
                    record.revoked,
                ],
            )

    def get_api_key(self, key_id: str) -> ApiKeyRecord | None:
        with self._session() as s:
            rows = s.rows(
                "SELECT key_id, key_hash, role, label, created_utc, revoked FROM api_keys WHERE key_id = ?",
                [key_id],
            )
        return _key(rows[0]) if rows else None

    def list_api_keys(self) -> list[ApiKeyRecord]:
        with self._session() as s:
            rows = s.rows(
                "SELECT key_id, key_hash, role, label, created_utc, revoked FROM api_keys "
                "ORDER BY created_utc, key_id"
            )
        return [_key(r) for r in rows]

    def revoke_api_key(self, key_id: str) -> bool:
        """Mark a key revoked; False when no key has that id."""
        with self._write() as s:
            if not s.rows("SELECT 1 FROM api_keys WHERE key_id = ?", [key_id]):
                return False
            s.execute("UPDATE api_keys SET revoked = TRUE WHERE key_id = ?", [key_id])
        return True

    def append_audit(self, entry: AuditEntry) -> None:
        with self._write() as s:
            s.execute(
                "INSERT INTO audit_log (seq, at_utc, actor, role, method, path, status_code, detail_json) "
                "VALUES (nextval('audit_log_seq'), ?, ?, ?, ?, ?, ?, ?)",
                [
                    entry.at_utc,
                    entry.actor,
                    entry.role,
                    entry.method,
                    entry.path,
                    entry.status_code,
                    json.dumps(entry.detail, sort_keys=True, default=str),
                ],
            )

    def list_audit(self, *, limit: int = 100) -> list[AuditEntry]:
        """Newest first."""
        if limit < 1:
            raise InvalidInputError("limit must be positive", field="limit")
        with self._session() as s:
            rows = s.rows(
                "SELECT at_utc, actor, role, method, path, status_code, detail_json FROM audit_log "
                "ORDER BY seq DESC LIMIT ?",
                [limit],
            )
        return [
            AuditEntry(
                at_utc=utc(r[0]),
                actor=r[1],
                role=r[2],
                method=r[3],
                path=r[4],
                status_code=int(r[5]),
                detail=json.loads(r[6]),
            )
            for r in rows
        ]
