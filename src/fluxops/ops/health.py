"""Asset health: the share of an asset's expected life that is left, from measured quantities only.

Why this form: a health index has to be defensible to an operator, so it is a remaining-life figure
with a stated basis, never a blended score.

* **Distribution transformers** — remaining insulation life per IEEE C57.91 (domain facts §6.2):
  life consumed = equivalent aging hours, ``Σ F_AA · Δt``. Where AMI analytics have hot-spot history
  (``d_transformer_hour``: one row per transformer-hour with its ``aging_factor``), those hours count at
  their measured F_AA; the service hours before (and around) the telemetry count at a per-transformer
  ``F_pre``: the measured mean F_AA once the telemetry spans ``measured_min_telemetry_h``, otherwise
  an estimate from the transformer's own customers (`estimated_cycle_aging_factor`: a two-level
  daily load cycle from average and peak load over a seasonal ambient, F_AA averaged over the cycle —
  F_AA is convex, so F_AA at the average load would understate aging).
  ``health_pct = 100 · max(0, 1 − consumed_h / normal_insulation_life_h)``.
* **Line segments, poles, substation transformers** — service age against an expected service life
  by construction / material (sources and assumptions on `HealthParams`):
  ``health_pct = 100 · max(0, 1 − age_y / life_y)``. A substation's health is that of its weakest
  transformer.
* Assets without an install year (0: unknown, e.g. imported grids), materials with no stated life,
  and every other asset type (devices, meters, feeders): null, never a guess.

``install_year`` is known only to the year, so service starts mid-year (``install_offset_y``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from fluxops.ami.thermal import ThermalParams, hot_spot
from fluxops.core.errors import InvalidInputError
from fluxops.grid.models import Grid

FloatArray = npt.NDArray[np.float64]

HEALTH_SCHEMA = pa.schema(
    [
        pa.field("asset_id", pa.string(), nullable=False),
        pa.field("asset_kind", pa.string(), nullable=False),
        pa.field("health_pct", pa.float64(), nullable=True),
        pa.field("basis", pa.string(), nullable=False),  # insulation_aging | age
        # transformers: how the hours without telemetry were aged (HEALTH_BASES); null otherwise
        pa.field("health_basis", pa.string(), nullable=True),
    ]
)
HEALTH_BASES: tuple[str, ...] = ("estimated_cycle", "measured", "flat")
AGING_COLUMNS: tuple[str, ...] = ("transformer_id", "telemetry_h", "aging_equivalent_h")


@dataclass(frozen=True)
class HealthParams:
    """Life figures, each with its source or marked as an assumption (also in docs/ops.md)."""

    # IEEE C57.91 normal insulation life, distribution-transformer functional life test (domain facts §6.2)
    normal_insulation_life_h: float = 180_000.0
    # F_AA for the hours without telemetry. None: per transformer, measured or estimated (below);
    # a number: that flat factor for every transformer (1.0 = rated 110 °C hot spot all its life, the
    # old behaviour — an assumption, and a pessimistic one for distribution transformers)
    pre_telemetry_aging_factor: float | None = None
    # measured mean F_AA replaces the estimate once the telemetry spans this long (30 days; an
    # assumption: a month of hours averages out the daily cycle, not the season — see docs/ops.md)
    measured_min_telemetry_h: float = 720.0
    # Ambient for the estimate: Houston, NOAA 1991-2020 climate normals (Houston Intercontinental) as
    # calibrated in fluxops.ami.weather.WeatherParams: annual mean ~21 °C, monthly means from ~11.5 °C
    # (Jan) to ~29.5 °C (Aug), i.e. a seasonal sinusoid of amplitude 8.8 °C sampled at 12 months
    ambient_annual_mean_c: float = 21.0
    ambient_seasonal_amplitude_c: float = 8.8
    # Two-level daily cycle: the customers' design peak for cycle_peak_hours a day, the rest at the
    # level that keeps the daily mean at the average load (an assumption: a 4-hour late-afternoon
    # residential peak; fewer hours where the load factor is below cycle_peak_hours / 24)
    cycle_peak_hours: float = 4.0
    thermal: ThermalParams = field(
        default_factory=ThermalParams
    )  # C57.91 ONAN 65 °C-rise defaults (domain facts §6.2)
    hours_per_year: float = 8766.0  # 365.25 days
    install_offset_y: float = 0.5  # install_year known to the year: service starts mid-year on average
    # Poles by material. Wood: ~50 years (EPRI study quoted in North American Wood Pole Council
    # Technical Bulletin 16-U-101, "Estimated Service Life of Wood Poles", J. J. Morrell; utilities
    # commonly assume 30-40). Steel and concrete: 60 years, an assumption (no long-term data cited).
    pole_life_y: tuple[tuple[str, float], ...] = (("wood", 50.0), ("steel", 60.0), ("concrete", 60.0))
    # Line segments by construction. Underground (XLPE/EPR distribution cable): 35 years, the expected
    # life in Washington UTC docket UE-991328 (Puget Sound Energy, 1999). Overhead conductor: 60 years,
    # an assumption.
    segment_life_y: tuple[tuple[str, float], ...] = (("underground", 35.0), ("overhead", 60.0))
    # Substation power transformers: 40 years, an assumption (a common design-life figure; no AMI
    # hot-spot history exists for them here, so C57.91 aging cannot be measured).
    substation_transformer_life_y: float = 40.0

    def __post_init__(self) -> None:
        lives = [v for _, v in self.pole_life_y + self.segment_life_y]
        lives += [self.normal_insulation_life_h, self.hours_per_year, self.substation_transformer_life_y]
        if any(not np.isfinite(v) or v <= 0 for v in lives):
            raise InvalidInputError("service lives must be positive", field="health_params")
        flat = self.pre_telemetry_aging_factor
        if flat is not None and not (np.isfinite(flat) and flat >= 0):
            raise InvalidInputError(
                "pre_telemetry_aging_factor must be >= 0", field="pre_telemetry_aging_factor"
            )
        if not (np.isfinite(self.measured_min_telemetry_h) and self.measured_min_telemetry_h >= 0):
            raise InvalidInputError("must be >= 0", field="measured_min_telemetry_h")
        if not 0 < self.cycle_peak_hours < 24:
            raise InvalidInputError("must be in (0, 24) hours", field="cycle_peak_hours")
        ambient = (self.ambient_annual_mean_c, self.ambient_seasonal_amplitude_c)
        if not all(np.isfinite(v) for v in ambient) or self.ambient_seasonal_amplitude_c < 0:
            raise InvalidInputError("ambient must be finite, amplitude >= 0", field="ambient")


def service_years(install_year: FloatArray, as_of_utc: datetime, params: HealthParams) -> FloatArray:
    """Years in service at ``as_of_utc`` (NaN where the install year is unknown, 0 before install)."""
    year0 = datetime(as_of_utc.year, 1, 1, tzinfo=UTC)
    year1 = datetime(as_of_utc.year + 1, 1, 1, tzinfo=UTC)
    now_y = as_of_utc.year + (as_of_utc - year0) / (year1 - year0)
    known = install_year > 0
    age = np.where(known, now_y - (install_year + params.install_offset_y), np.nan)
    return np.where(known, np.maximum(age, 0.0), np.nan)


def _remaining_pct(consumed: FloatArray, life: FloatArray) -> FloatArray:
    out: FloatArray = 100.0 * np.maximum(0.0, 1.0 - consumed / life)
    return out


def _life_by(kind: pd.Series, table: tuple[tuple[str, float], ...]) -> FloatArray:
    lives = pd.Series(dict(table), dtype=np.float64)
    return np.asarray(kind.astype(object).map(lives).to_numpy(np.float64, na_value=np.nan), np.float64)


def transformer_load_ratios(grid: Grid) -> tuple[FloatArray, FloatArray]:
    """Per transformer (grid order): average and peak load per unit of nameplate, from its customers
    (``annual_kwh / 8760 h / power_factor`` kVA and ``peak_kw / power_factor`` kVA, summed through
    ``meters.transformer_id``). 0 for a transformer with no customers; NaN for a non-positive rating."""
    cust = grid.customers[["meter_id", "annual_kwh", "peak_kw", "power_factor"]]
    m = grid.meters[["meter_id", "transformer_id"]]
    df = cust.merge(m, on="meter_id", how="inner")
    pf = df["power_factor"].to_numpy(np.float64)
    kva = (
        pd.DataFrame(
            {
                "avg_kva": df["annual_kwh"].to_numpy(np.float64) / 8760.0 / pf,
                "peak_kva": df["peak_kw"].to_numpy(np.float64) / pf,
            }
        )
        .groupby(df["transformer_id"].to_numpy(), sort=False)
        .sum()
    )
    per_xf = kva.reindex(grid.transformers["transformer_id"]).fillna(0.0)
    rating = grid.transformers["rating_kva"].to_numpy(np.float64)
    rating = np.where(rating > 0, rating, np.nan)
    k_avg: FloatArray = per_xf["avg_kva"].to_numpy(np.float64) / rating
    k_peak: FloatArray = per_xf["peak_kva"].to_numpy(np.float64) / rating
    return k_avg, k_peak


def estimated_cycle_aging_factor(k_avg: FloatArray, k_peak: FloatArray, params: HealthParams) -> FloatArray:
    """Mean IEEE C57.91 F_AA of a representative year, per transformer.

    Daily cycle: ``K_peak`` for ``h = min(cycle_peak_hours, 24 · K_avg / K_peak)`` hours, the rest
    at ``K_low = (24 · K_avg − h · K_peak) / (24 − h)`` (daily mean = K_avg). Each level is taken
    at its steady-state hot spot (pessimistic for a short peak: top oil, τ ≈ 3 h, does not fully
    settle) at each of 12 monthly ambients ``θ_A = mean + amplitude · cos(2π (j + ½) / 12)``; F_AA is
    averaged over hours and months. Vectorized: one ``hot_spot`` call over (transformers × 24)."""
    k_avg = np.nan_to_num(np.maximum(np.asarray(k_avg, np.float64), 0.0))
    k_pk = np.maximum(np.nan_to_num(np.asarray(k_peak, np.float64)), k_avg)
    share = np.divide(k_avg, k_pk, out=np.ones_like(k_avg), where=k_pk > 0)  # load factor
    h = np.minimum(params.cycle_peak_hours, 24.0 * share)
    k_low = np.maximum((24.0 * k_avg - h * k_pk) / (24.0 - h), 0.0)
    months = np.arange(12, dtype=np.float64)
    ambient = params.ambient_annual_mean_c + params.ambient_seasonal_amplitude_c * np.cos(
        2.0 * np.pi * (months + 0.5) / 12.0
    )
    # columns: 12 months at the peak level, then 12 at the low level; step_h = inf makes every
    # step its own steady state (no top-oil carry-over between columns)
    k = np.concatenate([np.repeat(k_pk[:, None], 12, 1), np.repeat(k_low[:, None], 12, 1)], axis=1)
    f_aa = hot_spot(k, np.concatenate([ambient, ambient]), step_h=np.inf, params=params.thermal).aging_factor
    f_peak, f_low = f_aa[:, :12].mean(axis=1), f_aa[:, 12:].mean(axis=1)
    out: FloatArray = (h * f_peak + (24.0 - h) * f_low) / 24.0
    return out


def pre_telemetry_aging(
    k_avg: FloatArray,
    k_peak: FloatArray,
    telemetry_h: FloatArray,
    aging_equivalent_h: FloatArray,
    params: HealthParams,
) -> tuple[FloatArray, npt.NDArray[np.object_]]:
    """Per transformer, F_pre for the hours without telemetry and its basis (`HEALTH_BASES`): the
    flat factor when one is set, else the measured mean F_AA where the telemetry spans
    ``measured_min_telemetry_h``, else `estimated_cycle_aging_factor`."""
    tel = np.nan_to_num(np.asarray(telemetry_h, np.float64))
    n = tel.shape[0]
    if params.pre_telemetry_aging_factor is not None:
        return np.full(n, params.pre_telemetry_aging_factor), np.full(n, "flat", dtype=object)
    measured = (tel >= params.measured_min_telemetry_h) & (tel > 0)
    eq_h = np.nan_to_num(np.asarray(aging_equivalent_h, np.float64))
    f_meas = np.divide(eq_h, tel, out=np.zeros(n), where=measured)
    f_est = estimated_cycle_aging_factor(k_avg, k_peak, params)
    basis = np.where(measured, "measured", "estimated_cycle").astype(object)
    return np.where(measured, f_meas, f_est), basis


def transformer_insulation_health(
    install_year: FloatArray,
    telemetry_h: FloatArray,
    aging_equivalent_h: FloatArray,
    as_of_utc: datetime,
    params: HealthParams,
    pre_aging_factor: FloatArray | float = 1.0,
) -> FloatArray:
    """IEEE C57.91 remaining insulation life, % (per transformer; NaN for an unknown install year).

    ``telemetry_h`` hours of measured hot-spot history aged ``aging_equivalent_h`` equivalent hours;
    the rest of the service time ages at ``pre_aging_factor`` (per transformer, `pre_telemetry_aging`)."""
    service_h = service_years(install_year, as_of_utc, params) * params.hours_per_year
    unmeasured_h = np.maximum(service_h - np.nan_to_num(telemetry_h), 0.0)
    consumed_h = np.asarray(pre_aging_factor, np.float64) * unmeasured_h + np.nan_to_num(aging_equivalent_h)
    return _remaining_pct(consumed_h, np.full_like(consumed_h, params.normal_insulation_life_h))


def _aging_frame(aging: pa.Table | None) -> pd.DataFrame:
    """Per transformer id (index): telemetry_h, aging_equivalent_h (rows of one id summed)."""
    if aging is None or aging.num_rows == 0:  # no hot-spot history (an empty answer may lack columns)
        return pd.DataFrame({"telemetry_h": [], "aging_equivalent_h": []}, dtype=np.float64)
    missing = [c for c in AGING_COLUMNS if c not in aging.column_names]
    if missing:
        raise InvalidInputError(f"aging table lacks columns {missing}", field="aging")
    df = aging.select(list(AGING_COLUMNS)).to_pandas()
    summed: pd.DataFrame = df.groupby("transformer_id", sort=False)[
        ["telemetry_h", "aging_equivalent_h"]
    ].sum()
    return summed


def asset_health(
    grid: Grid,
    as_of_utc: datetime,
    aging: pa.Table | None = None,
    params: HealthParams | None = None,
) -> pa.Table:
    """Health of every asset that has a basis for one (`HEALTH_SCHEMA`; null health_pct where the
    install year or the life figure is unknown).

    ``aging``: per distribution transformer, ``telemetry_h`` (hours of AMI hot-spot history) and
    ``aging_equivalent_h`` (``Σ F_AA · 1 h`` over those hours), several rows per transformer summed."""
    if as_of_utc.tzinfo is None:
        raise InvalidInputError("as_of_utc must be timezone-aware", field="as_of_utc")
    p = params or HealthParams()
    as_of = as_of_utc.astimezone(UTC)
    parts: list[pd.DataFrame] = []

    xf = grid.transformers
    ag = _aging_frame(aging).reindex(xf["transformer_id"])
    tel = ag["telemetry_h"].to_numpy(np.float64)
    eq_h = ag["aging_equivalent_h"].to_numpy(np.float64)
    k_avg, k_peak = transformer_load_ratios(grid)
    f_pre, xf_basis = pre_telemetry_aging(k_avg, k_peak, tel, eq_h, p)
    year = xf["install_year"].to_numpy(np.float64)
    xf_health = transformer_insulation_health(year, tel, eq_h, as_of, p, f_pre)
    xf_basis[np.isnan(xf_health)] = None
    parts.append(_frame(xf["transformer_id"], "transformer", xf_health, "insulation_aging", xf_basis))

    seg = grid.line_segments
    seg_age = service_years(seg["install_year"].to_numpy(np.float64), as_of, p)
    seg_health = _remaining_pct(seg_age, _life_by(seg["construction"], p.segment_life_y))
    parts.append(_frame(seg["segment_id"], "line_segment", seg_health, "age"))

    poles = grid.poles
    pole_age = service_years(poles["install_year"].to_numpy(np.float64), as_of, p)
    pole_health = _remaining_pct(pole_age, _life_by(poles["material"], p.pole_life_y))
    parts.append(_frame(poles["pole_id"], "pole", pole_health, "age"))

    st = grid.substation_transformers
    st_age = service_years(st["install_year"].to_numpy(np.float64), as_of, p)
    st_health = _remaining_pct(st_age, np.full_like(st_age, p.substation_transformer_life_y))
    parts.append(_frame(st["transformer_id"], "substation_transformer", st_health, "age"))
    # a substation is as healthy as its weakest transformer (unknown when any of them is unknown)
    per_sub = pd.Series(st_health, index=pd.Index(st["substation_id"].to_numpy()))
    weakest = per_sub.groupby(level=0).min().where(per_sub.isna().groupby(level=0).sum() == 0)
    sub_ids = grid.substations["substation_id"]
    sub_health = np.asarray(weakest.reindex(sub_ids).to_numpy(np.float64), np.float64)
    parts.append(_frame(sub_ids, "substation", sub_health, "age"))

    out = pd.concat(parts, ignore_index=True)
    return pa.Table.from_pandas(out, schema=HEALTH_SCHEMA, preserve_index=False)


def _frame(
    ids: pd.Series,
    kind: str,
    health: FloatArray,
    basis: str,
    health_basis: npt.NDArray[np.object_] | None = None,
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "asset_id": ids.to_numpy(dtype=object),
            "asset_kind": kind,
            "health_pct": health,
            "basis": basis,
            "health_basis": np.full(len(ids), None, dtype=object) if health_basis is None else health_basis,
        }
    )
