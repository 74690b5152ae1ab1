"""What-if figures on a proposed switch configuration: a whole-grid power flow summary, an N-1 summary and
the differences between two runs. Domain code (NumPy over the compiled grid) kept out of the API routes,
which only build the proposed context and delegate here."""

from __future__ import annotations

from typing import Any

import numpy as np

from fluxops.cascade.context import EngineContext, scenario_loads
from fluxops.cascade.models import CascadeResult
from fluxops.cascade.scenarios import resolve_scenario
from fluxops.network.contingency import run_n_minus_1
from fluxops.network.powerflow import run_powerflow
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


def n_minus_1_summary(ctx: EngineContext, scenario: str, limit: int) -> dict[str, Any]:
    """N-1 (every line segment of ``ctx`` out, one at a time) under ``scenario``: counts and the worst
    ``limit`` contingencies by customers out, then loading."""
    sc = resolve_scenario(scenario)
    p, q = scenario_loads(ctx, sc.load_multiplier, sc.residential_heating_factor)
    cg = ctx.cg
    res = run_n_minus_1(cg, p_kw=p, q_kvar=q)
    order = np.lexsort((-np.nan_to_num(res.max_loading_pct, nan=0.0), -res.customers_out))
    with np.errstate(invalid="ignore"):
        overloading = int((res.max_loading_pct > 100.0).sum())
    rows = [
        {
            "element_id": str(cg.edge_ids[res.edges[k]]),
            "customers_out": int(res.customers_out[k]),
            "critical_out": int(res.critical_out[k]),
            "unserved_kw": round(float(res.unserved_kw[k]), 2),
            "max_loading_pct": None
            if not np.isfinite(res.max_loading_pct[k])
            else round(float(res.max_loading_pct[k]), 2),
            "worst_element": None if res.worst_edge[k] < 0 else str(cg.edge_ids[res.worst_edge[k]]),
            "min_v_pu": None if not np.isfinite(res.min_vm_pu[k]) else round(float(res.min_vm_pu[k]), 5),
            "converged": bool(res.converged[k]),
        }
        for k in order[:limit]
    ]
    return {
        "scenario": sc.name,
        "substations": sorted(str(x) for x in cg.substation_ids),
        "method": res.method,
        "contingencies": len(res.edges),
        "contingencies_with_overload": overloading,
        "contingencies_with_critical_out": int((res.critical_out > 0).sum()),
        "worst": rows,
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
