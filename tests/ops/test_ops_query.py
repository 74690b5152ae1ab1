"""Outage-query parameters parse the same way for the API and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fluxops.core.errors import InvalidInputError
from fluxops.ops.query import parse_statuses, parse_time


def test_status_aliases_expand_and_unknown_status_names_the_field() -> None:
    assert parse_statuses(None) is None
    assert parse_statuses("active") == ("proposed", "confirmed")
    assert parse_statuses("history, merged") == ("restored", "merged")
    with pytest.raises(InvalidInputError) as err:
        parse_statuses("active,bogus")
    assert err.value.field == "status"


def test_times_are_utc_and_bad_times_name_the_field() -> None:
    assert parse_time(None, "since") is None
    assert parse_time("2026-01-02T03:04:05Z", "since") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_time("2026-01-02T03:04:05", "since") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with pytest.raises(InvalidInputError) as err:
        parse_time("yesterday", "until")
    assert err.value.field == "until"
