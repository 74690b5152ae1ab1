"""The failure hazard process that generates the failure history (the ground truth a model is scored on).

For asset ``i`` on day ``d`` the hazard (expected failures per day) is

    λ_i(d) = λ_type · x_i · Z_i · A_i(y) · W_type(d) · H_i(d) / 365.25

* ``λ_type`` — a published fleet-average failure rate per unit-year (sources on `HazardParams`); ``x_i``
  the exposure: km for line segments, 1 per unit otherwise.
* ``Z_i`` — unobserved condition (frailty): a log-normal factor with mean 1, one part shared by the
  feeder (workmanship, soil, trees: the asset tables have no vegetation or flood columns, so those are
  not modelled as such) and one part per asset. **An assumption** (σ on `HazardParams`); it is what makes
  past failures informative about future ones, as they are in utility data (Rudin et al., TPAMI 2012).
* ``A_i(y)`` — wear-out with age (Weibull shape β > 1): ``(1 − w) + w · (a/η)^(β−1) / mean_fleet``,
  evaluated at mid-year ``y``; ``a`` is service age from ``install_year`` (known only to the year, see
  `fluxops.ops.health.service_years`), ``η`` the expected life `fluxops.ops.health.HealthParams` gives
  (poles by material, segments by construction, substation transformers). For distribution transformers
  ``a`` is the **insulation age** — service years × the C57.91 aging factor of their own loading
  (`fluxops.ops.health.estimated_cycle_aging_factor`) — and ``η`` the C57.91 normal insulation life, so
  a heavily loaded unit wears out faster (an accelerated-life model). Devices carry no install year:
  no age term (``A = 1``), stated in docs/risk.md.
* ``W_type(d)`` — weather, for overhead plant only (overhead segments, poles):
  ``exp(γ · (v_max(d) − mean v_max))`` of the day's maximum hourly wind from the weather model
  (`fluxops.ami.weather.wind_speed_m_s`), normalised to mean 1 over the history. The weather model has
  no convective storms, lightning or gusts: those are **not modelled**; γ is an assumption.
* ``H_i(d)`` — heat, distribution transformers only: the day's IEEE C57.91 aging acceleration
  (`fluxops.ami.thermal`) at the transformer's loading (its customers' design peak for
  ``cycle_peak_hours``, the average load the rest of the day) over the day's modelled ambient
  (maximum at the peak, mean otherwise), divided by the fleet mean so the published rate stays the
  fleet average.

Every driver is normalised to a fleet mean of 1 so ``λ_type`` keeps its meaning as the published
fleet-average rate. Failures are repaired in place (minimal repair): an asset's hazard is not reset
by its own failures. Underground cable has no weather driver (its failures are dominated by
insulation and joints; EPRI's figure excludes third-party dig-ins).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from fluxops.ami.thermal import ThermalParams, aging_factor, steady_top_oil_rise
from fluxops.ami.weather import WeatherParams, temperature_c, wind_speed_m_s
from fluxops.core.errors import InvalidInputError
from fluxops.ops.health import HealthParams
from fluxops.risk.inspection import InspectionParams

F64 = npt.NDArray[np.float64]
DAY_S = 86_400


@dataclass(frozen=True)
class HazardParams:
    """Fleet-average rates (failures per unit-year; segments per km-year) and driver parameters.

    Sources ([V] read in the source, [M] from memory of the source, not re-checked; *assumption*: ours):
    * ``overhead_line_per_km_y`` 0.065 — Roy Billinton Test System distribution data, 11 kV feeder
      sections (Allan, Billinton, Sjarief, Goel, Chan, IEEE TPWRS 6(2), 1991) [M]; the same paper is
      the source of the repair hours in `fluxops.cascade.restoration.RestorationConfig`.
    * ``underground_line_per_km_y`` 0.018 — EPRI "Failure Rates of Underground Cable Systems" (19 US
      utilities): median 2.89 failures / 100 conductor-miles / year, all components, third-party damage
      excluded [V] = 0.0180 per km-year.
    * ``transformer_per_y`` 0.005 — ComEd (T&D World 2018): ~2,000 distribution transformer failures a
      year, < 0.5 % of the population [V, via docs risk anchors §1.4].
    * ``substation_transformer_per_y`` 0.015 — *assumption* in the range commonly quoted for power
      transformers (CIGRE surveys ~0.5-2 %/yr [M]).
    * ``breaker_per_y`` 0.006 — RBTS (as above) [M]; ``recloser``/``sectionalizer``/``switch``/``fuse``
      0.006 / 0.006 / 0.006 / 0.003: *assumptions* (no per-type figure found).
    * ``pole_per_y`` 0.001 — *assumption* (structural pole failures not caused by a vehicle or a storm).
    * ``wear_out_share`` 0.5, ``weibull_shape`` 3.0 — *assumptions* (Weibull shapes of 2-4 are the usual
      wear-out range for distribution equipment [M]).
    * ``frailty_sigma_feeder`` 0.5, ``frailty_sigma_asset`` 0.7 — *assumptions* (log-normal σ).
    * ``wind_gamma_per_m_s`` 0.35 — *assumption* (per m/s of daily maximum 10 m wind).
    * ``inspection`` — the recorded, noisy reading of the condition (`fluxops.risk.inspection`).
    """

    overhead_line_per_km_y: float = 0.065
    underground_line_per_km_y: float = 0.018
    transformer_per_y: float = 0.005
    substation_transformer_per_y: float = 0.015
    breaker_per_y: float = 0.006
    recloser_per_y: float = 0.006
    sectionalizer_per_y: float = 0.006
    switch_per_y: float = 0.006
    fuse_per_y: float = 0.003
    pole_per_y: float = 0.001
    wear_out_share: float = 0.5
    weibull_shape: float = 3.0
    frailty_sigma_feeder: float = 0.5
    frailty_sigma_asset: float = 0.7
    wind_gamma_per_m_s: float = 0.35
    health: HealthParams = field(default_factory=HealthParams)
    weather: WeatherParams = field(default_factory=WeatherParams)
    inspection: InspectionParams = field(default_factory=InspectionParams)

    def __post_init__(self) -> None:
        rates = [v for k, v in asdict(self).items() if k.endswith(("_per_y", "_per_km_y"))]
        if any(not np.isfinite(r) or r < 0 for r in rates):
            raise InvalidInputError("failure rates must be finite and >= 0", field="hazard_params")
        if not 0.0 <= self.wear_out_share <= 1.0:
            raise InvalidInputError("must be in [0, 1]", field="wear_out_share")
        if not self.weibull_shape >= 1.0:
            raise InvalidInputError("must be >= 1 (wear-out)", field="weibull_shape")
        if self.frailty_sigma_feeder < 0 or self.frailty_sigma_asset < 0:
            raise InvalidInputError("frailty sigmas must be >= 0", field="frailty_sigma")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["weather"] = {k: v for k, v in d["weather"].items() if k != "scenarios"}
        return d


def base_rate_per_y(assets: pd.DataFrame, p: HazardParams) -> F64:
    """λ_type · exposure, per asset (failures per year before drivers)."""
    t = assets["asset_type"].to_numpy(object)
    out = np.zeros(len(assets))
    ug = assets["construction"].to_numpy(object) == "underground"
    km = assets["length_km"].to_numpy(np.float64)
    seg = t == "line_segment"
    out[seg] = km[seg] * np.where(ug[seg], p.underground_line_per_km_y, p.overhead_line_per_km_y)
    for name in ("transformer", "substation_transformer", "breaker", "recloser", "sectionalizer", "switch"):
        out[t == name] = getattr(p, f"{name}_per_y")
    out[t == "fuse"] = p.fuse_per_y
    out[t == "pole"] = p.pole_per_y
    return out


def frailty(assets: pd.DataFrame, p: HazardParams, seed: int) -> F64:
    """Z_i: log-normal, mean 1, a feeder part (by substation for substation transformers) and an asset
    part. Drawn from ``seed`` in the asset order (deterministic)."""
    rng = np.random.default_rng([seed, 12_001])
    group = assets["feeder_id"].fillna(assets["substation_id"]).to_numpy(object)
    codes, uniq = pd.factorize(group, sort=True)
    zf = rng.standard_normal(len(uniq))[codes]
    zi = rng.standard_normal(len(assets))
    s2 = p.frailty_sigma_feeder**2 + p.frailty_sigma_asset**2
    out: F64 = np.exp(p.frailty_sigma_feeder * zf + p.frailty_sigma_asset * zi - s2 / 2.0)
    return out


def characteristic_life_y(assets: pd.DataFrame, p: HazardParams) -> F64:
    """η per asset (NaN: no age term) — the expected lives of `HealthParams`; transformers: the C57.91
    normal insulation life in years (ages there are insulation ages)."""
    h = p.health
    t = assets["asset_type"].to_numpy(object)
    eta = np.full(len(assets), np.nan)
    mat = dict(h.pole_life_y)
    con = dict(h.segment_life_y)
    pole = t == "pole"
    eta[pole] = assets["material"][pole].map(mat).to_numpy(np.float64, na_value=np.nan)
    seg = t == "line_segment"
    eta[seg] = assets["construction"][seg].map(con).to_numpy(np.float64, na_value=np.nan)
    eta[t == "substation_transformer"] = h.substation_transformer_life_y
    eta[t == "transformer"] = h.normal_insulation_life_h / h.hours_per_year
    return eta


def age_at(assets: pd.DataFrame, when_y: float, p: HazardParams) -> F64:
    """Age (years) at decimal year ``when_y``: service years, and for transformers insulation years
    (service years × their C57.91 cycle aging factor). NaN where the install year is unknown (0)."""
    year = assets["install_year"].to_numpy(np.float64)
    known = year > 0
    svc = np.where(known, np.maximum(when_y - (year + p.health.install_offset_y), 0.0), np.nan)
    is_xf = assets["asset_type"].to_numpy(object) == "transformer"
    f = np.nan_to_num(assets["f_aa_cycle"].to_numpy(np.float64), nan=1.0)
    out: F64 = np.where(is_xf, svc * f, svc)
    return out


def wear_out_raw(age_y: F64, eta_y: F64, p: HazardParams) -> F64:
    """(a/η)^(β−1); NaN where age or life is unknown."""
    out: F64 = (age_y / eta_y) ** (p.weibull_shape - 1.0)
    return out


def age_factor(raw: F64, norm: F64, p: HazardParams) -> F64:
    """A = (1 − w) + w · raw / norm (1 where raw is unknown)."""
    rel = np.divide(raw, norm, out=np.ones_like(raw), where=np.isfinite(raw) & (norm > 0))
    rel = np.where(np.isfinite(rel), rel, 1.0)
    out: F64 = (1.0 - p.wear_out_share) + p.wear_out_share * rel
    return out


def days_utc(start: datetime, n_days: int) -> npt.NDArray[np.int64]:
    t0 = int(start.replace(hour=0, minute=0, second=0, microsecond=0).timestamp())
    return t0 + DAY_S * np.arange(n_days, dtype=np.int64)


def daily_weather(day_s: npt.NDArray[np.int64], p: HazardParams) -> pd.DataFrame:
    """Per day: maximum hourly wind (m/s), maximum and mean temperature (°C) from the weather model."""
    hours = (day_s[:, None] + 3600 * np.arange(24)[None, :] + 1800).ravel()
    wind = wind_speed_m_s(hours, p.weather).reshape(len(day_s), 24)
    temp = temperature_c(hours, p.weather).reshape(len(day_s), 24)
    return pd.DataFrame(
        {"wind_max_m_s": wind.max(axis=1), "temp_max_c": temp.max(axis=1), "temp_mean_c": temp.mean(axis=1)}
    )


def wind_multiplier(wind_max: F64, p: HazardParams) -> F64:
    raw = np.exp(p.wind_gamma_per_m_s * (wind_max - wind_max.mean()))
    out: F64 = raw / raw.mean()
    return out


def heat_aging(k_avg: F64, k_peak: F64, temp_max: F64, temp_mean: F64, p: HazardParams) -> F64:
    """Daily mean C57.91 F_AA, (transformers × days): ``h`` peak hours at K_peak over the day's maximum
    ambient, the rest at the level keeping the daily mean at K_avg over the mean ambient (steady-state
    hot spots; the two-level cycle of `fluxops.ops.health.estimated_cycle_aging_factor`)."""
    th: ThermalParams = p.health.thermal
    ka = np.nan_to_num(np.maximum(k_avg, 0.0))
    kp = np.maximum(np.nan_to_num(k_peak), ka)
    share = np.divide(ka, kp, out=np.ones_like(ka), where=kp > 0)
    h = np.minimum(p.health.cycle_peak_hours, 24.0 * share)
    kl = np.maximum((24.0 * ka - h * kp) / (24.0 - h), 0.0)
    rise_pk = steady_top_oil_rise(kp, th) + th.hot_spot_gradient_rated_c * kp ** (2.0 * th.exponent_m)
    rise_lo = steady_top_oil_rise(kl, th) + th.hot_spot_gradient_rated_c * kl ** (2.0 * th.exponent_m)
    f_pk = aging_factor(temp_max[None, :] + rise_pk[:, None])
    f_lo = aging_factor(temp_mean[None, :] + rise_lo[:, None])
    out: F64 = (h[:, None] * f_pk + (24.0 - h[:, None]) * f_lo) / 24.0
    return out


def decimal_year(t: datetime) -> float:
    y0 = datetime(t.year, 1, 1, tzinfo=UTC)
    y1 = datetime(t.year + 1, 1, 1, tzinfo=UTC)
    return t.year + (t - y0) / (y1 - y0)


def history_window(end_utc: datetime, years: int) -> tuple[datetime, int]:
    """(first day 00:00 UTC, number of days) of ``years`` years of history ending before ``end_utc``'s
    day (365.25 days a year, rounded)."""
    if end_utc.tzinfo is None:
        raise InvalidInputError("end must be timezone-aware UTC", field="end_utc")
    if not 2 <= years <= 30:
        raise InvalidInputError("years must be in 2..30", field="years")
    end = end_utc.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    n_days = round(years * 365.25)
    return end - timedelta(days=n_days), n_days
