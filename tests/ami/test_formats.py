"""Body formats: a malformed value in one row of CSV or NDJSON is parsed leniently so that validation
rejects that row alone; unknown content types and garbage are errors naming the field."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from fluxops.ami.formats import ARROW_STREAM_MEDIA_TYPE, parse_table, sniff_content_type
from fluxops.ami.validation import MeterRegistry, validate_readings
from fluxops.core.errors import InvalidInputError

NOW = datetime(2026, 3, 2, tzinfo=UTC)
REG = MeterRegistry(["M1", "M2"])


def test_csv_with_a_bad_number_rejects_only_that_row() -> None:
    body = (
        b"meter_id,interval_start_utc,kwh_delivered\n"
        b"M1,2026-03-01T00:00:00Z,0.5\n"
        b"M2,2026-03-01T00:00:00Z,abc\n"
    )
    v = validate_readings(parse_table("text/csv", body), REG, NOW)
    assert v.table.num_rows == 1 and v.rejections[0].reason == "missing or non-numeric kwh_delivered"


def test_ndjson_with_mixed_types_rejects_only_that_row() -> None:
    body = (
        b'{"meter_id": "M1", "interval_start_utc": "2026-03-01T00:15:00Z", "kwh_delivered": 0.5}\n'
        b'{"meter_id": "M2", "interval_start_utc": "2026-03-01T00:15:00Z", "kwh_delivered": "x"}\n'
    )
    v = validate_readings(parse_table("application/x-ndjson", body), REG, NOW)
    assert v.table.num_rows == 1 and v.rejections[0].row == 1


def test_json_array_and_arrow_and_sniffing() -> None:
    t = parse_table("application/json", b'[{"meter_id": "M1", "interval_start_utc": "2026-03-01T00:00:00Z"}]')
    assert t.num_rows == 1
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, t.schema) as w:
        w.write_table(t)
    body = bytes(sink.getvalue().to_pybytes())
    assert sniff_content_type(body) == ARROW_STREAM_MEDIA_TYPE
    assert parse_table(ARROW_STREAM_MEDIA_TYPE, body).equals(t)


@pytest.mark.parametrize(
    ("ctype", "body", "field"),
    [
        ("text/plain", b"x", "content-type"),
        ("application/x-ndjson", b"{oops", "body"),
        ("text/csv", b"", "body"),
    ],
)
def test_unparseable_bodies_name_the_field(ctype: str, body: bytes, field: str) -> None:
    with pytest.raises(InvalidInputError) as exc:
        parse_table(ctype, body)
    assert exc.value.field == field
