"""The shared parameter types: the pattern in the OpenAPI and the validation agree, day for day."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import TypeAdapter, ValidationError

from fluxops.api.params import (
    BBOX_PATTERN,
    DATE_PATTERN,
    DATETIME_PATTERN,
    ID_PATTERN,
    MAX_DATE,
    MIN_DATE,
    BoundedDate,
    BoundedDateTime,
    choices_pattern,
)


def test_the_date_pattern_is_exactly_the_calendar_of_2000_to_2099() -> None:
    valid = set()
    d = MIN_DATE
    while d <= MAX_DATE:
        valid.add(d.isoformat())
        d += timedelta(days=1)
    for y in (1999, 2000, 2023, 2024, 2099, 2100):
        for m in range(0, 14):
            for day in range(0, 33):
                text = f"{y}-{m:02d}-{day:02d}"
                assert bool(re.fullmatch(DATE_PATTERN, text)) == (text in valid), text


def test_bounded_date_accepts_the_range_and_names_the_bound() -> None:
    ta = TypeAdapter(BoundedDate)
    assert ta.validate_python("2024-02-29") == date(2024, 2, 29)
    for bad in (
        "0001-01-01",
        "9999-12-31",
        "1999-12-31",
        "2100-01-01",
        "2023-02-29",
        "20240101",
        "1700000000",
    ):
        with pytest.raises(ValidationError, match="2000-01-01"):
            ta.validate_python(bad)
    assert ta.json_schema()["pattern"] == DATE_PATTERN


def test_bounded_datetime_reads_iso_times_and_takes_naive_as_utc() -> None:
    ta = TypeAdapter(BoundedDateTime)
    assert ta.validate_python("2024-03-01T12:30Z") == datetime(2024, 3, 1, 12, 30, tzinfo=UTC)
    assert ta.validate_python("2024-03-01T12:30:15.5") == datetime(2024, 3, 1, 12, 30, 15, 500000, tzinfo=UTC)
    assert ta.validate_python("2024-03-01T12:30+02:00") == datetime(2024, 3, 1, 10, 30, tzinfo=UTC)
    assert ta.validate_python("2024-03-01T12:30+02:00").tzinfo is UTC
    for bad in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2024-03-01", "2024-13-01T00:00", "soon"):
        with pytest.raises(ValidationError):
            ta.validate_python(bad)
    assert re.fullmatch(DATETIME_PATTERN, "2024-03-01T12:30:15.123456-05:00")


def test_id_choices_and_bbox_patterns() -> None:
    assert re.fullmatch(ID_PATTERN, "FDR-0001-01") and re.fullmatch(ID_PATTERN, "fx_abc")
    for bad in ("", " FDR", "a b", "x\x00", "x\x85"):
        assert not re.fullmatch(ID_PATTERN, bad), repr(bad)
    pattern = choices_pattern(("open", "in_progress"))
    assert re.fullmatch(pattern, "open,in_progress") and not re.fullmatch(pattern, "open, in_progress")
    assert not re.fullmatch(pattern, "open,") and not re.fullmatch(pattern, "opened")
    assert re.fullmatch(BBOX_PATTERN, "-95.36123456789012,29.7,-95.3,29.8")
    assert not re.fullmatch(BBOX_PATTERN, "inf,0,1,1") and not re.fullmatch(BBOX_PATTERN, "1,2,3")


def test_strict_bodies_take_json_schema_integers() -> None:
    """``5.0`` is an integer to JSON Schema (clients generating from the OpenAPI send it); ``"5"`` and
    ``true`` are not, and a strict body refuses them."""
    from fluxops.api.routes.cascade import CascadeIn

    assert CascadeIn.model_validate_json('{"seed": 5.0, "crews": 3}').seed == 5
    for bad in ('{"seed": "5"}', '{"seed": true}', '{"seed": 5.5}'):
        with pytest.raises(ValidationError):
            CascadeIn.model_validate_json(bad)
