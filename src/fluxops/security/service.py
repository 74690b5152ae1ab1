"""Authentication and key management use cases over the `SecurityStore` port.

A bearer token is tried, in order, as: the process's bootstrap admin token (the one-time URL printed
at start), an API key ``fx_<keyid>_<secret>``, and, when OIDC is configured, a JWT. Anything else is
refused with `AuthError`. No web framework here: `fluxops.api.security` turns requests into tokens.
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass

from fluxops.core.clock import utc_now
from fluxops.core.errors import AuthError, InvalidInputError, NotFoundError
from fluxops.security.keys import IssuedKey, generate_api_key, secret_matches, split_api_key
from fluxops.security.oidc import OidcValidator
from fluxops.security.ports import ApiKeyRecord, SecurityStore
from fluxops.security.roles import Principal

BOOTSTRAP_ACTOR = "local-admin"


@dataclass(frozen=True)
class AuthPolicy:
    """How this process authenticates. ``bootstrap_token`` is an in-memory admin credential."""

    bootstrap_token: str | None
    oidc: OidcValidator | None = None
    auth_disabled: bool = False  # every caller is admin; only honoured by a loopback-bound server


def authenticate(store: SecurityStore, policy: AuthPolicy, token: str | None) -> Principal:
    """Resolve a bearer token to a `Principal` or raise `AuthError` (never says which part failed)."""
    if policy.auth_disabled:
        return Principal(actor="anonymous", role="admin", method="auth_disabled")
    if not token:
        raise AuthError("authentication required: send 'Authorization: Bearer <token>'")
    if policy.bootstrap_token and hmac.compare_digest(token.encode(), policy.bootstrap_token.encode()):
        return Principal(actor=BOOTSTRAP_ACTOR, role="admin", method="bootstrap")
    parts = split_api_key(token)
    if parts is not None:
        key_id, secret = parts
        record = store.get_api_key(key_id)
        if record is None or record.revoked or not secret_matches(secret, record.key_hash):
            raise AuthError("invalid or revoked API key")
        return Principal(actor=record.key_id, role=record.role, method="api_key")
    if policy.oidc is not None and token.count(".") == 2:
        return policy.oidc.validate(token)
    raise AuthError("invalid credentials")


def create_api_key(store: SecurityStore, *, role: str, label: str) -> IssuedKey:
    """Generate and store a key; the returned token is the only time the secret exists in clear."""
    issued = generate_api_key(role=role, label=label, now=utc_now())
    store.add_api_key(issued.record)
    return issued


def revoke_api_key(store: SecurityStore, key_id: str) -> None:
    if not store.revoke_api_key(key_id):
        raise NotFoundError(f"no API key {key_id!r}", details={"key_id": key_id})


def active_api_keys(store: SecurityStore) -> list[ApiKeyRecord]:
    return [k for k in store.list_api_keys() if not k.revoked]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind_address(
    host: str, *, keys_exist: bool, oidc_configured: bool, auth_disabled: bool = False
) -> None:
    """Refuse to expose the server beyond this machine unless real authentication is configured.

    The bootstrap token alone does not count: it is printed to a terminal and lives only as long as
    the process. Create an API key (``POST /api/admin/keys`` on a loopback server) or configure OIDC.
    """
    if is_loopback(host):
        return
    if auth_disabled:
        raise InvalidInputError(
            f"refusing to bind {host}: server.auth_disabled is only allowed on a loopback address",
            field="host",
        )
    if keys_exist or oidc_configured:
        return
    raise InvalidInputError(
        f"refusing to bind {host}: not a loopback address and no authentication configured "
        "(create one with `fluxops keys create --role admin`, or set FLUXOPS_SERVER__OIDC_ISSUER "
        "and FLUXOPS_SERVER__OIDC_AUDIENCE)",
        field="host",
    )
