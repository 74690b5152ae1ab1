"""Estimated time of restoration from the utility's own history, never a constant.

ETR = start + the median duration of restored outages of the same device type over the last year
(falling back to the same kind, then to all outages); no estimate until ``ETR_MIN_HISTORY`` such
outages exist. Commercial OMS refine this with crew availability and storm type (Oracle Storm ERT);
this is the history-only baseline they start from.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd

from fluxops.ops.models import OutageRecord

ETR_MIN_HISTORY = 5  # restored outages of a kind needed before its median is used
ETR_LOOKBACK_DAYS = 365

RestorationMedians = dict[tuple[str, str], tuple[float, int]]  # (basis, value) -> (median min, n)


def fit_restoration_medians(history: pd.DataFrame) -> RestorationMedians:
    """Medians from rows with kind, device_type, start_utc, restored_utc."""
    model: RestorationMedians = {}
    if len(history) == 0:
        return model
    dur = (
        pd.to_datetime(history["restored_utc"], utc=True) - pd.to_datetime(history["start_utc"], utc=True)
    ).dt.total_seconds() / 60.0
    hist = history.assign(duration_min=dur)
    for col in ("device_type", "kind"):
        for key, g in hist.groupby(col):
            model[(col, str(key))] = (float(g["duration_min"].median()), len(g))
    model[("all", "all")] = (float(hist["duration_min"].median()), len(hist))
    return model


def estimate_restoration(model: RestorationMedians, outages: list[OutageRecord]) -> dict[str, dict[str, Any]]:
    """outage_id -> {etr_utc, etr_basis} for the open outages that have enough history behind them."""
    out: dict[str, dict[str, Any]] = {}
    for o in outages:
        if not o.is_open:
            continue
        for basis in (("device_type", o.device_type), ("kind", o.kind), ("all", "all")):
            med, n = model.get(basis, (0.0, 0))
            if n >= ETR_MIN_HISTORY:
                out[o.outage_id] = {
                    "etr_utc": o.start_utc + timedelta(minutes=med),
                    "etr_basis": {"by": basis[0], "value": basis[1], "median_min": med, "n": n},
                }
                break
    return out
