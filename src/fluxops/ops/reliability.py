"""IEEE 1366 reliability indices computed from outage records — never constants.

Inputs are the outage log's restoration steps (each says how many customers got supply back when,
and when their outage started) and the still-open outages (customers out now, counted to ``as_of``).
A step of at most ``momentary_max_min`` (5 min, IEEE 1366-2022 §3) is a momentary interruption event
and counts only in MAIFI_E; longer steps are sustained interruptions:

    SAIFI  = Σ N_i / N_T                    CAIDI = SAIDI / SAIFI
    SAIDI  = Σ r_i N_i / N_T   (minutes)    ASAI  = 1 − SAIDI / period minutes
    MAIFI_E = Σ N_mi / N_T   (momentary events × customers)

N_T is the number of customers served at that level (system, substation or feeder), counted from the
grid's meters. Interruptions belong to the period in which they start (IEEE 1366 assigns an event to
its start). Pure: DataFrames in, rows out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from fluxops.core.errors import InvalidInputError

LEVELS: tuple[str, ...] = ("system", "substation", "feeder")
INTERVALS: tuple[str, ...] = ("all", "day", "month")
MOMENTARY_MAX_MIN = 5.0  # IEEE 1366-2022: sustained interruptions last longer than 5 minutes


@dataclass(frozen=True)
class ReliabilityRow:
    level: str
    key: str  # "system", a substation id or a feeder id
    period_start_utc: datetime
    period_end_utc: datetime
    customers_served: int
    customers_interrupted: int  # sustained, Σ N_i
    customer_minutes: float  # Σ r_i N_i
    momentary_customer_events: int  # Σ N_mi
    saifi: float
    saidi_min: float
    caidi_min: float | None  # undefined without sustained interruptions
    asai: float
    maifi_e: float
    # from per-customer records (outage_meters), when given:
    customers_with_interruption: int | None = None  # CN, distinct customers with a sustained one
    caifi: float | None = None  # CI / CN
    cemi_n: float | None = None  # share of customers with more than ``cemi_threshold`` sustained ones
    cemi_threshold: int | None = None
    # per-year extrapolations, only when asked (`annualize_rows`): × 365.25 / days of the bucket
    saifi_annualized: float | None = None
    saidi_min_annualized: float | None = None
    maifi_e_annualized: float | None = None
    annualization_factor: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _steps(restore_events: pd.DataFrame, open_outages: pd.DataFrame, as_of: datetime) -> pd.DataFrame:
    cols = ["feeder_id", "substation_id", "start_utc", "customers", "duration_min"]
    parts = []
    if len(restore_events):
        ev = restore_events[restore_events["event_type"].isin(("restored", "partial_restore"))]
        start = pd.to_datetime(ev["start_utc"], utc=True)
        dur = (pd.to_datetime(ev["event_utc"], utc=True) - start).dt.total_seconds() / 60.0
        parts.append(
            pd.DataFrame(
                {
                    "feeder_id": ev["feeder_id"],
                    "substation_id": ev["substation_id"],
                    "start_utc": start,
                    "customers": ev["customers"].astype(np.int64),
                    "duration_min": dur,
                }
            )
        )
    if len(open_outages):
        op = open_outages[open_outages["customers_out"] > 0]
        start = pd.to_datetime(op["start_utc"], utc=True)
        dur = (pd.Timestamp(as_of) - start).dt.total_seconds() / 60.0
        parts.append(
            pd.DataFrame(
                {
                    "feeder_id": op["feeder_id"],
                    "substation_id": op["substation_id"],
                    "start_utc": start,
                    "customers": op["customers_out"].astype(np.int64),
                    "duration_min": dur.clip(lower=0.0),
                }
            )
        )
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    return pd.concat(parts, ignore_index=True)[cols]


MED_BETA_MULTIPLIER = 2.5  # IEEE 1366-2022 §4.5 ("2.5 beta" method)
MED_LOOKBACK_DAYS = 5 * 365  # five years of daily SAIDI history (IEEE 1366: the five years before)
DAYS_PER_YEAR = 365.25  # annualization (Julian year), only when asked


@dataclass(frozen=True)
class MedConfig:
    """How Major Event Days are identified, and what to do without the history the standard needs.

    IEEE 1366 fits T_MED on the five years of daily SAIDI before the reporting period (all there is
    while fewer exist). A fit on a few days or weeks has seen one season's weather and calls ordinary
    days "major" (or never does), so below ``min_history_days`` of history the threshold is not
    fitted and the ``default`` rule applies instead, and the answer says so (``threshold_source``):

    * ``default_t_med_min`` set (e.g. the utility's own T_MED from its regulatory filing): a day is
      a MED when its system SAIDI exceeds it (source ``"configured T_MED"``);
    * otherwise the customer-share rule regulators used before the 2.5 β method and some still use
      for excludable events: a day on which sustained interruptions reach ``default_customer_share``
      (10 %) of the customers served (CPUC D.96-09-045: events affecting more than 10 % of the
      utility's customers; Oklahoma OAC 165:35-25-20 reports major events by 10 % of a region).

    ``min_history_days`` = 365: a full year, so every season is in the fit (a policy choice; IEEE
    1366 itself asks for five years and the answer reports how many there were).
    """

    min_history_days: float = 365.0
    default_t_med_min: float | None = None
    default_t_med_source: str = "configured T_MED"
    default_customer_share: float = 0.10
    default_customer_share_source: str = (
        "sustained interruptions reaching 10 % of customers served in a day "
        "(CPUC D.96-09-045 major event; OAC 165:35-25-20)"
    )


@dataclass(frozen=True)
class MajorEventDays:
    t_med_min: float | None  # the SAIDI threshold used (fitted or configured); None under the share rule
    days: tuple[date, ...]  # UTC days of the period classified as major event days
    history_days: int  # days with non-zero SAIDI in the history window (the fit's sample)
    threshold_source: str = "fitted"  # "fitted" (2.5 β) | "default" (MedConfig, history too short)
    rule: str = "IEEE 1366 2.5 beta: daily SAIDI > exp(alpha + 2.5 beta)"
    history_span_days: float = 0.0  # days of history before the period that the data covers
    customer_share: float | None = None  # the share rule's threshold when it was used


def major_event_days(
    restore_events: pd.DataFrame,
    open_outages: pd.DataFrame,
    n_customers: int,
    *,
    start_utc: datetime,
    end_utc: datetime,
    as_of_utc: datetime,
    momentary_max_min: float = MOMENTARY_MAX_MIN,
    history_start_utc: datetime | None = None,
    config: MedConfig | None = None,
) -> MajorEventDays:
    """Major Event Days of [start, end) by the IEEE 1366 2.5 β method: T_MED = exp(α + 2.5 β), α and β
    the mean and (sample) standard deviation of ln(daily system SAIDI) over the five years before
    ``start`` (or all the history there is), days with zero SAIDI left out as the log is undefined.
    Days are UTC calendar days here (the standard uses the utility's local day).

    ``history_start_utc`` is when the data begin (the AMI lake's first day; default: the earliest
    interruption on record, which understates coverage). With less than ``config.min_history_days``
    of history before ``start`` the threshold is not fitted: `MedConfig`'s default rule is used and
    ``threshold_source`` says ``"default"``."""
    cfg = config or MedConfig()
    steps = _steps(restore_events, open_outages, as_of_utc)
    steps = steps[steps["duration_min"] > momentary_max_min]
    # utc=True: an empty frame (no outages yet) comes back tz-naive from the store.
    day = pd.DatetimeIndex(pd.to_datetime(steps["start_utc"], utc=True)).normalize()
    saidi = (steps["customers"] * steps["duration_min"]).groupby(day).sum() / max(n_customers, 1)
    ci = steps["customers"].groupby(day).sum()
    t0, t1 = pd.Timestamp(start_utc), pd.Timestamp(end_utc)
    window0 = t0 - pd.Timedelta(days=MED_LOOKBACK_DAYS)
    first = pd.Timestamp(history_start_utc) if history_start_utc is not None else None
    if first is None and len(day):
        first = day.min()
    span_start = max(window0, first) if first is not None else t0
    span_days = max(0.0, (t0 - span_start).total_seconds() / 86_400.0)
    hist = saidi[(saidi.index >= window0) & (saidi.index < t0.normalize())]
    hist = hist[hist > 0]
    inside = saidi[(saidi.index >= t0.normalize()) & (saidi.index < t1)]
    if span_days >= cfg.min_history_days and len(hist) >= 2:
        logs = np.log(hist.to_numpy(dtype=float))
        t_med = float(np.exp(logs.mean() + MED_BETA_MULTIPLIER * logs.std(ddof=1)))
        days = tuple(pd.Timestamp(d).date() for d in inside.index[inside.to_numpy() > t_med])
        return MajorEventDays(t_med, days, len(hist), "fitted", history_span_days=span_days)
    if cfg.default_t_med_min is not None:
        t_med = float(cfg.default_t_med_min)
        days = tuple(pd.Timestamp(d).date() for d in inside.index[inside.to_numpy() > t_med])
        rule = f"daily SAIDI > {t_med:g} min ({cfg.default_t_med_source})"
        return MajorEventDays(t_med, days, len(hist), "default", rule, span_days)
    share = cfg.default_customer_share
    ci_in = ci[(ci.index >= t0.normalize()) & (ci.index < t1)]
    days = tuple(pd.Timestamp(d).date() for d in ci_in.index[ci_in.to_numpy() >= share * max(n_customers, 1)])
    return MajorEventDays(
        None, days, len(hist), "default", cfg.default_customer_share_source, span_days, share
    )


@dataclass(frozen=True)
class ReliabilityReport:
    """Indices with what they cover: the period (and why that period), the customers served, the
    Major Event Days and whether synthetic (demo-injected) outages are in. Values are for the period
    as it is; ``annualized`` rows also carry per-year figures (× 365.25 / days of the bucket)."""

    rows: list[ReliabilityRow]
    med: MajorEventDays
    period_start_utc: datetime
    period_end_utc: datetime
    days_covered: float
    period_basis: str  # "requested" | "data_coverage" (less than a year of data) | "last_365_days"
    data_start_utc: datetime | None  # when the data begin (None: unknown)
    data_start_source: str | None  # "coverage" (e.g. the AMI lake's first day) | "first_outage_on_record"
    customers_served: int  # system N_T
    include_synthetic: bool
    annualized: bool


def annualize_rows(rows: Sequence[ReliabilityRow]) -> list[ReliabilityRow]:
    """Rows with the per-year figures filled (SAIFI, SAIDI, MAIFI_E × 365.25 days / bucket days).
    Only on request: a week's SAIDI × 52 is an extrapolation, not a measured annual figure."""
    out = []
    for r in rows:
        days = (r.period_end_utc - r.period_start_utc).total_seconds() / 86_400.0
        f = DAYS_PER_YEAR / days if days > 0 else float("nan")
        out.append(
            replace(
                r,
                saifi_annualized=r.saifi * f,
                saidi_min_annualized=r.saidi_min * f,
                maifi_e_annualized=r.maifi_e * f,
                annualization_factor=f,
            )
        )
    return out


def compute_indices(
    restore_events: pd.DataFrame,
    open_outages: pd.DataFrame,
    customers_served: Mapping[str, int],
    *,
    level: str,
    start_utc: datetime,
    end_utc: datetime,
    as_of_utc: datetime,
    interval: str = "all",
    momentary_max_min: float = MOMENTARY_MAX_MIN,
    exclude_days: Sequence[date] = (),
    meter_rows: pd.DataFrame | None = None,
    cemi_threshold: int = 3,
) -> list[ReliabilityRow]:
    """Indices per key of ``level`` (and per day/month when ``interval`` asks).

    ``restore_events``: outage-log rows (event_type, event_utc, start_utc, customers, feeder_id,
    substation_id); ``open_outages``: rows with start_utc, customers_out, feeder_id, substation_id;
    ``customers_served``: N_T per key ("system" for the system level). Keys with customers and no
    interruption get zero indices (a feeder without outages is a result, not a gap).
    ``meter_rows`` (meter_id, out_utc, restored_utc, feeder_id, substation_id: one row per customer
    per outage) adds CAIFI = CI / CN and CEMI_n (customers with more than n sustained interruptions).
    """
    if level not in LEVELS:
        raise InvalidInputError(f"level must be one of {LEVELS}", field="level")
    if interval not in INTERVALS:
        raise InvalidInputError(f"interval must be one of {INTERVALS}", field="interval")
    if end_utc <= start_utc:
        raise InvalidInputError("end must be after start", field="end")
    steps = _steps(restore_events, open_outages, as_of_utc)
    t0, t1 = pd.Timestamp(start_utc), pd.Timestamp(end_utc)
    steps = steps[(steps["start_utc"] >= t0) & (steps["start_utc"] < t1)].copy()
    if exclude_days:  # Major Event Days are reported separately (IEEE 1366 §4.5)
        day = pd.DatetimeIndex(pd.to_datetime(steps["start_utc"], utc=True)).normalize().date
        steps = steps[~np.isin(day, np.array(list(exclude_days), dtype=object))]
    steps["key"] = "system" if level == "system" else steps[f"{level}_id"].astype(object)
    if interval == "all":
        edges = [t0, t1]
    else:
        freq = "D" if interval == "day" else "MS"
        inner = pd.date_range(
            t0.ceil("D") if freq == "D" else t0.normalize(), t1, freq=freq, inclusive="left"
        )
        edges = sorted({t0, *[e for e in inner if t0 < e < t1], t1})
    inner_ns = pd.DatetimeIndex(edges[1:-1]).as_unit("ns").asi8
    start_ns = pd.DatetimeIndex(steps["start_utc"]).as_unit("ns").asi8
    steps["bucket"] = np.searchsorted(inner_ns, start_ns, side="right")
    sustained = steps["duration_min"] > momentary_max_min
    steps["ci"] = np.where(sustained, steps["customers"], 0)
    steps["cmi"] = np.where(sustained, steps["customers"] * steps["duration_min"], 0.0)
    steps["mom"] = np.where(sustained, 0, steps["customers"])
    agg = steps.groupby(["key", "bucket"])[["ci", "cmi", "mom"]].sum()
    per_customer = (
        _customer_counts(meter_rows, level, edges, as_of_utc, momentary_max_min, exclude_days, cemi_threshold)
        if meter_rows is not None
        else None
    )
    sums: dict[tuple[str, int], tuple[float, float, float]] = {
        (str(k), int(b)): (float(ci), float(cmi), float(mom))
        for (k, b), ci, cmi, mom in zip(
            agg.index, agg["ci"].to_numpy(), agg["cmi"].to_numpy(), agg["mom"].to_numpy(), strict=True
        )
    }
    rows: list[ReliabilityRow] = []
    for key in sorted(customers_served):
        n_t = int(customers_served[key])
        if n_t <= 0:
            continue
        for b in range(len(edges) - 1):
            ci, cmi, mom = sums.get((str(key), b), (0.0, 0.0, 0.0))
            minutes = (edges[b + 1] - edges[b]).total_seconds() / 60.0
            saifi, saidi = float(ci) / n_t, float(cmi) / n_t
            cn: int | None = None
            cemi: float | None = None
            if per_customer is not None:
                cn, n_over = per_customer.get((str(key), b), (0, 0))
                cemi = n_over / n_t
            rows.append(
                ReliabilityRow(
                    level=level,
                    key=str(key),
                    period_start_utc=edges[b].to_pydatetime(),
                    period_end_utc=edges[b + 1].to_pydatetime(),
                    customers_served=n_t,
                    customers_interrupted=int(ci),
                    customer_minutes=float(cmi),
                    momentary_customer_events=int(mom),
                    saifi=saifi,
                    saidi_min=saidi,
                    caidi_min=saidi / saifi if saifi > 0 else None,
                    asai=1.0 - saidi / minutes,
                    maifi_e=float(mom) / n_t,
                    customers_with_interruption=cn,
                    caifi=(float(ci) / cn if cn else None) if cn is not None else None,
                    cemi_n=cemi,
                    cemi_threshold=cemi_threshold if per_customer is not None else None,
                )
            )
    return rows


def _customer_counts(
    meter_rows: pd.DataFrame,
    level: str,
    edges: list[pd.Timestamp],
    as_of: datetime,
    momentary_max_min: float,
    exclude_days: Sequence[date],
    threshold: int,
) -> dict[tuple[str, int], tuple[int, int]]:
    """(key, bucket) -> (CN, customers with more than ``threshold`` sustained interruptions)."""
    if len(meter_rows) == 0:
        return {}
    out = pd.to_datetime(meter_rows["out_utc"], utc=True)
    back = pd.to_datetime(meter_rows["restored_utc"], utc=True).fillna(pd.Timestamp(as_of))
    keep = (
        ((back - out).dt.total_seconds() / 60.0 > momentary_max_min) & (out >= edges[0]) & (out < edges[-1])
    )
    if exclude_days:
        day = pd.DatetimeIndex(out).tz_convert("UTC").normalize().date
        keep &= ~np.isin(day, np.array(list(exclude_days), dtype=object))
    rows = meter_rows[keep.to_numpy()]
    if len(rows) == 0:
        return {}
    inner_ns = pd.DatetimeIndex(edges[1:-1]).as_unit("ns").asi8
    start_ns = pd.DatetimeIndex(out[keep]).as_unit("ns").asi8
    frame = pd.DataFrame(
        {
            "key": "system" if level == "system" else rows[f"{level}_id"].astype(object).to_numpy(),
            "bucket": np.searchsorted(inner_ns, start_ns, side="right"),
            "meter_id": rows["meter_id"].to_numpy(),
        }
    )
    per_meter = frame.groupby(["key", "bucket", "meter_id"]).size().rename("n").reset_index()
    per_meter["over"] = per_meter["n"] > threshold
    agg = per_meter.groupby(["key", "bucket"]).agg(cn=("meter_id", "size"), over=("over", "sum"))
    return {
        (str(k), int(b)): (int(cn), int(over))
        for (k, b), cn, over in zip(agg.index, agg["cn"].to_numpy(), agg["over"].to_numpy(), strict=True)
    }


def customers_served(meters: pd.DataFrame, level: str) -> dict[str, int]:
    """N_T per key of ``level`` from the grid's meters (one customer per meter)."""
    if level not in LEVELS:
        raise InvalidInputError(f"level must be one of {LEVELS}", field="level")
    if level == "system":
        return {"system": len(meters)}
    counts = meters.groupby(f"{level}_id").size()
    return {str(k): int(v) for k, v in counts.items()}
