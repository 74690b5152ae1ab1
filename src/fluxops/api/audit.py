"""Audit log middleware: every mutating call (POST/PUT/PATCH/DELETE) is recorded in the store.

Recorded after the response: who (the principal set by `require_role`, or "anonymous" when the
call was refused before authentication), the role, method, path, status and time. Refused calls are
recorded too: a burst of 401s on admin routes is exactly what an audit log is for. A failure to
write the audit entry is logged, never turned into an error for a call that already happened.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlencode

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fluxops.core.clock import utc_now
from fluxops.security.ports import AuditEntry
from fluxops.security.roles import Principal

log = logging.getLogger("fluxops.audit")

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PRINCIPAL_KEY = "fluxops.principal"  # set by fluxops.api.security.authenticate_request
REQUEST_ID_KEY = "fluxops.request_id"  # set by fluxops.api.errors.RequestIdMiddleware


SECRET_QUERY_PARAMS = frozenset({"access_token", "token"})
MAX_QUERY_CHARS = 500


def _scrubbed_query(raw: bytes) -> str:
    """The query string without credentials (they must never land in the audit table)."""
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    return urlencode([(k, "***" if k in SECRET_QUERY_PARAMS else v) for k, v in pairs])[:MAX_QUERY_CHARS]


class AuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in MUTATING_METHODS:
            await self.app(scope, receive, send)
            return
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            principal = scope.get(PRINCIPAL_KEY)
            entry = AuditEntry(
                at_utc=utc_now(),
                actor=principal.actor if isinstance(principal, Principal) else "anonymous",
                role=principal.role if isinstance(principal, Principal) else "",
                method=str(scope.get("method")),
                path=str(scope.get("path")),
                status_code=status,
                detail={
                    "request_id": str(scope.get(REQUEST_ID_KEY, "")),
                    "auth": principal.method if isinstance(principal, Principal) else None,
                    "query": _scrubbed_query(scope.get("query_string", b"")),
                },
            )
            store = scope["app"].state.store if "app" in scope else None
            if store is not None:
                try:
                    await anyio.to_thread.run_sync(store.append_audit, entry)
                except Exception:
                    log.exception("could not write audit entry for %s %s", entry.method, entry.path)
