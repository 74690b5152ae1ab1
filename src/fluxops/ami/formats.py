"""Wire formats of AMI batches: NDJSON, CSV and Arrow IPC (stream or file), chosen by content type.

Shared by the HTTP routes and the MQTT subscriber. A body that cannot be parsed at all raises
`InvalidInputError` naming ``body`` (or ``content-type``); a body that parses but holds a malformed value
in some row is read leniently (as text) so that validation rejects that row alone, with its reason.
"""

from __future__ import annotations

import io
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson

from fluxops.core.errors import InvalidInputError

ARROW_STREAM_MEDIA_TYPE = "application/vnd.apache.arrow.stream"
ARROW_FILE = "application/vnd.apache.arrow.file"
NDJSON_TYPES = {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/json-lines"}
CSV_TYPES = {"text/csv", "application/csv"}


def sniff_content_type(body: bytes) -> str:
    """For transports without a content type (MQTT 3.1.1): Arrow IPC streams start with 0xFFFFFFFF."""
    if body[:4] == b"\xff\xff\xff\xff":
        return ARROW_STREAM_MEDIA_TYPE
    if body[:6] == b"ARROW1":
        return ARROW_FILE
    return "application/x-ndjson"


def parse_table(content_type: str, body: bytes) -> pa.Table:
    """NDJSON, CSV or Arrow IPC (stream or file) into a table, chosen by Content-Type."""
    ct = content_type.split(";")[0].strip().lower()
    if not body:
        raise InvalidInputError("the request body is empty", field="body")
    try:
        if ct == ARROW_STREAM_MEDIA_TYPE:
            return pa.ipc.open_stream(pa.BufferReader(body)).read_all()
        if ct == ARROW_FILE:
            return pa.ipc.open_file(pa.BufferReader(body)).read_all()
        if ct in CSV_TYPES:
            try:
                return pacsv.read_csv(io.BytesIO(body))
            except pa.ArrowInvalid:  # a malformed value: read as text, validation reports the row
                names = pacsv.read_csv(io.BytesIO(body), read_options=pacsv.ReadOptions()).column_names
                opts = pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()))
                return pacsv.read_csv(io.BytesIO(body), convert_options=opts)
        if ct in NDJSON_TYPES or ct == "application/json":
            if body.lstrip()[:1] == b"[":
                return pa.Table.from_pylist(orjson.loads(body))
            try:
                return pajson.read_json(io.BytesIO(body))
            except pa.ArrowInvalid:  # a value of the wrong type: parse leniently, validation reports it
                rows = [orjson.loads(line) for line in body.splitlines() if line.strip()]
                return pa.Table.from_pylist([{k: _text(v) for k, v in r.items()} for r in rows])
    except (pa.ArrowInvalid, orjson.JSONDecodeError, ValueError, TypeError, AttributeError) as exc:
        raise InvalidInputError(f"cannot parse the {ct} body: {exc}", field="body") from exc
    raise InvalidInputError(
        f"unsupported Content-Type {ct!r}: use application/x-ndjson, text/csv or {ARROW_STREAM_MEDIA_TYPE}",
        field="content-type",
    )


def _text(v: Any) -> Any:
    return None if v is None else str(v)
