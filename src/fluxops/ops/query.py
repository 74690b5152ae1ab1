"""Parsing of outage-query parameters shared by the API and the CLI (one set of rules, one message)."""

from __future__ import annotations

from datetime import UTC, datetime

from fluxops.core.errors import InvalidInputError
from fluxops.grid.query import parse_choices
from fluxops.ops.models import OUTAGE_STATUSES

# Operator words for groups of outage states.
STATUS_ALIASES: dict[str, tuple[str, ...]] = {"active": ("proposed", "confirmed"), "history": ("restored",)}


def parse_time(value: str | None, field: str) -> datetime | None:
    """An ISO 8601 time (``Z`` accepted; a naive time is taken as UTC), or None."""
    if value is None:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(f"{field} must be an ISO 8601 time, got {value!r}", field=field) from None
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def parse_statuses(value: str | None) -> tuple[str, ...] | None:
    """A comma list of outage states or the aliases ``active`` / ``history``, or None."""
    if value is None:
        return None
    items: list[str] = []
    for part in value.split(","):
        p = part.strip()
        items += list(STATUS_ALIASES.get(p, (p,))) if p else []
    return parse_choices(",".join(items), allowed=OUTAGE_STATUSES, field="status")
