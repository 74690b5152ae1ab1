"""Asset health: the share of an asset's expected life that is left, from measured quantities only.

Why this form: a health index has to be defensible to an operator, so it is a remaining-life figure
with a stated basis, never a blended score.

* **Distribution transformers** — remaining insulation life per IEEE C57.91 (domain facts §6.2):
  life consumed = equivalent aging hours, ``Σ F_AA · Δt``. Where AMI analytics have hot-spot history
  (``d_transformer_hour``: one row per transformer-hour with its ``aging_factor``), those hours count at
  their measured F_AA; the service hours before (and around) the telemetry count at
  ``pre_telemetry_aging_factor`` (1.0: aging at the rated 110 °C hot spot — an *assumption*, and a
  conservative one, since distribution transformers mostly run well below nameplate).
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

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from fluxops.core.errors import InvalidInputError
from fluxops.grid.models import Grid

FloatArray = npt.NDArray[np.float64]

HEALTH_SCHEMA = pa.schema(
    [
        pa.field("asset_id", pa.string(), nullable=False),
        pa.field("asset_kind", pa.string(), nullable=False),
        pa.field("health_pct", pa.float64(), nullable=True),
        pa.field("basis", pa.string(), nullable=False),  # insulation_aging | age
    ]
)
AGING_COLUMNS: tuple[str, ...] = ("transformer_id", "telemetry_h", "aging_equivalent_h")


@dataclass(frozen=True)
class HealthParams:
    """Life figures, each with its source or marked as an assumption (also in docs/ops.md)."""

    # IEEE C57.91 normal insulation life, distribution-transformer functional life test (domain facts §6.2)
    normal_insulation_life_h: float = 180_000.0
    # F_AA before / outside AMI hot-spot history: rated-hot-spot aging (assumption, conservative)
    pre_telemetry_aging_factor: float = 1.0
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
        if not (np.isfinite(self.pre_telemetry_aging_factor) and self.pre_telemetry_aging_factor >= 0):
            raise InvalidInputError(
                "pre_telemetry_aging_factor must be >= 0", field="pre_telemetry_aging_factor"
            )


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


def transformer_insulation_health(
    install_year: FloatArray,
    telemetry_h: FloatArray,
    aging_equivalent_h: FloatArray,
    as_of_utc: datetime,
    params: HealthParams,
) -> FloatArray:
    """IEEE C57.91 remaining insulation life, % (per transformer; NaN for an unknown install year).

    ``telemetry_h`` hours of measured hot-spot history aged ``aging_equivalent_h`` equivalent hours;
    the rest of the service time ages at ``pre_telemetry_aging_factor``."""
    service_h = service_years(install_year, as_of_utc, params) * params.hours_per_year
    unmeasured_h = np.maximum(service_h - np.nan_to_num(telemetry_h), 0.0)
    consumed_h = params.pre_telemetry_aging_factor * unmeasured_h + np.nan_to_num(aging_equivalent_h)
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
    xf_health = transformer_insulation_health(
        xf["install_year"].to_numpy(np.float64),
        ag["telemetry_h"].to_numpy(np.float64),
        ag["aging_equivalent_h"].to_numpy(np.float64),
        as_of,
        p,
    )
    parts.append(_frame(xf["transformer_id"], "transformer", xf_health, "insulation_aging"))

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


def _frame(ids: pd.Series, kind: str, health: FloatArray, basis: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "asset_id": ids.to_numpy(dtype=object),
            "asset_kind": kind,
            "health_pct": health,
            "basis": basis,
        }
    )
