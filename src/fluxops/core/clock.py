"""Time source. Everything time-stamped uses tz-aware UTC; the simulator may swap in an accelerated clock."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
