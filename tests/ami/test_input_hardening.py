"""Untrusted bodies (issue 8 §2, §3): nesting bounded before any parser, nested or duplicate columns
refused naming the field, malformed JSON located, timestamps outside the accepted window rejected per
record; and no byte string makes parsing or validation raise anything but `InvalidInputError`."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fluxops.ami.formats import ARROW_FILE, ARROW_STREAM_MEDIA_TYPE, ParseLimits, parse_table
from fluxops.ami.jsonscan import json_nesting
from fluxops.ami.validation import MeterRegistry, TimeWindow, validate_events, validate_readings
from fluxops.core.errors import InvalidInputError, PayloadTooLargeError
from strategies import ami_arrow_tables, ami_ndjson_bodies

NOW = datetime(2026, 3, 2, tzinfo=UTC)
REG = MeterRegistry(["M1", "M2"])
NDJSON = "application/x-ndjson"
GOOD = b'{"meter_id": "M1", "interval_start_utc": "2026-03-01T00:15:00Z", "kwh_delivered": 0.5}\n'


def _ipc(t: pa.Table, *, file: bool = False) -> bytes:
    sink = pa.BufferOutputStream()
    with (pa.ipc.new_file if file else pa.ipc.new_stream)(sink, t.schema) as w:
        w.write_table(t)
    return bytes(sink.getvalue().to_pybytes())


def _refused(ctype: str, body: bytes) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as exc:
        parse_table(ctype, body)
    return exc.value


def test_deep_nesting_is_refused_before_parsing_with_its_place() -> None:
    n = 20_000  # 40 KB: overflowed the Arrow JSON reader's native stack (SIGSEGV) before the scan
    body = GOOD + b'{"meter_id": ' + b"[" * n + b"]" * n + b"}\n"
    err = _refused(NDJSON, body)
    assert err.field == "body" and err.details["line"] == 2 and "nested" in err.message
    assert err.details["offset"] == len(GOOD) + 13 + n - 1  # the deepest bracket
    assert f"nested {n + 1} deep at line 2, character {13 + n}" in err.message
    array = b"[" + b"\n[" * 5_000 + b"]" * 5_000 + b"]"  # one bracket a line: depth carries across lines
    assert _refused("application/json", array).field == "body"


def test_brackets_inside_strings_do_not_count() -> None:
    body = b'{"meter_id": "M1 [[[[[[[[[[[[[[\\"[[[[[[[[[[", "interval_start_utc": "2026-03-01T00:15:00Z"}\n'
    assert json_nesting(body, per_line=True).depth == 1
    assert parse_table(NDJSON, body).column_names == ["meter_id", "interval_start_utc"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (GOOD + b'{"meter_id": "M2", "kwh_delivered": {"value": 1}}\n', "kwh_delivered"),
        (GOOD + b'{"meter_id": "M2", "voltage_v": [120, 121]}\n', "voltage_v"),
        (b'{"meter_id": {"id": "M1"}}\n', "meter_id"),  # the same type in every row: Arrow reads a struct
        (b'[{"meter_id": "M1", "quality": ["valid"]}]', "quality"),
    ],
)
def test_object_and_array_values_name_the_field(body: bytes, field: str) -> None:
    err = _refused(NDJSON if body[:1] == b"{" else "application/json", body)
    assert err.field == field and field in err.message


def test_malformed_json_names_line_and_character() -> None:
    body = GOOD + GOOD + b'{"meter_id": "M1", "kwh_delivered": 0.5,, "x": 1}\n'
    err = _refused(NDJSON, body)
    assert err.field == "body"
    assert (err.details["line"], err.details["column"]) == (3, 41)  # the second comma
    assert err.details["offset"] == 2 * len(GOOD) + 40
    assert "line 3, character 41" in err.message


def test_csv_duplicate_columns_and_truncated_rows_are_refused() -> None:
    assert _refused("text/csv", b"meter_id,meter_id,kwh_delivered\nM1,M2,0.5\n").field == "meter_id"
    assert _refused("text/csv", b"meter_id,kwh_delivered\nM1,0.5\nM2\n").field == "body"
    assert _refused("text/csv", b"meter_id,kwh_delivered\n\xff\xfe,0.5\n").field == "meter_id"  # not UTF-8
    assert _refused("text/csv", b"meter_id,\x80\n1,2\n").field == "body"  # a name not UTF-8


def test_arrow_nested_duplicate_and_truncated_are_refused() -> None:
    listed = pa.table({"meter_id": ["M1"], "kwh_delivered": pa.array([[0.5]], pa.list_(pa.float64()))})
    assert _refused(ARROW_STREAM_MEDIA_TYPE, _ipc(listed)).field == "kwh_delivered"
    struct = pa.table({"meter_id": pa.array([{"a": "M1"}])})
    assert _refused(ARROW_FILE, _ipc(struct, file=True)).field == "meter_id"
    dup = pa.Table.from_arrays([pa.array(["M1"]), pa.array(["M2"])], names=["meter_id", "meter_id"])
    assert _refused(ARROW_STREAM_MEDIA_TYPE, _ipc(dup)).field == "meter_id"
    whole = _ipc(pa.table({"meter_id": ["M1"] * 1000, "kwh_delivered": [0.5] * 1000}))
    assert _refused(ARROW_STREAM_MEDIA_TYPE, whole[: len(whole) // 2]).field == "body"


def test_arrow_nanoseconds_and_huge_epochs_are_validated_not_crashed() -> None:
    ts = pa.array([1_772_324_100_000_000_123, 2**62], pa.int64()).cast(pa.timestamp("ns", tz="UTC"))
    t = pa.table({"meter_id": ["M1", "M2"], "interval_start_utc": ts, "kwh_delivered": [0.5, 0.5]})
    v = validate_readings(parse_table(ARROW_STREAM_MEDIA_TYPE, _ipc(t)), REG, NOW)
    assert v.table.num_rows == 1 and v.rejected_count == 1
    secs = pa.table({"meter_id": ["M1"], "interval_start_utc": [2**62], "kwh_delivered": [0.5]})
    assert validate_readings(secs, REG, NOW).rejections[0].reason == "unparseable interval_start_utc"


def test_the_size_limit_applies_before_parsing() -> None:
    with pytest.raises(PayloadTooLargeError) as exc:
        parse_table(NDJSON, GOOD * 10, ParseLimits(max_bytes=len(GOOD) * 2))
    assert exc.value.details["limit_bytes"] == len(GOOD) * 2


@pytest.mark.parametrize(
    ("ctype", "body"),
    [
        ("text/csv", b"meter_id,interval_start_utc,kwh_delivered\nM1,0001-01-01T00:00:00Z,0.5\n"),
        (NDJSON, b'{"meter_id": "M1", "interval_start_utc": "0001-01-01T00:00:00Z", "kwh_delivered": 0.5}\n'),
        (NDJSON, b'{"meter_id": "M1", "interval_start_utc": "1999-12-31T23:45:00Z", "kwh_delivered": 0.5}\n'),
    ],
)
def test_readings_before_the_window_are_rejected_with_the_reason(ctype: str, body: bytes) -> None:
    good = b"M2,2026-03-01T00:15:00Z,0.5\n" if ctype == "text/csv" else GOOD.replace(b"M1", b"M2")
    v = validate_readings(parse_table(ctype, body + good), REG, NOW)
    assert v.table.num_rows == 1 and v.rejected_count == 1
    assert (
        v.rejections[0].reason
        == "interval_start_utc before 2000-01-01T00:00:00Z (outside the accepted window)"
    )


def test_event_window_is_configurable() -> None:
    t = pa.table(
        {
            "meter_id": ["M1", "M1", "M2"],
            "event_type": ["tamper", "tamper", "tamper"],
            "event_time_utc": ["2019-06-01T00:00:00Z", "2021-06-01T00:00:00Z", "0001-01-01T00:00:00Z"],
        }
    )
    window = TimeWindow(earliest_utc=datetime(2020, 1, 1, tzinfo=UTC))
    v = validate_events(parse_table("text/csv", _csv(t)), REG, NOW, window)
    assert v.table.num_rows == 1
    assert {r.row: r.reason for r in v.rejections} == {
        0: "event_time_utc before 2020-01-01T00:00:00Z (outside the accepted window)",
        2: "event_time_utc before 2020-01-01T00:00:00Z (outside the accepted window)",
    }


def _csv(t: pa.Table) -> bytes:
    import pyarrow.csv as pacsv

    out = io.BytesIO()
    pacsv.write_csv(t, out)
    return out.getvalue()


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CTYPES = st.sampled_from([NDJSON, "application/json", "text/csv", ARROW_STREAM_MEDIA_TYPE, ARROW_FILE])
PREFIXES = st.sampled_from([b"", b"\xff\xff\xff\xff", b"ARROW1\x00\x00", b"[", b"{", b"meter_id,kwh\n"])


def _parse_and_validate(ctype: str, body: bytes) -> None:
    try:
        table = parse_table(ctype, body)
        validate_readings(table, REG, NOW)
        validate_events(table, REG, NOW)
    except InvalidInputError:
        pass  # the only error a body may cause


@FUZZ
@given(ctype=CTYPES, prefix=PREFIXES, body=st.binary(max_size=400))
def test_random_bytes_raise_nothing_but_invalid_input(ctype: str, prefix: bytes, body: bytes) -> None:
    _parse_and_validate(ctype, prefix + body)


@FUZZ
@given(body=ami_ndjson_bodies())
def test_random_records_raise_nothing_but_invalid_input(body: bytes) -> None:
    _parse_and_validate(NDJSON, body)
    _parse_and_validate("application/json", b"[" + body.strip().replace(b"\n", b",") + b"]")


@FUZZ
@given(table=ami_arrow_tables(), file=st.booleans())
def test_random_arrow_tables_raise_nothing_but_invalid_input(table: pa.Table, file: bool) -> None:
    _parse_and_validate(ARROW_FILE if file else ARROW_STREAM_MEDIA_TYPE, _ipc(table, file=file))


def test_unsigned_values_above_int64_are_rejected_rows() -> None:
    big = pa.array([2**64 - 1], pa.uint64())
    t = pa.table({"meter_id": ["M1"], "interval_start_utc": big, "kwh_delivered": big})
    assert validate_readings(t, REG, NOW).rejections[0].reason == "unparseable interval_start_utc"
