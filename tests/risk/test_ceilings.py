"""The diagnostic ceilings: ``known_drivers`` is the truth without the condition, ``own_history`` the Bayes
posterior of the condition from the asset's own failures (more past failures → higher, none → lower than
the prior's mean, no condition spread → exactly the known drivers)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from fluxops.risk.ceilings import ceiling_probabilities
from fluxops.risk.history import History


def test_known_drivers_is_the_truth_without_the_condition(small_history: History) -> None:
    h = small_history
    y = h.years - 1
    c = ceiling_probabilities(h, y)
    t = h.truth[h.truth["year_index"] == y].set_index("asset_id").reindex(h.assets["asset_id"])
    want = 1.0 - np.exp(-t["expected_failures"].to_numpy() / t["frailty"].to_numpy())
    assert np.allclose(c["known_drivers"], want)


def test_own_history_learns_from_past_failures(small_history: History) -> None:
    h = small_history
    y = h.years - 1
    c = ceiling_probabilities(h, y)
    past = h.failures[h.failures["year_index"] < y].groupby("asset_id").size()
    n = past.reindex(h.assets["asset_id"]).fillna(0).to_numpy()
    ratio = np.log1p(-c["own_history"]) / np.log1p(-c["known_drivers"])  # ≈ E[Z | record]
    assert ratio[n >= 2].mean() > 1.0 > ratio[n == 0].mean()
    assert np.all((c["own_history"] > 0) & (c["own_history"] < 1))
    flat = replace(h, params=replace(h.params, frailty_sigma_feeder=0.0, frailty_sigma_asset=0.0))
    c0 = ceiling_probabilities(flat, y)
    assert np.allclose(c0["own_history"], c0["known_drivers"])
