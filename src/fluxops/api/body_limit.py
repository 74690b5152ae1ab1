"""Request body size limit (``FLUXOPS_INGEST__MAX_BODY_BYTES``, default 64 MiB): 413 naming the limit.

Why a middleware and why lazily: a route reads its body only after its dependencies ran, so the
caller is authenticated before a single body byte is read (an anonymous 10 GB upload is answered 401
and never read). The limit is then enforced where the body is read, on the ``receive`` channel:

* a declared ``Content-Length`` above the limit fails the first ``receive`` without reading anything;
* a chunked (or lying) body is counted as it streams and fails as soon as the count passes the limit.

The failure is a `PayloadTooLargeError` (413 through the one error table). Should a route catch it
anyway (FastAPI turns any error while reading a declared JSON body into a 400), the response it starts
afterwards is replaced by the 413, so the client always learns the limit.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fluxops.api.errors import error_response
from fluxops.core.config import Settings
from fluxops.core.errors import PayloadTooLargeError


def too_large(limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"request body larger than the limit of {limit:,} bytes (FLUXOPS_INGEST__MAX_BODY_BYTES)",
        details={"limit_bytes": limit},
    )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimitMiddleware:
    """Pure ASGI: wraps ``receive`` (count) and ``send`` (guarantee the 413) of every HTTP request."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.limit = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit
        declared = _content_length(scope)
        seen = 0
        tripped = False
        replaced = False

        async def counted_receive() -> Message:
            nonlocal seen, tripped
            if declared is not None and declared > limit:
                tripped = True
                raise too_large(limit)
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    tripped = True
                    raise too_large(limit)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return  # the rest of a response the 413 replaced
            if tripped and message["type"] == "http.response.start" and message["status"] != 413:
                replaced = True
                err = too_large(limit)
                resp = error_response(413, err.code, err.message, err.details, scope=scope)
                await resp(scope, receive, send)
                return
            await send(message)

        await self.app(scope, counted_receive, guarded_send)


def install_body_limit(app: FastAPI, settings: Settings) -> None:
    """Install innermost of the middlewares (call before the others are added), so the request id and
    the audit log also cover a 413."""
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.ingest.max_body_bytes)
