"""Inspection records: a noisy, periodic, recorded reading of the condition the asset tables lack.

Why: the hazard's unobserved condition ``Z_i`` (`fluxops.risk.hazard.frailty`) stands for workmanship,
soil, trees and wear that no asset column records. Real utilities do record a reading of it: patrols and
detailed inspections grade overhead plant on a cycle, and power transformers have their oil sampled
(dissolved-gas analysis). This module draws those records from the same ``Z_i`` the failures come from,
so a model can learn the condition from them, as a utility's would, while the frailty stays in the
hazard at its full σ.

Process (all *assumptions*, sources where any exist):

* **Cycle per class** (``InspectionParams``): overhead plant (overhead line sections, poles), distribution
  transformers and line devices get a detailed inspection every 5 years; substation transformers an oil
  sample (DGA) every year; substation breakers a substation inspection every year. Underground cable is
  not inspected (its insulation cannot be seen; cable testing is not on a cycle). The 5-year detailed
  cycle is California PUC General Order 165's maximum interval for overhead distribution facilities
  [M: from memory, not re-checked]; the annual DGA is common practice under IEEE C57.104 [M]. Each asset's
  first inspection falls at a random phase within its cycle, and the records go back one cycle before
  the history starts (a utility has its previous cycle's records), so every inspected asset has a grade
  before the first cut-off.
* **Grade**: 1 (good) … 5 (replace). An inspection reads ``u = ln Z_i + ε``, ε ~ N(0, σ) independent per
  inspection, σ = 0.8 for a visual grade (about the condition's own spread, σ_Z ≈ 0.86: one grade
  explains about half of the condition's variance in log) and 0.4 for DGA. ``u`` is standardised with
  its prior mean and spread and cut at the 50/75/90/97 % points, so grades 1-5 hold 50/25/15/7/3 % of
  the inspections. The grade reads the condition only; age is in the asset tables already.

Only records dated before a snapshot's cut-off enter its features (`fluxops.risk.features`), tested in
`tests/risk/test_features.py`. Deterministic for (assets, frailty, window, seed); drawn from their own
random stream, so adding them leaves the failures of a seed unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from fluxops.core.errors import InvalidInputError

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

INSPECTION_COLUMNS: tuple[str, ...] = ("asset_id", "day_index", "inspected_utc", "kind", "grade")
# standard normal quantiles of 50, 75, 90 and 97 %: grades 1..5 hold 50/25/15/7/3 % of the readings
GRADE_CUTS: F64 = np.array([0.0, 0.6744897501960817, 1.2815515655446004, 1.8807936081512509])


@dataclass(frozen=True)
class InspectionParams:
    """Inspection cycles (years) and reading noise (σ of the log-condition reading); see the module."""

    detailed_cycle_y: float = 5.0
    substation_cycle_y: float = 1.0
    visual_sigma: float = 0.8
    dga_sigma: float = 0.4

    def __post_init__(self) -> None:
        if not (0.25 <= self.detailed_cycle_y <= 20 and 0.25 <= self.substation_cycle_y <= 20):
            raise InvalidInputError("inspection cycles must be in [0.25, 20] years", field="inspection_cycle")
        if self.visual_sigma < 0 or self.dga_sigma < 0:
            raise InvalidInputError("reading noise must be >= 0", field="inspection_sigma")


def inspection_plan(assets: pd.DataFrame, p: InspectionParams) -> tuple[F64, F64, npt.NDArray[np.object_]]:
    """(cycle in days, reading σ, kind) per asset; cycle NaN where the asset is not inspected."""
    t = assets["asset_type"].to_numpy(object)
    ug = assets["construction"].to_numpy(object) == "underground"
    cycle = np.full(len(t), p.detailed_cycle_y * 365.25)
    sigma = np.full(len(t), p.visual_sigma)
    kind = np.full(len(t), "detailed", dtype=object)
    sub = (t == "substation_transformer") | (t == "breaker")
    cycle[sub] = p.substation_cycle_y * 365.25
    kind[t == "breaker"] = "substation"
    dga = t == "substation_transformer"
    kind[dga] = "dga"
    sigma[dga] = p.dga_sigma
    cycle[(t == "line_segment") & ug] = np.nan
    return cycle, sigma, kind


def generate_inspections(
    assets: pd.DataFrame,
    z: F64,
    *,
    start_s: int,
    n_days: int,
    sigma_condition: float,
    seed: int,
    params: InspectionParams | None = None,
) -> pd.DataFrame:
    """Inspection records (`INSPECTION_COLUMNS`) of every inspected asset from one cycle before the
    history window to its end. ``z``: the frailty; ``sigma_condition``: its prior σ in log."""
    p = params or InspectionParams()
    cycle, sigma, kind = inspection_plan(assets, p)
    rng = np.random.default_rng([seed, 12_006])
    phase = rng.random(len(assets))
    ok = np.flatnonzero(np.isfinite(cycle))
    c = cycle[ok]
    first = phase[ok] * c - c  # one cycle before the window
    count = np.floor((n_days - 1 - first) / c).astype(np.int64) + 1
    rows = np.repeat(ok, count)
    k = np.arange(len(rows)) - np.repeat(np.cumsum(count) - count, count)
    day = np.floor(np.repeat(first, count) + k * np.repeat(c, count)).astype(np.int64)
    keep = day < n_days
    rows, day = rows[keep], day[keep]
    eps = rng.standard_normal(len(rows)) * sigma[rows]
    mean = -(sigma_condition**2) / 2.0  # ln Z of a log-normal with mean 1
    u = (np.log(z[rows]) - mean + eps) / np.sqrt(sigma_condition**2 + sigma[rows] ** 2)
    grade = 1 + np.searchsorted(GRADE_CUTS, u, side="right")
    order = np.lexsort((rows, day))
    rows, day, grade = rows[order], day[order], grade[order]
    return pd.DataFrame(
        {
            "asset_id": assets["asset_id"].to_numpy(object)[rows],
            "day_index": day,
            "inspected_utc": pd.to_datetime(start_s + 86_400 * day, unit="s", utc=True),
            "kind": kind[rows],
            "grade": grade.astype(np.int64),
        },
        columns=list(INSPECTION_COLUMNS),
    )


def empty_inspections() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "asset_id": pd.Series([], dtype=object),
            "day_index": pd.Series([], dtype=np.int64),
            "inspected_utc": pd.Series([], dtype="datetime64[ns, UTC]"),
            "kind": pd.Series([], dtype=object),
            "grade": pd.Series([], dtype=np.int64),
        }
    )


def inspection_features(assets: pd.DataFrame, inspections: pd.DataFrame, cutoff_day: int) -> pd.DataFrame:
    """Per asset, from records dated before ``cutoff_day`` only: the last grade, the mean grade, the
    number of records and the years since the last one (NaN / 0 where there is none)."""
    past = inspections[inspections["day_index"].to_numpy(np.int64) < cutoff_day]
    ids = pd.Index(assets["asset_id"].to_numpy(object))
    pos = ids.get_indexer(pd.Index(past["asset_id"]))
    keep = pos >= 0
    pos = pos[keep]
    g = past["grade"].to_numpy(np.float64)[keep]
    d = past["day_index"].to_numpy(np.int64)[keep]
    n = len(assets)
    cnt = np.bincount(pos, minlength=n).astype(np.float64)
    tot = np.bincount(pos, weights=g, minlength=n)
    last_day = np.full(n, np.iinfo(np.int64).min)
    np.maximum.at(last_day, pos, d)
    is_last = d == last_day[pos]
    last_grade = np.full(n, np.nan)
    last_grade[pos[is_last]] = g[is_last]
    has = cnt > 0
    return pd.DataFrame(
        {
            "insp_last_grade": last_grade,
            "insp_mean_grade": np.divide(tot, cnt, out=np.full(n, np.nan), where=has),
            "insp_count": cnt,
            "insp_years_since": np.where(has, (cutoff_day - last_day) / 365.25, np.nan),
        }
    )
