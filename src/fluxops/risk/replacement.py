"""Distribution transformers to replace first under a budget, by expected avoided customer-minutes.

Why this rule: replacing a transformer does not make it immortal; a new unit fails at the published fleet
rate (0.5 %/yr, ComEd via risk anchors §1.4: about 2,000 failures a year, under 0.5 % of the population).
So the avoided failures a year are ``max(λ_i − λ_new, 0)``, with λ_i = −ln(1 − p_i) from the
transformer model (`fluxops.risk.transformer_card`; the served general model for a model stored before
it), and the avoided customer-minutes a year are that × the simulated customer-minutes of one failure
(`fluxops.risk.consequence`). A replacement costs the crew hours of the repair model's ``replace`` at the
crew rate plus the material (`fluxops.cascade.economics.EconomicsConfig`). Units are ranked by avoided
customer-minutes per dollar and taken greedily while the budget lasts (a knapsack heuristic: with unit
costs all alike it is the optimum).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fluxops.cascade.economics import EconomicsConfig
from fluxops.cascade.repair import material_usd, repair_hours
from fluxops.cascade.restoration import RestorationConfig

NEW_UNIT_FAILURES_PER_Y = 0.005  # published fleet rate (risk anchors §1.4), also the hazard's base rate


def replacement_cost_usd(
    restoration: RestorationConfig | None = None, economics: EconomicsConfig | None = None
) -> float:
    rc, econ = restoration or RestorationConfig(), economics or EconomicsConfig()
    hours = repair_hours(rc, "transformer", "replace", "")
    return float(hours * econ.crew_cost_per_hour + material_usd(econ, "transformer", "replace", ""))


def replace_first(scored: pd.DataFrame, budget_usd: float, unit_cost_usd: float) -> pd.DataFrame:
    """The transformers to replace within ``budget_usd``, best first, with the running totals.

    ``scored``: `fluxops.risk.consequence.attach_risk` output. Transformers without a consequence are
    left out (their benefit is unknown)."""
    xf = scored[(scored["asset_type"] == "transformer") & scored["customer_minutes"].notna()].copy()
    lam = xf["expected_failures_per_y"].to_numpy(np.float64)
    if "transformer_probability" in xf.columns:  # the transformer model's card (risk.transformer_card)
        p_xf = xf["transformer_probability"].to_numpy(np.float64)
        lam = np.where(np.isfinite(p_xf), -np.log1p(-np.clip(p_xf, 0.0, 1.0 - 1e-12)), lam)
        xf["expected_failures_per_y"] = lam
        xf["probability"] = np.where(np.isfinite(p_xf), p_xf, xf["probability"].to_numpy(np.float64))
    avoided_f = np.maximum(lam - NEW_UNIT_FAILURES_PER_Y, 0.0)
    xf["avoided_failures_per_y"] = avoided_f
    xf["avoided_customer_minutes_per_y"] = avoided_f * xf["customer_minutes"].to_numpy(np.float64)
    xf["avoided_usd_per_y"] = avoided_f * xf["ice_usd"].to_numpy(np.float64)
    xf["cost_usd"] = unit_cost_usd
    xf = xf[xf["avoided_customer_minutes_per_y"] > 0]
    xf = xf.sort_values(
        ["avoided_customer_minutes_per_y", "asset_id"], ascending=[False, True], kind="stable"
    )
    n = int(budget_usd // unit_cost_usd) if unit_cost_usd > 0 else 0
    pick = xf.iloc[:n].copy()
    pick["cumulative_cost_usd"] = pick["cost_usd"].cumsum()
    pick["cumulative_avoided_customer_minutes_per_y"] = pick["avoided_customer_minutes_per_y"].cumsum()
    cols = [
        "asset_id",
        "feeder_id",
        "substation_id",
        "probability",
        "expected_failures_per_y",
        "customers_interrupted",
        "customer_minutes",
        "avoided_failures_per_y",
        "avoided_customer_minutes_per_y",
        "avoided_usd_per_y",
        "cost_usd",
        "cumulative_cost_usd",
        "cumulative_avoided_customer_minutes_per_y",
    ]
    return pick[[c for c in cols if c in pick.columns]].reset_index(drop=True)
