"""No leakage: features at a cut-off depend on nothing at or after it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fluxops.risk.features import FEATURES, labels, snapshot
from fluxops.risk.hazard import decimal_year
from fluxops.risk.history import History, year_edges


def _snap(h: History, failures: pd.DataFrame, k: int) -> pd.DataFrame:
    return snapshot(
        h.assets,
        failures,
        cutoff_year=k,
        start_year_decimal=decimal_year(h.start_utc),
        cutoff_day=int(year_edges(h.n_days, h.years)[k]),
    )


@pytest.mark.parametrize("k", [1, 3, 4])
def test_events_at_or_after_the_cutoff_do_not_change_features(small_history: History, k: int) -> None:
    h = small_history
    f = h.failures
    before = _snap(h, f, k)
    later = f["year_index"] >= k
    assert later.any()
    rng = np.random.default_rng(0)
    # shift every later event to other assets and years (still >= k), drop some, add many
    shifted = f.copy()
    shifted.loc[later, "asset_id"] = rng.choice(h.assets["asset_id"].to_numpy(), int(later.sum()))
    shifted.loc[later, "year_index"] = rng.integers(k, h.years, int(later.sum()))
    extra = shifted[later].sample(frac=3.0, replace=True, random_state=1)
    altered = pd.concat([shifted[~later | (rng.random(len(f)) < 0.5)], extra], ignore_index=True)
    after = _snap(h, altered, k)
    pd.testing.assert_frame_equal(before, after)
    # ... while the label of year k does change: the test would see a leak
    assert not np.array_equal(labels(h.assets, f, year=k), labels(h.assets, altered, year=k)) or k == h.years


def test_features_do_see_earlier_events(small_history: History) -> None:
    """The converse, so the test above can fail: moving an event before the cut-off changes features."""
    h = small_history
    f = h.failures.copy()
    before = _snap(h, f, 3)
    f.loc[f.index[f["year_index"] == 3][0], "year_index"] = 1
    after = _snap(h, f, 3)
    assert not before[list(FEATURES)].equals(after[list(FEATURES)])


def test_neighbour_aggregates_leave_the_asset_out(small_history: History) -> None:
    h = small_history
    x = _snap(h, h.failures, 4)
    lonely = x[(x["fail_all"] > 0)]
    # an asset alone with its failures on its zone sees a zone rate of its neighbours only
    zone = h.assets.set_index("asset_id")["protective_device_id"]
    past = h.failures[h.failures["year_index"] < 4]
    zone_counts = past["asset_id"].map(zone).value_counts()
    for _, r in lonely.head(20).iterrows():
        z = zone[r["asset_id"]]
        n_zone = int((h.assets["protective_device_id"] == z).sum())
        others = zone_counts.get(z, 0) - r["fail_all"]
        want = others / ((n_zone - 1) * 4) if n_zone > 1 else 0.0
        assert r["zone_fail_rate"] == pytest.approx(want)


@pytest.mark.parametrize("k", [1, 3, 4])
def test_inspections_at_or_after_the_cutoff_do_not_change_features(small_history: History, k: int) -> None:
    h = small_history
    cut = int(year_edges(h.n_days, h.years)[k])
    ins = h.inspections
    before = _snap_insp(h, ins, k)
    later = ins["day_index"] >= cut
    assert later.any()
    rng = np.random.default_rng(0)
    altered = ins.copy()
    altered.loc[later, "grade"] = rng.integers(1, 6, int(later.sum()))
    altered.loc[later, "asset_id"] = rng.choice(h.assets["asset_id"].to_numpy(), int(later.sum()))
    extra = altered[later].sample(frac=2.0, replace=True, random_state=1)
    altered = pd.concat([altered[~later | (rng.random(len(ins)) < 0.5)], extra], ignore_index=True)
    pd.testing.assert_frame_equal(before, _snap_insp(h, altered, k))
    # the converse: a record just before the cut-off does change them
    moved = ins.copy()
    i = moved.index[later][0]
    moved.loc[i, "day_index"] = cut - 1
    moved.loc[i, "grade"] = 5
    assert not before.equals(_snap_insp(h, moved, k))


def _snap_insp(h: History, inspections: pd.DataFrame, k: int) -> pd.DataFrame:
    return snapshot(
        h.assets,
        h.failures,
        cutoff_year=k,
        start_year_decimal=decimal_year(h.start_utc),
        cutoff_day=int(year_edges(h.n_days, h.years)[k]),
        inspections=inspections,
    )


@pytest.mark.parametrize("k", [1, 3, 4])
def test_ami_signals_at_or_after_the_cutoff_do_not_change_features(small_history: History, k: int) -> None:
    h = small_history
    cut = int(year_edges(h.n_days, h.years)[k])
    years, ev = h.ami_years, h.ami_events

    def snap(yrs: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
        return snapshot(
            h.assets,
            h.failures,
            cutoff_year=k,
            start_year_decimal=decimal_year(h.start_utc),
            cutoff_day=cut,
            ami=(yrs, events),
        )

    before = snap(years, ev)
    assert before["ami_hot_spot_aging_last_y"].notna().any()
    later_y = years["year_index"] >= k
    later_e = ev["day_index"] >= cut
    assert later_y.any() and later_e.any()
    y2 = years.copy()
    y2.loc[later_y, "hot_spot_aging"] *= 7.0
    y2.loc[later_y, "hours_over_110c"] += 100.0
    rng = np.random.default_rng(0)
    e2 = ev.copy()
    e2.loc[later_e, "asset_id"] = rng.choice(ev["asset_id"].to_numpy(), int(later_e.sum()))
    e2 = pd.concat([e2, e2[later_e].sample(frac=3.0, replace=True, random_state=1)], ignore_index=True)
    pd.testing.assert_frame_equal(before, snap(y2, e2))
    # the converse: an anomaly the day before the cut-off is seen
    e3 = pd.concat([ev, ev.iloc[:1].assign(day_index=cut - 1)], ignore_index=True)
    assert not before.equals(snap(years, e3))
