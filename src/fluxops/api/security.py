"""Authentication and role checks for every route, CORS, and the per-process bootstrap token.

* ``require_role(role)`` is the dependency every route declares; it reads a bearer token from the
  ``Authorization`` header, or, on GET/HEAD only, from ``?access_token=`` (the browser's
  EventSource cannot send headers), resolves it with `fluxops.security.service.authenticate` and
  refuses with 401 (no/invalid credentials) or 403 (role too low).
* ``allow_anonymous()`` marks the few public routes (basic ``/health``). A test walks the route
  table: every route carries one of the two, so a route added later without a role fails CI.
* The bootstrap token (``FLUXOPS_SERVER__BOOTSTRAP_TOKEN`` or a random one per process) is an
  in-memory admin credential; ``fluxops serve`` prints it as ``http://host:port/?token=...``.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request, Security
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.routing import Mount

from fluxops.api.audit import PRINCIPAL_KEY, AuditMiddleware
from fluxops.core.config import Settings
from fluxops.core.errors import CapabilityError, PermissionDeniedError
from fluxops.security.oidc import OidcConfig, OidcValidator
from fluxops.security.roles import Principal, check_role, role_allows
from fluxops.security.service import AuthPolicy, authenticate

ROLE_ATTR = "fluxops_role"
PUBLIC = "public"
TOKEN_QUERY_PARAM = "access_token"
GZIP_MIN_BYTES = 1000  # below this gzip saves nothing worth its CPU

bearer_scheme = HTTPBearer(auto_error=False, description="API key `fx_...`, bootstrap token or OIDC JWT")


def _token_from(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    if credentials is not None:
        return credentials.credentials
    if request.method in ("GET", "HEAD"):
        return request.query_params.get(TOKEN_QUERY_PARAM) or None
    return None


def authenticate_request(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """Resolve the caller (raises `AuthError`) and remember it on the request for the audit log."""
    policy: AuthPolicy = request.app.state.auth_policy
    principal = authenticate(request.app.state.store, policy, _token_from(request, credentials))
    request.scope[PRINCIPAL_KEY] = principal
    return principal


def authorize(request: Request, credentials: HTTPAuthorizationCredentials | None, role: str) -> Principal:
    """Authenticate, then refuse with `PermissionDeniedError` unless the caller holds ``role``."""
    principal = authenticate_request(request, credentials)
    if not role_allows(principal.role, role):
        raise PermissionDeniedError(
            f"this requires the {role} role; {principal.actor} has {principal.role}",
            details={"required_role": role, "role": principal.role},
        )
    return principal


def _resolves_in_memory(request: Request, credentials: HTTPAuthorizationCredentials | None) -> bool:
    """True when authenticating reads nothing (auth off, no token, the bootstrap token): then the check
    runs on the event loop instead of costing a thread hop per request (issue 8 §5). API keys (a store
    read) and OIDC tokens (a key set that may be fetched) go to the thread pool."""
    policy: AuthPolicy = request.app.state.auth_policy
    token = _token_from(request, credentials)
    if policy.auth_disabled or not token:
        return True
    boot = policy.bootstrap_token
    return bool(boot) and hmac.compare_digest(token.encode(), str(boot).encode())


def require_role(role: str) -> Callable[..., Awaitable[Principal]]:
    """Dependency: the caller must hold ``role`` or a higher one. Returns the `Principal`."""
    check_role(role)

    async def dependency(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Security(bearer_scheme)
    ) -> Principal:
        if _resolves_in_memory(request, credentials):
            return authorize(request, credentials, role)
        return await run_in_threadpool(authorize, request, credentials, role)

    setattr(dependency, ROLE_ATTR, role)
    dependency.__name__ = f"require_{role}"
    return dependency


def allow_anonymous() -> Callable[..., None]:
    """Dependency marking a deliberately public route (kept to a documented handful)."""

    def dependency() -> None:
        return None

    setattr(dependency, ROLE_ATTR, PUBLIC)
    dependency.__name__ = "allow_anonymous"
    return dependency


def _role_of(dependant: Any) -> str | None:
    stack = list(dependant.dependencies)
    while stack:
        dep = stack.pop()
        role = getattr(dep.call, ROLE_ATTR, None)
        if isinstance(role, str):
            return role
        stack.extend(dep.dependencies)
    return None


def route_role(route: APIRoute) -> str | None:
    """The role a route declared (``"public"`` for anonymous routes), None when it declared none."""
    return _role_of(route.dependant)


@dataclass(frozen=True)
class RouteInfo:
    """One served route as the client sees it (prefixes applied) and the role it requires."""

    path: str
    methods: frozenset[str]
    kind: str  # "api" (an APIRoute), "mount", or "other" (a plain Starlette route such as /docs)
    role: str | None


def route_table(app: FastAPI) -> list[RouteInfo]:
    """Every route of ``app``, flattening included routers (FastAPI >= 0.16x keeps them nested)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: included routes are copied flat into app.routes
        contexts: list[tuple[Any, Any]] = [(r, r) for r in app.routes]
    else:
        contexts = [(c, c.original_route) for c in iter_route_contexts(app.routes)]
    table: list[RouteInfo] = []
    for effective, original in contexts:
        path = str(getattr(effective, "path", None) or getattr(original, "path", ""))
        methods = frozenset(getattr(effective, "methods", None) or ())
        if isinstance(original, APIRoute):
            try:
                dependant = effective.dependant
            except AttributeError:
                dependant = original.dependant
            table.append(RouteInfo(path, methods, "api", _role_of(dependant)))
        elif isinstance(original, Mount):
            table.append(RouteInfo(path, methods, "mount", None))
        else:
            table.append(RouteInfo(path, methods, "other", None))
    return table


def _oidc_validator(settings: Settings) -> OidcValidator | None:
    server = settings.server
    if not server.oidc_issuer:
        return None
    if not server.oidc_audience:
        raise CapabilityError(
            "server.oidc_issuer is set but server.oidc_audience is not",
            details={"field": "server.oidc_audience"},
        )
    return OidcValidator(
        OidcConfig(
            issuer=server.oidc_issuer,
            audience=server.oidc_audience,
            hs256_secret=server.oidc_hs256_secret,
            jwks_source=server.oidc_jwks_url,
        )
    )


_SECRET_IN_URL = re.compile(r"((?:access_token|token)=)[^&\s]+")


class TokenScrubFilter(logging.Filter):
    """Masks ``access_token=`` / ``token=`` values in access-log lines (uvicorn logs full paths)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _SECRET_IN_URL.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args
            )
        elif isinstance(record.msg, str):
            record.msg = _SECRET_IN_URL.sub(r"\1***", record.msg)
        return True


def _scrub_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, TokenScrubFilter) for f in access.filters):
        access.addFilter(TokenScrubFilter())


def install_security(app: FastAPI, settings: Settings) -> None:
    """Auth policy, audit log, CORS (closed unless origins are configured) and response compression."""
    _scrub_access_log()
    token = settings.server.bootstrap_token or secrets.token_urlsafe(32)
    app.state.bootstrap_token = token
    app.state.auth_policy = AuthPolicy(
        bootstrap_token=token,
        oidc=_oidc_validator(settings),
        auth_disabled=settings.server.auth_disabled,
    )
    app.add_middleware(AuditMiddleware)
    # Compression sits inside CORS; it skips text/event-stream and already-encoded bodies.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES, compresslevel=6)
    if settings.server.cors_origins:
        cors_kwargs: dict[str, Any] = {
            "allow_origins": list(settings.server.cors_origins),
            "allow_methods": ["GET", "POST", "PUT", "PATCH", "DELETE"],
            "allow_headers": ["Authorization", "Content-Type"],
            "allow_credentials": False,  # bearer tokens, not cookies
        }
        app.add_middleware(CORSMiddleware, **cors_kwargs)
