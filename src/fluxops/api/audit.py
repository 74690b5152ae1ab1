"""Audit log middleware: every mutating call (POST/PUT/PATCH/DELETE) is recorded in the store.

Recorded as the response starts: who (the principal set by `require_role`, or "anonymous" when the
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
    masked = [(k, "***" if k in SECRET_QUERY_PARAMS else v) for k, v in pairs]
    return urlencode(masked, safe="*")[:MAX_QUERY_CHARS]


class AuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in MUTATING_METHODS:
            await self.app(scope, receive, send)
            return
        written = False

        async def record(status: int) -> None:
            nonlocal written
            written = True
            entry = _entry(scope, status)
            store = scope["app"].state.store if "app" in scope else None
            if store is None:
                return
            try:
                await anyio.to_thread.run_sync(store.append_audit, entry)
            except Exception:
                log.exception("could not write audit entry for %s %s", entry.method, entry.path)

        async def send_after_audit(message: Message) -> None:
            # Written before the response starts, so a client that sees the response also sees
            # the audit entry (and a crash after the call cannot lose it).
            if message["type"] == "http.response.start" and not written:
                await record(int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, send_after_audit)
        finally:
            if not written:  # the client went away before any response started
                await record(499)


def _entry(scope: Scope, status: int) -> AuditEntry:
    found = scope.get(PRINCIPAL_KEY)
    principal = found if isinstance(found, Principal) else None
    return AuditEntry(
        at_utc=utc_now(),
        actor=principal.actor if principal else "anonymous",
        role=principal.role if principal else "",
        method=str(scope.get("method")),
        path=str(scope.get("path")),
        status_code=status,
        detail={
            "request_id": str(scope.get(REQUEST_ID_KEY, "")),
            "auth": principal.method if principal else None,
            "query": _scrubbed_query(scope.get("query_string", b"")),
        },
    )
