"""Shared, bounded request-parameter types: what a route accepts is what its OpenAPI says.

Each type validates and documents the same rule (pattern, bounds), so a value outside it is a 422 that
names the parameter (`fluxops.api.errors`) instead of an overflow deep in a query (``0001-01-01`` minus a
day, ``9999-12-31`` plus one, an ``OFFSET`` past 64 bits, an ``inf`` budget).

* `BoundedDate` / `BoundedDateTime`: calendar dates and ISO 8601 times in 2000-01-01 .. 2099-12-31 (the
  years a utility's records and plans can hold; the ``20YY`` pattern is the bound, so clients read it
  from the schema). A time without an offset is taken as UTC; every time is handed on in UTC (a
  ``+10:29`` start next to a ``Z`` end made pandas refuse the period: a 500).
* `Offset`, `FiniteFloat`, and the id / comma-list patterns used by the routes.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

from fluxops.grid.ports import MAX_PAGE_SIZE
from fluxops.grid.query import MAX_ID_CHARS

MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2099, 12, 31)
MAX_OFFSET = 2**31 - 1  # rows to skip; far past any table this product holds, far below DuckDB's BIGINT
MAX_FLOAT = 1e15  # money (USD), kW, hours: anything larger is not an input, it is an overflow waiting

# Exactly the calendar days of 2000-2099 (days 29-31 by month; 29 February in leap years, 2000 included),
# so a client generating from the pattern never sends a day the server refuses.
_YMD = (
    r"(20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
    r"|20[0-9]{2}-(0[13-9]|1[0-2])-(29|30)"
    r"|20[0-9]{2}-(0[13578]|1[02])-31"
    r"|20([02468][048]|[13579][26])-02-29)"
)
DATE_PATTERN = rf"^{_YMD}$"
_HMS = r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
_TZ = r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?"
DATETIME_PATTERN = rf"^{_YMD}T{_HMS}{_TZ}$"
ID_PATTERN = r"^[^\s\x00-\x1f\x7f-\x9f]+$"  # no blanks or controls: every id we issue (SUB-0001, fx_…)
"""Ids: what `fluxops.grid.query.parse_id` accepts, minus surrounding blanks (never in our ids)."""


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, str):
        text = value
    else:
        raise ValueError(f"must be a date YYYY-MM-DD, got {value!r}")
    if not re.fullmatch(DATE_PATTERN, text):
        raise ValueError(f"must be a date YYYY-MM-DD between {MIN_DATE} and {MAX_DATE}, got {text[:40]!r}")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a calendar date") from None


def _datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        text = value.isoformat()
    elif isinstance(value, str):
        text = value
    else:
        raise ValueError(f"must be an ISO 8601 time, got {value!r}")
    if not re.fullmatch(DATETIME_PATTERN, text):
        raise ValueError(
            f"must be an ISO 8601 time YYYY-MM-DDThh:mm[:ss][Z|±hh:mm] between {MIN_DATE} and "
            f"{MAX_DATE}, got {text[:40]!r}"
        )
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not a calendar time") from None
    return t.astimezone(UTC) if t.tzinfo is not None else t.replace(tzinfo=UTC)


BoundedDate = Annotated[
    date,
    BeforeValidator(_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DATE_PATTERN}),
]
"""A calendar date ``YYYY-MM-DD`` between `MIN_DATE` and `MAX_DATE`."""

BoundedDateTime = Annotated[
    datetime,
    BeforeValidator(_datetime),
    WithJsonSchema({"type": "string", "pattern": DATETIME_PATTERN}),
]
"""An ISO 8601 time between `MIN_DATE` and `MAX_DATE`, as tz-aware UTC (no offset means UTC)."""


def _integral(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


JsonInt = Annotated[int, BeforeValidator(_integral)]
"""An integer body field in a strict model: JSON Schema's integer (``5``, ``5.0``), never ``"5"`` or true."""

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
"""A float that is neither NaN nor ±inf."""


def finite(
    *, ge: float | None = None, gt: float | None = None, le: float | None = None, lt: float | None = None
) -> Any:
    """A bounded, finite float type for a body field (bounds in the schema)."""
    return Annotated[float, Field(allow_inf_nan=False, ge=ge, gt=gt, le=le, lt=lt)]


IdText = Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS, pattern=ID_PATTERN)]
"""An element / record id as a body field."""


def choices_pattern(allowed: tuple[str, ...] | list[str]) -> str:
    """The pattern of a comma list of ``allowed`` words (``a,b``), as the routes accept it."""
    alt = "|".join(re.escape(a) for a in allowed)
    return rf"^({alt})(,({alt}))*$"


def id_query(description: str = "An element id", *, alias: str | None = None, required: bool = False) -> Any:
    """An id filter (optional unless ``required``): non-empty, no blanks, at most `MAX_ID_CHARS` chars."""
    return Query(
        ... if required else None,
        alias=alias,
        min_length=1,
        max_length=MAX_ID_CHARS,
        pattern=ID_PATTERN,
        description=description,
    )


def one_of_query(allowed: tuple[str, ...] | list[str], description: str, default: str | None = None) -> Any:
    """One word out of ``allowed`` (enumerated in the schema)."""
    alt = "|".join(re.escape(a) for a in allowed)
    return Query(default, pattern=rf"^({alt})$", description=f"{description}: one of {', '.join(allowed)}")


def id_path(description: str = "An id") -> Any:
    """An id in the path (same rule as `id_query`)."""
    return Path(..., min_length=1, max_length=MAX_ID_CHARS, pattern=ID_PATTERN, description=description)


def choices_query(allowed: tuple[str, ...] | list[str], description: str) -> Any:
    """An optional comma list of ``allowed`` words, e.g. ``status=open,assigned``."""
    return Query(None, pattern=choices_pattern(allowed), description=f"{description} (comma list)")


BBOX_PATTERN = r"^-?[0-9]{1,3}(\.[0-9]+)?(,-?[0-9]{1,3}(\.[0-9]+)?){3}$"


def bbox_query() -> Any:
    return Query(
        None,
        pattern=BBOX_PATTERN,
        description="minLon,minLat,maxLon,maxLat (WGS84 degrees; lon in [-180, 180], lat in [-90, 90], "
        "min <= max)",
    )


def offset_query() -> Any:
    return Query(0, ge=0, le=MAX_OFFSET, description=f"Rows to skip (at most {MAX_OFFSET})")


def page_limit_query(maximum: int = MAX_PAGE_SIZE, default: int | None = None) -> Any:
    return Query(default, ge=1, le=maximum, description=f"Page size, at most {maximum}")


def one_of(allowed: tuple[str, ...]) -> Any:
    """A body-field type: one word out of ``allowed``, enumerated in the schema."""

    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return value

    return Annotated[str, AfterValidator(check), WithJsonSchema({"type": "string", "enum": list(allowed)})]


def one_of_path(allowed: tuple[str, ...] | list[str], description: str) -> Any:
    """A path segment that is one word out of ``allowed``."""
    alt = "|".join(re.escape(a) for a in allowed)
    return Path(..., pattern=rf"^({alt})$", description=f"{description}: one of {', '.join(allowed)}")


Text = Annotated[str, Field(min_length=1, max_length=2000, pattern=r"[^\s\x1c-\x1f]")]
"""Free text that is not blank."""
