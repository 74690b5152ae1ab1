"""What the AMI history says about each distribution transformer, year by year: the signals a
transformer-failure model reads (issue 12 §1 and §4).

Why here and not from the AMI lake: the lake holds the demo's few backfill days, after the history's last
cut-off, so a feature computed from it cannot be backtested on the history's split. The history generator
draws the same quantities the lake would give, per transformer and year of the history, from the same
loading and weather the hazard uses:

* ``hot_spot_aging``: the year's mean C57.91 aging acceleration F_AA of the transformer's measured hot
  spot (its customers' load over the modelled ambient, `fluxops.risk.hazard.heat_aging`) — the
  "measured hot-spot history";
* ``hours_over_110c``: hours of the year with the hot spot above 110 °C, the C57.91 reference (the
  peak hours of the days whose maximum ambient pushes the peak-load hot spot past it) — the overload hours
  that count;
* **voltage anomalies** (``AMI_EVENT_COLUMNS``): days a transformer's meters report an abnormal secondary
  voltage. ComEd (T&D World 2018, risk anchors §1.4) describes the signatures: a high-side winding fusion
  raises the secondary voltage, a low-side one or core saturation lowers it, days to weeks before the
  failure. Here a share ``precursor_share`` = 0.3 of transformer failures (*assumption*: ComEd gives the
  signatures, not the share) are preceded by 1 + Poisson(2) anomaly days spread over a lead time drawn
  uniformly in 7-90 days (*assumption*); every transformer also has background anomaly days (meter,
  service-drop or tap problems unrelated to a failure) at 0.2 a year (*assumption*). The rest of the
  failures have no precursor. Which anomaly belongs to a failure is not recorded anywhere a model reads.

A precursor dated before a cut-off tells about a failure *after* it, which the hazard Λ does not: so the
oracle knows it too (the truth keeps each asset-year's first precursor day, ``precursor_first_day``,
and `fluxops.risk.models.oracle_probability` gives those assets probability 1). Without that, a model
reading anomalies could honestly beat the hazard and the oracle would stop being a ceiling.

Features at a cut-off use only years and days before it (`ami_features`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from fluxops.ami.thermal import steady_top_oil_rise
from fluxops.risk.hazard import HazardParams

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

PRECURSOR_SHARE = 0.3
PRECURSOR_LEAD_DAYS = (7, 90)
BACKGROUND_ANOMALY_DAYS_PER_Y = 0.2
AMI_YEAR_COLUMNS: tuple[str, ...] = ("asset_id", "year_index", "hot_spot_aging", "hours_over_110c")
AMI_EVENT_COLUMNS: tuple[str, ...] = ("asset_id", "day_index", "kind")
AMI_FEATURES: tuple[str, ...] = (
    "ami_hot_spot_aging_last_y",
    "ami_hours_over_110c_last_y",
    "ami_voltage_anomaly_days_90d",
    "ami_voltage_anomaly_days_365d",
)


def hours_over_110c(k_avg: F64, k_peak: F64, temp_max: F64, p: HazardParams) -> F64:
    """(transformers × days) hours with the hot spot above the C57.91 reference: the day's peak hours
    (`HealthParams.cycle_peak_hours`, as `heat_aging`) when the peak-load hot spot over the day's maximum
    ambient exceeds it."""
    th = p.health.thermal
    ka = np.nan_to_num(np.maximum(k_avg, 0.0))
    kp = np.maximum(np.nan_to_num(k_peak), ka)
    share = np.divide(ka, kp, out=np.ones_like(ka), where=kp > 0)
    h = np.minimum(p.health.cycle_peak_hours, 24.0 * share)
    rise = steady_top_oil_rise(kp, th) + th.hot_spot_gradient_rated_c * kp ** (2.0 * th.exponent_m)
    over = (temp_max[None, :] + rise[:, None]) > th.reference_hot_spot_c
    out: F64 = np.where(over, h[:, None], 0.0)
    return out


def ami_years_table(
    ids: npt.NDArray[np.object_], aging_sum: F64, hot_h: F64, days_per_year: F64
) -> pd.DataFrame:
    """Per transformer and history year: mean F_AA and hours over 110 °C."""
    n, years = aging_sum.shape
    return pd.DataFrame(
        {
            "asset_id": np.repeat(ids, years),
            "year_index": np.tile(np.arange(years, dtype=np.int64), n),
            "hot_spot_aging": (aging_sum / days_per_year[None, :]).ravel(),
            "hours_over_110c": hot_h.ravel(),
        },
        columns=list(AMI_YEAR_COLUMNS),
    )


def voltage_anomalies(
    xf_ids: npt.NDArray[np.object_],
    fail_ids: npt.NDArray[np.object_],
    fail_day: I64,
    *,
    n_days: int,
    seed: int,
) -> tuple[pd.DataFrame, F64]:
    """Anomaly days (`AMI_EVENT_COLUMNS`): background ones on every transformer and precursors of a share
    of the failures (``fail_ids``/``fail_day``: the transformer failures). Own random stream. Also, per
    failure, the day of its first recorded precursor (NaN: none) — truth, for the oracle only."""
    rng = np.random.default_rng([seed, 12_007])
    n_bg = rng.poisson(BACKGROUND_ANOMALY_DAYS_PER_Y * n_days / 365.25, len(xf_ids))
    bg_ids = np.repeat(xf_ids, n_bg)
    bg_day = rng.integers(0, n_days, len(bg_ids))
    has = rng.random(len(fail_ids)) < PRECURSOR_SHARE
    lead = rng.integers(PRECURSOR_LEAD_DAYS[0], PRECURSOR_LEAD_DAYS[1] + 1, len(fail_ids))
    cnt = np.where(has, 1 + rng.poisson(2.0, len(fail_ids)), 0)
    ev = np.repeat(np.arange(len(fail_ids)), cnt)
    pre_day = fail_day[ev] - 1 - np.floor(rng.random(len(ev)) * lead[ev]).astype(np.int64)
    ids = np.concatenate([bg_ids, fail_ids[ev]]).astype(object)
    days = np.concatenate([bg_day, pre_day]).astype(np.int64)
    kind = np.where(rng.random(len(ids)) < 0.5, "high_secondary_voltage", "low_secondary_voltage")
    out = pd.DataFrame({"asset_id": ids, "day_index": days, "kind": kind.astype(object)})
    out = out[out["day_index"] >= 0]  # the AMI record starts with the history
    out = out.drop_duplicates(["asset_id", "day_index"]).sort_values(["day_index", "asset_id"], kind="stable")
    first = np.full(len(fail_ids), np.inf)
    seen = pre_day >= 0
    np.minimum.at(first, ev[seen], pre_day[seen].astype(np.float64))
    first[~np.isfinite(first)] = np.nan
    return out.reset_index(drop=True)[list(AMI_EVENT_COLUMNS)], first


def empty_ami() -> tuple[pd.DataFrame, pd.DataFrame]:
    years = pd.DataFrame(
        {c: pd.Series([], dtype=object if c == "asset_id" else float) for c in AMI_YEAR_COLUMNS}
    )
    years["year_index"] = years["year_index"].astype(np.int64)
    ev = pd.DataFrame(
        {"asset_id": pd.Series([], dtype=object), "day_index": pd.Series([], dtype=np.int64), "kind": []}
    )
    return years, ev


def ami_features(
    assets: pd.DataFrame,
    ami_years: pd.DataFrame,
    ami_events: pd.DataFrame,
    *,
    cutoff_year: int,
    cutoff_day: int,
) -> pd.DataFrame:
    """`AMI_FEATURES` per asset at a cut-off: last year's aging and hours over 110 °C, anomaly days in the
    90 and 365 days before the cut-off. NaN for assets without AMI signals (not transformers, or a
    history stored before them)."""
    ids = pd.Index(assets["asset_id"].to_numpy(object))
    n = len(ids)
    last = ami_years[ami_years["year_index"].to_numpy(np.int64) == cutoff_year - 1]
    pos = ids.get_indexer(pd.Index(last["asset_id"]))
    ok = pos >= 0
    aging = np.full(n, np.nan)
    hot = np.full(n, np.nan)
    aging[pos[ok]] = last["hot_spot_aging"].to_numpy(np.float64)[ok]
    hot[pos[ok]] = last["hours_over_110c"].to_numpy(np.float64)[ok]
    d = ami_events["day_index"].to_numpy(np.int64)
    epos = ids.get_indexer(pd.Index(ami_events["asset_id"]))
    covered = np.isfinite(aging)  # transformers with AMI
    out = {"ami_hot_spot_aging_last_y": aging, "ami_hours_over_110c_last_y": hot}
    for span in (90, 365):
        m = (d < cutoff_day) & (d >= cutoff_day - span) & (epos >= 0)
        c = np.bincount(epos[m], minlength=n).astype(np.float64)
        out[f"ami_voltage_anomaly_days_{span}d"] = np.where(covered, c, np.nan)
    return pd.DataFrame(out)
