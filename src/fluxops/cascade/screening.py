"""N-1 screening: simulate the failure of every element and rank them by expected consequence.

Why "consequence × likelihood": the seed ranked random numbers. We run the cascade engine for each
element (under the chosen scenario) and weight the simulated customer-minutes by a per-year failure rate
(``ScreeningConfig``, sources below), giving expected customer-minutes per year — the quantity SAIDI is
made of. Faults on any segment of the same *section* (buses joined by line segments, bounded by devices)
trip the same protective device and are isolated by the same switches, so one cascade per section
serves all its segments (their likelihoods differ by length and construction).

Rates (failures/yr): overhead line 0.065 per km, distribution transformer 0.015, breaker 0.006,
substation busbar 0.001 — Roy Billinton Test System distribution data (Allan, Billinton, Sjarief, Goel &
So, IEEE TPWRS 6(2), 1991). Underground cable 0.03 per km, other switchgear 0.006 and substation
transformers 0.015: *assumptions* (configurable). Under a hurricane scenario the likelihood is the
per-event wind-fragility probability instead (overhead spans only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import numpy as np

from fluxops.cascade.config import CascadeConfig, ScenarioConfig, config_to_dict
from fluxops.cascade.context import EngineContext
from fluxops.cascade.engine import run_cascade
from fluxops.cascade.hurricane import failure_probability
from fluxops.cascade.repair import repair_hours
from fluxops.cascade.restoration import RestorationConfig
from fluxops.network.centrality import Centrality, centrality, downstream_exposure
from fluxops.network.compiled import EDGE_LINE


@dataclass(frozen=True)
class ScreeningConfig:
    overhead_line_per_km_yr: float = 0.065
    underground_line_per_km_yr: float = 0.03
    breaker_per_yr: float = 0.006
    device_per_yr: float = 0.006
    distribution_transformer_per_yr: float = 0.015
    substation_transformer_per_yr: float = 0.015
    substation_per_yr: float = 0.001
    include_transformers: bool = True


@dataclass(frozen=True)
class Candidate:
    element_id: str
    element_type: str
    feeder_id: str | None
    likelihood: float  # failures per year (per event under a hurricane)
    customers_out: int  # peak over the cascade
    critical_out: int
    customer_minutes: float
    mwh_unserved: float
    waves: int
    propagated: bool  # later waves lost customers (beyond the protective operation)
    risk_customer_minutes: float  # likelihood × customer-minutes
    degree: int
    betweenness_norm: float  # exact, of the element's bus (fluxops.network.centrality)
    pagerank: float
    downstream_customers: int  # customers fed through the element in the normal configuration
    lon: float
    lat: float


@dataclass(frozen=True)
class ScreeningResult:
    scenario: dict[str, Any]
    config: dict[str, Any]
    likelihood_unit: str
    elements_screened: int
    cascades_run: int
    candidates: list[Candidate]
    compute_s: float


def run_screening(
    ctx: EngineContext,
    *,
    scenario: ScenarioConfig,
    config: CascadeConfig | None = None,
    restoration: RestorationConfig | None = None,
    screening: ScreeningConfig | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> ScreeningResult:
    t0 = perf_counter()
    config = config or CascadeConfig()
    restoration = restoration or RestorationConfig()
    sc_cfg = screening or ScreeningConfig()
    cg, grid = ctx.cg, ctx.grid
    storm = scenario.wind_speed_mps > 0
    no_storm = _calm(scenario)
    deg = np.bincount(np.r_[cg.from_bus, cg.to_bus], minlength=cg.n_bus)
    feeder_of_bus = grid.buses["feeder_id"].to_numpy(object)

    lam_edge = _edge_rates(ctx, sc_cfg, scenario) if not storm else failure_probability(ctx, scenario)
    is_tie = np.isin(cg.device_type, ("tie_switch", "bus_tie"))
    line = cg.edge_kind == EDGE_LINE
    # representatives: one line segment per section, every non-tie device
    zone = ctx.bus_zone[cg.from_bus]
    line_idx = np.flatnonzero(line & (lam_edge > 0))
    _, first = np.unique(zone[line_idx], return_index=True)
    reps = list(line_idx[first]) + ([] if storm else list(np.flatnonzero(~line & ~is_tie)))
    jobs: list[tuple[str, str]] = [(str(cg.edge_ids[e]), "edge") for e in reps]
    if not storm:
        jobs += [(str(s), "source") for s in cg.source_ids] + [
            (str(s), "substation") for s in cg.substation_ids
        ]
    results: dict[str, Any] = {}
    for i, (asset_id, _) in enumerate(jobs):
        results[asset_id] = run_cascade(
            ctx, patient_zero=[asset_id], scenario=no_storm, config=config, restoration=restoration
        )
        if progress is not None and (i % 20 == 0 or i == len(jobs) - 1):
            progress((i + 1) / max(len(jobs), 1), f"{i + 1}/{len(jobs)} cascades")
    zone_rep = {int(zone[e]): str(cg.edge_ids[e]) for e in line_idx[first]}
    cands: list[Candidate] = []
    cen = centrality(cg)
    expo = downstream_exposure(cg)

    def add(eid: str, etype: str, bus: int, lam: float, r: Any, lon: float, lat: float, down: int) -> None:
        t = r.totals
        cands.append(
            Candidate(
                element_id=eid,
                element_type=etype,
                feeder_id=_s(feeder_of_bus[bus]),
                likelihood=round(lam, 6),
                customers_out=t.peak_customers_out,
                critical_out=t.critical_out,
                customer_minutes=t.customer_minutes,
                mwh_unserved=t.mwh_unserved,
                waves=t.waves,
                propagated=any(w.customers_out_new > 0 for w in r.waves[1:]),
                risk_customer_minutes=round(lam * t.customer_minutes, 3),
                degree=int(deg[bus]),
                betweenness_norm=round(float(cen.betweenness_norm[bus]), 6),
                pagerank=round(float(cen.pagerank[bus]), 8),
                downstream_customers=down,
                lon=round(lon, 6),
                lat=round(lat, 6),
            )
        )

    for e in line_idx:
        r = results[zone_rep[int(zone[e])]]
        b = int(cg.from_bus[e])  # upstream end: where the element sits in the tree
        add(
            str(cg.edge_ids[e]),
            "line_segment",
            b,
            float(lam_edge[e]),
            r,
            ctx.edge_lon[e],
            ctx.edge_lat[e],
            int(expo.edge_customers[e]),
        )
    if not storm:
        for e in np.flatnonzero(~line & ~is_tie):
            b = int(cg.from_bus[e])  # upstream end: where the element sits in the tree
            add(
                str(cg.edge_ids[e]),
                str(cg.device_type[e]),
                b,
                float(lam_edge[e]),
                results[str(cg.edge_ids[e])],
                ctx.edge_lon[e],
                ctx.edge_lat[e],
                int(expo.edge_customers[e]),
            )
        for s, sid in enumerate(cg.source_ids):
            add(
                str(sid),
                "substation_transformer",
                int(cg.source_bus[s]),
                sc_cfg.substation_transformer_per_yr,
                results[str(sid)],
                ctx.source_lon[s],
                ctx.source_lat[s],
                int(expo.source_customers[s]),
            )
        for s, sid in enumerate(cg.substation_ids):
            buses = np.flatnonzero(cg.bus_substation == s)
            add(
                str(sid),
                "substation",
                int(buses[0]) if len(buses) else 0,
                sc_cfg.substation_per_yr,
                results[str(sid)],
                ctx.substation_lon[s],
                ctx.substation_lat[s],
                int(expo.source_customers[cg.source_substation == s].sum()),
            )
    if sc_cfg.include_transformers and not storm:
        cands += _transformer_candidates(ctx, sc_cfg, restoration, deg, feeder_of_bus, scenario, cen)
    cands.sort(key=lambda c: (-c.risk_customer_minutes, -c.customers_out, c.element_id))
    return ScreeningResult(
        scenario=config_to_dict(scenario),
        config=config_to_dict(sc_cfg),
        likelihood_unit="per event (wind fragility)" if storm else "failures per year",
        elements_screened=len(cands),
        cascades_run=len(jobs),
        candidates=cands,
        compute_s=round(perf_counter() - t0, 3),
    )


def _s(v: object) -> str | None:
    return None if v is None or (isinstance(v, float) and v != v) else str(v)


def _calm(scenario: ScenarioConfig) -> ScenarioConfig:
    """The scenario without random wind damage: the screened element is the only initiating failure."""
    import dataclasses

    return dataclasses.replace(scenario, wind_speed_mps=0.0)


def _edge_rates(ctx: EngineContext, cfg: ScreeningConfig, scenario: ScenarioConfig) -> np.ndarray:
    cg = ctx.cg
    line = cg.edge_kind == EDGE_LINE
    per_km = np.where(ctx.edge_overhead, cfg.overhead_line_per_km_yr, cfg.underground_line_per_km_yr)
    dev_rate = np.where(cg.device_type == "breaker", cfg.breaker_per_yr, cfg.device_per_yr)
    return np.asarray(np.where(line, per_km * ctx.edge_length_km, dev_rate), np.float64)


def _transformer_candidates(
    ctx: EngineContext,
    cfg: ScreeningConfig,
    restoration: RestorationConfig,
    deg: np.ndarray,
    feeder_of_bus: np.ndarray,
    scenario: ScenarioConfig,
    cen: Centrality,
) -> list[Candidate]:
    """A distribution transformer's failure never propagates (its fuse clears it, the primary stays
    energized — what the engine computes for it), so its consequence is its own customers for the
    replacement time; computed vectorized instead of one cascade per transformer."""
    cg = ctx.cg
    hours = repair_hours(restoration, "transformer", "replace", "")
    p = ctx.xfmr_p_kw_by_class @ (
        np.array([scenario.residential_heating_factor, 1.0, 1.0]) * scenario.load_multiplier
    )
    cm = cg.xfmr_customer_count * hours * 60.0
    out = []
    for x in np.flatnonzero(cg.xfmr_customer_count > 0):
        b = int(cg.xfmr_bus[x])
        out.append(
            Candidate(
                element_id=str(cg.xfmr_ids[x]),
                element_type="transformer",
                feeder_id=_s(feeder_of_bus[b]),
                likelihood=cfg.distribution_transformer_per_yr,
                customers_out=int(cg.xfmr_customer_count[x]),
                critical_out=int(cg.xfmr_critical_count[x]),
                customer_minutes=round(float(cm[x]), 1),
                mwh_unserved=round(float(p[x]) * hours / 1000.0, 4),
                waves=1,
                propagated=False,
                risk_customer_minutes=round(cfg.distribution_transformer_per_yr * float(cm[x]), 3),
                degree=int(deg[b]),
                betweenness_norm=round(float(cen.betweenness_norm[b]), 6),
                pagerank=round(float(cen.pagerank[b]), 8),
                downstream_customers=int(cg.xfmr_customer_count[x]),
                lon=round(float(ctx.xfmr_lon[x]), 6),
                lat=round(float(ctx.xfmr_lat[x]), 6),
            )
        )
    return out
