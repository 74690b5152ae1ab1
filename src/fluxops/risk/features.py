"""Features known at a cut-off, and the label of the 12 months after it.

A snapshot at history year ``k`` (cut-off = the start of year ``k``) uses the asset tables (static
attributes as recorded) and only the failures of years ``< k``; its label is whether the asset fails in
year ``k``. `tests/risk/test_features.py` proves it: rewriting, dropping or adding failures in year ``k``
or later leaves the features unchanged.

Neighbour aggregates (leave-self-out, so an asset's own failures are never counted twice): failures per
asset-year of the other assets on its feeder, of the same type on its feeder, and of the other assets in
its protective zone (same operating device).

Inspection features (`fluxops.risk.inspection`): the last and mean grade of the asset's inspection
records dated before the cut-off, how many there are and how old the last one is. AMI features of
distribution transformers (`fluxops.risk.ami_signals`): last year's measured hot-spot aging and hours over
110 °C, and the days of abnormal secondary voltage in the 90 and 365 days before the cut-off.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from fluxops.core.errors import InvalidInputError
from fluxops.risk.ami_signals import AMI_FEATURES, ami_features, empty_ami
from fluxops.risk.hazard import HazardParams, age_at, base_rate_per_y, characteristic_life_y, decimal_year
from fluxops.risk.inspection import empty_inspections, inspection_features

F64 = npt.NDArray[np.float64]

TYPE_CODES: dict[str, int] = {
    t: i
    for i, t in enumerate(
        (
            "transformer",
            "line_segment",
            "pole",
            "fuse",
            "recloser",
            "sectionalizer",
            "breaker",
            "switch",
            "substation_transformer",
        )
    )
}
MATERIAL_CODES: dict[str, int] = {"": 0, "wood": 1, "steel": 2, "concrete": 3}

FEATURES: tuple[str, ...] = (
    "type_code",
    "underground",
    "length_km",
    "age_y",
    "material_code",
    "rating",
    "k_avg",
    "k_peak",
    "f_aa_cycle",
    "customers_affected",
    "fail_all",
    "fail_last1",
    "fail_last3",
    "fail_rate_y",
    "feeder_fail_rate",
    "feeder_type_fail_rate",
    "zone_fail_rate",
    "feeder_overhead_km_share",
    "feeder_mean_age_y",
    "prior_rate_per_y",
    "life_fraction",
    "insp_last_grade",
    "insp_mean_grade",
    "insp_count",
    "insp_years_since",
    *AMI_FEATURES,
)
# words for explanations (`fluxops.risk.explain`)
FEATURE_WORDS: dict[str, str] = {
    "type_code": "asset type",
    "underground": "underground construction",
    "length_km": "segment length (km)",
    "age_y": "service age (years)",
    "material_code": "pole material",
    "rating": "rating",
    "k_avg": "average load / rating",
    "k_peak": "peak load / rating",
    "f_aa_cycle": "C57.91 insulation aging factor",
    "customers_affected": "customers behind its protective device",
    "fail_all": "its own past failures",
    "fail_last1": "its failures last year",
    "fail_last3": "its failures in the last 3 years",
    "fail_rate_y": "its past failures per year",
    "feeder_fail_rate": "failures of other assets on its feeder (per asset-year)",
    "feeder_type_fail_rate": "failures of same-type assets on its feeder (per asset-year)",
    "zone_fail_rate": "failures in its protective zone (per asset-year)",
    "feeder_overhead_km_share": "overhead share of its feeder",
    "feeder_mean_age_y": "mean age of its feeder's assets",
    "prior_rate_per_y": "published failure rate of its type × its length (failures/yr)",
    "life_fraction": "age over expected life (transformers: C57.91 insulation age over 20.55 y)",
    "insp_last_grade": "grade of its last inspection (1 good … 5 replace)",
    "insp_mean_grade": "mean grade of its inspections",
    "insp_count": "inspections on record",
    "insp_years_since": "years since its last inspection",
    "ami_hot_spot_aging_last_y": "last year's mean C57.91 aging factor of its measured hot spot (AMI)",
    "ami_hours_over_110c_last_y": "last year's hours with the hot spot above 110 °C (AMI)",
    "ami_voltage_anomaly_days_90d": "days with abnormal secondary voltage in the last 90 days (AMI)",
    "ami_voltage_anomaly_days_365d": "days with abnormal secondary voltage in the last year (AMI)",
}


def _leave_self_out_rate(group: pd.Series, own: F64, years: int) -> F64:
    g = group.fillna("").to_numpy(object)
    tot = pd.Series(own).groupby(g).transform("sum").to_numpy(np.float64)
    cnt = pd.Series(np.ones(len(own))).groupby(g).transform("sum").to_numpy(np.float64)
    out: F64 = np.divide(tot - own, (cnt - 1.0) * years, out=np.zeros(len(own)), where=cnt > 1)
    return np.where(group.isna().to_numpy(), 0.0, out)


def snapshot(
    assets: pd.DataFrame,
    failures: pd.DataFrame,
    *,
    cutoff_year: int,
    start_year_decimal: float,
    cutoff_day: int,
    inspections: pd.DataFrame | None = None,
    ami: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Features (`FEATURES`) of every asset at the start of history year ``cutoff_year`` (>= 1), from
    failures of earlier years and inspection records dated before the cut-off only. ``cutoff_day``: the
    cut-off's day index in the history (for ages and inspections). Without inspection records
    (``None``, a history stored before them) the inspection features are unknown (NaN)."""
    if cutoff_year < 1:
        raise InvalidInputError("a snapshot needs at least one year of history", field="cutoff_year")
    past = failures[failures["year_index"].to_numpy() < cutoff_year]
    ids = pd.Index(assets["asset_id"].to_numpy(object))
    all_pos = ids.get_indexer(pd.Index(past["asset_id"]))
    keep = all_pos >= 0  # failures of assets not in the table are ignored
    pos = all_pos[keep]
    yr = past["year_index"].to_numpy(np.int64)[keep]
    n = len(assets)
    fail_all = np.bincount(pos, minlength=n).astype(np.float64)
    fail_last1 = np.bincount(pos[yr == cutoff_year - 1], minlength=n).astype(np.float64)
    fail_last3 = np.bincount(pos[yr >= cutoff_year - 3], minlength=n).astype(np.float64)

    t = assets["asset_type"]
    when = start_year_decimal + cutoff_day / 365.25
    year = assets["install_year"].to_numpy(np.float64)
    age = np.where(year > 0, np.maximum(when - year - 0.5, 0.0), np.nan)
    feeder = assets["feeder_id"].fillna(assets["substation_id"])
    # engineering priors a utility has without any failure record: the published rate of the type times
    # the exposure, and the share of the expected life used (insulation life for transformers)
    prior = HazardParams()
    prior_rate = base_rate_per_y(assets, prior)
    life_fraction = age_at(assets, when, prior) / characteristic_life_y(assets, prior)
    km = assets["length_km"].to_numpy(np.float64)
    ov_km = np.where(assets["construction"].to_numpy(object) == "overhead", km, 0.0)
    fk = pd.DataFrame({"f": feeder.to_numpy(object), "km": km, "ov": ov_km, "age": age})
    agg = fk.groupby("f").agg(km=("km", "sum"), ov=("ov", "sum"), age=("age", "mean"))
    share = (agg["ov"] / agg["km"].where(agg["km"] > 0)).fillna(0.0)
    out = pd.DataFrame(
        {
            "asset_id": assets["asset_id"].to_numpy(object),
            "type_code": t.map(TYPE_CODES).to_numpy(np.int64),
            "underground": (assets["construction"] == "underground").to_numpy(np.float64),
            "length_km": km,
            "age_y": age,
            "material_code": assets["material"].map(MATERIAL_CODES).fillna(0).to_numpy(np.int64),
            "rating": assets["rating"].to_numpy(np.float64),
            "k_avg": assets["k_avg"].to_numpy(np.float64),
            "k_peak": assets["k_peak"].to_numpy(np.float64),
            "f_aa_cycle": assets["f_aa_cycle"].to_numpy(np.float64),
            "customers_affected": assets["customers_affected"].to_numpy(np.float64),
            "fail_all": fail_all,
            "fail_last1": fail_last1,
            "fail_last3": fail_last3,
            "fail_rate_y": fail_all / cutoff_year,
            "feeder_fail_rate": _leave_self_out_rate(feeder, fail_all, cutoff_year),
            "feeder_type_fail_rate": _leave_self_out_rate(feeder + "|" + t, fail_all, cutoff_year),
            "zone_fail_rate": _leave_self_out_rate(assets["protective_device_id"], fail_all, cutoff_year),
            "feeder_overhead_km_share": share.reindex(feeder).to_numpy(np.float64),
            "feeder_mean_age_y": agg["age"].reindex(feeder).to_numpy(np.float64),
            "prior_rate_per_y": prior_rate,
            "life_fraction": life_fraction,
        }
    )
    insp = inspection_features(
        assets, inspections if inspections is not None else empty_inspections(), cutoff_day
    )
    ami_years, ami_events = ami if ami is not None else empty_ami()
    sig = ami_features(assets, ami_years, ami_events, cutoff_year=cutoff_year, cutoff_day=cutoff_day)
    for frame in (insp, sig):
        for c in frame.columns:
            out[c] = frame[c].to_numpy(np.float64)
    return out


def labels(assets: pd.DataFrame, failures: pd.DataFrame, *, year: int) -> npt.NDArray[np.int8]:
    """1 where the asset fails at least once in history year ``year``."""
    ids = pd.Index(assets["asset_id"].to_numpy(object))
    hit = ids.get_indexer(pd.Index(failures.loc[failures["year_index"] == year, "asset_id"]))
    y = np.zeros(len(assets), np.int8)
    y[hit[hit >= 0]] = 1
    return y


def snapshot_of(
    history_assets: pd.DataFrame,
    failures: pd.DataFrame,
    *,
    start_utc_decimal: float,
    edges: npt.NDArray[np.int64],
    cutoff_year: int,
    inspections: pd.DataFrame | None = None,
    ami: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """`snapshot` at the start of history year ``cutoff_year`` given the year edges (day indices)."""
    return snapshot(
        history_assets,
        failures,
        cutoff_year=cutoff_year,
        start_year_decimal=start_utc_decimal,
        cutoff_day=int(edges[cutoff_year]),
        inspections=inspections,
        ami=ami,
    )


__all__ = ["FEATURES", "FEATURE_WORDS", "decimal_year", "labels", "snapshot", "snapshot_of"]
