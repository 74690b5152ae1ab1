"""Inspection records: a noisy reading of the hidden condition, on a documented cycle, never from the
future (the no-leak half is in test_features.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from fluxops.risk.history import History, generate_history
from fluxops.risk.inspection import InspectionParams, inspection_plan

from .conftest import END, scaled_params


def _frailty(h: History) -> pd.Series:
    return h.truth.drop_duplicates("asset_id").set_index("asset_id")["frailty"]


def test_grades_read_the_condition_with_noise(small_history: History) -> None:
    h = small_history
    ins = h.inspections
    assert len(ins) > 0 and set(ins["grade"].unique()) <= {1, 2, 3, 4, 5}
    z = np.log(ins["asset_id"].map(_frailty(h)).to_numpy(np.float64))
    g = ins["grade"].to_numpy(np.float64)
    r = np.corrcoef(pd.Series(z).rank(), pd.Series(g).rank())[0, 1]
    assert 0.3 < r < 0.95  # informative, and noisy
    # grades hold about 50/25/15/7/3 % of the readings
    share = ins["grade"].value_counts(normalize=True).sort_index().to_numpy()
    assert abs(share[0] - 0.5) < 0.06 and abs(share[-1] - 0.03) < 0.03


def test_cycles_and_coverage(small_history: History) -> None:
    h = small_history
    a = h.assets
    cycle, _, kind = inspection_plan(a, InspectionParams())
    ug_seg = ((a["asset_type"] == "line_segment") & (a["construction"] == "underground")).to_numpy()
    assert np.isnan(cycle[ug_seg]).all() and np.isfinite(cycle[~ug_seg]).all()
    inspected = set(h.inspections["asset_id"])
    assert not inspected & set(a.loc[ug_seg, "asset_id"])
    # every inspected asset has a record before the history starts (the previous cycle's)
    first = h.inspections.groupby("asset_id")["day_index"].min()
    assert (first < 0).all() and len(first) == int((~ug_seg).sum())
    # spacing is the cycle: about 5 years for a pole, 1 year for a substation transformer's oil sample
    gaps = h.inspections.groupby("asset_id")["day_index"].diff().dropna()
    kinds = h.inspections.loc[gaps.index, "kind"]
    assert np.allclose(gaps[kinds == "detailed"], 5 * 365.25, atol=1)
    assert np.allclose(gaps[kinds == "dga"], 365.25, atol=1)
    assert set(kind[(a["asset_type"] == "substation_transformer").to_numpy()]) == {"dga"}


def test_inspections_are_deterministic_and_leave_the_failures_alone(small_history: History) -> None:
    h = small_history
    again = generate_history(h.assets, end_utc=END, years=5, seed=1, params=scaled_params())
    pd.testing.assert_frame_equal(h.inspections, again.inspections)
    noisier = replace(scaled_params(), inspection=InspectionParams(visual_sigma=2.0))
    other = generate_history(h.assets, end_utc=END, years=5, seed=1, params=noisier)
    pd.testing.assert_frame_equal(h.failures, other.failures)  # their own random stream
    assert not h.inspections["grade"].equals(other.inspections["grade"])


def test_a_share_of_transformer_failures_have_voltage_precursors(small_history: History) -> None:
    """Anomaly days cluster in the 90 days before transformer failures (a share of them), over a
    background that every transformer has."""
    h = small_history
    ev = h.ami_events
    xf_fail = h.failures[h.failures["asset_type"] == "transformer"]
    assert len(xf_fail) > 20 and len(ev) > 0
    day0 = h.start_utc.timestamp()
    fday = ((xf_fail["start_utc"].astype("int64") // 10**9 - day0) // 86_400).to_numpy()
    by = ev.groupby("asset_id")["day_index"].apply(np.asarray)
    before = np.array(
        [
            ((d := by.get(a, np.array([]))) >= f - 90).sum() - (d >= f).sum() > 0
            for a, f in zip(xf_fail["asset_id"], fday, strict=True)
        ]
    )
    share = before.mean()
    n_xf = int((h.assets["asset_type"] == "transformer").sum())
    background = 1 - np.exp(-0.2 * 90 / 365.25)
    assert 0.15 < share < 0.6 and share > 3 * background
    assert ev["asset_id"].isin(h.assets.loc[h.assets["asset_type"] == "transformer", "asset_id"]).all()
    assert set(h.ami_years["asset_id"]) <= set(h.assets["asset_id"]) and len(h.ami_years) == n_xf * h.years
