"""Consequence of each asset's failure, simulated by the cascade engine: customers interrupted,
customer-minutes and ICE cost — and risk = likelihood × consequence per asset, feeder and substation.

Why simulate every element instead of reading the N-1 screening's ranking: the screening
(`fluxops.cascade.screening`) keeps only totals per element, without the restoration plan that prices
an interruption. Here the same cascades run (one per line *section* — every segment of a section trips
the same device and is isolated by the same switches —, one per non-tie device, one per substation
transformer, under the scenario without random wind damage, as the screening does), and each gets its
restoration plan (`fluxops.cascade.repair.plan_for`) and its DOE/LBNL ICE cost
(`fluxops.cascade.economics.economic_impact`). A distribution transformer's failure never propagates
(its fuse clears it; the screening computes it the same way), so its consequence is its own customers
for the replacement time, priced by class and annual energy, vectorized.

Asset mapping: a line segment takes its section's cascade; a pole carrying a segment takes that
segment's, a pole on a bus takes the section of that bus; devices and substation transformers take
their own. An asset the engine does not know keeps a null consequence (unknown, not zero).

Risk (`attach_risk`): the likelihood model gives P(at least one failure in 12 months) = p; the expected
number of failures a year under a Poisson process is λ = −ln(1 − p); expected customer-minutes a year =
λ × customer-minutes, expected $ a year = λ × ICE cost.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pandas as pd

from fluxops.cascade.config import CascadeConfig, ScenarioConfig
from fluxops.cascade.context import EngineContext
from fluxops.cascade.economics import ICE_CLASSES, EconomicsConfig, customer_cost_usd, economic_impact
from fluxops.cascade.engine import run_cascade
from fluxops.cascade.repair import plan_for, repair_hours
from fluxops.cascade.restoration import RestorationConfig
from fluxops.network.compiled import EDGE_LINE

Progress = Callable[[float, str], None]
CONSEQUENCE_COLUMNS: tuple[str, ...] = (
    "asset_id",
    "customers_interrupted",  # sustained, FLISR pick-ups included (they were out before the pick-up)
    "customer_minutes",
    "ice_usd",  # customer interruption cost (sustained + momentary), dollars of EconomicsConfig.dollar_year
    "restoration_usd",  # crew hours and material of the plan (the utility's cost, not in ice_usd)
    "mwh_unserved",
    "simulated_element",  # the element whose cascade this is (the section's representative segment)
)
RISK_COLUMNS: tuple[str, ...] = (
    "expected_failures_per_y",
    "risk_customers_per_y",
    "risk_customer_minutes_per_y",
    "risk_usd_per_y",
)


def _calm(scenario: ScenarioConfig) -> ScenarioConfig:
    return dataclasses.replace(scenario, wind_speed_mps=0.0)


def simulate_elements(
    ctx: EngineContext,
    scenario: ScenarioConfig,
    *,
    config: CascadeConfig | None = None,
    restoration: RestorationConfig | None = None,
    economics: EconomicsConfig | None = None,
    progress: Progress | None = None,
) -> tuple[pd.DataFrame, dict[int, str]]:
    """One cascade per section representative, non-tie device and substation transformer: their
    consequence rows, and each line section's representative segment (zone → edge id)."""
    cg = ctx.cg
    cfg, rc, econ = (
        config or CascadeConfig(),
        restoration or RestorationConfig(),
        economics or EconomicsConfig(),
    )
    line = cg.edge_kind == EDGE_LINE
    is_tie = np.isin(cg.device_type, ("tie_switch", "bus_tie"))
    zone = ctx.bus_zone[cg.from_bus]
    line_idx = np.flatnonzero(line)
    _, first = np.unique(zone[line_idx], return_index=True)
    reps = line_idx[first]
    zone_rep = {int(zone[e]): str(cg.edge_ids[e]) for e in reps}
    ids = [str(cg.edge_ids[e]) for e in reps] + [str(cg.edge_ids[e]) for e in np.flatnonzero(~line & ~is_tie)]
    ids += [str(s) for s in cg.source_ids]
    calm = _calm(scenario)
    rows = []
    report = progress or (lambda _f, _m: None)
    for i, eid in enumerate(ids):
        r = run_cascade(ctx, patient_zero=[eid], scenario=calm, config=cfg, restoration=rc)
        e = economic_impact(r, plan_for(ctx, r, rc), cfg=econ)
        rows.append(
            (
                eid,
                int(sum(c.customers for c in e.by_class)),
                float(e.customer_minutes),
                float(e.interruption_cost_usd + e.momentary_cost_usd),
                float(e.restoration_cost_usd),
                float(e.mwh_unserved),
                eid,
            )
        )
        if i % 20 == 0 or i == len(ids) - 1:  # the job's cancellation point, as in the screening
            report((i + 1) / max(len(ids), 1), f"{i + 1:,}/{len(ids):,} cascades")
    return pd.DataFrame(rows, columns=list(CONSEQUENCE_COLUMNS)), zone_rep


def transformer_consequences(
    ctx: EngineContext, restoration: RestorationConfig | None = None, economics: EconomicsConfig | None = None
) -> pd.DataFrame:
    """Distribution transformers: their own customers out for the replacement time (vectorized)."""
    cg = ctx.cg
    rc, econ = restoration or RestorationConfig(), economics or EconomicsConfig()
    hours = repair_hours(rc, "transformer", "replace", "")
    n = cg.xfmr_customer_count.astype(np.float64)
    dur = np.full(len(n), hours)
    ice = np.zeros(len(n))
    for j, cls in enumerate(ICE_CLASSES):
        ice += customer_cost_usd(econ, cls, dur, ctx.xfmr_annual_kwh_by_class[:, j])
    from fluxops.cascade.repair import material_usd

    restoration_usd = hours * econ.crew_cost_per_hour + material_usd(econ, "transformer", "replace", "")
    return pd.DataFrame(
        {
            "asset_id": cg.xfmr_ids.astype(object),
            "customers_interrupted": cg.xfmr_customer_count.astype(np.int64),
            "customer_minutes": n * hours * 60.0,
            "ice_usd": ice,
            "restoration_usd": np.where(n > 0, restoration_usd, 0.0),
            "mwh_unserved": cg.xfmr_p_kw.astype(np.float64) * hours / 1000.0,
            "simulated_element": None,
        },
        columns=list(CONSEQUENCE_COLUMNS),
    )


def asset_consequences(
    ctx: EngineContext,
    assets: pd.DataFrame,
    scenario: ScenarioConfig,
    *,
    config: CascadeConfig | None = None,
    restoration: RestorationConfig | None = None,
    economics: EconomicsConfig | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """`CONSEQUENCE_COLUMNS` for every asset of ``assets`` (`fluxops.risk.assets.ASSET_COLUMNS`), in its
    order; an asset the engine does not know has nulls."""
    sim, zone_rep = simulate_elements(
        ctx, scenario, config=config, restoration=restoration, economics=economics, progress=progress
    )
    xf = transformer_consequences(ctx, restoration, economics)
    cg = ctx.cg
    bus_pos = pd.Series(np.arange(cg.n_bus), index=pd.Index(cg.bus_ids.astype(object)))
    zone_of_bus = pd.Series(ctx.bus_zone, index=bus_pos.index)
    edge_zone = pd.Series(ctx.bus_zone[cg.from_bus], index=pd.Index(cg.edge_ids.astype(object)))
    t = assets["asset_type"].to_numpy(object)
    aid = assets["asset_id"].to_numpy(object)
    # which simulated element stands for each asset
    key = pd.Series(aid.copy(), dtype=object)  # a copy: the ids themselves must not change
    seg = t == "line_segment"
    key[seg] = (
        edge_zone.reindex(aid[seg]).map(lambda z: zone_rep.get(int(z)) if pd.notna(z) else None).to_numpy()
    )
    pole = t == "pole"
    pole_zone = zone_of_bus.reindex(assets.loc[pole, "bus_a"].to_numpy(object)).to_numpy()
    key[pole] = [zone_rep.get(int(z)) if pd.notna(z) else None for z in pole_zone]
    table = pd.concat([sim, xf], ignore_index=True).drop_duplicates("asset_id").set_index("asset_id")
    out = table.drop(columns=["simulated_element"]).reindex(key.to_numpy(object))
    out.insert(0, "asset_id", aid)
    sim_el = key.to_numpy(object).copy()
    sim_el[(t == "transformer") | out["customer_minutes"].isna().to_numpy()] = None
    out["simulated_element"] = sim_el
    return out.reset_index(drop=True)[list(CONSEQUENCE_COLUMNS)]


def attach_risk(scores: pd.DataFrame, consequence: pd.DataFrame | None) -> pd.DataFrame:
    """``scores`` (asset_id, probability, ...) with the consequence columns and `RISK_COLUMNS`; all
    null when no consequence was computed (unknown, not zero)."""
    out = scores.copy()
    p = out["probability"].to_numpy(np.float64)
    out["expected_failures_per_y"] = -np.log1p(-np.clip(p, 0.0, 1.0 - 1e-12))
    cols = [c for c in CONSEQUENCE_COLUMNS if c != "asset_id"]
    if consequence is None:
        for c in (*cols, *RISK_COLUMNS[1:]):
            out[c] = np.nan if c != "simulated_element" else None
        return out
    known = consequence.set_index("asset_id")[cols].reindex(out["asset_id"].to_numpy(object))
    for col in cols:
        out[col] = known[col].to_numpy()
    lam = out["expected_failures_per_y"].to_numpy(np.float64)
    out["risk_customers_per_y"] = lam * out["customers_interrupted"].to_numpy(np.float64)
    out["risk_customer_minutes_per_y"] = lam * out["customer_minutes"].to_numpy(np.float64)
    out["risk_usd_per_y"] = lam * out["ice_usd"].to_numpy(np.float64)
    return out


def risk_rollup(scored: pd.DataFrame, level: str) -> pd.DataFrame:
    """Expected failures, customers, customer-minutes and $ a year summed per feeder or substation;
    ``assets_without_consequence`` counts the assets left out of the consequence sums (unknown)."""
    col = {"feeder": "feeder_id", "substation": "substation_id"}[level]
    g = scored.dropna(subset=[col]).groupby(col, sort=True)
    out = g[list(RISK_COLUMNS)].sum(min_count=1)
    out["assets"] = g.size()
    out["assets_without_consequence"] = g["customer_minutes"].apply(lambda s: int(s.isna().sum()))
    return out.reset_index().rename(columns={col: "id"})
