"""Diagnostic ceilings between the models and the oracle: where the distance to the oracle comes from.

The oracle knows each asset's true expected failures Λ_iy = Z_i · D_iy, where Z_i is the unobserved
condition (frailty, `fluxops.risk.hazard.frailty`) and D_iy the part the recorded drivers explain (type
rate × exposure × age wear-out × the year's wind and heat). Two references, both read from the hidden
truth and so never models, never chosen and never served:

* ``known_drivers``: ``1 − exp(−D_iy)`` — everything but the condition: the best any model could do
  from the asset tables and the weather if it learnt the process exactly but knew nothing of Z_i;
* ``own_history``: ``1 − E[exp(−Z_i D_iy) | the asset's failures before the cut-off]`` — the Bayes
  posterior of Z_i under its log-normal prior, given the asset's own past failure counts and past D:
  the best use of the asset's own record (its feeder's shared part is ignored, so this is a lower bound
  of what neighbour aggregates can add).

If LightGBM is near ``own_history`` and far from the oracle, the gap is the condition the data do not
reveal: no honest model closes it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from fluxops.risk.history import History

F64 = npt.NDArray[np.float64]
Z_NODES = 96  # quadrature nodes over log Z (Gauss-Hermite)


def _driver_table(history: History) -> tuple[F64, float]:
    """(D per asset-year [assets, years], the prior σ of log Z) from the truth."""
    t = history.truth
    ids = history.assets["asset_id"].to_numpy(object)
    lam = t.pivot(index="asset_id", columns="year_index", values="expected_failures").reindex(ids)
    z = t.drop_duplicates("asset_id").set_index("asset_id")["frailty"].reindex(ids).to_numpy(np.float64)
    d = lam.to_numpy(np.float64) / z[:, None]
    p = history.params
    sigma = float(np.sqrt(p.frailty_sigma_feeder**2 + p.frailty_sigma_asset**2))
    return d, sigma


def ceiling_probabilities(history: History, year: int) -> dict[str, F64]:
    """``known_drivers`` and ``own_history`` probabilities of failing in ``year`` (see the module)."""
    d, sigma = _driver_table(history)
    known = 1.0 - np.exp(-d[:, year])
    counts = (
        history.failures[history.failures["year_index"] < year]
        .groupby("asset_id")
        .size()
        .reindex(history.assets["asset_id"].to_numpy(object))
        .fillna(0)
        .to_numpy(np.float64)
    )
    d_past = d[:, :year].sum(axis=1)
    x, w = np.polynomial.hermite_e.hermegauss(Z_NODES)  # ∫ f(u) φ(u) du with weights ∝ exp(−u²/2)
    w = w / w.sum()
    zq = np.exp(sigma * x - sigma**2 / 2.0)  # log-normal with mean 1
    # log-likelihood of the past counts per node (Poisson, constants dropped), stabilised per asset
    ll = counts[:, None] * np.log(zq)[None, :] - d_past[:, None] * zq[None, :]
    ll -= ll.max(axis=1, keepdims=True)
    post = np.exp(ll) * w[None, :]
    post /= post.sum(axis=1, keepdims=True)
    survive = (post * np.exp(-d[:, year][:, None] * zq[None, :])).sum(axis=1)
    return {"known_drivers": known, "own_history": 1.0 - survive}


def ceilings_frame(history: History, year: int) -> pd.DataFrame:
    c = ceiling_probabilities(history, year)
    return pd.DataFrame({"asset_id": history.assets["asset_id"].to_numpy(object), **c})
