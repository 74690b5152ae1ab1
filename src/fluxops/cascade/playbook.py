"""Mitigation playbook: concrete switching, shedding and crew steps, each with an effect computed by
re-running the cascade model — not the seed's fixed containment probabilities (seed-inventory §3.7).

Steps, in the order an operator would take them:
1. The FLISR switching the engine found (open X to isolate, close tie Y to transfer Z kW), with the
   customers each wave restored; its value is verified by re-running the cascade without FLISR.
2. For every thermal trip of a substation transformer (or overload trip) in the cascade: the load to shed
   beforehand so the element stays within its limit (C57.91 inverted for the largest load that does not
   reach the limit within the horizon), verified by re-running the cascade with that load shed.
3. Crews: where to send them and when each repair is done (the restoration plan).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from fluxops.cascade.config import CascadeConfig, ScenarioConfig, ThermalConfig
from fluxops.cascade.context import EngineContext
from fluxops.cascade.engine import run_cascade
from fluxops.cascade.models import CascadeResult
from fluxops.cascade.restoration import RestorationConfig, RestorationPlan
from fluxops.cascade.thermal import time_to_limit_min


@dataclass(frozen=True)
class PlaybookStep:
    order: int
    time_min: float
    action: str  # open | close | shed | dispatch
    target: str
    detail: str
    customers_affected: int  # restored (switching), protected (shedding), restored by the repair (dispatch)
    verified: bool  # the effect comes from a re-run of the model
    effect: dict[str, Any]


@dataclass(frozen=True)
class Playbook:
    steps: list[PlaybookStep]
    baseline_customers_out: int
    baseline_customer_minutes: float
    without_flisr_customers_out: int
    without_flisr_customer_minutes: float
    crews: int


def max_load_within_limit(th: ThermalConfig, ambient_c: float, k0: float, limit_c: float) -> float:
    """Largest per-unit load that does not reach ``limit_c`` within the horizon (bisection on K)."""
    lo, hi = 0.0, 3.0
    for _ in range(30):
        mid = (lo + hi) / 2.0
        if np.isfinite(time_to_limit_min(th, ambient_c, [min(k0, mid)], [mid], limit_c)[0]):
            hi = mid
        else:
            lo = mid
    return lo


def build_playbook(
    ctx: EngineContext,
    result: CascadeResult,
    plan: RestorationPlan,
    *,
    scenario: ScenarioConfig,
    config: CascadeConfig,
    restoration: RestorationConfig,
) -> Playbook:
    cg = ctx.cg
    steps: list[PlaybookStep] = []
    # 1. switching found by FLISR, verified against a run without FLISR
    no_flisr = run_cascade(
        ctx,
        patient_zero=result.patient_zero,
        scenario=scenario,
        restoration=restoration,
        seed=result.seed,
        config=dataclasses.replace(config, flisr_enabled=False),
    )
    for w in result.waves:
        for s in w.switching:
            steps.append(
                PlaybookStep(
                    order=0,
                    time_min=s.time_min,
                    action=s.action,
                    target=s.device_id,
                    detail=f"{s.action} {s.device_id} ({s.purpose}"
                    + (f", transfers {s.p_kw_transferred:.0f} kW" if s.p_kw_transferred else "")
                    + (", automated" if s.automated else ", manual: crew on site")
                    + ")",
                    customers_affected=w.customers_restored if s.purpose in ("restore", "transfer") else 0,
                    verified=True,
                    effect={"wave": w.wave, "customers_out_after": w.customers_out},
                )
            )
    # 2. shedding ahead of thermal / overload trips, verified by a re-run with the load shed
    sub_of_source = cg.source_substation
    for w in result.waves:
        for ev in w.events:
            if ev.cause != "thermal" or ev.element_type != "substation_transformer":
                continue
            si = int(np.flatnonzero(cg.source_ids == ev.element_id)[0])
            k_trip = ev.value
            if k_trip is None or k_trip <= 0:
                continue
            th = config.thermal
            k_ok = max_load_within_limit(th, scenario.ambient_temp_c, k_trip, th.sub_xfmr_trip_hot_spot_c)
            frac = float(np.clip(k_ok / k_trip, 0.0, 1.0)) * 0.98  # 2 % margin for losses
            buses = cg.bus_substation == sub_of_source[si]
            scale = np.where(buses, frac, 1.0)
            shed_kw = float((1.0 - frac) * k_trip * cg.source_rating_mva[si] * 1000.0)
            rerun = run_cascade(
                ctx,
                patient_zero=result.patient_zero,
                scenario=scenario,
                config=config,
                restoration=restoration,
                seed=result.seed,
                bus_load_scale=scale,
            )
            saved = result.totals.customers_out - rerun.totals.customers_out
            steps.append(
                PlaybookStep(
                    order=0,
                    time_min=max(w.time_min - 1.0, 0.0),
                    action="shed",
                    target=str(cg.substation_ids[sub_of_source[si]]),
                    detail=f"shed {shed_kw:.0f} kW ({(1 - frac) * 100:.0f} % of the substation's load, "
                    "rotating) "
                    f"before {ev.element_id} reaches {th.sub_xfmr_trip_hot_spot_c:.0f} °C hot spot",
                    customers_affected=max(saved, 0),
                    verified=True,
                    effect={
                        "customers_out_with_shed": rerun.totals.customers_out,
                        "customers_out_without": result.totals.customers_out,
                        "customer_minutes_with_shed": rerun.totals.customer_minutes,
                    },
                )
            )
    # 3. crews
    for st in plan.steps:
        steps.append(
            PlaybookStep(
                order=0,
                time_min=st.start_min,
                action="dispatch",
                target=st.element_id,
                detail=f"crew {st.crew}: {st.repair_kind} {st.element_type} {st.element_id} "
                f"(travel {st.travel_min:.0f} min, done at {st.finish_min:.0f} min)",
                customers_affected=st.customers,
                verified=True,
                effect={"restored_min": st.restored_min, "critical": st.critical},
            )
        )
    steps.sort(key=lambda p: (p.time_min, p.action != "shed"))
    steps = [dataclasses.replace(p, order=i + 1) for i, p in enumerate(steps)]
    return Playbook(
        steps=steps,
        baseline_customers_out=result.totals.customers_out,
        baseline_customer_minutes=result.totals.customer_minutes,
        without_flisr_customers_out=no_flisr.totals.customers_out,
        without_flisr_customer_minutes=no_flisr.totals.customer_minutes,
        crews=plan.crews,
    )
