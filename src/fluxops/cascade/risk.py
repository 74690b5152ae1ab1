"""Real-time cascade risk index (0–100) from measured quantities.

Why this formula: the seed's score added a clock-hour bonus to loads from a training table and counted
random "high-risk nodes" (seed-inventory §3.10). Ours combines four measured or computed terms, each
scaled to 0..1, with policy weights (``RiskIndexConfig``, configurable, stored with the result):

* loading — share of distribution transformers above the warning loading (80 % of nameplate, the ops
  domain's `StateConfig`), from AMI when live, else the scenario power flow;
* thermal — share of substation transformers whose steady-state IEEE C57.91 hot spot at the present load
  and ambient exceeds the 110 °C normal-life reference;
* outages — customers out now / all customers, saturating at ``outage_share_full`` (5 %);
* N-1 margin — share of substations where losing the largest transformer leaves less transformer
  capacity than the present load (the bus-tie transfer would overload the rest).

``index = 100 · Σ wᵢ · termᵢ``; levels CRITICAL ≥ 70, HIGH ≥ 50, ELEVATED ≥ 30 (policy).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from fluxops.cascade.config import ThermalConfig
from fluxops.cascade.context import EngineContext
from fluxops.cascade.thermal import steady_hot_spot_c


@dataclass(frozen=True)
class RiskIndexConfig:
    w_loading: float = 0.30
    w_thermal: float = 0.25
    w_outages: float = 0.20
    w_n1: float = 0.25
    warning_loading_pct: float = 80.0
    hot_spot_reference_c: float = 110.0
    outage_share_full: float = 0.05
    levels: tuple[tuple[float, str], ...] = ((70.0, "CRITICAL"), (50.0, "HIGH"), (30.0, "ELEVATED"))
    thermal: ThermalConfig = field(default_factory=ThermalConfig)


@dataclass(frozen=True)
class RiskIndex:
    index: float
    level: str
    terms: dict[str, float]
    inputs: dict[str, float | int | str]
    weights: dict[str, float]


def risk_index(
    ctx: EngineContext,
    *,
    xfmr_loading_pct: npt.NDArray[np.float64],
    source_loading_pct: npt.NDArray[np.float64],
    ambient_c: float,
    customers_out: int,
    load_source: str,
    cfg: RiskIndexConfig | None = None,
) -> RiskIndex:
    """``xfmr_loading_pct`` per distribution transformer (NaN unknown); ``source_loading_pct`` per
    substation transformer (from a power flow of the present loads)."""
    cfg = cfg or RiskIndexConfig()
    cg = ctx.cg
    known = np.isfinite(xfmr_loading_pct)
    loading = float((xfmr_loading_pct[known] > cfg.warning_loading_pct).mean()) if known.any() else 0.0
    k = np.nan_to_num(source_loading_pct / 100.0)
    hs = steady_hot_spot_c(cfg.thermal, ambient_c, k)
    thermal = float((hs > cfg.hot_spot_reference_c).mean()) if len(hs) else 0.0
    total = max(int(cg.total_customers), 1)
    outages = min(1.0, customers_out / total / cfg.outage_share_full)
    # N-1: per substation, capacity without the largest transformer vs present load
    n_sub = len(cg.substation_ids)
    load_mva = np.bincount(cg.source_substation, weights=k * cg.source_rating_mva, minlength=n_sub)
    cap = np.bincount(cg.source_substation, weights=cg.source_rating_mva, minlength=n_sub)
    largest = np.zeros(n_sub)
    np.maximum.at(largest, cg.source_substation, cg.source_rating_mva)
    has = cap > 0
    short = (cap - largest < load_mva) & has
    n1 = float(short[has].mean()) if has.any() else 0.0
    terms = {
        "loading": round(loading, 4),
        "thermal": round(thermal, 4),
        "outages": round(outages, 4),
        "n1": round(n1, 4),
    }
    weights = {"loading": cfg.w_loading, "thermal": cfg.w_thermal, "outages": cfg.w_outages, "n1": cfg.w_n1}
    index = 100.0 * sum(weights[t] * terms[t] for t in terms)
    level = next((name for thr, name in cfg.levels if index >= thr), "NORMAL")
    return RiskIndex(
        index=round(index, 2),
        level=level,
        terms=terms,
        weights=weights,
        inputs={
            "transformers_with_loading": int(known.sum()),
            "transformers_over_warning": int((xfmr_loading_pct[known] > cfg.warning_loading_pct).sum()),
            "substation_transformers_over_hot_spot_ref": int((hs > cfg.hot_spot_reference_c).sum()),
            "max_hot_spot_c": round(float(hs.max()), 1) if len(hs) else 0.0,
            "customers_out": int(customers_out),
            "customers_total": total,
            "substations_without_n1_margin": int(short.sum()),
            "ambient_c": ambient_c,
            "load_source": load_source,
        },
    )
