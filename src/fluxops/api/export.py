"""Export any list answer as CSV, GeoJSON or Parquet (``?format=`` or the ``Accept`` header).

One module turns an Arrow table into each format (`table_to_csv`, `table_to_geojson`,
`table_to_parquet`); `ExportMiddleware` applies it to every JSON list the API answers, so assets,
outages, work orders, AMI query results, cascade results and every future list export the same way
without a line in their routes:

* the format comes from ``?format=csv|geojson|parquet|json`` or, without it, from the first of
  ``text/csv``, ``application/geo+json``, ``application/vnd.apache.parquet`` (``application/x-parquet``)
  that the ``Accept`` header prefers over JSON;
* the list is the answer itself when it is a JSON array, else its ``items`` or ``rows`` member, else its
  only member that is a list of objects, or the one ``?list=`` names, dotted through nested lists
  (a cascade's ``list=waves.lost``: every lost element, with its wave's fields). Nested objects become
  dotted columns (``customer.name``), nested lists JSON text;
* GeoJSON needs a location: ``lon``/``lat`` columns (Points), a ``coordinates`` column of
  ``[lon, lat]`` vertices (LineStrings) or a ``geometry_wkb`` column;
* the response carries the format's ``Content-Type`` and ``Content-Disposition: attachment;
  filename="<route>.<ext>"`` (``/api/ami/transformers/load`` -> ``ami-transformers-load.csv``).

An explicit ``format=`` the answer cannot honour (no list, no location for GeoJSON, an answer that
is not JSON) is a 422 naming ``format``, and so is a name that is no format at all on a route without
a ``format`` of its own (`fluxops.api.query_guard`); an ``Accept`` preference that cannot be honoured
is ignored (the JSON answer is sent).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fluxops.core.errors import InvalidInputError

FORMAT_PARAM = "format"
LIST_PARAM = "list"  # which member list to export, dotted through nested lists (``waves.lost``)


@dataclass(frozen=True)
class ExportFormat:
    name: str
    media_type: str
    extension: str


FORMATS: dict[str, ExportFormat] = {
    "csv": ExportFormat("csv", "text/csv; charset=utf-8", "csv"),
    "geojson": ExportFormat("geojson", "application/geo+json", "geojson"),
    "parquet": ExportFormat("parquet", "application/vnd.apache.parquet", "parquet"),
}
FORMAT_NAMES: tuple[str, ...] = ("json", *FORMATS)
_ACCEPTED: dict[str, str] = {
    "text/csv": "csv",
    "application/geo+json": "geojson",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
    "application/json": "json",
    "*/*": "json",
    "application/*": "json",
}
LIST_KEYS: tuple[str, ...] = ("items", "rows")
EXPORT_METHODS = frozenset({"GET", "POST"})


# --- Arrow table -> format --------------------------------------------------------------------------


def table_to_csv(table: pa.Table) -> bytes:
    """CSV with a header row; list/struct columns as JSON text, binary columns dropped."""
    cols: dict[str, pa.Array | pa.ChunkedArray] = {}
    for name, col in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_binary(col.type) or pa.types.is_large_binary(col.type):
            continue
        if pa.types.is_nested(col.type):
            col = pa.array([None if v is None else json.dumps(v, default=str) for v in col.to_pylist()])
        cols[name] = col
    sink = io.BytesIO()
    pa_csv.write_csv(pa.table(cols) if cols else pa.table({}), sink)
    return sink.getvalue()


def table_to_parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def _geometry(row: dict[str, Any]) -> dict[str, Any] | None:
    wkb = row.get("geometry_wkb")
    if isinstance(wkb, bytes | bytearray):
        import shapely

        out: dict[str, Any] = json.loads(shapely.to_geojson(shapely.from_wkb(bytes(wkb))))
        return out
    coords = row.get("coordinates")
    if isinstance(coords, list) and len(coords) >= 2:
        return {"type": "LineString", "coordinates": coords}
    lon, lat = row.get("lon"), row.get("lat")
    if isinstance(lon, int | float) and isinstance(lat, int | float):
        return {"type": "Point", "coordinates": [lon, lat]}
    return None


def has_location(column_names: Iterable[str]) -> bool:
    names = set(column_names)
    return {"lon", "lat"} <= names or "coordinates" in names or "geometry_wkb" in names


def table_to_geojson(table: pa.Table) -> bytes:
    """A FeatureCollection; properties are the other columns. Raises if the rows have no location."""
    if not has_location(table.column_names):
        raise InvalidInputError(
            "format geojson needs rows with lon/lat, coordinates or geometry_wkb; these rows have "
            f"{', '.join(table.column_names[:20]) or 'no columns'}",
            field=FORMAT_PARAM,
        )
    geo_cols = {"geometry_wkb", "coordinates"}
    features = []
    for row in table.to_pylist():
        props = {k: v for k, v in row.items() if k not in geo_cols and not isinstance(v, bytes | bytearray)}
        features.append({"type": "Feature", "geometry": _geometry(row), "properties": props})
    return orjson.dumps({"type": "FeatureCollection", "features": features}, default=str)


def encode_table(table: pa.Table, fmt: str) -> bytes:
    if fmt == "csv":
        return table_to_csv(table)
    if fmt == "geojson":
        return table_to_geojson(table)
    if fmt == "parquet":
        return table_to_parquet(table)
    raise InvalidInputError(f"unknown format {fmt!r}; one of {', '.join(FORMAT_NAMES)}", field=FORMAT_PARAM)


# --- JSON rows -> Arrow table ---------------------------------------------------------------------


def _flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        elif isinstance(value, list) and not (prefix == "" and key == "coordinates"):
            out[name] = json.dumps(value, default=str)
        else:
            out[name] = value
    return out


def rows_to_table(rows: list[dict[str, Any]]) -> pa.Table:
    """JSON objects as one Arrow table: columns in first-seen order, missing keys null, a column of
    mixed types as text (a column Arrow cannot type is never an error)."""
    flat = [_flatten(r) for r in rows]
    names = list(dict.fromkeys(k for r in flat for k in r))
    arrays: dict[str, pa.Array] = {}
    for name in names:
        values = [r.get(name) for r in flat]
        try:
            arrays[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays[name] = pa.array([None if v is None else str(v) for v in values], type=pa.string())
    return pa.table(arrays) if arrays else pa.table({})


def _rows_at(
    value: Any, path: list[str], carried: dict[str, Any], prefix: str
) -> list[dict[str, Any]] | None:
    """Rows of the list at ``path`` under ``value``; each row carries its parents' scalar fields."""
    if not path:
        if isinstance(value, list) and all(isinstance(r, dict) for r in value):
            return [{**carried, **r} for r in value]
        return None
    key, rest = path[0], path[1:]
    if isinstance(value, dict):
        return _rows_at(value.get(key), rest, carried, prefix) if key in value else None
    if isinstance(value, list) and all(isinstance(r, dict) for r in value):
        out: list[dict[str, Any]] = []
        for item in value:
            scalars = {f"{prefix}{k}": v for k, v in item.items() if not isinstance(v, dict | list)}
            rows = _rows_at(item.get(key), rest, {**carried, **scalars}, f"{prefix}{key}.")
            if rows is None:
                return None
            out.extend(rows)
        return out
    return None


def pick_list(body: Any, path: str | None = None) -> list[dict[str, Any]] | None:
    """The list a JSON answer exports (see the module doc), or None when it holds no single list.

    ``path`` (the ``list`` parameter) names it instead, dotted through nested lists: ``waves.lost``
    is one row per lost element of every wave, carrying the wave's scalar fields (``wave``, ``label``)."""
    if path:
        parts = path.split(".")
        head = parts[0]
        if isinstance(body, dict) and head in body:
            return _rows_at(body[head], parts[1:], {}, f"{head}.")
        return None
    if isinstance(body, list):
        return body if all(isinstance(r, dict) for r in body) else None
    if not isinstance(body, dict):
        return None
    for key in LIST_KEYS:
        value = body.get(key)
        if isinstance(value, list) and all(isinstance(r, dict) for r in value):
            return value
    lists = [v for v in body.values() if isinstance(v, list) and v and all(isinstance(r, dict) for r in v)]
    return lists[0] if len(lists) == 1 else None


def list_members(body: Any) -> list[str]:
    """Member names of an object answer whose values are lists of objects (what ``list=`` can name)."""
    if not isinstance(body, dict):
        return []
    return [k for k, v in body.items() if isinstance(v, list) and v and all(isinstance(r, dict) for r in v)]


# --- negotiation and the middleware -------------------------------------------------------------


def _accept_format(accept: str) -> str | None:
    """The first export format the Accept header names before any JSON-compatible type."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept.split(",")):
        media, _, params = part.strip().partition(";")
        q = 1.0
        m = re.search(r"q=([0-9.]+)", params)
        if m:
            try:
                q = float(m.group(1))
            except ValueError:
                q = 0.0
        fmt = _ACCEPTED.get(media.strip().lower())
        if fmt is not None and q > 0:
            ranked.append((-q, i, fmt))
    if not ranked:
        return None
    fmt = min(ranked)[2]
    return None if fmt == "json" else fmt


def requested_list(scope: Scope) -> str | None:
    query = scope.get("query_string", b"").decode("latin-1")
    values = [v for k, v in parse_qsl(query, keep_blank_values=True) if k == LIST_PARAM]
    return values[-1].strip()[:200] if values and values[-1].strip() else None


def requested_format(scope: Scope) -> tuple[str | None, bool]:
    """(format, explicit) for a request: ``?format=`` wins over ``Accept``. A ``format`` that is not an
    export format (``arrow`` on /api/grid/state) is the route's own parameter: passed through, and
    `fluxops.api.query_guard` refuses it where the route declares no ``format``."""
    query = scope.get("query_string", b"").decode("latin-1")
    values = [v for k, v in parse_qsl(query, keep_blank_values=True) if k == FORMAT_PARAM]
    if values:
        fmt = values[-1].strip().lower()
        if fmt not in FORMATS:  # json, or the route's own representation: the route answers it
            return None, False
        return fmt, True
    accept = dict(scope.get("headers") or ()).get(b"accept", b"").decode("latin-1")
    return (_accept_format(accept) if accept else None), False


def export_filename(path: str, fmt: str) -> str:
    stem = path.removeprefix("/api/").strip("/")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.") or "export"
    return f"{stem[:100]}.{FORMATS[fmt].extension}"


def export_body(body: Any, fmt: str, path: str | None = None) -> bytes | None:
    """The exported bytes of a JSON answer, or None when it holds no list to export."""
    rows = pick_list(body, path)
    if rows is None:
        return None
    return encode_table(rows_to_table(rows), fmt)


class ExportMiddleware:
    """Re-encodes a JSON list answer in the requested export format (see the module doc)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in EXPORT_METHODS:
            await self.app(scope, receive, send)
            return
        fmt, explicit = requested_format(scope)
        if fmt is None:
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []
        passthrough = False
        done = False

        async def capture(message: Message) -> None:
            nonlocal start, passthrough, done
            if done:
                return
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or ())
                ctype = headers.get(b"content-type", b"").decode("latin-1")
                if message["status"] == 200 and ctype.startswith("application/json"):
                    start = message
                elif explicit and message["status"] == 200:  # Arrow IPC, a stream: not a JSON list
                    done = True
                    await _send_error(
                        scope,
                        send,
                        InvalidInputError(
                            f"format {fmt} exports JSON list answers; {scope.get('path')} answers {ctype}",
                            field=FORMAT_PARAM,
                        ),
                    )
                else:
                    passthrough = True
                    await send(message)
                return
            if passthrough:
                await send(message)
                return
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    done = True
                    await self._finish(scope, send, start, b"".join(chunks), fmt, explicit)

        await self.app(scope, receive, capture)

    async def _finish(
        self, scope: Scope, send: Send, start: Message | None, raw: bytes, fmt: str, explicit: bool
    ) -> None:
        assert start is not None
        body = orjson.loads(raw)
        path = requested_list(scope)
        try:
            data = export_body(body, fmt, path)
        except InvalidInputError as exc:
            if explicit:
                await _send_error(scope, send, exc)
                return
            data = None
        if data is None:
            if explicit:
                await _send_error(
                    scope,
                    send,
                    InvalidInputError(
                        f"no list {path!r} in this answer to export"
                        if path
                        else f"format {fmt} needs a list answer; {scope.get('path')} does not answer one "
                        f"list (name one with {LIST_PARAM}=)",
                        field=LIST_PARAM if path else FORMAT_PARAM,
                        details={"lists": list_members(body)},
                    ),
                )
                return
            await send(start)
            await send({"type": "http.response.body", "body": raw})
            return
        spec = FORMATS[fmt]
        keep = [
            (k, v)
            for k, v in start.get("headers") or ()
            if k.lower() not in (b"content-type", b"content-length", b"content-disposition")
        ]
        filename = export_filename(str(scope.get("path", "")), fmt)
        out_headers = [
            *keep,
            (b"content-type", spec.media_type.encode()),
            (b"content-length", str(len(data)).encode()),
            (b"content-disposition", f'attachment; filename="{filename}"'.encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": out_headers})
        await send({"type": "http.response.body", "body": data})


async def _send_error(scope: Scope, send: Send, exc: InvalidInputError) -> None:
    from fluxops.api.errors import error_response

    resp = error_response(422, exc.code, exc.message, exc.details, scope=scope)
    await send({"type": "http.response.start", "status": resp.status_code, "headers": resp.raw_headers})
    await send({"type": "http.response.body", "body": resp.body})
