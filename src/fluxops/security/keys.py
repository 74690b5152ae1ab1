"""API keys: ``fx_<keyid>_<secret>``, stored as sha256(secret), compared in constant time.

Why sha256 and not a slow password hash: the secret is 256 bits from `secrets`, not a human
password, so a dictionary/brute-force attack on a leaked hash is infeasible and a fast hash keeps
per-request authentication cheap (the same choice as GitHub tokens and Stripe keys). The public
``key_id`` (``fx_<12 hex>``) is stored in clear so that listings and the audit log can name a key
without revealing it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from fluxops.security.ports import ApiKeyRecord
from fluxops.security.roles import check_role

KEY_PREFIX = "fx"
KEY_ID_HEX_CHARS = 12  # 48 bits: collision-free enough for a key listing, not a secret
SECRET_BYTES = 32  # 256 bits of entropy (secrets.token_urlsafe)
MAX_LABEL_CHARS = 200


@dataclass(frozen=True)
class IssuedKey:
    """A freshly generated key: ``token`` is shown once to the caller; only ``record`` is stored."""

    token: str
    record: ApiKeyRecord


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(secret: str, key_hash: str) -> bool:
    """Constant-time comparison of a presented secret against a stored hash."""
    return hmac.compare_digest(hash_secret(secret), key_hash)


def generate_api_key(*, role: str, label: str, now: datetime) -> IssuedKey:
    check_role(role)
    label = label.strip()[:MAX_LABEL_CHARS]
    key_id = f"{KEY_PREFIX}_{secrets.token_hex(KEY_ID_HEX_CHARS // 2)}"
    secret = secrets.token_urlsafe(SECRET_BYTES)
    record = ApiKeyRecord(
        key_id=key_id, key_hash=hash_secret(secret), role=role, label=label, created_utc=now
    )
    return IssuedKey(token=f"{key_id}_{secret}", record=record)


def split_api_key(token: str) -> tuple[str, str] | None:
    """``(key_id, secret)`` for a token shaped like an API key, else None (it may be a JWT)."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return f"{KEY_PREFIX}_{parts[1]}", parts[2]
