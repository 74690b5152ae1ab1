"""Wire formats of AMI batches: NDJSON, CSV and Arrow IPC (stream or file), chosen by content type.

Shared by the HTTP routes and the MQTT subscriber, so both see the same untrusted bytes the same way.
A body that cannot be parsed at all raises `InvalidInputError` naming ``body`` (or ``content-type``,
or the column at fault); a body that parses but holds a malformed value in some row is read leniently
(as text) so that validation rejects that row alone, with its reason.

Why the checks come before the parsers (issue 8 §2): the native readers trust their input's shape. A
body is bounded in size (`ParseLimits.max_bytes`) and a JSON body in nesting depth (`jsonscan`) before
a parser sees it; after parsing, a table is reduced to flat scalar columns with unique names (nested,
binary and exotic types are refused naming the field), so validation never meets a type it cannot cast.
Anything a parser raises on a body is the body's fault and leaves as `InvalidInputError`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson

from fluxops.ami.jsonscan import json_nesting
from fluxops.core.config import IngestSettings
from fluxops.core.errors import InvalidInputError, PayloadTooLargeError

ARROW_STREAM_MEDIA_TYPE = "application/vnd.apache.arrow.stream"
ARROW_FILE = "application/vnd.apache.arrow.file"
NDJSON_TYPES = {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/json-lines"}
CSV_TYPES = {"text/csv", "application/csv"}


@dataclass(frozen=True)
class ParseLimits:
    """Bounds checked before any native parser sees a body (deployment settings: ``FLUXOPS_INGEST__*``)."""

    max_bytes: int = 64 * 1024 * 1024
    max_json_depth: int = 8

    @classmethod
    def from_settings(cls, s: IngestSettings) -> ParseLimits:
        return cls(max_bytes=s.max_body_bytes, max_json_depth=s.max_json_depth)


def sniff_content_type(body: bytes) -> str:
    """For transports without a content type (MQTT 3.1.1): Arrow IPC streams start with 0xFFFFFFFF."""
    if body[:4] == b"\xff\xff\xff\xff":
        return ARROW_STREAM_MEDIA_TYPE
    if body[:6] == b"ARROW1":
        return ARROW_FILE
    return "application/x-ndjson"


def parse_table(content_type: str, body: bytes, limits: ParseLimits | None = None) -> pa.Table:
    """NDJSON, CSV or Arrow IPC (stream or file) into a table of flat scalar columns."""
    limits = limits or ParseLimits()
    ct = content_type.split(";")[0].strip().lower()
    if not body:
        raise InvalidInputError("the request body is empty", field="body")
    if len(body) > limits.max_bytes:
        raise PayloadTooLargeError(
            f"the body is {len(body):,} bytes; the limit is {limits.max_bytes:,} bytes",
            details={"limit_bytes": limits.max_bytes},
        )
    if ct in (ARROW_STREAM_MEDIA_TYPE, ARROW_FILE):
        reader = pa.ipc.open_stream if ct == ARROW_STREAM_MEDIA_TYPE else pa.ipc.open_file
        table = _native(ct, lambda: reader(pa.BufferReader(body)).read_all())
    elif ct in CSV_TYPES:
        table = _native(ct, lambda: _read_csv(body))
    elif ct in NDJSON_TYPES or ct == "application/json":
        table = _read_json(body, limits.max_json_depth)
    else:
        raise InvalidInputError(
            f"unsupported Content-Type {ct!r}: "
            f"use application/x-ndjson, text/csv or {ARROW_STREAM_MEDIA_TYPE}",
            field="content-type",
        )
    return flat_columns(table)


def _native(ct: str, read: Any) -> pa.Table:
    try:
        table: pa.Table = read()
    except InvalidInputError:
        raise
    except Exception as exc:  # untrusted bytes: whatever the reader raises is the body's fault
        raise InvalidInputError(f"cannot parse the {ct} body: {exc}", field="body") from exc
    return table


def _read_csv(body: bytes) -> pa.Table:
    try:
        return pacsv.read_csv(io.BytesIO(body))
    except pa.ArrowInvalid:  # a malformed value: read as text, validation reports the row
        names = pacsv.read_csv(io.BytesIO(body), read_options=pacsv.ReadOptions()).column_names
        opts = pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()))
        return pacsv.read_csv(io.BytesIO(body), convert_options=opts)


def _read_json(body: bytes, max_depth: int) -> pa.Table:
    """NDJSON (or one JSON array of records), nesting bounded before any parser runs."""
    array = body.lstrip()[:1] == b"["
    deepest = json_nesting(body, per_line=not array)
    if deepest.depth > max_depth + int(array):
        raise InvalidInputError(
            f"JSON nested {deepest.depth} deep at line {deepest.line}, character {deepest.column}: "
            f"readings and events are flat records (at most {max_depth} levels are read)",
            field="body",
            details={"line": deepest.line, "column": deepest.column, "offset": deepest.offset},
        )
    if array:
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise _malformed(exc, line_offset=0, line_no=exc.lineno) from exc
        if not isinstance(doc, list):
            raise InvalidInputError("a JSON body must be an array of records or NDJSON", field="body")
        return _rows_table(doc, [f"record {i + 1}" for i in range(len(doc))])
    try:
        return pajson.read_json(io.BytesIO(body))
    except Exception:  # malformed, or a value of the wrong type: line by line, which says where and what
        pass
    rows: list[Any] = []
    where: list[str] = []
    offset = 0
    for no, line in enumerate(body.split(b"\n"), start=1):
        if line.strip():
            try:
                rows.append(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                raise _malformed(exc, line_offset=offset, line_no=no) from exc
            where.append(f"line {no}")
        offset += len(line) + 1
    return _rows_table(rows, where)


def _malformed(exc: orjson.JSONDecodeError, *, line_offset: int, line_no: int) -> InvalidInputError:
    return InvalidInputError(
        f"malformed JSON at line {line_no}, character {exc.colno}: {exc.msg}",
        field="body",
        details={"line": line_no, "column": exc.colno, "offset": line_offset + exc.pos},
    )


def _rows_table(rows: list[Any], where: list[str]) -> pa.Table:
    """Parsed records into columns (union of keys in first-seen order); a column whose values Arrow
    cannot type together is read as text, so validation rejects the odd rows alone. ``where`` names each
    row for messages (``line 3``, ``record 3``)."""
    columns: dict[str, list[Any]] = {}
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InvalidInputError(f"{where[i]} is not a JSON object", field="body")
        for k, v in row.items():
            if isinstance(v, dict | list):
                kind = "an object" if isinstance(v, dict) else "an array"
                raise InvalidInputError(
                    f"field {k!r} holds {kind} at {where[i]}: readings and events are flat records",
                    field=k,
                )
            col = columns.get(k)
            if col is None:
                col = columns[k] = [None] * i
            col.append(v)
        for col in columns.values():
            if len(col) < i + 1:
                col.append(None)
    arrays: dict[str, pa.Array] = {}
    for k, vals in columns.items():
        try:
            arrays[k] = pa.array(vals)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            arrays[k] = pa.array([None if v is None else str(v) for v in vals], type=pa.string())
    return pa.table(arrays)


def flat_columns(table: pa.Table) -> pa.Table:
    """Unique names and flat scalar columns, or `InvalidInputError` naming the column at fault.

    Kept: null, boolean, integer, floating, string, timestamp. Converted: dictionary (decoded unless its
    values are strings), binary (must be UTF-8), decimal (to float64), date (to timestamp). Refused:
    nested (list, struct, map, union) and every other type."""
    try:
        names = table.column_names
    except UnicodeDecodeError as exc:  # a CSV header or Arrow schema with non-UTF-8 names
        raise InvalidInputError(f"column names must be UTF-8 text: {exc}", field="body") from exc
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InvalidInputError(f"column {name!r} appears more than once", field=name)
        seen.add(name)
    out = table
    for i, f in enumerate(table.schema):
        col = _flat(f.name, table.column(i), f.type)
        if col is not None:
            out = out.set_column(i, pa.field(f.name, col.type), col)
    return out


def _flat(name: str, col: pa.ChunkedArray, t: pa.DataType) -> pa.ChunkedArray | None:
    """The column converted to a kept type, None when it already is one."""
    if _kept(t) or (pa.types.is_dictionary(t) and _is_text(t.value_type)):
        return None
    if pa.types.is_dictionary(t) and _kept(t.value_type):
        return col.cast(t.value_type)
    try:
        if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
            return col.cast(pa.string())
        if pa.types.is_string_view(t):
            return col.cast(pa.string())
        if pa.types.is_decimal(t):
            return col.cast(pa.float64(), safe=False)
        if pa.types.is_date(t):
            return col.cast(pa.timestamp("s"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InvalidInputError(f"column {name!r} cannot be read as text: {exc}", field=name) from exc
    nested = pa.types.is_nested(t) or (pa.types.is_dictionary(t) and pa.types.is_nested(t.value_type))
    what = "nested values" if nested else "values"
    raise InvalidInputError(
        f"column {name!r} holds {what} of type {t}: readings and events are flat records of numbers, "
        "text and timestamps",
        field=name,
    )


def _is_text(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def _kept(t: pa.DataType) -> bool:
    return bool(
        pa.types.is_null(t)
        or pa.types.is_boolean(t)
        or pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or _is_text(t)
        or pa.types.is_timestamp(t)
    )
