"""The weather model's wind: calibrated means, afternoon maximum, pure in time, never negative."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from fluxops.ami.weather import WeatherParams, hourly_temperature_c, wind_speed_m_s


def _hours(start: datetime, n: int) -> np.ndarray:
    t, _ = hourly_temperature_c(start, n, WeatherParams())
    return t


def test_wind_means_follow_the_normals() -> None:
    p = WeatherParams()
    year = _hours(datetime(2025, 1, 1, tzinfo=UTC), 24 * 365)
    w = wind_speed_m_s(year, p)
    assert (w >= 0).all()
    assert abs(w.mean() - p.wind_mean_m_s) < 0.2
    april = wind_speed_m_s(_hours(datetime(2025, 4, 1, tzinfo=UTC), 24 * 30), p).mean()
    october = wind_speed_m_s(_hours(datetime(2025, 10, 1, tzinfo=UTC), 24 * 30), p).mean()
    assert april > october + 0.8


def test_wind_peaks_in_the_afternoon_and_is_pure_in_time() -> None:
    p = WeatherParams(seed=3)
    t = _hours(datetime(2025, 6, 1, tzinfo=UTC), 24 * 60)
    w = wind_speed_m_s(t, p)
    local_h = ((t // 3600) - 6) % 24
    assert w[local_h == 15].mean() > 1.3 * w[local_h == 4].mean()
    # any window gives the same values for the same instants
    np.testing.assert_array_equal(wind_speed_m_s(t[100:200], p), w[100:200])
    assert not np.array_equal(wind_speed_m_s(t, WeatherParams(seed=4)), w)
