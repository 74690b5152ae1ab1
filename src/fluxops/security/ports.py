"""What the security domain needs from storage: hashed API keys and an append-only audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

ROLES: tuple[str, ...] = ("viewer", "operator", "admin")  # each includes the ones before it


@dataclass(frozen=True)
class ApiKeyRecord:
    key_id: str  # public prefix shown in listings, e.g. "fx_ab12cd34"
    key_hash: str  # sha256 hex of the secret; the secret itself is never stored
    role: str
    label: str
    created_utc: datetime
    revoked: bool = False


@dataclass(frozen=True)
class AuditEntry:
    at_utc: datetime
    actor: str  # key_id, OIDC subject, or "local-admin"
    role: str
    method: str
    path: str
    status_code: int
    detail: dict[str, Any]


class SecurityStore(Protocol):
    def add_api_key(self, record: ApiKeyRecord) -> None: ...

    def get_api_key(self, key_id: str) -> ApiKeyRecord | None: ...

    def list_api_keys(self) -> list[ApiKeyRecord]: ...

    def revoke_api_key(self, key_id: str) -> bool: ...

    def append_audit(self, entry: AuditEntry) -> None: ...

    def list_audit(self, *, limit: int = 100) -> list[AuditEntry]: ...
