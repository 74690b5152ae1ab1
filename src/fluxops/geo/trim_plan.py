"""The trim plan: which spans to trim first under a budget, ordered by vegetation risk reduced per
dollar (`fluxops.geo.vegetation.span_risk`, the one definition).

A trim of a span is simulated on its trees with the same rules the inventory uses for a past trim:
crowns cut back to the time-of-trim clearance (GO 95 Appendix E case 14), trunks standing inside that
clearance removed, hazard trees (strike-capable) felled when `TrimCosts.fell_hazard_trees` is set.
The span's risk after the trim is computed with the same functions as before it; the difference is
what the trim buys.

Costs are scenario inputs (`TrimCosts`), not measured unit prices: a crew mobilisation per span plus a
price per tree worked, and per tree felled. Greedy by risk reduced per dollar, spans are taken in that
order while the cumulative cost stays within the budget (the plan stops at the first span that does
not fit, so it is a prefix of the ranked list an operator can read top-down).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from fluxops.core.errors import InvalidInputError
from fluxops.geo import vegetation as veg


@dataclass(frozen=True)
class TrimCosts:
    per_span_usd: float = 400.0  # crew mobilisation and set-up per span (assumption)
    per_tree_usd: float = 150.0  # trimming one tree's crown back (assumption)
    per_felled_tree_usd: float = 900.0  # felling one hazard tree (assumption)
    fell_hazard_trees: bool = True

    def checked(self) -> TrimCosts:
        for name, value in asdict(self).items():
            if name != "fell_hazard_trees" and not (np.isfinite(value) and value >= 0):
                raise InvalidInputError(f"{name} must be a finite cost >= 0", field=name)
        return self


def _risk(trees: pd.DataFrame, spans: pd.DataFrame, regime: veg.ClearanceRegime) -> pd.Series:
    table = veg.span_exposure(trees, spans, regime)
    risk = veg.span_risk(table.months_to_encroachment.to_numpy(), table.fall_in_exposure.to_numpy())
    return pd.Series(risk, index=table.segment_id.to_numpy())


def trimmed(trees: pd.DataFrame, spans: pd.DataFrame, costs: TrimCosts) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the trees after trimming every span, per span: trees worked, trees felled)."""
    ctx = spans.set_index("segment_id").loc[trees.segment_id.to_numpy()]
    hc = ctx.conductor_height_m.to_numpy()
    trim = veg.time_of_trim_clearance_m(ctx.v_kv.to_numpy())
    off, crown, h = (trees[c].to_numpy(dtype=np.float64) for c in ("offset_m", "crown_radius_m", "height_m"))
    inside = (off < trim) & (h >= hc - trim)  # trunk inside the trim clearance: removed
    hazard = veg.fall_in_reach(h, off, hc) > 0 if costs.fell_hazard_trees else np.zeros(len(off), bool)
    felled = inside | hazard
    new_crown = np.minimum(crown, np.maximum(0.0, off - trim))
    worked = ~felled & (new_crown < crown)
    after = trees.assign(crown_radius_m=new_crown)[~felled]
    work = pd.DataFrame({"segment_id": trees.segment_id.to_numpy(), "worked": worked, "felled": felled})
    per_span = work.groupby("segment_id").agg(trees_worked=("worked", "sum"), trees_felled=("felled", "sum"))
    return after.reset_index(drop=True), per_span


def trim_plan(
    trees: pd.DataFrame,
    spans: pd.DataFrame,
    regime: veg.ClearanceRegime,
    *,
    budget_usd: float,
    costs: TrimCosts,
) -> dict[str, Any]:
    """Every span with trees, its risk before and after a trim, the trim's cost, ordered by risk
    reduced per dollar; ``selected`` marks those the budget buys (greedy)."""
    if not (np.isfinite(budget_usd) and budget_usd >= 0):
        raise InvalidInputError("budget_usd must be a finite amount >= 0", field="budget_usd")
    costs = costs.checked()
    before = _risk(trees, spans, regime)
    after_trees, work = trimmed(trees, spans, costs)
    after = (
        _risk(after_trees, spans, regime).reindex(before.index).fillna(0.0)
        if len(after_trees)
        else before * 0
    )
    work = work.reindex(before.index).fillna(0)
    cost = (
        costs.per_span_usd
        + costs.per_tree_usd * work.trees_worked
        + costs.per_felled_tree_usd * work.trees_felled
    )
    reduced = (before - after).clip(lower=0.0)
    plan = pd.DataFrame(
        {
            "segment_id": before.index,
            "risk_before": before.round(4).to_numpy(),
            "risk_after": after.round(4).to_numpy(),
            "risk_reduced": reduced.round(4).to_numpy(),
            "trees_worked": work.trees_worked.astype(int).to_numpy(),
            "trees_felled": work.trees_felled.astype(int).to_numpy(),
            "cost_usd": cost.round(2).to_numpy(),
        }
    )
    plan["reduced_per_kusd"] = np.round(plan.risk_reduced / np.maximum(plan.cost_usd, 1e-9) * 1000, 5)
    plan = plan[plan.risk_reduced > 0].sort_values(
        ["reduced_per_kusd", "segment_id"], ascending=[False, True]
    )
    cumulative = np.cumsum(plan.cost_usd.to_numpy())
    fits = cumulative <= budget_usd + 1e-9
    spent = float(cumulative[fits][-1]) if fits.any() else 0.0
    plan["selected"] = fits
    plan["cumulative_cost_usd"] = np.round(cumulative, 2)
    chosen = plan[fits]
    return {
        "budget_usd": budget_usd,
        "costs": asdict(costs),
        "spans_considered": len(before),
        "spans_selected": int(fits.sum()),
        "cost_selected_usd": round(spent, 2),
        "risk_total_before": round(float(before.sum()), 4),
        "risk_reduced_selected": round(float(chosen.risk_reduced.sum()), 4),
        "plan": plan.reset_index(drop=True),
    }
