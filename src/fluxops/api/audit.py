"""Audit log middleware: every mutating call (POST/PUT/PATCH/DELETE) is recorded in the store.

Recorded as the response starts: who (the principal set by `require_role`, or "anonymous" when the
call was refused before authentication), the role, method, path, status and time. Refused calls are
recorded too: a burst of 401s on admin routes is exactly what an audit log is for. A failure to
write the audit entry is logged, never turned into an error for a call that already happened.

Anonymous refusals (401 without a principal) are aggregated so that a scanner cannot flood the table:
per (method, route, reason) and `REFUSAL_WINDOW_S` window, the first refusal is written at once and the
rest are counted; the count is written as one summary row (``detail.refused_count``) when the next
window for that key opens, when an admin reads the log (`flush_refusals`), or at shutdown.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
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
REFUSAL_WINDOW_S = 60.0
MAX_REFUSAL_KEYS = 1024  # distinct (method, route, reason) windows kept; beyond it they share one key


@dataclass
class _Window:
    opened: float  # monotonic
    opened_utc: datetime
    first: AuditEntry
    route: str  # the route template the window counts (the summary row's path)
    suppressed: int = 0


class RefusalAggregator:
    """Counts anonymous refusals per (method, route, reason) and window; see the module docstring."""

    def __init__(self, window_s: float = REFUSAL_WINDOW_S) -> None:
        self.window_s = window_s
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str, str], _Window] = {}

    def admit(self, entry: AuditEntry, reason: str, *, route: str) -> list[AuditEntry]:
        """The rows to write now for this refusal: none, its own, and/or the previous window's count.
        ``route`` (the route template) groups refusals of one route whatever the ids in the path."""
        key = (entry.method, route, reason)
        now = time.monotonic()
        with self._lock:
            if key not in self._windows and len(self._windows) >= MAX_REFUSAL_KEYS:
                key = (entry.method, "*", reason)
            window = self._windows.get(key)
            if window is not None and now - window.opened < self.window_s:
                window.suppressed += 1
                return []
            out = [] if window is None else self._summary(window)
            first = AuditEntry(**{**vars(entry), "detail": {**entry.detail, "refusal_reason": reason}})
            self._windows[key] = _Window(opened=now, opened_utc=entry.at_utc, first=first, route=key[1])
            return [*out, first]

    def drain(self) -> list[AuditEntry]:
        """Summary rows for every window with uncounted refusals (counts reset; windows stay open)."""
        with self._lock:
            out = [row for w in self._windows.values() for row in self._summary(w)]
            for w in self._windows.values():
                w.suppressed = 0
            return out

    @staticmethod
    def _summary(window: _Window) -> list[AuditEntry]:
        if window.suppressed == 0:
            return []
        f = window.first
        detail = {
            "refused_count": window.suppressed,
            "refusal_reason": f.detail.get("refusal_reason"),
            "window_start_utc": window.opened_utc.isoformat(),
            "aggregated": True,
        }
        return [AuditEntry(utc_now(), f.actor, f.role, f.method, window.route, f.status_code, detail)]


def refusal_aggregator(app: Any) -> RefusalAggregator:
    agg: RefusalAggregator | None = getattr(app.state, "audit_refusals", None)
    if agg is None:
        agg = RefusalAggregator()
        app.state.audit_refusals = agg
    return agg


def flush_refusals(app: Any) -> None:
    """Write the pending refusal counts (before the log is read, and at shutdown)."""
    store = getattr(app.state, "store", None)
    if store is None:
        return
    for row in refusal_aggregator(app).drain():
        try:
            store.append_audit(row)
        except Exception:
            log.exception("could not write the audit summary for %s %s", row.method, row.path)


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
            app = scope.get("app")
            store = getattr(app.state, "store", None) if app is not None else None
            if store is None:
                return
            rows = [entry]
            if status == 401 and not isinstance(scope.get(PRINCIPAL_KEY), Principal):
                rows = refusal_aggregator(app).admit(entry, _refusal_reason(scope), route=_route_path(scope))
            for row in rows:
                try:
                    await anyio.to_thread.run_sync(store.append_audit, row)
                except Exception:
                    log.exception("could not write audit entry for %s %s", row.method, row.path)

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


def _refusal_reason(scope: Scope) -> str:
    headers = dict(scope.get("headers") or [])
    return "invalid_credentials" if b"authorization" in headers else "no_credentials"


def _route_path(scope: Scope) -> str:
    """The route template (``/api/work-orders/{work_order_id}``) when routing matched, else the path."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(template) if isinstance(template, str) else str(scope.get("path"))


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
