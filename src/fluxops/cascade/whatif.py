"""What-if figures on a proposed switch configuration: a whole-grid power flow summary, an N-1 summary and
the differences between two runs. Domain code (NumPy over the compiled grid) kept out of the API routes,
which only build the proposed context and delegate here."""

from __future__ import annotations

from typing import Any

import numpy as np

from fluxops.cascade.context import EngineContext, scenario_loads
from fluxops.cascade.models import CascadeResult
from fluxops.cascade.scenarios import resolve_scenario
from fluxops.core.errors import InvalidInputError
from fluxops.network.compiled import CompiledGrid
from fluxops.network.contingency import V_MIN_PU, run_n_minus_1
from fluxops.network.powerflow import run_powerflow
from fluxops.network.restoration import RestorationResult, run_n_minus_1_restoration
from fluxops.ops.switching_validation import critical_customers_by_bus


def flow_summary(ctx: EngineContext, scenario: str, limit: int) -> dict[str, Any]:
    """Whole-grid power flow of ``ctx`` under ``scenario``: convergence, extremes, losses, customers and
    critical customers without supply, and the overloaded elements (worst first, at most ``limit``)."""
    sc = resolve_scenario(scenario)
    p, q = scenario_loads(ctx, sc.load_multiplier, sc.residential_heating_factor)
    cg = ctx.cg
    crit = critical_customers_by_bus(ctx.grid, cg)
    pf = run_powerflow(cg, p_kw=p, q_kvar=q)
    ok = pf.edge_energized & (cg.ampacity_a > 0) & np.isfinite(pf.loading_pct)
    load = np.where(ok, pf.loading_pct, np.nan)
    with np.errstate(invalid="ignore"):
        over = np.flatnonzero(load > 100.0)
        src_over = np.flatnonzero(pf.source_loading_pct > 100.0)
    over = over[np.argsort(-load[over])]
    dead = ~np.asarray(pf.bus_energized, bool)
    crit_out = sorted(c for b in np.flatnonzero(dead) for c in crit.get(int(b), ()))
    vm = pf.vm_pu[~dead]
    vm = vm[np.isfinite(vm)]
    finite = load[np.isfinite(load)]
    return {
        "converged": bool(pf.converged),
        "method": pf.method,
        "loops": int(pf.n_loops),
        "max_loading_pct": round(float(finite.max()), 2) if finite.size else None,
        "min_v_pu": round(float(vm.min()), 5) if vm.size else None,
        "losses_kw": round(float(pf.losses_kw), 3),
        "customers_without_supply": int(cg.bus_customer_count[dead].sum()),
        "critical_without_supply": crit_out[:limit],
        "critical_without_supply_count": len(crit_out),
        "overloaded_count": int(len(over) + len(src_over)),
        "overloaded": [
            {
                "element_id": str(cg.edge_ids[e]),
                "element_type": str(ctx.edge_type[e]),
                "loading_pct": round(float(load[e]), 2),
            }
            for e in over[:limit]
        ]
        + [
            {
                "element_id": str(cg.source_ids[s]),
                "element_type": "substation_transformer",
                "loading_pct": round(float(pf.source_loading_pct[s]), 2),
            }
            for s in src_over[:limit]
        ],
    }


N1_MODES = ("restoration", "radial")


def n_minus_1_summary(
    ctx: EngineContext, scenario: str, limit: int, mode: str = "restoration"
) -> dict[str, Any]:
    """N-1 (every line segment of ``ctx`` out, one at a time) under ``scenario``: counts and the worst
    ``limit`` contingencies by customers out, then loading. ``mode``: ``restoration`` (default: FLISR
    after each outage — section isolated, upstream re-closed, islands picked up through ties when the
    power flow allows; `fluxops.network.restoration`) or ``radial`` (the outage without reconfiguration).
    The row fields of the radial screening are kept; restoration adds what was restored, moved and
    refused."""
    if mode not in N1_MODES:
        raise InvalidInputError(f"mode must be one of {', '.join(N1_MODES)}", field="mode")
    sc = resolve_scenario(scenario)
    p, q = scenario_loads(ctx, sc.load_multiplier, sc.residential_heating_factor)
    cg = ctx.cg
    if mode == "radial":
        res = run_n_minus_1(cg, p_kw=p, q_kvar=q)
        rest = None
    else:
        rest = run_n_minus_1_restoration(cg, p_kw=p, q_kvar=q)
        res = rest.radial
    out_c = res.customers_out if rest is None else rest.customers_out
    crit = res.critical_out if rest is None else rest.critical_out
    kw = res.unserved_kw if rest is None else rest.unserved_kw
    load = res.max_loading_pct if rest is None else rest.max_loading_pct
    worst = res.worst_edge if rest is None else rest.worst_edge
    vmin = res.min_vm_pu if rest is None else rest.min_vm_pu
    conv = res.converged if rest is None else rest.converged
    order = np.lexsort((-np.nan_to_num(load, nan=0.0), -out_c))
    with np.errstate(invalid="ignore"):
        overloading = int((load > 100.0).sum())

    def num(x: float, nd: int) -> float | None:
        return round(float(x), nd) if np.isfinite(x) else None

    def row(k: int) -> dict[str, Any]:
        r: dict[str, Any] = {
            "element_id": str(cg.edge_ids[res.edges[k]]),
            "customers_out": int(out_c[k]),
            "critical_out": int(crit[k]),
            "unserved_kw": round(float(kw[k]), 2),
            "max_loading_pct": num(load[k], 2),
            "worst_element": None if worst[k] < 0 else str(cg.edge_ids[worst[k]]),
            "min_v_pu": num(vmin[k], 5),
            "converged": bool(conv[k]),
        }
        if rest is not None:
            r.update(_restoration_row(cg, rest, k, num))
        return r

    out: dict[str, Any] = {
        "scenario": sc.name,
        "substations": sorted(str(x) for x in cg.substation_ids),
        "mode": mode,
        "method": res.method if rest is None else rest.method,
        "contingencies": len(res.edges),
        "contingencies_with_overload": overloading,
        "contingencies_with_critical_out": int((crit > 0).sum()),
        "worst": [row(int(k)) for k in order[:limit]],
    }
    if rest is not None:
        out["customers_interrupted_total"] = int(rest.customers_interrupted.sum())
        out["customers_restored_total"] = int(rest.customers_restored.sum())
        out["customers_transferred_total"] = int(rest.customers_transferred.sum())
        out["transfer_options_checked"] = len(rest.transfers)
        out["limits"] = {"loading_pct": 100.0, "v_min_pu": V_MIN_PU, "rule": "no new violation vs pre-fault"}
    return out


def _restoration_row(cg: CompiledGrid, rest: RestorationResult, k: int, num: Any) -> dict[str, Any]:
    """What FLISR did for contingency ``k``: restored, moved through ties, and the islands it could not
    move with what would have overloaded (the refused option that restores the most)."""
    mine = [t for t in rest.transfers if t.contingency == k]
    done = {t.island_edge for t in mine if t.accepted}
    refused: dict[int, Any] = {}
    for t in mine:
        if t.island_edge in done or t.feasible:
            continue
        best = refused.get(t.island_edge)
        if best is None or t.customers > best.customers:
            refused[t.island_edge] = t

    def tr(t: Any) -> dict[str, Any]:
        return {
            "tie_id": str(cg.edge_ids[t.tie_edge]),
            "pickup_device_id": str(cg.edge_ids[t.pickup_edge]),
            "customers": t.customers,
            "max_loading_pct": num(t.max_loading_pct, 2),
            "worst_element": None if t.worst_edge < 0 else str(cg.edge_ids[t.worst_edge]),
            "min_v_pu": num(t.min_vm_pu, 5),
            "new_overloads": t.new_overloads,
            "new_undervoltage": t.new_undervoltage,
            "unrated_elements_loaded": t.unrated_loaded,
        }

    up = int(rest.upstream_device[k])
    return {
        "customers_out_radial": int(rest.radial.customers_out[k]),
        "customers_interrupted": int(rest.customers_interrupted[k]),
        "customers_restored": int(rest.customers_restored[k]),
        "customers_transferred": int(rest.customers_transferred[k]),
        "isolated_by": None if up < 0 else str(cg.edge_ids[up]),
        "transfers": [tr(t) for t in mine if t.accepted],
        "refused_transfers": [tr(t) for t in refused.values()],
    }


def overloaded_elements(result: CascadeResult) -> list[str]:
    """Elements a cascade tripped for overload or heat, sorted."""
    return sorted(
        {e.element_id for w in result.waves for e in w.events if e.cause in ("overload", "thermal")}
    )


def numbers_diff(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """``b - a`` for every numeric (non-boolean) figure the two share."""
    out: dict[str, Any] = {}
    for k, va in a.items():
        vb = b.get(k)
        if isinstance(va, int | float) and isinstance(vb, int | float) and not isinstance(va, bool):
            out[k] = vb - va
    return out
