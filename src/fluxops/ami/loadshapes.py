"""Customer load shapes: kW per meter per interval from class, local time, day type, season and weather.

Why this form: an interval load is the sum of a behavioural (non-HVAC) part that follows local time and
day type, a cooling part driven by the building's lagged temperature above its set point, and a heating
part below it. The three parts are linear in per-meter coefficients, so each meter's annual mean can be
computed exactly from reference-year means (`ShapeNormalizer`) and every meter's expected annual energy
equals its customer's ``annual_kwh`` (Texas residential ~15,100 kWh/yr = ~1,262 kWh/month, EIA via
domain inventory §8). Summer peak lands at ~3-7 pm local because cooling follows the afternoon
temperature through a ~2 h building lag and people come home (PEC "power rush hour", inventory §8).

All functions are vectorized over (meters × intervals) and pure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from fluxops.ami.weather import WeatherParams, temperature_c

LOCAL_TZ = "America/Chicago"
CLASSES: tuple[str, ...] = ("residential", "commercial", "industrial")
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ShapeParams:
    """Class-level shape constants. Mean coefficients are shares of the annual mean load."""

    building_lag_h: float = 2.0  # thermal mass: indoor demand follows outdoor temperature ~2 h later
    # Balance points (outdoor temperature above which a building needs cooling), not thermostat
    # settings: internal and solar gains put a Houston home's balance point ~7 °C below its ~24 °C
    # thermostat, so its AC runs through August nights (lagged outdoor 26-29 °C). 22.5 °C before the
    # issue 9 calibration gave an overnight trough of 0.21 of the afternoon peak; see docs/ami.md §2.1.
    # Commercial 13 °C, industrial 16 °C: high internal gains (were 21 °C, which made C&I peaks 1.3-1.9×
    # their design peak).
    cool_setpoint_c: tuple[float, float, float] = (16.5, 13.0, 16.0)
    heat_setpoint_c: tuple[float, float, float] = (14.0, 12.0, 12.0)
    setpoint_spread_c: float = 1.5  # per-customer ± (uniform)
    # Share of annual energy by end use (residential TX: ~40-50 % cooling+heating; C&I less weather-driven).
    base_share: tuple[float, float, float] = (0.58, 0.70, 0.88)
    cool_share: tuple[float, float, float] = (0.38, 0.26, 0.10)
    heat_share: tuple[float, float, float] = (0.07, 0.04, 0.02)
    share_spread: float = 0.35  # relative per-customer variation of the cooling/heating shares
    # Appliance and AC compressor cycling. 0.35 for homes puts a single home's 15-min peak at ~1.5× its
    # share of the feeder peak: the DF_inf of the generator's transformer sizing (grid catalog).
    interval_noise_sigma: tuple[float, float, float] = (0.35, 0.12, 0.05)
    daily_noise_sigma: tuple[float, float, float] = (0.10, 0.05, 0.04)  # day-to-day behaviour


@dataclass(frozen=True)
class TimeFeatures:
    """Per-interval calendar features shared by all meters."""

    t_utc_s: npt.NDArray[np.int64]
    local_hour: F64  # fractional hour 0..24, local (DST-aware)
    is_weekend: npt.NDArray[np.bool_]
    day_of_year: npt.NDArray[np.int64]


def time_features(t_utc_s: npt.NDArray[np.int64]) -> TimeFeatures:
    idx = pd.DatetimeIndex(pd.to_datetime(np.asarray(t_utc_s, dtype=np.int64), unit="s", utc=True))
    local = idx.tz_convert(LOCAL_TZ)
    hour = local.hour.to_numpy(np.float64) + local.minute.to_numpy(np.float64) / 60.0
    return TimeFeatures(
        t_utc_s=np.asarray(t_utc_s, dtype=np.int64),
        local_hour=hour,
        is_weekend=local.dayofweek.to_numpy() >= 5,
        day_of_year=local.dayofyear.to_numpy(np.int64),
    )


def _g(h: F64, mu: float, sd: float) -> F64:
    """Circular Gaussian bump on the 24 h clock."""
    d = (h - mu + 12.0) % 24.0 - 12.0
    out: F64 = np.exp(-0.5 * (d / sd) ** 2)
    return out


def behaviour(cls: int, hour: F64, weekend: npt.NDArray[np.bool_]) -> F64:
    """Non-HVAC load relative to its own daily mean (dimensionless, mean ~1 over a week)."""
    if cls == 0:  # residential: overnight base, morning bump, evening peak
        wd = 0.60 + 0.38 * _g(hour, 7.0, 1.2) + 0.18 * _g(hour, 13.0, 3.0) + 0.70 * _g(hour, 19.5, 2.2)
        we = 0.62 + 0.30 * _g(hour, 9.5, 1.8) + 0.35 * _g(hour, 14.0, 3.0) + 0.65 * _g(hour, 19.0, 2.4)
        raw = np.where(weekend, we, wd)
        return raw / 0.89
    if cls == 1:  # commercial: business hours 7-19 weekdays, Saturday half, Sunday closed
        open_h = 1.0 / (1.0 + np.exp(-(hour - 7.0) * 2.5)) * 1.0 / (1.0 + np.exp((hour - 19.0) * 2.5))
        wd = 0.55 + 0.60 * open_h
        we = 0.55 + 0.35 * open_h
        return np.where(weekend, we, wd) / 0.94
    # industrial: two shifts, flatter, weekend reduced
    shifts = 1.0 / (1.0 + np.exp(-(hour - 6.0) * 2.0)) * 1.0 / (1.0 + np.exp((hour - 22.0) * 2.0))
    wd = 0.80 + 0.25 * shifts
    we = 0.72 + 0.10 * shifts
    return np.where(weekend, we, wd) / 0.90


def occupancy_cooling(cls: int, hour: F64, weekend: npt.NDArray[np.bool_]) -> F64:
    """How much of the cooling demand is served, by local hour (set-back when away / closed)."""
    if cls == 0:  # homes stay cooled overnight; a mild set-up while at work, full in the evening
        wd = 0.95 + 0.15 * _g(hour, 18.0, 3.5) - 0.12 * _g(hour, 11.0, 2.5)
        we = 0.98 + 0.08 * _g(hour, 16.0, 4.0)
        out: F64 = np.where(weekend, we, wd)
        return out
    if cls == 1:
        open_h = 1.0 / (1.0 + np.exp(-(hour - 7.0) * 2.5)) * 1.0 / (1.0 + np.exp((hour - 19.0) * 2.5))
        return np.where(weekend, 0.6 + 0.3 * open_h, 0.6 + 0.5 * open_h)
    return np.full_like(hour, 1.0)


@dataclass(frozen=True)
class ShapeNormalizer:
    """Reference-year means that make each meter's expected annual energy equal its ``annual_kwh``.

    For class c: mean_behaviour[c]; mean cooling degree (lagged, occupancy-weighted) and heating degree
    as functions of the set point (tabulated on ``setpoints_c``)."""

    setpoints_c: F64
    mean_cdd: F64  # (3, n_setpoints)
    mean_hdd: F64  # (3, n_setpoints)
    mean_behaviour: F64  # (3,)


def build_normalizer(weather: WeatherParams, shape: ShapeParams, year: int = 2025) -> ShapeNormalizer:
    """Means over one reference year at hourly resolution (8,760 steps; cheap)."""
    t0 = int(pd.Timestamp(f"{year}-01-01", tz="UTC").timestamp())
    t = t0 + 3600 * np.arange(8760, dtype=np.int64) + 1800
    tf = time_features(t)
    temp = temperature_c(t - int(shape.building_lag_h * 3600), weather)
    sp = np.linspace(8.0, 28.0, 41)
    cdd = np.zeros((3, sp.size))
    hdd = np.zeros((3, sp.size))
    mb = np.zeros(3)
    for c in range(3):
        occ = occupancy_cooling(c, tf.local_hour, tf.is_weekend)
        cdd[c] = (np.maximum(temp[None, :] - sp[:, None], 0.0) * occ[None, :]).mean(axis=1)
        hdd[c] = np.maximum(sp[:, None] - temp[None, :], 0.0).mean(axis=1)
        mb[c] = behaviour(c, tf.local_hour, tf.is_weekend).mean()
    return ShapeNormalizer(setpoints_c=sp, mean_cdd=cdd, mean_hdd=hdd, mean_behaviour=mb)


@dataclass(frozen=True)
class MeterShapeParams:
    """Per-meter coefficients (arrays of length n_meters), drawn once per grid and seed."""

    cls: npt.NDArray[np.int8]
    mean_kw: F64  # annual_kwh / 8760
    base_kw: F64  # kW at behaviour factor 1
    cool_kw_per_c: F64
    heat_kw_per_c: F64
    cool_sp_c: F64
    heat_sp_c: F64
    hour_shift_h: F64  # personal timing (± ~45 min)
    pv_kw: F64


def draw_meter_params(
    customer_class: npt.NDArray[np.str_] | list[str],
    annual_kwh: F64,
    pv_kw: F64,
    *,
    seed: int,
    shape: ShapeParams,
    norm: ShapeNormalizer,
) -> MeterShapeParams:
    """Per-customer variation (deterministic in ``seed`` and the meters' order)."""
    cls_arr = np.asarray(customer_class).astype(str)
    cls = np.select([cls_arr == "commercial", cls_arr == "industrial"], [1, 2], 0).astype(np.int8)
    n = cls.size
    rng = np.random.default_rng([seed, 0xA31])
    mean_kw = np.asarray(annual_kwh, dtype=np.float64) / 8760.0
    spread = rng.uniform(1.0 - shape.share_spread, 1.0 + shape.share_spread, size=(2, n))
    cool_share = np.asarray(shape.cool_share)[cls] * spread[0]
    heat_share = np.asarray(shape.heat_share)[cls] * spread[1]
    base_share = np.clip(1.0 - cool_share - heat_share, 0.2, 1.0)
    cool_sp = np.asarray(shape.cool_setpoint_c)[cls] + rng.uniform(-1, 1, n) * shape.setpoint_spread_c
    heat_sp = np.asarray(shape.heat_setpoint_c)[cls] + rng.uniform(-1, 1, n) * shape.setpoint_spread_c
    mcdd = np.empty(n)
    mhdd = np.empty(n)
    for c in range(3):
        sel = cls == c
        mcdd[sel] = np.interp(cool_sp[sel], norm.setpoints_c, norm.mean_cdd[c])
        mhdd[sel] = np.interp(heat_sp[sel], norm.setpoints_c, norm.mean_hdd[c])
    return MeterShapeParams(
        cls=cls,
        mean_kw=mean_kw,
        base_kw=mean_kw * base_share / norm.mean_behaviour[cls],
        cool_kw_per_c=mean_kw * cool_share / np.maximum(mcdd, 1e-6),
        heat_kw_per_c=mean_kw * heat_share / np.maximum(mhdd, 1e-6),
        cool_sp_c=cool_sp,
        heat_sp_c=heat_sp,
        hour_shift_h=rng.normal(0.0, 0.6, n).clip(-1.5, 1.5),
        pv_kw=np.asarray(pv_kw, dtype=np.float64),
    )


_STEPS_PER_H = 12  # 5-minute resolution of the tabulated daily profiles


def _profile_tables(cls: int) -> tuple[F64, F64]:
    """Behaviour and cooling-occupancy factors tabulated on a 5-minute clock, rows (weekday, weekend)."""
    h = np.arange(24 * _STEPS_PER_H, dtype=np.float64) / _STEPS_PER_H
    wk = np.array([False, True])[:, None]
    hh = np.broadcast_to(h[None, :], (2, h.size))
    ww = np.broadcast_to(wk, (2, h.size))
    return behaviour(cls, hh, ww), occupancy_cooling(cls, hh, ww)


def load_kw(
    p: MeterShapeParams,
    tf: TimeFeatures,
    temp_lagged_c: F64,
    noise: F64,
) -> F64:
    """Load (kW) for meters (rows) × intervals (cols); ``noise`` is multiplicative, same shape.

    The per-meter timing shift makes every meter's clock different, so the daily profiles are read from
    5-minute tables (a gather) rather than re-evaluated per meter and interval."""
    n, k = p.cls.size, tf.local_hour.size
    out = np.empty((n, k))
    steps = 24 * _STEPS_PER_H
    wk_row = tf.is_weekend.astype(np.int64)[None, :] * steps
    for c in range(3):
        sel = np.flatnonzero(p.cls == c)
        if sel.size == 0:
            continue
        beh_t, occ_t = _profile_tables(c)
        slot = np.rint((tf.local_hour[None, :] - p.hour_shift_h[sel, None]) * _STEPS_PER_H).astype(np.int64)
        flat = slot % steps + wk_row
        beh = beh_t.ravel()[flat]
        occ = occ_t.ravel()[flat]
        cdd = np.maximum(temp_lagged_c[None, :] - p.cool_sp_c[sel, None], 0.0) * occ
        hdd = np.maximum(p.heat_sp_c[sel, None] - temp_lagged_c[None, :], 0.0)
        out[sel] = (
            p.base_kw[sel, None] * beh + p.cool_kw_per_c[sel, None] * cdd + p.heat_kw_per_c[sel, None] * hdd
        )
    res: F64 = out * noise
    return res


def pv_kw_output(
    pv_kw: F64, t_utc_s: npt.NDArray[np.int64], cloud: F64, lat_deg: float, lon_deg: float
) -> F64:
    """PV AC output (kW) for meters × intervals from solar elevation (declination + hour angle) and clouds.

    0.80 system derate (inverter, soiling, temperature) and a 75 % cloud attenuation at full overcast;
    gives ~1,400 kWh/kW/yr at Houston's latitude, in line with NREL PVWatts for the Gulf coast."""
    t = np.asarray(t_utc_s, dtype=np.float64)
    doy = (t / 86_400.0) % 365.2425
    decl = np.deg2rad(23.44) * np.sin(2.0 * np.pi * (doy - 80.0) / 365.2425)
    solar_h = (t / 3600.0 + lon_deg / 15.0) % 24.0
    ha = np.deg2rad(15.0 * (solar_h - 12.0))
    lat = np.deg2rad(lat_deg)
    sin_el = np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl) * np.cos(ha)
    irr = np.clip(sin_el, 0.0, None) ** 1.15 * (1.0 - 0.75 * cloud)
    out: F64 = np.asarray(pv_kw, dtype=np.float64)[:, None] * 0.80 * irr[None, :]
    return out
