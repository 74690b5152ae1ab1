"""Economic impact of a cascade: customer interruption cost (DOE/LBNL ICE) plus restoration cost.

Why per-event ICE costs by class and duration: the interruption cost of a customer depends mostly on who
they are and how long they are out (Sullivan, Schellenberg & Blundell, LBNL-6941E, 2015, Table ES-1; see
domain-facts §6.1). The durations come from the restoration plan (crews, travel, repair), not a constant.
Costs are in 2013 $ in the table and scaled by ``cpi_factor`` (CPI-U 313.689/232.957 = 1.347 → 2024 $).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from fluxops.cascade.models import CascadeResult
from fluxops.cascade.repair import material_usd

if TYPE_CHECKING:
    from fluxops.cascade.restoration import RestorationPlan

ICE_CLASSES: tuple[str, ...] = ("residential", "small_ci", "medium_large_ci")
# Small vs medium/large C&I split used by ICE: annual consumption 50,000 kWh.
SMALL_CI_MAX_ANNUAL_KWH = 50_000.0


@dataclass(frozen=True)
class EconomicsConfig:
    """ICE per-event costs (2013 $) at durations 0 (momentary), 0.5, 1, 4, 8, 16 h — LBNL-6941E Table ES-1.

    Beyond 16 h the 8→16 h slope is extrapolated linearly (LBNL warns the surveys stop at 16 h).
    Restoration cost: a two-person line crew with bucket truck at ``crew_cost_per_hour`` (2 × BLS OEWS
    2023 line-installer mean ≈ $43/h × 2.0 labour burden + ≈ $150/h truck ≈ $320/h; *assumption*) and
    replacement material per element type (*assumptions*, 2024 $). Severity tiers are a reporting policy.
    """

    durations_h: tuple[float, ...] = (0.0, 0.5, 1.0, 4.0, 8.0, 16.0)
    residential_usd: tuple[float, ...] = (3.9, 4.5, 5.1, 9.5, 17.2, 32.4)
    small_ci_usd: tuple[float, ...] = (412.0, 520.0, 647.0, 1880.0, 4690.0, 9055.0)
    medium_large_ci_usd: tuple[float, ...] = (12952.0, 15241.0, 17804.0, 39458.0, 84083.0, 165482.0)
    cpi_factor: float = 1.347
    dollar_year: int = 2024  # the year cpi_factor converts to
    crew_cost_per_hour: float = 320.0
    material_usd_line_segment: float = 4000.0
    material_usd_underground_line: float = 15000.0
    material_usd_transformer: float = 6000.0
    material_usd_fuse: float = 150.0
    material_usd_device: float = 12000.0
    material_usd_substation_transformer: float = 150000.0  # mobile substation deployment
    material_usd_substation: float = 250000.0
    tier_thresholds_customers: tuple[int, ...] = (1000, 10000, 50000)
    tier_names: tuple[str, ...] = ("minor", "significant", "major", "catastrophic")


@dataclass(frozen=True)
class ClassCost:
    customer_class: str
    customers: int
    mean_duration_h: float
    cost_usd: float


@dataclass(frozen=True)
class EconomicImpact:
    interruption_cost_usd: float
    momentary_cost_usd: float
    restoration_cost_usd: float
    crew_hours: float
    crew_cost_usd: float
    material_cost_usd: float
    total_cost_usd: float
    mwh_unserved: float
    customer_minutes: float
    by_class: list[ClassCost]
    tier: str
    dollar_year: int
    config: EconomicsConfig = field(default_factory=EconomicsConfig)


def cost_per_event(cfg: EconomicsConfig, customer_class: str, duration_h: np.ndarray) -> np.ndarray:
    """ICE cost per customer for interruptions of ``duration_h`` hours (vectorized), in target-year $."""
    table = {
        "residential": cfg.residential_usd,
        "small_ci": cfg.small_ci_usd,
        "medium_large_ci": cfg.medium_large_ci_usd,
    }[customer_class]
    d = np.asarray(cfg.durations_h, np.float64)
    c = np.asarray(table, np.float64)
    x = np.asarray(duration_h, np.float64)
    y = np.interp(x, d, c)
    slope = (c[-1] - c[-2]) / (d[-1] - d[-2])
    y = np.where(x > d[-1], c[-1] + slope * (x - d[-1]), y)
    return np.asarray(y * cfg.cpi_factor, np.float64)


def tier_for(cfg: EconomicsConfig, customers: int) -> str:
    k = int(np.searchsorted(np.asarray(cfg.tier_thresholds_customers), customers, side="right"))
    return cfg.tier_names[k]


def economic_impact(
    result: CascadeResult,
    plan: RestorationPlan,
    *,
    cfg: EconomicsConfig,
) -> EconomicImpact:
    """Cost of ``result`` given the restoration ``plan`` that sets each group's duration.

    Crew hours and material come from the plan's steps (their repair hours and construction, priced by
    `fluxops.cascade.repair`), so the cost and the plan describe the same repairs."""
    restored = {s.group_id: s.restored_min / 60.0 for s in plan.steps}
    by_class: list[ClassCost] = []
    interruption = 0.0
    for cls in ICE_CLASSES:
        n = np.array([g.customers_by_class.get(cls, 0) for g in result.outage_groups], np.float64)
        h = np.array([restored.get(g.group_id, 0.0) for g in result.outage_groups], np.float64)
        cost = float((n * cost_per_event(cfg, cls, h)).sum()) if len(n) else 0.0
        total_n = int(n.sum())
        by_class.append(
            ClassCost(
                cls, total_n, round(float((n * h).sum() / total_n), 3) if total_n else 0.0, round(cost, 2)
            )
        )
        interruption += cost
    # Customers interrupted and brought back during the cascade (FLISR pick-ups, transfers).
    for item in result.extras.get("interrupted_restored", []):
        h = np.array([float(item["duration_min"]) / 60.0])
        for j, cls in enumerate(ICE_CLASSES):
            n_cls = int(item["customers_by_class"].get(cls, 0))
            if n_cls:
                c = float(n_cls * cost_per_event(cfg, cls, h)[0])
                interruption += c
                prev = by_class[j]
                n_all = prev.customers + n_cls
                mean_h = (prev.mean_duration_h * prev.customers + float(h[0]) * n_cls) / n_all
                by_class[j] = ClassCost(cls, n_all, round(mean_h, 3), round(prev.cost_usd + c, 2))
    # Momentary interruptions: customers who saw reclosing but stayed on, costed at the momentary rate as
    # residential (the class split of momentary-only customers is not tracked; conservative lower bound).
    momentary_customers = sum(m.customers for m in result.momentary)
    momentary = float(momentary_customers * cost_per_event(cfg, "residential", np.zeros(1))[0])
    crew_hours = 0.0
    material = 0.0
    for s in plan.steps:
        crew_hours += s.travel_min / 60.0 + s.repair_h
        material += material_usd(cfg, s.element_type, s.repair_kind, s.construction)
    crew_cost = crew_hours * cfg.crew_cost_per_hour
    mwh = float(sum(g.p_kw * restored.get(g.group_id, 0.0) for g in result.outage_groups) / 1000.0)
    cm = float(sum(g.customers * restored.get(g.group_id, 0.0) * 60.0 for g in result.outage_groups))
    cm += float(
        sum(
            float(i["duration_min"]) * sum(i["customers_by_class"].values())
            for i in result.extras.get("interrupted_restored", [])
        )
    )
    restoration = crew_cost + material
    return EconomicImpact(
        interruption_cost_usd=round(interruption, 2),
        momentary_cost_usd=round(momentary, 2),
        restoration_cost_usd=round(restoration, 2),
        crew_hours=round(crew_hours, 2),
        crew_cost_usd=round(crew_cost, 2),
        material_cost_usd=round(material, 2),
        total_cost_usd=round(interruption + momentary + restoration, 2),
        mwh_unserved=round(mwh, 3),
        customer_minutes=round(cm, 1),
        by_class=by_class,
        tier=tier_for(cfg, result.totals.peak_customers_out),
        dollar_year=cfg.dollar_year,
        config=cfg,
    )
