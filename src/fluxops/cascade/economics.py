"""Economic impact of a cascade: customer interruption cost (DOE/LBNL ICE) plus restoration cost.

Why ICE costs by class, duration *and annual energy*: the interruption cost of a customer depends on who
they are, how long they are out and how large they are (Sullivan, Schellenberg & Blundell, LBNL-6941E,
2015; the ICE calculator's customer damage functions take duration and annual kWh per class; see
domain-facts §6.1). Table ES-1 gives, per class, the cost per event of the *average* customer and the
same cost per unserved kWh; their ratio is the class's average demand ``D̄`` (1.44 kW residential,
2.19 kW small C&I, 817 kW medium & large C&I). A customer with annual energy ``E`` (kWh/yr) out for
``d`` hours costs::

    cost(class, d, E) = C_class(d) × E / (8760 h × D̄_class) × cpi_factor

with ``C_class(d)`` the per-event row interpolated in ``d``. At the table's durations this is exactly the
table's cost per unserved kWh × the customer's own unserved energy (``E/8760 × d``): cost is increasing
in duration (the rows are) and proportional to annual energy within a class. Before, every commercial
customer above 50 MWh/yr was charged the medium & large C&I average (a 7.2 GWh/yr customer): 89 shops
carried $6.09 M of a $6.31 M event. The durations come from the restoration plan (crews, travel, repair).
Costs are in 2013 $ in the table and scaled by ``cpi_factor`` (CPI-U 313.689/232.957 = 1.347 → 2024 $).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from fluxops.cascade.models import CascadeResult
from fluxops.cascade.repair import material_usd
from fluxops.core.errors import InvalidInputError

if TYPE_CHECKING:
    from fluxops.cascade.restoration import RestorationPlan

ICE_CLASSES: tuple[str, ...] = ("residential", "small_ci", "medium_large_ci")
# Small vs medium/large C&I split used by ICE: annual consumption 50,000 kWh.
SMALL_CI_MAX_ANNUAL_KWH = 50_000.0
HOURS_PER_YEAR = 8760.0


@dataclass(frozen=True)
class EconomicsConfig:
    """ICE per-event costs (2013 $) at durations 0 (momentary), 0.5, 1, 4, 8, 16 h — LBNL-6941E Table ES-1.

    Beyond 16 h the 8→16 h slope is extrapolated linearly (LBNL warns the surveys stop at 16 h).
    ``mean_demand_kw`` (residential, small C&I, medium & large C&I): the average demand behind each
    per-event row — per-event cost ÷ (cost per unserved kWh × duration), e.g. M&L C&I 1 h $17,804 ÷
    $21.8/kWh = 817 kW (Table ES-1, domain-facts §6.1); a customer's cost scales by its annual energy
    over ``8760 h × mean_demand_kw`` (see the module docstring).
    Restoration cost: a two-person line crew with bucket truck at ``crew_cost_per_hour`` (2 × BLS OEWS
    2023 line-installer mean ≈ $43/h × 2.0 labour burden + ≈ $150/h truck ≈ $320/h; *assumption*) and
    replacement material per element type (*assumptions*, 2024 $). Severity tiers are a reporting policy.
    """

    durations_h: tuple[float, ...] = (0.0, 0.5, 1.0, 4.0, 8.0, 16.0)
    residential_usd: tuple[float, ...] = (3.9, 4.5, 5.1, 9.5, 17.2, 32.4)
    small_ci_usd: tuple[float, ...] = (412.0, 520.0, 647.0, 1880.0, 4690.0, 9055.0)
    medium_large_ci_usd: tuple[float, ...] = (12952.0, 15241.0, 17804.0, 39458.0, 84083.0, 165482.0)
    mean_demand_kw: tuple[float, ...] = (1.44, 2.19, 817.0)
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
    annual_kwh: float  # the interrupted customers' summed annual energy (scales their cost)
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
    """ICE cost per event of the class's *average* customer for ``duration_h`` hours (vectorized), in
    target-year $: the Table ES-1 row interpolated linearly in duration, the 8→16 h slope beyond 16 h."""
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


def class_mean_annual_kwh(cfg: EconomicsConfig, customer_class: str) -> float:
    """Annual energy (kWh/yr) of the class's average customer behind the ICE per-event row."""
    kw = cfg.mean_demand_kw[ICE_CLASSES.index(customer_class)]
    if not kw > 0:
        raise InvalidInputError("economics.mean_demand_kw must be positive", field="economics.mean_demand_kw")
    return HOURS_PER_YEAR * kw


def customer_cost_usd(
    cfg: EconomicsConfig, customer_class: str, duration_h: np.ndarray, annual_kwh: float | np.ndarray
) -> np.ndarray:
    """ICE cost of one interruption of ``duration_h`` hours for a customer of ``annual_kwh`` kWh/yr
    (or customers of that summed energy), in target-year $: ``C_class(d) × E / (8760 × D̄_class)``."""
    scale = np.asarray(annual_kwh, np.float64) / class_mean_annual_kwh(cfg, customer_class)
    return np.asarray(cost_per_event(cfg, customer_class, duration_h) * scale, np.float64)


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
    groups = result.outage_groups
    h = np.array([restored.get(g.group_id, 0.0) for g in groups], np.float64)
    n_all = np.zeros(len(ICE_CLASSES))
    kwh_all = np.zeros(len(ICE_CLASSES))
    hours_all = np.zeros(len(ICE_CLASSES))
    cost_all = np.zeros(len(ICE_CLASSES))
    interrupted = [
        (float(i["duration_min"]) / 60.0, i["customers_by_class"], i.get("annual_kwh_by_class"))
        for i in result.extras.get("interrupted_restored", [])  # FLISR pick-ups, transfers
    ]
    for j, cls in enumerate(ICE_CLASSES):
        mean_kwh = class_mean_annual_kwh(cfg, cls)
        n = np.array([g.customers_by_class.get(cls, 0) for g in groups], np.float64)
        # results stored before energies were recorded: the class-average customer
        e = np.array(
            [_energy(g.annual_kwh_by_class, cls, c, mean_kwh) for g, c in zip(groups, n, strict=True)]
        )
        dur = h
        if interrupted:
            n_i = np.array([float(c.get(cls, 0)) for _, c, _ in interrupted])
            e_i = np.array(
                [_energy(k, cls, c, mean_kwh) for (_, _, k), c in zip(interrupted, n_i, strict=True)]
            )
            n, e = np.r_[n, n_i], np.r_[e, e_i]
            dur = np.r_[h, [d for d, _, _ in interrupted]]
        if len(n):
            cost_all[j] = float(customer_cost_usd(cfg, cls, dur, e).sum())
            n_all[j], kwh_all[j], hours_all[j] = n.sum(), e.sum(), float((n * dur).sum())
    by_class = [
        ClassCost(
            cls,
            int(n_all[j]),
            round(float(kwh_all[j]), 1),
            round(float(hours_all[j] / n_all[j]), 3) if n_all[j] else 0.0,
            round(float(cost_all[j]), 2),
        )
        for j, cls in enumerate(ICE_CLASSES)
    ]
    interruption = float(cost_all.sum())
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


def _energy(by_class: dict[str, float] | None, cls: str, customers: float, mean_kwh: float) -> float:
    """Summed annual kWh of ``customers`` of ``cls``; the class average when it was not recorded."""
    if by_class and cls in by_class:
        return float(by_class[cls])
    return customers * mean_kwh
