"""The wave-by-wave distribution cascade (domain-facts §4.2; DESIGN §4).

Wave 0: the initiating fault(s); the nearest upstream protective device operates, everything downstream
loses supply, reclosers record momentary interruptions. Wave 1 (FLISR): the faulted section is isolated
by its boundary switches, the upstream section is re-closed, a failed substation transformer's load moves
through the bus tie, and normally-open ties pick up healthy dead sections where a power flow says
ampacity and voltage hold (cold-load pickup after long outages). Later waves re-solve the flows: a
conductor over its trip loading makes its upstream protective device operate (overload); a transformer
whose IEEE C57.91 hot spot reaches its limit within the horizon trips or fails (thermal) at the computed
time; then FLISR tries again. Until nothing changes or ``max_waves``.

Every figure comes from the compiled grid, the network kernels and the frozen configs; the run is
deterministic for a seed (the seed only drives hurricane damage and Monte Carlo draws).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from time import perf_counter

import numpy as np
import numpy.typing as npt

from fluxops.cascade.config import CascadeConfig, ScenarioConfig, config_to_dict
from fluxops.cascade.context import EngineContext, local_context, scenario_loads
from fluxops.cascade.economics import ICE_CLASSES
from fluxops.cascade.flisr import FlisrStep, run_pickups, transfer_bus_ties
from fluxops.cascade.groups import build_groups
from fluxops.cascade.hurricane import flooded_sites, sample_storm_failures
from fluxops.cascade.models import (
    CascadeResult,
    CascadeTotals,
    Event,
    MomentaryEvent,
    WaveResult,
)
from fluxops.cascade.phase_loading import phase_note, worst_phase_loading
from fluxops.cascade.phases import customers_out_by_phase, parse_fault_phases, single_pole_clear
from fluxops.cascade.protection import (
    Upstream,
    find_protective,
    section_boundary,
    tree_parents,
    upstream_bus_of_edge,
)
from fluxops.cascade.recorder import WaveRecorder
from fluxops.cascade.repair import crew_depots
from fluxops.cascade.restoration import RestorationConfig, plan_restoration
from fluxops.cascade.state import CascadeState
from fluxops.cascade.trips import mark_source_clock, momentary_events, thermal_trips
from fluxops.core.errors import InvalidInputError
from fluxops.network.elements import ElementRef, resolve_element

FloatArray = npt.NDArray[np.float64]
PATIENT_ZERO_TYPES: frozenset[str] = frozenset(
    {
        "substation",
        "substation_transformer",
        "feeder",
        "line_segment",
        "breaker",
        "recloser",
        "sectionalizer",
        "fuse",
        "switch",
        "tie_switch",
        "bus_tie",
        "pole",
        "bus",
        "transformer",
    }
)


def resolve_patient_zero(ctx: EngineContext, ids: Sequence[str]) -> list[ElementRef]:
    refs = []
    for asset_id in ids:
        ref = resolve_element(ctx.cg, str(asset_id))
        if ref.asset_type not in PATIENT_ZERO_TYPES:
            raise InvalidInputError(
                f"{asset_id!r} is a {ref.asset_type}; a cascade starts at a grid element "
                f"({', '.join(sorted(PATIENT_ZERO_TYPES))})",
                field="patient_zero",
            )
        refs.append(ref)
    return refs


def run_cascade(
    ctx: EngineContext,
    *,
    patient_zero: Sequence[str],
    scenario: ScenarioConfig,
    config: CascadeConfig | None = None,
    restoration: RestorationConfig | None = None,
    seed: int = 0,
    bus_load_scale: FloatArray | None = None,
    load_source: str = "generated_peak",
    localize: bool = True,
    should_stop: Callable[[], bool] | None = None,
) -> CascadeResult:
    """Run one cascade. ``bus_load_scale`` multiplies each bus's scenario load (live state, Monte Carlo).

    ``should_stop`` is a cooperative cancel flag, polled between waves: when it returns True the run
    stops and returns what it has, flagged ``extras["stopped_by"] = "cancelled"`` (so does the
    ``config.max_compute_s`` time bound, flagged ``time_limit``).

    With ``localize`` (and no storm, no per-bus scale) the run uses the sub-grid of the patient zeros'
    substations and their tie neighbours (`local_context`) — same result, a fraction of the work.
    """
    storm = scenario.wind_speed_mps > 0 or bool(flooded_sites(ctx, scenario))
    if localize and not storm and bus_load_scale is None and patient_zero:
        subs = {substation_of(ctx, r) for r in resolve_patient_zero(ctx, patient_zero)}
        local = local_context(ctx, subs)
        if local is not ctx:
            res = _run(
                local, patient_zero, scenario, config, restoration, seed, None, load_source, should_stop
            )
            totals = dataclasses.replace(res.totals, customers_total=int(ctx.cg.total_customers))
            return dataclasses.replace(res, totals=totals, grid_name=ctx.grid.meta.name)
    return _run(
        ctx, patient_zero, scenario, config, restoration, seed, bus_load_scale, load_source, should_stop
    )


def substation_of(ctx: EngineContext, ref: ElementRef) -> int:
    cg = ctx.cg
    if len(ref.edges):
        return int(cg.bus_substation[cg.from_bus[ref.edges[0]]])
    if len(ref.buses):
        return int(cg.bus_substation[ref.buses[0]])
    if len(ref.sources):
        return int(cg.source_substation[ref.sources[0]])
    if len(ref.transformers):
        return int(cg.bus_substation[cg.xfmr_bus[ref.transformers[0]]])
    return 0


def _run(
    ctx: EngineContext,
    patient_zero: Sequence[str],
    scenario: ScenarioConfig,
    config: CascadeConfig | None,
    restoration: RestorationConfig | None,
    seed: int,
    bus_load_scale: FloatArray | None,
    load_source: str,
    should_stop: Callable[[], bool] | None = None,
) -> CascadeResult:
    t_start = perf_counter()
    config = (config or CascadeConfig()).validate()
    restoration = (restoration or RestorationConfig()).validate()
    scenario.validate()
    cg = ctx.cg
    rng = np.random.default_rng(seed)
    refs = resolve_patient_zero(ctx, patient_zero)
    storm_edges = (
        sample_storm_failures(ctx, scenario, rng) if scenario.wind_speed_mps > 0 else np.zeros(0, np.int64)
    )
    flood_refs = resolve_patient_zero(ctx, flooded_sites(ctx, scenario))
    flooded = {r.asset_id for r in flood_refs}
    refs = refs + [r for r in flood_refs if r.asset_id not in {x.asset_id for x in refs}]
    if not refs and len(storm_edges) == 0:
        raise InvalidInputError("name at least one patient-zero element", field="patient_zero")
    p, q = scenario_loads(ctx, scenario.load_multiplier, scenario.residential_heating_factor, bus_load_scale)
    st = CascadeState.start(ctx, p, q)
    assert st.en is not None
    pf0, plan0 = st.powerflow(st.en, 1.0)
    k0_src = np.nan_to_num(pf0.source_loading_pct / 100.0)
    rec = WaveRecorder(ctx, st)
    pe0, ps0 = tree_parents(ctx, plan0)

    # ---- wave 0: fault and protection -----------------------------------------------------------------
    ops: list[Upstream] = []
    fault_buses: list[int] = []
    momentary: list[MomentaryEvent] = []
    all_faults: list[tuple[str, str, ElementRef | None, int]] = [
        (r.asset_id, r.asset_type, r, -1) for r in refs
    ]
    all_faults += [(str(cg.edge_ids[e]), "line_segment", None, int(e)) for e in storm_edges]
    wanted = parse_fault_phases(config.fault_phases)
    for asset_id, asset_type, ref, storm_edge in all_faults:
        detail = (
            "wind damage (hurricane fragility)"
            if ref is None
            else "flood (pad below the storm's flood level)"
            if asset_id in flooded
            else "initiating fault"
        )
        rec.event(asset_id, asset_type, "fault", detail, 0.0)
        edges = ref.edges if ref is not None else np.array([storm_edge])
        for e in map(int, edges):
            if ref is not None and single_pole_clear(ctx, st, rec, pe0, ps0, e, wanted):
                continue
            st.failed_edges[e] = True
            rec.fault_edges.append(e)
            if cg.is_protective[e]:
                continue  # a failed protective device fails open: it is its own interruption
            fault_buses += [int(cg.from_bus[e]), int(cg.to_bus[e])]
            ops.append(find_protective(ctx, pe0, ps0, upstream_bus_of_edge(ctx, pe0, e, st.en), st.closed))
        if ref is None:
            continue
        for b in map(int, ref.buses):
            st.failed_buses[b] = True
            rec.fault_buses.append(b)
            if ref.asset_type != "substation":
                fault_buses.append(b)
                ops.append(find_protective(ctx, pe0, ps0, b, st.closed))
        for s in map(int, ref.sources):
            st.failed_sources[s] = True
            rec.fault_sources.append(s)
        for x in map(int, ref.transformers):
            st.failed_xfmr[x] = True
            rec.fault_xfmrs.append(x)
    ops = [op for op in dict.fromkeys(ops) if op.edge >= 0 or op.source >= 0]
    for op in ops:
        if op.edge >= 0 and st.closed[op.edge] and not st.failed_edges[op.edge]:
            st.closed[op.edge] = False
            dtype = str(cg.device_type[op.edge])
            shots = config.reclose_shots if dtype in ("breaker", "recloser") else 0
            detail = f"{dtype} operated" + (f" after {shots} reclose attempts (lockout)" if shots else "")
            rec.event(str(cg.edge_ids[op.edge]), dtype, "protection", detail, 0.0)
            rec.protection_edges.append(op.edge)
        elif op.source >= 0 and not st.failed_sources[op.source]:
            st.failed_sources[op.source] = True
            rec.tripped_sources.append(op.source)
            rec.event(
                str(cg.source_ids[op.source]),
                "substation_transformer",
                "protection",
                "LV breaker tripped",
                0.0,
            )
    en1 = rec.close_wave(0, 0.0, "fault", cold_factor=1.0)
    momentary = momentary_events(ctx, st, pe0, ops, config, en1.bus_energized)

    # ---- wave 1: FLISR ----------------------------------------------------------------------------------
    t = 0.0
    blocked = st.failed_buses.copy()
    tie_memo: dict[int, bytes] = {}
    if config.flisr_enabled:
        in_zone = np.zeros(cg.n_bus, bool)
        boundary = np.zeros(0, np.int64)
        if fault_buses:
            in_zone, boundary = section_boundary(ctx, ctx.bus_zone, np.asarray(fault_buses, np.int64))
        blocked |= in_zone
        step = FlisrStep(ctx, st, config, scenario, rec)
        for d in map(int, boundary):
            if st.closed[d] and not st.failed_edges[d]:
                step.switch(d, "open", "isolate")
                rec.isolation_edges.append(d)
        for op in ops:
            if op.edge >= 0 and op.edge not in set(boundary.tolist()) and not st.failed_edges[op.edge]:
                step.switch(op.edge, "close", "restore")
                rec.protection_edges.remove(op.edge)
            elif op.source >= 0 and op.source in rec.tripped_sources:
                step.reclose_source(op.source)
        transfer_bus_ties(step, np.flatnonzero(st.failed_sources))
        t = step.time_min()
        run_pickups(step, blocked, t, tie_memo)
        if step.actions:
            rec.switching.extend(step.actions)
            t = step.time_min()
            rec.close_wave(1, t, "flisr", cold_factor=scenario.cold_load_pickup_factor)
            mark_source_clock(ctx, st, t)

    # ---- later waves: overload, thermal, restoration -----------------------------------------------------
    stable = False
    stopped_by = "max_waves"
    phase_estimated: set[int] = set()  # islands whose phase loading was estimated (deadline)
    deadline = t_start + config.max_compute_s
    while rec.n_waves < config.max_waves:
        if should_stop is not None and should_stop():
            stopped_by = "cancelled"
            break
        if perf_counter() > deadline:
            stopped_by = "time_limit"
            break
        en = st.energize()
        pf, plan = st.powerflow(en, scenario.cold_load_pickup_factor)
        pe, ps = tree_parents(ctx, plan)
        # per segment its most loaded phase (balanced where every phase is intact and balanced, or
        # nothing is near the trip loading): `fluxops.cascade.phase_loading`
        phl = worst_phase_loading(
            ctx,
            st,
            en,
            plan,
            pf,
            scenario.cold_load_pickup_factor,
            config.conductor_trip_loading_pct,
            deadline,
        )
        loading = phl.loading_pct
        phase_estimated |= set(phl.estimated_sources)
        over = np.flatnonzero(en.edge_energized & (loading > config.conductor_trip_loading_pct))
        st.cold[:] = False
        if len(over):
            t += config.overload_trip_delay_min
            opened: set[int] = set()
            for e in map(int, over):
                rec.event(
                    str(cg.edge_ids[e]),
                    _etype(ctx, e),
                    "overload",
                    f"loading {loading[e]:.0f} %{phase_note(phl, e)} "
                    f"> {config.conductor_trip_loading_pct:.0f} %",
                    t,
                    float(loading[e]),
                )
                op = (
                    Upstream(edge=e)
                    if cg.is_protective[e]
                    else find_protective(ctx, pe, ps, upstream_bus_of_edge(ctx, pe, e, en), st.closed)
                )
                if op.edge >= 0 and op.edge not in opened:
                    opened.add(op.edge)
                    st.closed[op.edge] = False
                    rec.overload_edges.append(op.edge)
                    rec.event(
                        str(cg.edge_ids[op.edge]),
                        _etype(ctx, op.edge),
                        "protection",
                        "time-overcurrent trip",
                        t,
                    )
                elif op.source >= 0 and not st.failed_sources[op.source]:
                    st.failed_sources[op.source] = True
                    rec.overload_sources.append(op.source)
            rec.close_wave(rec.n_waves, t, "overload", cold_factor=1.0)
            mark_source_clock(ctx, st, t)
            continue
        tripped = thermal_trips(ctx, st, config, scenario, pf, en, k0_src, t, rec)
        if tripped is not None:
            t = tripped
            step = FlisrStep(ctx, st, config, scenario, rec, t0=t)
            transfer_bus_ties(step, np.flatnonzero(st.failed_sources))
            rec.switching.extend(step.actions)
            rec.close_wave(rec.n_waves, t, "thermal", cold_factor=1.0)
            mark_source_clock(ctx, st, t)
            continue
        if config.flisr_enabled:
            step = FlisrStep(ctx, st, config, scenario, rec, t0=t)
            run_pickups(step, blocked, t, tie_memo)
            if step.actions:
                rec.switching.extend(step.actions)
                t = step.time_min()
                rec.close_wave(rec.n_waves, t, "flisr", cold_factor=scenario.cold_load_pickup_factor)
                mark_source_clock(ctx, st, t)
                continue
        stable = True
        stopped_by = "stable"
        break

    # ---- outage groups, restoration, energy ---------------------------------------------------------------
    en_end = st.energize()
    w = np.array([scenario.residential_heating_factor, 1.0, 1.0]) * scenario.load_multiplier
    dead_end = ~en_end.bus_energized & (ctx.base_bus_pos >= 0)
    groups, bus_group, xfmr_group = build_groups(
        ctx, rec.repair_actions(), dead_end, st.failed_xfmr, st.p_kw, w
    )
    depots = crew_depots(ctx, groups, restoration.crews)
    rplan = plan_restoration(groups, cfg=restoration, depots=depots)
    waves = rec.finish(groups, bus_group, xfmr_group, rplan)
    cust_out, crit_out = st.customers(en_end)
    by_class = {c: int(sum(g.customers_by_class[c] for g in groups)) for c in ICE_CLASSES}
    totals = CascadeTotals(
        customers_out=cust_out,
        peak_customers_out=max([wv.customers_out for wv in waves] + [cust_out]),
        critical_out=crit_out,
        p_mw_out=round(st.p_kw_out(en_end) / 1000.0, 4),
        mwh_unserved=round(sum(wv.mwh_unserved for wv in waves), 4),
        customer_minutes=round(sum(st.cust_min_by_wave.values()), 1),
        momentary_customers=int(sum(m.customers for m in momentary)),
        elements_lost=rec.unique_lost(),
        waves=len(waves),
        stable=stable,
        customers_total=int(cg.total_customers),
        customers_by_class_out=by_class,
        customers_out_by_phase=customers_out_by_phase(ctx, en_end.bus_energized, st.failed_xfmr),
    )
    return CascadeResult(
        patient_zero=[r.asset_id for r in refs],
        patient_zero_types=[r.asset_type for r in refs],
        scenario=config_to_dict(scenario),
        config=config_to_dict(config),
        seed=seed,
        grid_name=ctx.grid.meta.name,
        load_source=load_source,
        waves=waves,
        totals=totals,
        momentary=momentary,
        outage_groups=groups,
        base_case={
            "converged": bool(pf0.converged),
            "max_loading_pct": round(float(np.nanmax(pf0.loading_pct, initial=0.0)), 2),
            "min_v_pu": round(float(np.nanmin(pf0.vm_pu)), 4) if cg.n_bus else 1.0,
            "max_source_loading_pct": round(float(np.nanmax(pf0.source_loading_pct, initial=0.0)), 2),
            "losses_kw": round(float(pf0.losses_kw), 2),
            "load_mw": round(float(st.p_kw.sum()) / 1000.0, 3),
        },
        compute_ms=round((perf_counter() - t_start) * 1000.0, 2),
        restoration_crews=restoration.crews,
        extras={
            "stopped_by": stopped_by,
            "phase_loading_estimated_sources": sorted(str(ctx.cg.source_ids[x]) for x in phase_estimated),
            "interrupted_restored": [
                {
                    "duration_min": d,
                    "customers_by_class": dict(zip(ICE_CLASSES, c, strict=True)),
                    "annual_kwh_by_class": dict(zip(ICE_CLASSES, e, strict=True)),
                }
                for d, c, e in st.interruptions
            ],
            "storm_failures": [str(cg.edge_ids[e]) for e in storm_edges],
            "restoration": {
                "customer_minutes": rplan.customer_minutes,
                "naive_customer_minutes": rplan.naive_customer_minutes,
                "milestones": [m.__dict__ for m in rplan.milestones],
                # where the crews started and each repair's hours: a re-plan (restoration sequence,
                # economic impact, hardening) starts from the same depots (`repair.plan_for`)
                "depots_lonlat": [[lon, lat] for lon, lat in depots],
                "repairs": [
                    {
                        "group_id": s.group_id,
                        "element_id": s.element_id,
                        "construction": s.construction,
                        "repair_h": s.repair_h,
                        "restored_min": s.restored_min,
                    }
                    for s in rplan.steps
                ],
            },
        },
    )


def _etype(ctx: EngineContext, e: int) -> str:
    return "line_segment" if ctx.cg.edge_kind[e] == 0 else str(ctx.cg.device_type[e])


__all__ = ["Event", "WaveResult", "crew_depots", "resolve_patient_zero", "run_cascade"]
