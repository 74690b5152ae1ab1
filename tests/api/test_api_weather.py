"""``GET /api/weather`` over real HTTP: hourly rows from the weather model, units in names, bounds."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import numpy as np
import pytest

from fluxops.ami.weather import WeatherParams, temperature_c, wind_speed_m_s


def test_window_rows_match_the_model(viewer: httpx.Client) -> None:
    r = viewer.get("/api/weather", params={"start": "2025-08-01T00:00:00Z", "end": "2025-08-03T00:00:00Z"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["source"] == "model" and body["hours"] == 48
    rows = body["rows"]
    assert len(rows) == 48
    assert rows[0]["hour_utc"] == "2025-08-01T00:00:00Z" and rows[-1]["hour_utc"] == "2025-08-02T23:00:00Z"
    assert set(rows[0]) == {
        "hour_utc",
        "temperature_c",
        "temperature_f",
        "wind_speed_m_s",
        "cloud_fraction",
        "source",
    }
    mid = int(datetime(2025, 8, 1, tzinfo=UTC).timestamp()) + 1800 + 3600 * np.arange(48)
    p = WeatherParams()
    assert [x["temperature_c"] for x in rows] == pytest.approx(temperature_c(mid, p), abs=0.01)
    assert [x["wind_speed_m_s"] for x in rows] == pytest.approx(wind_speed_m_s(mid, p), abs=0.01)
    assert rows[0]["temperature_f"] == pytest.approx(rows[0]["temperature_c"] * 1.8 + 32, abs=0.06)
    assert 20 < np.mean([x["temperature_c"] for x in rows]) < 38  # a Houston August


def test_default_window_and_csv_export(viewer: httpx.Client) -> None:
    r = viewer.get("/api/weather")
    assert r.status_code == 200 and r.json()["hours"] in (72, 73)
    csv = viewer.get(
        "/api/weather", params={"start": "2025-01-01T00:00:00", "end": "2025-01-01T06:00:00", "format": "csv"}
    )
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith('"hour_utc","temperature_c"')
    assert len(csv.text.splitlines()) == 7


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2025-01-02T00:00:00Z", "end": "2025-01-01T00:00:00Z"}, "end"),
        ({"start": "2020-01-01T00:00:00Z", "end": "2022-01-01T00:00:00Z"}, "end"),
        ({"start": "1990-01-01T00:00:00Z"}, "start"),
        ({"start": "yesterday"}, "start"),
        ({"from": "2025-01-01"}, "from"),
    ],
)
def test_bad_windows_are_named(viewer: httpx.Client, params: dict[str, str], field: str) -> None:
    r = viewer.get("/api/weather", params=params)
    assert r.status_code == 422, r.text
    assert r.json()["details"]["field"] == field
