"""Serves the built frontend (``fluxops/web``) at ``/`` when it exists.

``FLUXOPS_WEB_DIR`` points the server at another build (a developer building the UI into a private folder
while other servers keep serving the packaged one).

Why a gzip cache here: the UI's JavaScript is ~2.9 MB, and the server's gzip middleware compressed it again
on every page load (tens of ms of CPU per file, more on a busy machine) while the operator waited for the
first frame. Each file is compressed once per (path, size, mtime) and kept; the middleware passes a body that
already says ``Content-Encoding``. Vite's hashed ``/assets/*`` names never change content, so browsers may
keep them for a year; ``index.html`` is always revalidated.
"""

from __future__ import annotations

import gzip
import os
import threading
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.types import Scope

WEB_DIR = Path(os.environ.get("FLUXOPS_WEB_DIR") or Path(__file__).resolve().parent.parent / "web")
COMPRESSIBLE = (".js", ".mjs", ".css", ".html", ".json", ".svg", ".map", ".txt", ".wasm")
MIN_GZIP_BYTES = 1000
IMMUTABLE = "public, max-age=31536000, immutable"


class PrecompressedStatic(StaticFiles):
    """StaticFiles that answers gzip-accepting clients from an in-memory compressed copy of each file."""

    def __init__(self, *, directory: Path, html: bool = True) -> None:
        super().__init__(directory=directory, html=html)
        self._gz: dict[str, tuple[tuple[int, int], bytes]] = {}
        self._lock = threading.Lock()

    def _compressed(self, path: str, size: int, mtime_ns: int) -> bytes:
        key = (size, mtime_ns)
        with self._lock:
            hit = self._gz.get(path)
        if hit is not None and hit[0] == key:
            return hit[1]
        body = gzip.compress(Path(path).read_bytes(), compresslevel=9, mtime=0)
        with self._lock:
            self._gz[path] = (key, body)
        return body

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if not isinstance(response, FileResponse) or response.status_code != 200:
            return response
        if "/assets/" in f"/{path}":
            response.headers["cache-control"] = IMMUTABLE
        file_path = str(response.path)
        stat = response.stat_result
        request_headers = Headers(scope=scope)
        if (
            stat is None
            or "gzip" not in request_headers.get("accept-encoding", "")
            or "range" in request_headers
            or not file_path.endswith(COMPRESSIBLE)
            or stat.st_size < MIN_GZIP_BYTES
        ):
            return response
        body = self._compressed(file_path, stat.st_size, stat.st_mtime_ns)
        headers = {k: v for k, v in response.headers.items() if k not in ("content-length", "accept-ranges")}
        headers["content-encoding"] = "gzip"
        headers["vary"] = "Accept-Encoding"
        if scope.get("method") == "HEAD":
            return Response(b"", headers={**headers, "content-length": str(len(body))})
        return Response(body, headers=headers)


def mount_web(app: FastAPI) -> None:
    if (WEB_DIR / "index.html").exists():
        app.mount("/", PrecompressedStatic(directory=WEB_DIR, html=True), name="web")
