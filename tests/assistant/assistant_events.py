"""Reading the engine's event stream in tests."""

from __future__ import annotations

from typing import Any


def answer_of(events: Any) -> dict[str, Any]:
    """The one ``answer`` event's data."""
    out = [e for e in events if e["event"] == "answer"]
    assert len(out) == 1
    data: dict[str, Any] = out[0]["data"]
    return data
