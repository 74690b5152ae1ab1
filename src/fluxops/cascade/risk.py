"""Real-time cascade risk index (0–100) from measured quantities.

Why this formula: the seed's score added a clock-hour bonus to loads from a training table and counted
random "high-risk nodes" (seed-inventory §3.10). Ours combines four measured or computed terms, each
scaled to 0..1, with policy weights (``RiskIndexConfig``, configurable, stored with the result):

* loading — share of distribution transformers above the warning loading (80 % of nameplate, the ops
  domain's `StateConfig`), from AMI when live (the latest *complete* hour, `AmiQueries.
  transformer_latest`), else the scenario power flow;
* thermal — share of substation transformers whose steady-state IEEE C57.91 hot spot at the present load
  and ambient exceeds the 110 °C normal-life reference. The ambient is the weather model's temperature
  for the current hour (`fluxops.ami.weather`, the same model the AMI analytics' hot spots use) when the
  index is read live, and the scenario's only when a scenario is asked for (``ambient_source`` says
  which): a fixed 25 °C made a January night as hot as an August afternoon;
* outages — customers out now / all customers, saturating at ``outage_share_full`` (5 %);
* N-1 — share of the present substation load that could not be carried after losing each
  substation's largest transformer: ``at_risk_s = max(0, load_s − (capacity_s − largest_s) −
  transfer_s)``, with ``transfer_s`` the load its normally-open ties to *other* substations can move
  (per neighbour: min(Σ tie ratings √3·V·I, the neighbour's spare capacity)); ``n1 = Σ at_risk /
  Σ load``. Before, the term was the share of substations failing ``capacity − largest ≥ load``, so a
  single-transformer station always failed whatever its ties (0.67 on the ``demo`` grid: the index
  never fell below ~17); now a station whose ties can carry its load scores 0. A single-transformer
  station with no ties to another substation does count its whole load: that load *is* lost on the
  transformer's failure until a mobile unit or a repair arrives.

``index = 100 · Σ wᵢ · termᵢ``; levels CRITICAL ≥ 70, HIGH ≥ 50, ELEVATED ≥ 30 (policy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from fluxops.ami.weather import WeatherParams, temperature_c
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


def current_ambient_c(now_utc: datetime, weather: WeatherParams) -> float:
    """The weather model's air temperature for the hour containing ``now_utc`` (at its midpoint, as the
    AMI analytics take each hour's ambient)."""
    hour_s = int(now_utc.timestamp()) // 3600 * 3600
    return float(temperature_c(np.array([hour_s + 1800], dtype=np.int64), weather)[0])


def tie_transfer_mva(ctx: EngineContext, spare_mva: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Per substation, the load (MVA) its normally-open ties to other substations can take over: per
    neighbouring substation, min(Σ tie ratings √3 · V_LL · I, that neighbour's spare capacity).

    Ties inside one substation are left out (losing the station's transformer de-energizes both sides);
    a tie's rating is its ampacity at the base voltage of its bus."""
    cg = ctx.cg
    n_sub = len(cg.substation_ids)
    tie = ~np.asarray(cg.normally_closed, bool)
    sf, st = cg.bus_substation[cg.from_bus], cg.bus_substation[cg.to_bus]
    inter = tie & (sf >= 0) & (st >= 0) & (sf != st)
    out = np.zeros(n_sub)
    if not inter.any():
        return out
    mva = np.sqrt(3.0) * cg.v_base_kv[cg.from_bus[inter]] * cg.ampacity_a[inter] / 1000.0
    a, b = sf[inter], st[inter]
    # both directions: a tie lets either side pick up the other's load
    src = np.concatenate([a, b])
    dst = np.concatenate([b, a])
    cap = np.concatenate([mva, mva])
    pair = src * n_sub + dst
    per_pair = np.bincount(pair, weights=cap, minlength=n_sub * n_sub)
    nz = np.flatnonzero(per_pair)
    s_idx, d_idx = nz // n_sub, nz % n_sub
    usable = np.minimum(per_pair[nz], np.maximum(spare_mva[d_idx], 0.0))
    np.add.at(out, s_idx, usable)
    return out


def risk_index(
    ctx: EngineContext,
    *,
    xfmr_loading_pct: npt.NDArray[np.float64],
    source_loading_pct: npt.NDArray[np.float64],
    ambient_c: float,
    customers_out: int,
    load_source: str,
    ambient_source: str = "given",
    cfg: RiskIndexConfig | None = None,
) -> RiskIndex:
    """``xfmr_loading_pct`` per distribution transformer (NaN unknown); ``source_loading_pct`` per
    substation transformer (from a power flow of the present loads); ``ambient_c`` for the thermal term
    and ``ambient_source`` saying where it came from (``weather_model`` live, ``scenario`` …)."""
    cfg = cfg or RiskIndexConfig()
    cg = ctx.cg
    known = np.isfinite(xfmr_loading_pct)
    loading = float((xfmr_loading_pct[known] > cfg.warning_loading_pct).mean()) if known.any() else 0.0
    k = np.nan_to_num(source_loading_pct / 100.0)
    hs = steady_hot_spot_c(cfg.thermal, ambient_c, k)
    thermal = float((hs > cfg.hot_spot_reference_c).mean()) if len(hs) else 0.0
    total = max(int(cg.total_customers), 1)
    outages = min(1.0, customers_out / total / cfg.outage_share_full)
    # N-1: per substation, load that neither the remaining transformers nor the ties to other
    # substations can carry after the largest transformer is lost (module docstring)
    n_sub = len(cg.substation_ids)
    load_mva = np.bincount(cg.source_substation, weights=k * cg.source_rating_mva, minlength=n_sub)
    cap = np.bincount(cg.source_substation, weights=cg.source_rating_mva, minlength=n_sub)
    largest = np.zeros(n_sub)
    np.maximum.at(largest, cg.source_substation, cg.source_rating_mva)
    transfer = tie_transfer_mva(ctx, np.asarray(cap - load_mva, np.float64))
    own = cap - largest
    at_risk = np.maximum(0.0, load_mva - own - transfer)
    has = cap > 0
    total_load = float(load_mva[has].sum())
    n1 = float(at_risk[has].sum() / total_load) if total_load > 0 else 0.0
    short = (at_risk > 1e-9) & has
    tied = (load_mva > own + 1e-9) & (at_risk <= 1e-9) & has  # secure only thanks to ties
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
        index=round(index, 4),
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
            "substations_secured_by_ties": int(tied.sum()),
            "n1_load_at_risk_mva": round(float(at_risk.sum()), 3),
            "substation_load_mva": round(total_load, 3),
            "ambient_c": round(float(ambient_c), 2),
            "ambient_source": ambient_source,
            "load_source": load_source,
        },
    )
