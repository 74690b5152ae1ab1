"""``GET /api/grid/state``: the live state of every asset, from the maintained snapshot.

Three representations: ``json`` (columnar), ``arrow`` (every asset, every column) and ``compact``, the
one the map loads: an Arrow IPC stream of ``asset_id``, ``status`` (int8 index into
`fluxops.ops.state.STATUS_CODES`, also in the schema metadata) and ``loading_pct`` (float32), holding
only the assets that differ from the zero state (normal, loading unknown) — on `demo` ~30K of 237K
rows, a few hundred kB instead of 12.8 MB of Arrow. With ``changed_since`` every representation holds
the rows changed after that version (the same diff the SSE ``asset_status`` delta carries, which the
UI applies without fetching when it is one version behind).

Each full answer is encoded and gzipped once per (epoch, version, format) and shared by every reader;
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
PAYLOADS_KEPT = 6  # (epoch, version, format) encodings; readers of the current version share one
GZIP_MIN_BYTES = 1000
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
def grid_state(
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
    if format not in FORMATS:
        raise InvalidInputError("format must be json, arrow or compact", field="format")
    state = _state(request)
    etag = _etag(state.epoch, state.version, format, changed_since)
    if _etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=_state_headers(etag, state.epoch, state.version))
    gz_ok = "gzip" in request.headers.get("accept-encoding", "")
    if changed_since is None:
        version, body, gz, rows = _full(request, state, format)
    else:
        if format == "compact":
            version, table = state.compact(changed_since)
        else:
            version, table = state.snapshot(changed_since)
        body, gz, rows = _encode(table, format, version, changed_since, state.counts()), None, table.num_rows
    headers = _state_headers(_etag(state.epoch, version, format, changed_since), state.epoch, version)
    headers["X-Row-Count"] = str(rows)
    media = "application/json" if format == "json" else ARROW_STREAM_MEDIA_TYPE
    if gz is not None and gz_ok:
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


_Encoded = tuple[int, bytes, bytes | None, int]


def _full(request: Request, state: GridState, fmt: str) -> _Encoded:
    """The full answer's (version, body, gzipped body, rows), built once per (epoch, version, format)."""
    with _payload_lock:
        cache: OrderedDict[tuple[str, int, str], _Encoded] | None = getattr(
            request.app.state, "grid_state_payloads", None
        )
        if cache is None:
            cache = OrderedDict()
            request.app.state.grid_state_payloads = cache
        hit = cache.get((state.epoch, state.version, fmt))
    if hit is not None:
        return hit
    if fmt == "compact":
        version, table = state.compact(None)
        counts: dict[str, int] = {}
    else:
        snap = state.full_snapshot()
        version, table, counts = snap.version, snap.table, snap.counts
    key = (state.epoch, version, fmt)
    # two first readers may both encode; both get the same bytes
    body = _encode(table, fmt, version, None, counts)
    gz = gzip.compress(body, 6) if len(body) >= GZIP_MIN_BYTES else None
    enc: _Encoded = (version, body, gz, table.num_rows)
    with _payload_lock:
        cache[key] = enc
        while len(cache) > PAYLOADS_KEPT:
            cache.popitem(last=False)
    return enc
