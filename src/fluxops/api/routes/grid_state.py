"""``GET /api/grid/state``: the live state of every asset, from the maintained snapshot.

Three representations: ``json`` (columnar), ``arrow`` (every asset, every column) and ``compact``, the
one the map loads: an Arrow IPC stream of ``asset_id``, ``status`` (int8 index into
`fluxops.ops.state.STATUS_CODES`, also in the schema metadata) and ``loading_pct`` (float32), holding
only the assets that differ from the zero state (normal, loading unknown) — on `demo` ~30K of 237K
rows, a few hundred kB instead of 12.8 MB of Arrow. With ``changed_since`` every representation holds
the rows changed after that version (the same diff the SSE ``asset_status`` delta carries, which the
UI applies without fetching when it is one version behind).

Each answer (full or diff) is encoded and gzipped once per (epoch, version, format, changed_since) and
shared by every reader, on the event loop when it is already encoded;
the ETag names the state (epoch, version) and the representation, and a matching ``If-None-Match``
answers 304. ``X-State-Epoch`` tells a client whose version belongs to an earlier process or grid to
start again from a full snapshot.
"""

from __future__ import annotations

import gzip
import threading
from collections import OrderedDict

import orjson
import pyarrow as pa
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from fluxops.api.deps import ARROW_STREAM_MEDIA_TYPE
from fluxops.api.openapi import error_responses
from fluxops.api.params import MAX_OFFSET, one_of_query
from fluxops.api.routes._ops_runtime import OpsRuntime
from fluxops.api.security import require_role
from fluxops.core.errors import InvalidInputError
from fluxops.ops.state import STATUS_CODES, GridState

router = APIRouter(prefix="/api", tags=["ops"])
FORMATS = ("json", "arrow", "compact")
MAX_STATE_VERSION = MAX_OFFSET * 2**20  # far past any state version a process reaches; well inside int64
PAYLOADS_KEPT = 32  # (epoch, version, format, changed_since) encodings; one version's readers share one
PAYLOAD_BYTES_KEPT = 64 * 2**20  # raw + gzipped bytes kept (the full Arrow state is ~16 MB of it on demo)
GZIP_MIN_BYTES = 1000
GZIP_LEVEL = 6
GZIP_FAST_LEVEL = 1
GZIP_FAST_BYTES = 1 << 20
_payload_lock = threading.Lock()


def _state(request: Request) -> GridState:
    rt: OpsRuntime = request.app.state.ops
    return rt.service().state


@router.get(
    "/grid/state",
    summary="Live state of every asset (or of those changed since a version)",
    dependencies=[Depends(require_role("viewer"))],
    response_class=Response,
    responses={
        200: {
            "content": {"application/json": {}, ARROW_STREAM_MEDIA_TYPE: {}},
            "description": "Columnar JSON, or an Arrow IPC stream with format=arrow / compact",
        },
        304: {"description": "Unchanged since the ETag in If-None-Match"},
        **error_responses(422),
    },
)
async def grid_state(
    request: Request,
    changed_since: int | None = Query(
        None, ge=0, le=MAX_STATE_VERSION, description="only assets changed after this version"
    ),
    format: str = one_of_query(
        FORMATS,
        "json (columnar), arrow (every column) or compact (map columns, non-zero-state rows)",
        default="json",
    ),
    if_none_match: str | None = Header(None, alias="If-None-Match"),
) -> Response:
    """Answered on the event loop when the state's service is known and the answer is a 304 or already
    encoded (most requests: 64 clients share one encoding per version); otherwise encoded in a thread,
    once per (version, representation) however many ask at the same moment (issue 8 §5)."""
    if format not in FORMATS:
        raise InvalidInputError("format must be json, arrow or compact", field="format")
    rt: OpsRuntime = request.app.state.ops
    svc = rt.peek()
    if svc is not None:
        hit = _answer(request, svc.state, format, changed_since, if_none_match, build=False)
        if hit is not None:
            return hit

    def threaded() -> Response:
        resp = _answer(request, _state(request), format, changed_since, if_none_match, build=True)
        assert resp is not None  # build=True always answers
        return resp

    return await run_in_threadpool(threaded)


def _answer(
    request: Request,
    state: GridState,
    fmt: str,
    changed_since: int | None,
    if_none_match: str | None,
    *,
    build: bool,
) -> Response | None:
    """The answer from the payload cache (a 304 needs nothing); None when it must be built and
    ``build`` is False (the caller is the event loop)."""
    etag = _etag(state.epoch, state.version, fmt, changed_since)
    if _etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=_state_headers(etag, state.epoch, state.version))
    enc = _payloads(request).get((state.epoch, state.version, fmt, changed_since), state, build=build)
    if enc is None:
        return None
    version, body, gz, rows = enc
    headers = _state_headers(_etag(state.epoch, version, fmt, changed_since), state.epoch, version)
    headers["X-Row-Count"] = str(rows)
    media = "application/json" if fmt == "json" else ARROW_STREAM_MEDIA_TYPE
    if gz is not None and "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"  # encoded once per version; the gzip middleware passes it
        headers["Vary"] = "Accept-Encoding"
        return Response(gz, media_type=media, headers=headers)
    return Response(body, media_type=media, headers=headers)


def _etag(epoch: str, version: int, fmt: str, changed_since: int | None) -> str:
    since = "all" if changed_since is None else str(changed_since)
    return f'"{epoch}.{version}.{fmt}.{since}"'


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


def _state_headers(etag: str, epoch: str, version: int) -> dict[str, str]:
    # no-cache: a cache may keep it but must revalidate (a cheap 304 while the state is unchanged)
    return {
        "ETag": etag,
        "Cache-Control": "no-cache",
        "X-State-Version": str(version),
        "X-State-Epoch": epoch,
    }


def _encode(
    table: pa.Table, fmt: str, version: int, changed_since: int | None, counts: dict[str, int]
) -> bytes:
    if fmt in ("arrow", "compact"):
        if fmt == "compact":
            meta = {
                b"status_codes": ",".join(STATUS_CODES).encode(),
                b"version": str(version).encode(),
                b"sparse": b"zero-state" if changed_since is None else b"changed",
            }
            table = table.replace_schema_metadata(meta)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as w:
            w.write_table(table)
        return bytes(sink.getvalue().to_pybytes())
    doc = {
        "version": version,
        "changed_since": changed_since,
        "count": table.num_rows,
        "status_counts": counts,
        "assets": table.to_pydict(),
    }
    return orjson.dumps(doc)


_Encoded = tuple[int, bytes, bytes | None, int]  # version, body, gzipped body (None: small), rows
_Key = tuple[str, int, str, int | None]  # epoch, version, format, changed_since


def _build(state: GridState, fmt: str, changed_since: int | None) -> _Encoded:
    if fmt == "compact":
        version, table = state.compact(changed_since)
        counts: dict[str, int] = {}
    elif changed_since is None:
        snap = state.full_snapshot()
        version, table, counts = snap.version, snap.table, snap.counts
    else:
        version, table = state.snapshot(changed_since)
        counts = state.counts()
    body = _encode(table, fmt, version, changed_since, counts)
    gz = None
    if len(body) >= GZIP_MIN_BYTES:
        # level 1 on multi-MB bodies (the full Arrow state is 12.8 MB on demo): ~4x less CPU than 6 for
        # a body ~15 % larger, and it is rebuilt at every state version
        gz = gzip.compress(body, GZIP_FAST_LEVEL if len(body) >= GZIP_FAST_BYTES else GZIP_LEVEL)
    return version, body, gz, table.num_rows


class _Payloads:
    """Encoded answers per (epoch, version, format, changed_since): a bounded LRU (entries and bytes)
    with single-flight builds — when a version changes, 64 clients asking at once cost one encoding
    and one gzip, not one per thread (issue 8 §5). Thread-safe."""

    def __init__(self, max_entries: int = PAYLOADS_KEPT, max_bytes: int = PAYLOAD_BYTES_KEPT) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[_Key, _Encoded] = OrderedDict()
        self._flights: dict[_Key, threading.Lock] = {}
        self._bytes = 0
        self.builds = 0  # encodings made (the tests read it)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        return self._bytes

    def get(self, key: _Key, state: GridState, *, build: bool) -> _Encoded | None:
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
                return hit
            if not build:
                return None
            flight = self._flights.setdefault(key, threading.Lock())
        with flight:
            with self._lock:
                hit = self._entries.get(key)
            if hit is not None:
                return hit
            try:
                enc = _build(state, key[2], key[3])
            finally:
                with self._lock:
                    self._flights.pop(key, None)
            with self._lock:
                self.builds += 1
                # keyed by the version the snapshot was taken at (it may have moved since the request)
                self._put((key[0], enc[0], key[2], key[3]), enc)
            return enc

    def _put(self, key: _Key, enc: _Encoded) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= _size(old)
        self._entries[key] = enc
        self._bytes += _size(enc)
        while len(self._entries) > 1 and (
            len(self._entries) > self.max_entries or self._bytes > self.max_bytes
        ):
            _k, dropped = self._entries.popitem(last=False)
            self._bytes -= _size(dropped)


def _size(enc: _Encoded) -> int:
    return len(enc[1]) + len(enc[2] or b"")


def _payloads(request: Request) -> _Payloads:
    with _payload_lock:
        cache: _Payloads | None = getattr(request.app.state, "grid_state_payloads", None)
        if cache is None:
            cache = _Payloads()
            request.app.state.grid_state_payloads = cache
        return cache
