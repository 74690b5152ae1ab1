"""Deterministic Houston-like weather: hourly air temperature and cloudiness, with scenario overlays.

Why a model and not a file: the system runs offline and must be reproducible for any date. The
temperature is a pure function of time (seasonal harmonic + diurnal harmonic + a smooth multi-day
"synoptic" anomaly whose phases come from the seed), so any window gives the same values whatever the
window's start, and generation in chunks agrees with generation in one piece.

Calibration (NOAA 1991-2020 climate normals, Houston Intercontinental, rounded): January mean daily
high ~17 °C / low ~6 °C, August high ~35 °C / low ~24 °C. Annual mean ~21 °C, coldest around 15 Jan.
Wind (10 m, hourly mean speed): NOAA normals for Houston Intercontinental give an annual mean of
about 7.5 mph (3.4 m/s), windiest in March-April (~9 mph, 4.0 m/s), calmest in August (~6 mph,
2.7 m/s); surface wind peaks in the mid-afternoon when the boundary layer mixes. These are rounded
figures quoted from memory of the normals, not checked against a stored copy. The model is for display
and context (the AMI load model does not use wind); scenario overlays do not change it.
Scenario overlays: a heat wave (+Δ °C for some days) and a winter storm shaped on February 2021, when
Houston fell to about -10 °C (13 °F on 16 Feb 2021, NWS Houston/Galveston).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from fluxops.core.errors import InvalidInputError

SCENARIO_KINDS: tuple[str, ...] = ("heat_wave", "winter_storm")

_DAY_S = 86_400.0
_YEAR_S = 365.2425 * _DAY_S
# 15 Jan 00:00 UTC of 1970 as a reference phase (day 14 of the year); the seasonal minimum.
_COLDEST_PHASE_S = 14.5 * _DAY_S


@dataclass(frozen=True)
class WeatherScenario:
    """An overlay on the base climate. ``delta_c``: heat wave peak excess (°C, > 0); for a winter storm the
    target minimum temperature (°C) reached mid-event."""

    kind: str
    start_utc: datetime
    days: float
    delta_c: float

    def __post_init__(self) -> None:
        if self.kind not in SCENARIO_KINDS:
            raise InvalidInputError(f"unknown weather scenario {self.kind!r}", field="kind")
        if self.start_utc.tzinfo is None:
            raise InvalidInputError("scenario start must be tz-aware UTC", field="start_utc")
        if not 0 < self.days <= 60:
            raise InvalidInputError("scenario days must be in (0, 60]", field="days")


@dataclass(frozen=True)
class WeatherParams:
    """Climate of the service area. Defaults: Houston (see module docstring for the sources)."""

    seed: int = 0
    annual_mean_c: float = 21.0
    seasonal_amplitude_c: float = 8.8  # Aug mean ~29.5 °C, Jan mean ~11.5 °C
    diurnal_amplitude_summer_c: float = 5.2  # half the daily range (Aug: 35 - 24 = 11 °C)
    diurnal_amplitude_winter_c: float = 5.5  # Jan: 17 - 6 = 11 °C
    warmest_local_hour: float = 15.5  # daily maximum mid-afternoon
    utc_offset_h: float = -6.0  # Houston standard time; the diurnal phase only (DST is a load matter)
    synoptic_amplitude_c: float = 3.0  # fronts and warm spells, larger in winter
    wind_mean_m_s: float = 3.4  # annual mean 10 m wind speed (~7.5 mph)
    wind_seasonal_amplitude_m_s: float = 0.65  # 4.0 m/s 1 April, 2.7 m/s 1 October (normals: August)
    wind_diurnal_share: float = 0.3  # afternoon maximum +30 %, pre-dawn minimum -30 %
    scenarios: tuple[WeatherScenario, ...] = field(default_factory=tuple)


def _synoptic(t_s: npt.NDArray[np.float64], params: WeatherParams) -> npt.NDArray[np.float64]:
    """A smooth anomaly (°C) with periods of 2.5-12 days; phases from the seed, pure in t."""
    rng = np.random.default_rng([params.seed, 7_919])
    periods_d = np.array([2.5, 3.7, 5.3, 7.9, 12.0])
    phases = rng.uniform(0.0, 2.0 * np.pi, size=periods_d.size)
    weights = rng.uniform(0.6, 1.0, size=periods_d.size)
    weights = weights / np.sqrt(np.sum(weights**2))
    arg = 2.0 * np.pi * t_s[:, None] / (periods_d[None, :] * _DAY_S) + phases[None, :]
    out: npt.NDArray[np.float64] = (np.sin(arg) * weights[None, :]).sum(axis=1) * np.sqrt(2.0)
    return out


def _window(t_s: npt.NDArray[np.float64], start_s: float, days: float) -> npt.NDArray[np.float64]:
    """0..1..0 smooth bump over [start, start+days] (sin² ramp), 0 outside."""
    x = (t_s - start_s) / (days * _DAY_S)
    inside = (x >= 0.0) & (x <= 1.0)
    out: npt.NDArray[np.float64] = np.where(inside, np.sin(np.pi * np.clip(x, 0.0, 1.0)) ** 2, 0.0)
    return out


def temperature_c(t_utc_s: npt.NDArray[np.int64], params: WeatherParams) -> npt.NDArray[np.float64]:
    """Air temperature (°C) at the given instants (seconds since the Unix epoch, UTC)."""
    t = np.asarray(t_utc_s, dtype=np.float64)
    season = -np.cos(2.0 * np.pi * (t - _COLDEST_PHASE_S) / _YEAR_S)  # -1 mid-Jan, +1 mid-Jul
    summer_w = (season + 1.0) / 2.0
    amp_d = params.diurnal_amplitude_summer_c * summer_w + params.diurnal_amplitude_winter_c * (1 - summer_w)
    local_h = ((t / 3600.0) + params.utc_offset_h) % 24.0
    diurnal = np.cos(2.0 * np.pi * (local_h - params.warmest_local_hour) / 24.0)
    # Winter fronts are stronger than summer anomalies on the Gulf coast.
    syn_amp = params.synoptic_amplitude_c * (1.0 + 0.6 * (1.0 - summer_w))
    # Seasonal lag: the warmest month is August, ~3 weeks after the solstice; the phase above places the
    # maximum in mid-July, so shift by 21 days.
    season_lagged = -np.cos(2.0 * np.pi * (t - _COLDEST_PHASE_S - 21 * _DAY_S) / _YEAR_S)
    temp = (
        params.annual_mean_c
        + params.seasonal_amplitude_c * season_lagged
        + amp_d * diurnal
        + syn_amp * _synoptic(t, params)
    )
    for sc in params.scenarios:
        w = _window(t, sc.start_utc.timestamp(), sc.days)
        if sc.kind == "heat_wave":
            temp = temp + sc.delta_c * w
        else:  # winter_storm: pull the daily mean down to the target, keep a damped diurnal swing
            storm_mean = sc.delta_c + 2.0
            temp = temp * (1.0 - w) + (storm_mean + 0.5 * amp_d * diurnal) * w
    out: npt.NDArray[np.float64] = temp
    return out


_WINDIEST_PHASE_S = 91.0 * _DAY_S  # 1 April


def wind_speed_m_s(t_utc_s: npt.NDArray[np.int64], params: WeatherParams) -> npt.NDArray[np.float64]:
    """Hourly mean wind speed (m/s, 10 m) at the given instants: seasonal + diurnal + a synoptic
    anomaly (seeded, pure in t), never negative."""
    t = np.asarray(t_utc_s, dtype=np.float64)
    season = np.cos(2.0 * np.pi * (t - _WINDIEST_PHASE_S) / _YEAR_S)
    mean = params.wind_mean_m_s + params.wind_seasonal_amplitude_m_s * season
    local_h = ((t / 3600.0) + params.utc_offset_h) % 24.0
    diurnal = np.cos(2.0 * np.pi * (local_h - params.warmest_local_hour) / 24.0)
    rng = np.random.default_rng([params.seed, 15_485_863])
    periods_d = np.array([1.7, 3.1, 6.3])
    phases = rng.uniform(0.0, 2.0 * np.pi, size=periods_d.size)
    syn = np.sin(2.0 * np.pi * t[:, None] / (periods_d[None, :] * _DAY_S) + phases[None, :]).mean(axis=1)
    out: npt.NDArray[np.float64] = np.maximum(
        mean * (1.0 + params.wind_diurnal_share * diurnal + 0.35 * syn), 0.0
    )
    return out


def cloud_fraction(t_utc_s: npt.NDArray[np.int64], params: WeatherParams) -> npt.NDArray[np.float64]:
    """Cloud cover 0..1 (smooth, pure in t), used to derate PV output."""
    t = np.asarray(t_utc_s, dtype=np.float64)
    rng = np.random.default_rng([params.seed, 104_729])
    periods_d = np.array([1.3, 2.9, 4.1])
    phases = rng.uniform(0.0, 2.0 * np.pi, size=periods_d.size)
    s = np.sin(2.0 * np.pi * t[:, None] / (periods_d[None, :] * _DAY_S) + phases[None, :]).mean(axis=1)
    out: npt.NDArray[np.float64] = np.clip(0.35 + 0.55 * s, 0.0, 1.0)
    return out


def hourly_temperature_c(
    start_utc: datetime, hours: int, params: WeatherParams
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Hour starts (epoch seconds) and temperatures for ``hours`` hours from ``start_utc`` (floored)."""
    if start_utc.tzinfo is None:
        raise InvalidInputError("start must be tz-aware UTC", field="start_utc")
    if not 0 < hours <= 24 * 366 * 5:
        raise InvalidInputError("hours must be in 1..43920", field="hours")
    t0 = int(start_utc.timestamp()) // 3600 * 3600
    t = t0 + 3600 * np.arange(hours, dtype=np.int64)
    return t, temperature_c(t, params)
