"""Hardening ROI: what each candidate investment buys in expected customer-minutes and dollars over five
years, and the best set within a budget.

Why re-run the model: the seed derived "risk reduction" from betweenness + 20 and an invented 5 %/yr
outage probability (seed-inventory §3.9). Here each measure changes the grid model and the cascade of
the element it protects is simulated again; the benefit is the element's failure rate (`screening`)
× the change in customer-minutes and in economic cost (ICE + restoration) per failure:

* ``automate_switches`` — the manual switches bounding the element's section become remotely operated
  (isolation in ``flisr_switch_time_min`` instead of a crew's ``manual_switch_time_min``);
* ``new_tie`` — a new normally-open automated tie (switch + overhead line) from the element's outage
  region to the nearest bus of another feeder within ``max_new_tie_km``, so FLISR can pick it up;
* ``recloser`` — the nearest non-protective switch above the element becomes a recloser, so a fault
  below it no longer trips the larger upstream zone;
* ``underground`` — a line segment goes underground: its failure rate drops to the underground rate
  (and its wind exposure to zero);
* ``transformer_upgrade`` — a substation transformer that tripped thermally gets ``upgrade_factor`` ×
  rating.

Costs (2024 $, *assumptions*, configurable; ranges quoted in utility filings): automated switch
$35K, new tie line $350K per km (+ the switch), recloser $60K, undergrounding $1.5M per km,
substation transformer upgrade $1.2M.

Why net present value and not gross avoided cost: a portfolio that maximises avoided cost alone buys
anything with a benefit, whatever it costs (it recommended a $73,783 tie for $5.24 of benefit). Each
investment is valued as ``NPV = annual avoided cost × A(r, n) − capital cost`` with the annuity factor
``A(r, n) = Σ_{t=1..n} (1 + r)^−t = (1 − (1 + r)^−n) / r`` (``n`` = ``years``, ``r`` =
``discount_rate``; avoided costs accrue at the end of each year, constant 2024 $, so ``r`` is a real
rate). The best set is the exact 0/1 knapsack that maximises total NPV with total capital cost within
the budget; an item with NPV ≤ 0 is never recommended (`_knapsack`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from fluxops.cascade.config import CascadeConfig, ScenarioConfig
from fluxops.cascade.context import RECLOSING_DEVICE_TYPES, EngineContext, local_context, scenario_loads
from fluxops.cascade.economics import EconomicsConfig, economic_impact
from fluxops.cascade.engine import resolve_patient_zero, run_cascade, substation_of
from fluxops.cascade.models import CascadeResult
from fluxops.cascade.protection import find_protective, upstream_bus_of_edge
from fluxops.cascade.repair import plan_for
from fluxops.cascade.restoration import RestorationConfig
from fluxops.cascade.screening import ScreeningConfig, _edge_rates
from fluxops.core.errors import InvalidInputError
from fluxops.network.compiled import EDGE_LINE
from fluxops.network.elements import ElementRef
from fluxops.network.energization import energize
from fluxops.network.powerflow import run_powerflow

MEASURES: tuple[str, ...] = ("automate_switches", "new_tie", "recloser", "underground", "transformer_upgrade")


@dataclass(frozen=True)
class HardeningConfig:
    """Horizon, discount rate and capital costs of the hardening measures.

    * ``years`` — analysis horizon (planning policy, configurable; a longer horizon values long-lived
      assets such as underground cable more).
    * ``discount_rate`` — real discount rate for the NPV: 7 %, the base-case real rate of OMB Circular
      A-94 (1992), §8.b(1), for public investments (a utility would put its after-tax WACC here;
      configurable).
    * Capital costs: *assumptions*, see the module docstring.
    """

    years: int = 5
    discount_rate: float = 0.07
    cost_automated_switch_usd: float = 35_000.0
    cost_recloser_usd: float = 60_000.0
    cost_underground_per_km_usd: float = 1_500_000.0
    cost_transformer_upgrade_usd: float = 1_200_000.0
    upgrade_factor: float = 1.5
    # new automated tie: switch + overhead line to the nearest bus of another feeder (336 ACSR-like
    # conductor as in the generator's catalog; construction cost per km is an assumption)
    cost_new_tie_line_per_km_usd: float = 350_000.0
    max_new_tie_km: float = 1.5
    new_tie_r_ohm_per_km: float = 0.19
    new_tie_x_ohm_per_km: float = 0.38
    new_tie_ampacity_a: float = 530.0

    def validate(self) -> HardeningConfig:
        if not (1 <= self.years <= 100):
            raise InvalidInputError("hardening.years must be within [1, 100]", field="hardening.years")
        if not (0.0 <= self.discount_rate < 1.0):
            raise InvalidInputError(
                "hardening.discount_rate must be within [0, 1) (a fraction per year, e.g. 0.07)",
                field="hardening.discount_rate",
            )
        return self

    def annuity_factor(self) -> float:
        """Present value of $1 a year for ``years`` years at ``discount_rate`` (end-of-year payments)."""
        r, n = self.discount_rate, self.years
        return float(n) if r == 0 else (1.0 - (1.0 + r) ** -n) / r


@dataclass(frozen=True)
class Investment:
    measure: str
    element_id: str  # the element it protects
    asset_ids: list[str]  # what is changed or installed
    cost_usd: float
    failures_per_year: float
    customer_minutes_per_failure_before: float
    customer_minutes_per_failure_after: float
    expected_customer_minutes_avoided: float  # over the horizon
    cost_avoided_usd: float  # ICE + restoration, over the horizon, undiscounted
    cost_avoided_pv_usd: float  # the same, discounted to present value
    npv_usd: float  # cost_avoided_pv_usd − cost_usd
    net_benefit_usd: float  # = npv_usd
    roi_pct: float  # 100 × npv_usd / cost_usd
    payback_years: float | None  # simple: cost_usd / annual avoided cost (None when nothing is avoided)


@dataclass(frozen=True)
class HardeningResult:
    investments: list[Investment]
    budget_usd: float
    best_set: list[int]  # indices into investments
    best_set_cost_usd: float
    best_set_benefit_usd: float  # undiscounted avoided cost of the set over the horizon
    best_set_npv_usd: float
    years: int
    discount_rate: float


def _cost_of(
    ctx: EngineContext, r: CascadeResult, restoration: RestorationConfig, econ: EconomicsConfig
) -> float:
    """ICE + restoration cost of one failure, with the cascade's own restoration plan (same depots,
    same repair model as ``simulate``; not a crew from the grid's first substation)."""
    return economic_impact(r, plan_for(ctx, r, restoration), cfg=econ).total_cost_usd


def evaluate_hardening(
    ctx: EngineContext,
    *,
    element_ids: Sequence[str],
    scenario: ScenarioConfig,
    budget_usd: float,
    config: CascadeConfig | None = None,
    restoration: RestorationConfig | None = None,
    economics: EconomicsConfig | None = None,
    screening: ScreeningConfig | None = None,
    hardening: HardeningConfig | None = None,
) -> HardeningResult:
    if budget_usd < 0:
        raise InvalidInputError("investment_budget must not be negative", field="investment_budget")
    if not element_ids:
        raise InvalidInputError("name at least one element to protect", field="node_ids")
    config = config or CascadeConfig()
    restoration = restoration or RestorationConfig()
    econ = economics or EconomicsConfig()
    scr = screening or ScreeningConfig()
    hc = (hardening or HardeningConfig()).validate()
    annuity = hc.annuity_factor()
    calm = dataclasses.replace(scenario, wind_speed_mps=0.0)
    out: list[Investment] = []
    for gref in resolve_patient_zero(ctx, element_ids):
        # work on the element's substation neighbourhood (same cascade, a fraction of the flows)
        lctx = local_context(ctx, {substation_of(ctx, gref)})
        ref = resolve_patient_zero(lctx, [gref.asset_id])[0]
        lcg = lctx.cg
        rates = _edge_rates(lctx, scr, calm)
        eid = ref.asset_id

        def rerun(c: EngineContext, pz: str = eid) -> CascadeResult:
            """The same fault under the same scenario on a (possibly hardened) copy of the context."""
            return run_cascade(
                c, patient_zero=[pz], scenario=calm, config=config, restoration=restoration, localize=False
            )

        base = rerun(lctx)
        base_cost = _cost_of(lctx, base, restoration, econ)
        lam = _rate(lctx, ref.asset_type, ref.edges, rates, scr)

        def add(
            measure: str,
            assets: list[str],
            cost: float,
            after: CascadeResult | None,
            lam_after: float,
            base: CascadeResult = base,
            base_cost: float = base_cost,
            lam: float = lam,
            eid: str = eid,
            lctx: EngineContext = lctx,
        ) -> None:
            after_cm = after.totals.customer_minutes if after is not None else base.totals.customer_minutes
            after_cost = _cost_of(lctx, after, restoration, econ) if after is not None else base_cost
            cm_avoided = hc.years * (lam * base.totals.customer_minutes - lam_after * after_cm)
            annual = lam * base_cost - lam_after * after_cost
            usd_avoided = hc.years * annual
            pv = annual * annuity
            npv = pv - cost
            out.append(
                Investment(
                    measure=measure,
                    element_id=eid,
                    asset_ids=assets,
                    cost_usd=round(cost, 2),
                    failures_per_year=round(lam, 6),
                    customer_minutes_per_failure_before=base.totals.customer_minutes,
                    customer_minutes_per_failure_after=round(after_cm, 1),
                    expected_customer_minutes_avoided=round(cm_avoided, 1),
                    cost_avoided_usd=round(usd_avoided, 2),
                    cost_avoided_pv_usd=round(pv, 2),
                    npv_usd=round(npv, 2),
                    net_benefit_usd=round(npv, 2),
                    roi_pct=round(100.0 * npv / cost, 2) if cost > 0 else 0.0,
                    payback_years=round(cost / annual, 2) if annual > 0 else None,
                )
            )

        edges = [int(e) for e in ref.edges]
        if edges or len(ref.buses):
            manual = _manual_boundary(lctx, edges, [int(b) for b in ref.buses])
            if manual:
                auto = lctx.edge_automated.copy()
                auto[manual] = True
                ctx2 = dataclasses.replace(lctx, edge_automated=auto)
                after = rerun(ctx2)
                add(
                    "automate_switches",
                    [str(lcg.edge_ids[e]) for e in manual],
                    hc.cost_automated_switch_usd * len(manual),
                    after,
                    lam,
                )
        if edges and not lcg.is_protective[edges[0]]:
            sw = _switch_above(lctx, edges[0])
            if sw >= 0:
                ctx2 = _with_recloser(lctx, sw)
                after = rerun(ctx2)
                add("recloser", [str(lcg.edge_ids[sw])], hc.cost_recloser_usd, after, lam)
        if ref.asset_type == "line_segment" and lctx.edge_overhead[edges[0]]:
            km = float(lctx.edge_length_km[edges[0]])
            lam_ug = scr.underground_line_per_km_yr * km
            add("underground", [eid], hc.cost_underground_per_km_usd * km, None, lam_ug)
        tie = _new_tie_site(lctx, ref, base, calm, hc)
        if tie is not None:
            a_bus, b_bus, km = tie
            ctx2 = _with_new_tie(lctx, a_bus, b_bus, km, hc)
            after = rerun(ctx2)
            add(
                "new_tie",
                [f"{lcg.bus_ids[a_bus]}<->{lcg.bus_ids[b_bus]}"],
                hc.cost_automated_switch_usd + hc.cost_new_tie_line_per_km_usd * km,
                after,
                lam,
            )
        tripped = {
            ev.element_id
            for w in base.waves
            for ev in w.events
            if ev.cause == "thermal" and ev.element_type == "substation_transformer"
        }
        if tripped:
            rating = lcg.source_rating_mva.copy()
            idx = np.isin(lcg.source_ids, list(tripped))
            rating[idx] *= hc.upgrade_factor
            ctx2 = dataclasses.replace(lctx, cg=dataclasses.replace(lcg, source_rating_mva=rating))
            after = rerun(ctx2)
            add(
                "transformer_upgrade",
                sorted(tripped),
                hc.cost_transformer_upgrade_usd * len(tripped),
                after,
                lam,
            )
    best = _knapsack([i.cost_usd for i in out], [i.npv_usd for i in out], budget_usd)
    return HardeningResult(
        investments=out,
        budget_usd=budget_usd,
        best_set=best,
        best_set_cost_usd=round(sum(out[i].cost_usd for i in best), 2),
        best_set_benefit_usd=round(sum(out[i].cost_avoided_usd for i in best), 2),
        best_set_npv_usd=round(sum(out[i].npv_usd for i in best), 2),
        years=hc.years,
        discount_rate=hc.discount_rate,
    )


def _rate(
    ctx: EngineContext, asset_type: str, edges: np.ndarray, rates: np.ndarray, scr: ScreeningConfig
) -> float:
    if len(edges):
        return float(rates[int(edges[0])])
    return {
        "substation_transformer": scr.substation_transformer_per_yr,
        "substation": scr.substation_per_yr,
        "transformer": scr.distribution_transformer_per_yr,
    }.get(asset_type, scr.device_per_yr)


def _manual_boundary(ctx: EngineContext, edges: list[int], buses: list[int]) -> list[int]:
    cg = ctx.cg
    zb = [int(ctx.bus_zone[cg.from_bus[e]]) for e in edges] + [int(ctx.bus_zone[b]) for b in buses]
    in_zone = np.isin(ctx.bus_zone, zb)
    dev = (cg.edge_kind != EDGE_LINE) & (in_zone[cg.from_bus] ^ in_zone[cg.to_bus])
    switchable = np.isin(cg.device_type, ("switch", "sectionalizer"))  # fuses cannot be automated
    return [int(e) for e in np.flatnonzero(dev & ~ctx.edge_automated & switchable)]


def _switch_above(ctx: EngineContext, e: int) -> int:
    """The nearest closed non-protective switch between the element and its protective device."""
    cg = ctx.cg
    pe = ctx.base_parent_edge
    b = upstream_bus_of_edge(ctx, pe, e, ctx.base_plan.energization)
    stop = find_protective(ctx, pe, ctx.base_parent_src, b, cg.closed_state).edge
    for _ in range(cg.n_bus):
        pe_b = int(pe[b])
        if pe_b < 0 or pe_b == stop:
            return -1
        if str(cg.device_type[pe_b]) in ("switch",) and cg.closed_state[pe_b]:
            return pe_b
        b = int(cg.from_bus[pe_b]) if int(cg.to_bus[pe_b]) == b else int(cg.to_bus[pe_b])
    return -1


def _with_recloser(ctx: EngineContext, e: int) -> EngineContext:
    cg = ctx.cg
    dtype = cg.device_type.copy()
    dtype[e] = "recloser"
    prot = cg.is_protective.copy()
    prot[e] = True
    auto = ctx.edge_automated.copy()
    auto[e] = "recloser" in RECLOSING_DEVICE_TYPES
    return dataclasses.replace(
        ctx, cg=dataclasses.replace(cg, device_type=dtype, is_protective=prot), edge_automated=auto
    )


def _knapsack(costs: list[float], values: list[float], budget: float) -> list[int]:
    """Indices of the items that maximise total ``values`` (NPV) with total ``costs`` within ``budget``.

    Exact 0/1 knapsack by dynamic programming on $1,000 units: each cost is rounded *up* to whole
    $1,000 (so the chosen set always fits the budget; the optimum is exact when costs are whole $1,000)
    and the budget down. Items with a value ≤ 0 (NPV ≤ 0) are never taken: they can only lower the total.
    """
    unit = 1000.0
    w = [int(np.ceil(c / unit)) for c in costs]
    cap = int(budget // unit)
    n = len(w)
    if n == 0 or cap <= 0:
        return []
    cap = min(cap, sum(w))
    best = np.zeros(cap + 1)
    take = np.zeros((n, cap + 1), bool)
    for i in range(n):
        if w[i] > cap or values[i] <= 0:
            continue
        cand = best[: cap + 1 - w[i]] + values[i]
        better = cand > best[w[i] :]
        take[i, w[i] :] = better
        best[w[i] :] = np.where(better, cand, best[w[i] :])
    chosen, c = [], cap
    for i in range(n - 1, -1, -1):
        if take[i, c]:
            chosen.append(i)
            c -= w[i]
    return sorted(chosen)


def _new_tie_site(
    ctx: EngineContext, ref: ElementRef, base: CascadeResult, scenario: ScenarioConfig, hc: HardeningConfig
) -> tuple[int, int, float] | None:
    """(dark bus, bus of another feeder, km): the shortest link from the element's outage region to a
    bus that stays supplied from a *different* substation transformer (a tie to a feeder on the same
    transformer adds no capacity) with spare capacity for at least half the region's load at the
    scenario's loads. The region counts the substation transformers the base cascade lost
    (fault, protection, thermal trips), FLISR aside."""
    cg = ctx.cg
    lost_src = {
        e.element_id for w in base.waves for e in w.events if e.element_type == "substation_transformer"
    }
    failed_src = np.union1d(ref.sources, np.flatnonzero(np.isin(cg.source_ids, list(lost_src))))
    en = energize(cg, failed_edges=ref.edges, failed_buses=ref.buses, failed_sources=failed_src)
    behind_fuse = _behind_fuses(ctx)  # a tie on a fused lateral is limited by the fuse: use trunks only
    dark = ~en.bus_energized & (ctx.base_bus_pos >= 0) & ~cg.bus_is_substation
    if not (dark & ~behind_fuse).any():
        return None
    base_src = ctx.base_plan.energization.bus_source
    feeder = ctx.grid.buses["feeder_id"].to_numpy(object)
    dark_feeders = set(feeder[dark].tolist())
    other = (
        en.bus_energized
        & ~cg.bus_is_substation
        & ~np.isin(feeder, list(dark_feeders))
        & ~np.isin(base_src, np.unique(base_src[dark]))
        & ~behind_fuse
    )
    p, q = scenario_loads(ctx, scenario.load_multiplier, scenario.residential_heating_factor)
    pf = run_powerflow(cg, p_kw=p, q_kvar=q)
    spare_kva = (
        (1.0 - np.nan_to_num(pf.source_loading_pct, nan=100.0) / 100.0) * cg.source_rating_mva * 1000.0
    )
    need_kva = 0.5 * float(np.hypot(p[dark], q[dark]).sum())
    other &= (base_src >= 0) & (spare_kva[np.maximum(base_src, 0)] >= need_kva)
    if not other.any():
        return None
    lat0 = float(np.radians(np.nanmean(ctx.bus_lat)))
    xy = np.c_[ctx.bus_lon * 111.32 * np.cos(lat0), ctx.bus_lat * 110.57]
    d_idx, o_idx = np.flatnonzero(dark & ~behind_fuse), np.flatnonzero(other)
    dist, j = cKDTree(xy[o_idx]).query(xy[d_idx])
    k = int(np.argmin(dist))
    km = float(dist[k])
    if km > hc.max_new_tie_km:
        return None
    return int(d_idx[k]), int(o_idx[int(j[k])]), max(km, 0.01)


def _with_new_tie(ctx: EngineContext, a: int, b: int, km: float, hc: HardeningConfig) -> EngineContext:
    """The context with one more normally-open automated tie (a switched overhead line) from a to b."""
    cg = ctx.cg
    new_id = f"NEW-TIE-{cg.bus_ids[a]}-{cg.bus_ids[b]}"
    known: dict[str, object] = {
        "edge_ids": new_id,
        "edge_kind": 1,
        "from_bus": a,
        "to_bus": b,
        "r_ohm": hc.new_tie_r_ohm_per_km * km,
        "x_ohm": hc.new_tie_x_ohm_per_km * km,
        "ampacity_a": hc.new_tie_ampacity_a,
        "device_type": "tie_switch",
        "normally_closed": False,
        "closed_state": False,
        "is_protective": False,
    }
    # every per-edge array of the compiled grid (the contiguous block starting at edge_ids) gets one entry;
    # per-edge arrays this module does not know (e.g. line capacitance) get a neutral zero
    changes: dict[str, object] = {}
    started = False
    for f in dataclasses.fields(cg):
        value = getattr(cg, f.name)
        if f.name == "edge_ids":
            started = True
        if not started:
            continue
        if not isinstance(value, np.ndarray) or len(value) != cg.n_edge or f.name.startswith("source_"):
            break
        extra = known.get(f.name, np.zeros(1, value.dtype)[0] if value.dtype != object else "")
        changes[f.name] = np.append(value, np.asarray([extra], dtype=value.dtype))
    cg2 = dataclasses.replace(cg, **changes)  # type: ignore[arg-type]
    return dataclasses.replace(
        ctx,
        cg=cg2,
        edge_lon=np.append(ctx.edge_lon, (ctx.bus_lon[a] + ctx.bus_lon[b]) / 2),
        edge_lat=np.append(ctx.edge_lat, (ctx.bus_lat[a] + ctx.bus_lat[b]) / 2),
        edge_length_km=np.append(ctx.edge_length_km, km),
        edge_overhead=np.append(ctx.edge_overhead, True),
        edge_install_year=np.append(ctx.edge_install_year, np.nan),
        edge_automated=np.append(ctx.edge_automated, True),
        edge_type=np.append(ctx.edge_type, "tie_switch").astype(object),
    )


def _behind_fuses(ctx: EngineContext) -> npt.NDArray[np.bool_]:
    """Per bus: True when a fuse lies on its normal path to the source (one triangular solve)."""
    cg, plan = ctx.cg, ctx.base_plan
    seeds = np.zeros(len(plan.free_bus))
    for e in np.flatnonzero(cg.device_type == "fuse"):
        f, t = int(cg.from_bus[e]), int(cg.to_bus[e])
        child = t if ctx.base_parent_edge[t] == e else (f if ctx.base_parent_edge[f] == e else -1)
        if child >= 0 and ctx.base_bus_pos[child] >= 0:
            seeds[ctx.base_bus_pos[child]] = 1.0
    out = np.zeros(cg.n_bus, bool)
    if seeds.any():
        out[plan.free_bus[plan.lu.solve(seeds) > 0.5]] = True
    return out
