"""The one table from domain errors to HTTP, and the one error body shape.

Every error leaves the API as ``{"code", "message", "details"}``: domain errors (`FluxOpsError`),
FastAPI's request validation (the offending parameter named in ``message`` and ``details.field``),
Starlette's own 404/405, and unexpected exceptions (500 with a request id, traceback logged, never
sent). Handlers raise domain errors and never build error responses themselves.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fluxops.core.errors import (
    AuthError,
    CapabilityError,
    ConflictError,
    FluxOpsError,
    ImportDataError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    StorageError,
    TopologyError,
)
from fluxops.core.logging import request_id_var
from fluxops.core.metrics import counter

log = logging.getLogger("fluxops.api")

REQUEST_ID_KEY = "fluxops.request_id"
REQUEST_ID_HEADER = "X-Request-ID"


class ErrorBody(BaseModel):
    """The one error body every 4xx/5xx carries (documented on each route by `fluxops.api.openapi`)."""

    code: str = Field(..., description="Machine-readable error code, e.g. invalid_input, not_found")
    message: str = Field(..., description="One human-readable line; names the offending field")
    details: dict[str, Any] = Field(
        ..., description="Context: `field` (the parameter at fault), `errors`, ids, and always `request_id`"
    )


# The table. Looked up along the exception's MRO, so a subclass inherits its parent's status.
STATUS_BY_ERROR: dict[type[FluxOpsError], int] = {
    NotFoundError: 404,
    InvalidInputError: 422,
    TopologyError: 422,
    ImportDataError: 422,
    ConflictError: 409,
    PayloadTooLargeError: 413,
    CapabilityError: 501,
    AuthError: 401,
    PermissionDeniedError: 403,
    StorageError: 503,
    FluxOpsError: 500,
}

_HTTP_CODES: dict[int, str] = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated"}
# An id a proxy already gave the request is kept (one id across the proxy's and our logs) when it is sane.
_INBOUND_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
STORE_ERRORS = counter(
    "fluxops_store_errors_total", "Store or lake errors (StorageError) answered with 503", ("code",)
)


def status_for(exc: FluxOpsError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]  # type: ignore[index]
    return 500


def request_id(scope: Scope) -> str:
    rid = scope.get(REQUEST_ID_KEY)
    return rid if isinstance(rid, str) else "-"


def error_response(
    status: int, code: str, message: str, details: dict[str, Any], *, scope: Scope | None = None
) -> JSONResponse:
    headers: dict[str, str] = {}  # X-Request-ID itself is added by RequestIdMiddleware
    if scope is not None:  # every error names its request, so a user's report finds its log lines
        details = {**details, "request_id": request_id(scope)}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if status == 503:  # e.g. ingestion sent to a worker that does not own the AMI lake writer
        headers["Retry-After"] = str(details.get("retry_after_s", 1))
    body = {"code": code, "message": message, "details": details}
    return JSONResponse(body, status_code=status, headers=headers)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FluxOpsError)
    status = status_for(exc)
    if isinstance(exc, StorageError):
        STORE_ERRORS.inc(code=exc.code)
    if status >= 500:
        log.error("request %s failed: %s", request_id(request.scope), exc.message)
    return error_response(status, exc.code, exc.message, exc.details, scope=request.scope)


def _is_union_tag(part: Any) -> bool:
    """Pydantic names the member of a union it tried (``constrained-str``, ``list[...]``, a model's
    class name) in the error location; our field names are snake_case and never look like that."""
    return isinstance(part, str) and (any(c in part for c in "-[") or part[:1].isupper())


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if not _is_union_tag(p)]
    if len(parts) > 1 and parts[0] in ("query", "path", "header", "cookie"):
        return parts[1]
    if parts and parts[0] == "body":
        return ".".join(parts[1:]) or "body"
    return ".".join(parts) or "request"


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field_of(e.get("loc", ())), "message": str(e.get("msg", "invalid")), "type": e.get("type")}
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"field": "request", "message": "invalid request"}
    message = f"invalid {first['field']}: {first['message']}"
    details = {"field": first["field"], "errors": errors}
    return error_response(422, InvalidInputError.code, message, details, scope=request.scope)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:  # FastAPI's own: a body it could not parse (bad JSON, bad encoding)
        message = f"invalid body: {exc.detail}"
        return error_response(422, InvalidInputError.code, message, {"field": "body"}, scope=request.scope)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail), {}, scope=request.scope)


class RequestIdMiddleware:
    """Gives each request an id (``X-Request-ID``: the caller's when it sent a sane one, else a new one;
    echoed, put in every error body and, through `request_id_var`, in every log line of the request) and
    turns an unexpected exception into a 500 in the one body shape, after logging the traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        inbound = dict(scope.get("headers") or ()).get(b"x-request-id", b"").decode("latin-1")
        rid = inbound if _INBOUND_ID.fullmatch(inbound) else uuid.uuid4().hex[:16]
        scope[REQUEST_ID_KEY] = rid
        token = request_id_var.set(rid)
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (REQUEST_ID_HEADER.lower().encode(), rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("request %s %s %s failed", rid, scope.get("method"), scope.get("path"))
            if started:
                raise
            body = orjson.dumps(
                {
                    "code": "internal_error",
                    "message": f"internal error (request id {rid})",
                    "details": {"request_id": rid},
                }
            )
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"x-request-id", rid.encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
        finally:
            request_id_var.reset(token)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(FluxOpsError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(RequestIdMiddleware)
