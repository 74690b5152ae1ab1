"""Encoded answers kept per data version, so that 64 clients asking the same question of the same data
cost one query, one JSON encoding and one gzip instead of 64 (issue 8 §5, the load targets).

Why keyed by a version and never by time: a cached answer must never be older than the data it claims
to come from. Each caller puts into the key everything the answer depends on (the AMI materialization's
watermark and time, the grid's content hash, the store's write generation, the request's path and
query), so a new materialization, grid or write makes a new key and the next request builds afresh; old
keys simply age out of the bounded LRU.

* Single flight: while one thread builds an answer, the others asking for the same key wait for it
  (after a new materialization, 64 clients would otherwise run the same 70 ms query at once).
* Gzip once: the body is compressed when it is built, and a client that accepts gzip gets those bytes
  with ``Content-Encoding: gzip`` (the gzip middleware passes an encoded body through).
* Export requests (``?format=csv`` and friends) are never served from here: the export middleware
  re-encodes the JSON body, so they get a fresh, uncompressed answer.
"""

from __future__ import annotations

import gzip
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from fastapi import Request, Response

from fluxops.api.export import requested_format

GZIP_MIN_BYTES = 1000  # as the gzip middleware: below this compression saves nothing worth its CPU
GZIP_LEVEL = 6  # built once per version, so the better ratio is worth its CPU here
MAX_ENTRIES = 512
MAX_BYTES = 64 * 2**20  # raw + gzipped bytes kept; the oldest answers go first past it


@dataclass(frozen=True)
class CachedAnswer:
    body: bytes
    gzipped: bytes | None  # None: too small to be worth compressing
    media_type: str | None
    status_code: int
    headers: tuple[tuple[str, str], ...]  # the route's own headers (not content-length/-type)

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped or b"")

    def response(self, request: Request) -> Response:
        headers = dict(self.headers)
        if self.gzipped is not None:
            headers["Vary"] = "Accept-Encoding"
        if self.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            return Response(self.gzipped, self.status_code, headers, self.media_type)
        return Response(self.body, self.status_code, headers, self.media_type)


_SKIP_HEADERS = frozenset({"content-length", "content-type", "content-encoding"})


def _capture(resp: Response) -> CachedAnswer:
    body = bytes(resp.body)
    headers = tuple((k, v) for k, v in resp.headers.items() if k.lower() not in _SKIP_HEADERS)
    gz = gzip.compress(body, compresslevel=GZIP_LEVEL) if len(body) >= GZIP_MIN_BYTES else None
    return CachedAnswer(body, gz, resp.media_type, resp.status_code, headers)


class ResponseCache:
    """A bounded LRU of `CachedAnswer` with single-flight builds (thread-safe; routes run in threads)."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, CachedAnswer] = OrderedDict()
        self._flights: dict[Hashable, threading.Lock] = {}
        self._bytes = 0
        self.builds = 0  # answers built (the tests read it)

    def _get(self, key: Hashable) -> CachedAnswer | None:
        hit = self._entries.get(key)
        if hit is not None:
            self._entries.move_to_end(key)
        return hit

    def peek(self, key: Hashable) -> CachedAnswer | None:
        """The kept answer for ``key``, or None (never builds: for the event loop)."""
        with self._lock:
            return self._get(key)

    def answer(self, key: Hashable, build: Callable[[], Response]) -> CachedAnswer:
        with self._lock:
            hit = self._get(key)
            if hit is not None:
                return hit
            flight = self._flights.setdefault(key, threading.Lock())
        with flight:
            with self._lock:
                hit = self._get(key)
            if hit is not None:
                return hit
            try:
                entry = _capture(build())
            finally:
                with self._lock:
                    self._flights.pop(key, None)
            with self._lock:
                self.builds += 1
                if entry.status_code == 200:
                    self._put(key, entry)
            return entry

    def _put(self, key: Hashable, entry: CachedAnswer) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old.size
        self._entries[key] = entry
        self._bytes += entry.size
        while self._entries and (len(self._entries) > self.max_entries or self._bytes > self.max_bytes):
            _k, dropped = self._entries.popitem(last=False)
            self._bytes -= dropped.size

    def stats(self) -> tuple[int, int]:
        """(entries, bytes) kept."""
        with self._lock:
            return len(self._entries), self._bytes


_app_lock = threading.Lock()


def response_cache(request: Request) -> ResponseCache:
    """The app's cache (one per app, created on first use)."""
    state = request.app.state
    with _app_lock:
        cache: ResponseCache | None = getattr(state, "response_cache", None)
        if cache is None:
            cache = ResponseCache()
            state.response_cache = cache
        return cache


def request_key(request: Request) -> tuple[str, str, bool]:
    """What of the request shapes the answer: path, query string (as sent) and Arrow vs JSON."""
    arrow = "application/vnd.apache.arrow.stream" in request.headers.get("accept", "")
    return request.url.path, request.url.query, arrow


def cached_now(request: Request, version: Hashable) -> Response | None:
    """The kept answer to this request at ``version`` (no build, no thread: for the event loop), or
    None: then call `cached` in a thread."""
    if requested_format(request.scope)[0] is not None:
        return None
    entry = response_cache(request).peek((version, *request_key(request)))
    return entry.response(request) if entry is not None else None


def cached(request: Request, version: Hashable, build: Callable[[], Response]) -> Response:
    """``build()``'s answer for this request at ``version``, built once per (version, request)."""
    if requested_format(request.scope)[0] is not None:  # an export: the middleware re-encodes the body
        return build()
    entry = response_cache(request).answer((version, *request_key(request)), build)
    return entry.response(request)
