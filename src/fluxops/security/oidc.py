"""Optional OIDC / JWT bearer validation for deployments with an identity provider.

Configured by `OidcConfig` (issuer, audience, and either an HS256 shared secret or a JWKS from a
local file or URL). The caller's role comes from the ``fluxops_role`` claim (a string) or the
``roles`` claim (a list or string; the highest fluxops role in it wins). Algorithms are pinned per
key kind so that an asymmetric JWKS can never be used as an HMAC secret (algorithm confusion) and
``none`` is never accepted.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import jwt

from fluxops.core.errors import AuthError, CapabilityError, PermissionDeniedError
from fluxops.security.roles import Principal, highest_role

ASYMMETRIC_ALGORITHMS: tuple[str, ...] = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
)
ROLE_CLAIMS: tuple[str, ...] = ("fluxops_role", "roles")
CLOCK_SKEW_S = 30  # tolerated clock difference with the identity provider


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    audience: str
    hs256_secret: str | None = None
    jwks_source: str | None = None  # https://.../jwks.json, file:///path, or a plain local path

    def __post_init__(self) -> None:
        if not self.hs256_secret and not self.jwks_source:
            raise CapabilityError(
                "OIDC needs server.oidc_hs256_secret or server.oidc_jwks_url",
                details={"field": "server.oidc_jwks_url"},
            )


def _local_jwks_path(source: str) -> Path | None:
    parsed = urlparse(source)
    if parsed.scheme == "file":
        return Path(parsed.path)
    if parsed.scheme in ("http", "https"):
        return None
    return Path(source)


def role_from_claims(claims: dict[str, Any]) -> str | None:
    candidates: list[str] = []
    for claim in ROLE_CLAIMS:
        value = claims.get(claim)
        if isinstance(value, str):
            candidates.append(value)
        elif isinstance(value, list):
            candidates.extend(v for v in value if isinstance(v, str))
    return highest_role(candidates)


class OidcValidator:
    """Validates bearer JWTs against one `OidcConfig`; the JWKS is loaded once and cached."""

    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._jwks: jwt.PyJWKSet | None = None
        self._client: jwt.PyJWKClient | None = None

    def _signing_key(self, token: str) -> tuple[Any, list[str]]:
        if self.config.hs256_secret:
            return self.config.hs256_secret, ["HS256"]
        source = self.config.jwks_source
        assert source is not None  # guaranteed by OidcConfig
        path = _local_jwks_path(source)
        try:
            if path is None:
                with self._lock:
                    if self._client is None:
                        self._client = jwt.PyJWKClient(source, cache_keys=True)
                return self._client.get_signing_key_from_jwt(token).key, list(ASYMMETRIC_ALGORITHMS)
            with self._lock:
                if self._jwks is None:
                    self._jwks = jwt.PyJWKSet.from_dict(json.loads(path.read_text()))
            kid = jwt.get_unverified_header(token).get("kid")
            keys = [k for k in self._jwks.keys if kid is None or k.key_id == kid]
            if not keys:
                raise AuthError("token signed by an unknown key (kid not in the JWKS)")
            return keys[0].key, list(ASYMMETRIC_ALGORITHMS)
        except (jwt.PyJWKClientError, jwt.PyJWKSetError, OSError, ValueError) as exc:
            raise AuthError(f"cannot obtain the identity provider's keys: {exc}") from None
        except jwt.InvalidTokenError as exc:
            raise AuthError(f"invalid token: {exc}") from None

    def validate(self, token: str) -> Principal:
        key, algorithms = self._signing_key(token)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self.config.audience,
                issuer=self.config.issuer,
                leeway=CLOCK_SKEW_S,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.InvalidTokenError as exc:
            raise AuthError(f"invalid token: {exc}") from None
        role = role_from_claims(claims)
        if role is None:
            raise PermissionDeniedError(
                "token carries no fluxops role (claim 'fluxops_role' or 'roles')",
                details={"subject": str(claims.get("sub"))},
            )
        return Principal(actor=f"oidc:{claims['sub']}", role=role, method="oidc")
