"""``GET /api/weather``: hourly air temperature, wind and cloud cover from the weather model.

The values come from `fluxops.ami.weather` with the parameters the AMI analytics use (the seed and
scenario overlays a backfill recorded), so the temperature shown next to a transformer's load is the
ambient its C57.91 hot spot was computed with. No observations are ingested: every row says
``source: "model"``. Units are in the field names.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from fastapi import APIRouter, Depends, Query, Request

from fluxops.ami.weather import (
    WeatherParams,
    cloud_fraction,
    hourly_temperature_c,
    temperature_c,
    wind_speed_m_s,
)
from fluxops.api.params import BoundedDateTime
from fluxops.api.security import require_role
from fluxops.core.clock import utc_now
from fluxops.core.errors import InvalidInputError

router = APIRouter(prefix="/api", tags=["weather"], dependencies=[Depends(require_role("viewer"))])

MAX_HOURS = 24 * 366  # one (leap) year of hours per request
DEFAULT_BACK_H = 48
DEFAULT_AHEAD_H = 24
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2099, 12, 31, tzinfo=UTC)


def weather_params(request: Request) -> WeatherParams:
    """The weather the AMI analytics run with (a backfill's recorded seed and overlays), else defaults."""
    ami = getattr(request.app.state, "ami", None)
    params = getattr(getattr(ami, "analytics", None), "params", None)
    weather = getattr(params, "weather", None)
    return weather if isinstance(weather, WeatherParams) else WeatherParams()


def _utc(value: datetime, field: str) -> datetime:
    t = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    t = t.astimezone(UTC)
    if not EARLIEST <= t <= LATEST:
        raise InvalidInputError(f"{field} must lie in {EARLIEST:%Y-%m-%d} .. {LATEST:%Y-%m-%d}", field=field)
    return t


def weather_rows(params: WeatherParams, start: datetime, hours: int) -> list[dict[str, Any]]:
    """One row per hour from ``start`` (floored); values at the hour's midpoint, as the C57.91
    ambient of that hour is taken (`fluxops.ami.analytics`, `fluxops.cascade.risk`)."""
    t, _ = hourly_temperature_c(start, hours, params)
    mid = t + 1800
    temp = temperature_c(mid, params)
    wind = wind_speed_m_s(mid, params)
    cloud = cloud_fraction(mid, params)
    return [
        {
            "hour_utc": datetime.fromtimestamp(int(ts), UTC).isoformat().replace("+00:00", "Z"),
            "temperature_c": round(float(tc), 2),
            "temperature_f": round(float(tc) * 9.0 / 5.0 + 32.0, 1),
            "wind_speed_m_s": round(float(w), 2),
            "cloud_fraction": round(float(c), 3),
            "source": "model",
        }
        for ts, tc, w, c in zip(t.tolist(), temp.tolist(), wind.tolist(), cloud.tolist(), strict=True)
    ]


@router.get("/weather", summary="Hourly temperature, wind and cloud cover (weather model) for a window")
def get_weather(
    request: Request,
    start: BoundedDateTime | None = Query(
        None, description=f"Window start, ISO 8601 (no offset: UTC); default now - {DEFAULT_BACK_H} h"
    ),
    end: BoundedDateTime | None = Query(
        None, description=f"Window end (exclusive), ISO 8601; default now + {DEFAULT_AHEAD_H} h"
    ),
) -> dict[str, Any]:
    now = utc_now()
    t0 = _utc(start, "start") if start is not None else now - timedelta(hours=DEFAULT_BACK_H)
    t1 = _utc(end, "end") if end is not None else now + timedelta(hours=DEFAULT_AHEAD_H)
    t0 = t0.replace(minute=0, second=0, microsecond=0)
    if t1 <= t0:
        raise InvalidInputError("end must be after start", field="end")
    hours = int(np.ceil((t1 - t0).total_seconds() / 3600.0))
    if hours > MAX_HOURS:
        raise InvalidInputError(
            f"the window is {hours} hours; at most {MAX_HOURS} per request",
            field="end",
            details={"max_hours": MAX_HOURS},
        )
    params = weather_params(request)
    return {
        "source": "model",
        "model": {
            "seed": params.seed,
            "scenarios": [
                {
                    "kind": sc.kind,
                    "start_utc": sc.start_utc.isoformat(),
                    "days": sc.days,
                    "delta_c": sc.delta_c,
                }
                for sc in params.scenarios
            ],
        },
        "start_utc": t0.isoformat(),
        "hours": hours,
        "rows": weather_rows(params, t0, hours),
    }
