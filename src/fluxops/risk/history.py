"""Years of failure history drawn from the hazard process (`fluxops.risk.hazard`), as outage records.

Sampling, vectorized: the age term is held for each asset-year (evaluated mid-year), so each asset-year's
failures are Poisson with mean ``Λ_iy = Σ_d λ_i(d)`` (the daily hazard summed over the year's days), and
each failure's day is drawn with probability ∝ ``λ_i(d)`` within that year — the same process as a
Bernoulli/Poisson draw per asset-day (superposition and thinning of Poisson processes), at a cost of
assets × years draws instead of assets × days. Daily hazards are still computed per day: weather
profiles once per type, transformer heat profiles in chunks of transformers × days. The time within the
day is uniform. Deterministic for (grid, params, window, seed).

Each failure becomes an outage record in the OMS shape (`fluxops.ops.models.OUTAGES_SCHEMA` fields):
the protective device that operates and its customers (`fluxops.risk.assets`), restored after the
repair time of the cascade repair model (`fluxops.cascade.repair.repair_hours`, RBTS hours and stated
assumptions on `RestorationConfig`), customer-minutes = customers × duration. The records are kept in
the risk history (a table of its own); `fluxops.risk.oms_history` turns them into restored, historical
OMS outages for the reliability indices — see docs/risk.md.

The truth — expected failures per asset-year (``risk_truth``) and the frailty — is returned apart and
stored apart; features and the UI never read it; only evaluation (the oracle) does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from fluxops.cascade.repair import repair_hours
from fluxops.cascade.restoration import RestorationConfig
from fluxops.risk.ami_signals import ami_years_table, empty_ami, hours_over_110c, voltage_anomalies
from fluxops.risk.hazard import (
    DAY_S,
    HazardParams,
    age_at,
    age_factor,
    base_rate_per_y,
    characteristic_life_y,
    daily_weather,
    days_utc,
    decimal_year,
    frailty,
    heat_aging,
    history_window,
    wear_out_raw,
    wind_multiplier,
)
from fluxops.risk.inspection import empty_inspections, generate_inspections

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Progress = Callable[[float, str], None]
XF_CHUNK = 4096

FAILURE_COLUMNS: tuple[str, ...] = (
    "failure_id",
    "asset_id",
    "asset_type",
    "feeder_id",
    "substation_id",
    "year_index",
    "start_utc",
    "restored_utc",
    "duration_h",
    "protective_device_id",
    "outage_kind",
    "customers_affected",
    "critical_customers_affected",
    "customer_minutes",
)


@dataclass(frozen=True)
class History:
    """A generated failure history. ``truth`` is the hidden ground truth (evaluation only)."""

    assets: pd.DataFrame  # fluxops.risk.assets.ASSET_COLUMNS
    failures: pd.DataFrame  # FAILURE_COLUMNS
    truth: pd.DataFrame  # asset_id, year_index, expected_failures; plus per asset frailty (year -1 rows)
    start_utc: datetime
    n_days: int
    years: int
    seed: int
    params: HazardParams = field(default_factory=HazardParams)
    # inspection records (`fluxops.risk.inspection`): observable; empty for a history stored before them
    inspections: pd.DataFrame = field(default_factory=empty_inspections)
    # AMI signals of distribution transformers (`fluxops.risk.ami_signals`): observable; empty for a
    # history stored before them
    ami_years: pd.DataFrame = field(default_factory=lambda: empty_ami()[0])
    ami_events: pd.DataFrame = field(default_factory=lambda: empty_ami()[1])

    def year_bounds(self) -> list[tuple[datetime, datetime]]:
        edges = year_edges(self.n_days, self.years)
        t0 = self.start_utc.timestamp()
        return [
            (
                datetime.fromtimestamp(t0 + DAY_S * int(edges[y]), UTC),
                datetime.fromtimestamp(t0 + DAY_S * int(edges[y + 1]), UTC),
            )
            for y in range(self.years)
        ]

    def reliability_by_year(self) -> list[dict[str, float | None]]:
        """IEEE 1366 SAIFI, SAIDI (min) and CAIDI (min) of each history year from these failures alone
        (every interruption here is sustained: the shortest repair is 1 h). Customers served: those behind
        the substation transformers."""
        n_t = float(
            self.assets.loc[self.assets["asset_type"] == "substation_transformer", "customers_affected"].sum()
        )
        g = self.failures.groupby("year_index")
        ci = g["customers_affected"].sum().reindex(range(self.years), fill_value=0).to_numpy(np.float64)
        cmi = g["customer_minutes"].sum().reindex(range(self.years), fill_value=0).to_numpy(np.float64)
        out = []
        for y in range(self.years):
            saifi = float(ci[y] / n_t) if n_t else None
            saidi = float(cmi[y] / n_t) if n_t else None
            caidi = saidi / saifi if saifi and saidi is not None else None  # no interruption: undefined
            out.append({"year_index": float(y), "saifi": saifi, "saidi_min": saidi, "caidi_min": caidi})
        return out

    def meta(self) -> dict[str, Any]:
        return {
            "start_utc": self.start_utc.isoformat(),
            "n_days": self.n_days,
            "years": self.years,
            "seed": self.seed,
            "failures": len(self.failures),
            "inspections": len(self.inspections),
            "ami_voltage_anomaly_days": len(self.ami_events),
            "assets": len(self.assets),
            "reliability_by_year": self.reliability_by_year(),
            "params": self.params.to_dict(),
        }


def year_edges(n_days: int, years: int) -> I64:
    """Day index where each history year starts (years + 1 edges)."""
    out: I64 = np.floor(np.arange(years + 1) * n_days / years + 1e-9).astype(np.int64)
    return out


def _overhead_plant(assets: pd.DataFrame) -> npt.NDArray[np.bool_]:
    t = assets["asset_type"].to_numpy(object)
    ov = assets["construction"].to_numpy(object) == "overhead"
    out: npt.NDArray[np.bool_] = ((t == "line_segment") & ov) | (t == "pole")
    return out


def generate_history(
    assets: pd.DataFrame,
    *,
    end_utc: datetime,
    years: int = 5,
    seed: int = 0,
    params: HazardParams | None = None,
    progress: Progress | None = None,
) -> History:
    """Draw ``years`` years of failures ending before ``end_utc``'s day, for the assets of
    `fluxops.risk.assets.risk_assets`."""
    p = params or HazardParams()
    report = progress or (lambda _f, _m: None)
    start, n_days = history_window(end_utc, years)
    edges = year_edges(n_days, years)
    year_of_day = np.searchsorted(edges, np.arange(n_days), side="right") - 1
    day_s = days_utc(start, n_days)
    wx = daily_weather(day_s, p)
    report(0.05, "weather")

    n = len(assets)
    t = assets["asset_type"].to_numpy(object)
    base_day = base_rate_per_y(assets, p) / 365.25
    z = frailty(assets, p, seed)
    eta = characteristic_life_y(assets, p)
    start_y = decimal_year(start)
    raw0 = wear_out_raw(age_at(assets, start_y, p), eta, p)
    norm = pd.Series(raw0).groupby(t).transform(lambda s: np.nanmean(s) if s.notna().any() else np.nan)
    norm_arr = norm.to_numpy(np.float64)
    age_f = np.empty((n, years))
    for y in range(years):
        mid = start_y + (edges[y] + edges[y + 1]) / 2.0 / 365.25
        age_f[:, y] = age_factor(wear_out_raw(age_at(assets, mid, p), eta, p), norm_arr, p)

    # per-day profiles summed per year: S[i, y] = Σ_{d in y} m_i(d)
    days_per_year = np.diff(edges).astype(np.float64)
    wind = wind_multiplier(wx["wind_max_m_s"].to_numpy(), p)
    wind_year = np.bincount(year_of_day, weights=wind, minlength=years)
    overhead = _overhead_plant(assets)
    s = np.tile(days_per_year, (n, 1))
    s[overhead] = wind_year
    xf = np.flatnonzero(t == "transformer")
    k_avg = assets["k_avg"].to_numpy(np.float64)
    k_pk = assets["k_peak"].to_numpy(np.float64)
    tmax, tmean = wx["temp_max_c"].to_numpy(), wx["temp_mean_c"].to_numpy()
    heat_year = np.zeros((len(xf), years))
    hot_h_year = np.zeros((len(xf), years))
    for c0 in range(0, len(xf), XF_CHUNK):
        rows = xf[c0 : c0 + XF_CHUNK]
        f = heat_aging(k_avg[rows], k_pk[rows], tmax, tmean, p)
        heat_year[c0 : c0 + len(rows)] = np.add.reduceat(f, edges[:-1], axis=1)
        hot = hours_over_110c(k_avg[rows], k_pk[rows], tmax, p)
        hot_h_year[c0 : c0 + len(rows)] = np.add.reduceat(hot, edges[:-1], axis=1)
        report(0.05 + 0.6 * (c0 + len(rows)) / max(len(xf), 1), "transformer heat profiles")
    heat_mean = float(heat_year.sum() / (len(xf) * n_days)) if len(xf) else 1.0
    s[xf] = heat_year / heat_mean

    lam = base_day[:, None] * z[:, None] * age_f * s  # expected failures per asset-year
    # The drivers are correlated (a loaded transformer has both a higher insulation age and hotter
    # days), so their product's fleet mean is not 1: rescale per type so the expected fleet failures
    # over the history are the published rate × exposure × years.
    want = pd.Series(base_day * n_days).groupby(t).sum()
    got = pd.Series(lam.sum(axis=1)).groupby(t).sum()
    scale = (want / got.where(got > 0)).fillna(1.0)
    lam = lam * scale.reindex(t).to_numpy(np.float64)[:, None]
    rng = np.random.default_rng([seed, 12_002])
    counts = rng.poisson(lam)
    report(0.7, "failures drawn")

    # place each failure on a day of its year, ∝ the asset's daily hazard
    ai, yi = np.nonzero(counts)
    reps = counts[ai, yi]
    ev_asset = np.repeat(ai, reps)
    ev_year = np.repeat(yi, reps)
    u = rng.random(len(ev_asset))
    ev_day = np.empty(len(ev_asset), np.int64)
    flat = np.ones(n_days)
    for prof_name, mask, prof in (("flat", ~overhead & (t != "transformer"), flat), ("wind", overhead, wind)):
        sel = np.flatnonzero(mask[ev_asset])
        if not len(sel):
            continue
        cum = np.cumsum(prof)
        lo = np.where(edges[ev_year[sel]] > 0, cum[np.maximum(edges[ev_year[sel]] - 1, 0)], 0.0)
        hi = cum[edges[ev_year[sel] + 1] - 1]
        ev_day[sel] = np.searchsorted(cum, lo + u[sel] * (hi - lo), side="right")
        _ = prof_name
    sel = np.flatnonzero(t[ev_asset] == "transformer")
    if len(sel):
        f = heat_aging(k_avg[ev_asset[sel]], k_pk[ev_asset[sel]], tmax, tmean, p)
        inyear = year_of_day[None, :] == ev_year[sel][:, None]
        f = np.where(inyear, f, 0.0)
        cum = np.cumsum(f, axis=1)
        target = u[sel] * cum[:, -1]
        ev_day[sel] = (cum < target[:, None]).sum(axis=1)
    ev_day = np.minimum(ev_day, n_days - 1)
    tod = rng.integers(0, DAY_S, len(ev_asset))
    order = np.lexsort((ev_asset, tod, ev_day))
    ev_asset, ev_year, ev_day, tod = ev_asset[order], ev_year[order], ev_day[order], tod[order]
    report(0.85, "outage records")

    failures = _records(assets, ev_asset, ev_year, day_s[ev_day] + tod)
    truth = pd.DataFrame(
        {
            "asset_id": np.repeat(assets["asset_id"].to_numpy(object), years),
            "year_index": np.tile(np.arange(years), n),
            "expected_failures": lam.ravel(),
        }
    )
    truth_frailty = pd.DataFrame({"asset_id": assets["asset_id"].to_numpy(object), "frailty": z})
    truth = truth.merge(truth_frailty, on="asset_id", how="left")
    inspections = generate_inspections(
        assets,
        z,
        start_s=int(start.timestamp()),
        n_days=n_days,
        sigma_condition=float(np.hypot(p.frailty_sigma_feeder, p.frailty_sigma_asset)),
        seed=seed,
        params=p.inspection,
    )
    ids = assets["asset_id"].to_numpy(object)
    is_xf_ev = t[ev_asset] == "transformer"
    ami_years = ami_years_table(ids[xf], heat_year, hot_h_year, days_per_year)
    ami_events, first_pre = voltage_anomalies(
        ids[xf], ids[ev_asset[is_xf_ev]], ev_day[is_xf_ev], n_days=n_days, seed=seed
    )
    pre = np.full((n, years), np.nan)  # first precursor day of each asset-year's failures (truth)
    has = np.isfinite(first_pre)
    pre_a, pre_y = ev_asset[is_xf_ev][has], ev_year[is_xf_ev][has]
    pre_min = pd.Series(first_pre[has]).groupby([pre_a, pre_y]).min()
    if len(pre_min):
        pre[pre_min.index.get_level_values(0), pre_min.index.get_level_values(1)] = pre_min.to_numpy()
    truth["precursor_first_day"] = pre.ravel()
    report(1.0, "done")
    return History(assets, failures, truth, start, n_days, years, seed, p, inspections, ami_years, ami_events)


def repair_h_of(assets: pd.DataFrame, cfg: RestorationConfig | None = None) -> F64:
    """Hours to repair each asset (`fluxops.cascade.repair.repair_hours`, repair kind ``repair``)."""
    c = cfg or RestorationConfig()
    keys = assets[["asset_type", "construction"]].drop_duplicates()
    table = {
        (a, k): repair_hours(c, a, "repair", "overhead" if a == "pole" else k)
        for a, k in keys.itertuples(index=False)
    }
    out: F64 = np.array(
        [table[(a, k)] for a, k in zip(assets["asset_type"], assets["construction"], strict=True)],
        dtype=np.float64,
    )
    return out


def _records(assets: pd.DataFrame, ev_asset: I64, ev_year: I64, start_s: I64) -> pd.DataFrame:
    a = assets.iloc[ev_asset].reset_index(drop=True)
    dur_h = repair_h_of(a)
    start = pd.to_datetime(start_s, unit="s", utc=True)
    cust = a["customers_affected"].to_numpy(np.int64)
    return pd.DataFrame(
        {
            "failure_id": [f"RF-{i:07d}" for i in range(len(a))],
            "asset_id": a["asset_id"].to_numpy(object),
            "asset_type": a["asset_type"].to_numpy(object),
            "feeder_id": a["feeder_id"].to_numpy(object),
            "substation_id": a["substation_id"].to_numpy(object),
            "year_index": ev_year.astype(np.int64),
            "start_utc": start,
            "restored_utc": start + pd.to_timedelta(dur_h, unit="h"),
            "duration_h": dur_h,
            "protective_device_id": a["protective_device_id"].to_numpy(object),
            "outage_kind": a["outage_kind"].to_numpy(object),
            "customers_affected": cust,
            "critical_customers_affected": a["critical_customers_affected"].to_numpy(np.int64),
            "customer_minutes": cust * dur_h * 60.0,
        },
        columns=list(FAILURE_COLUMNS),
    )
