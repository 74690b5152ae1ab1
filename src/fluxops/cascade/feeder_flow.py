"""The power flow of one feeder as the API reports it: a scenario on the feeder's substation, or — the
default for an imported grid — the source case as imported.

Why the imported case is solved whole: an imported network (SimBench, pandapower, OpenDSS) may be meshed
across what the asset model calls substations, carry static generators and storage at buses anywhere,
and run couplers the asset model holds open. Its published answer (pandapower ``runpp``) is one flow of
the whole case; cutting a substation's sub-grid out first would change it. So the whole case is solved
once per grid (the caller caches `solve_as_imported` per grid hash) and the feeder's part is reported.
A generated grid has no source case: its default stays the ``normal`` scenario on a local sub-grid.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fluxops.cascade.context import EngineContext, local_context, scenario_loads
from fluxops.cascade.scenarios import resolve_scenario
from fluxops.core.errors import InvalidInputError, NotFoundError
from fluxops.network.compiled import FloatArray, as_imported_case
from fluxops.network.powerflow import PowerFlowResult, run_powerflow

AS_IMPORTED = "as_imported"


def default_scenario(ctx: EngineContext) -> str:
    """``as_imported`` for an imported grid (its default answer is the source case), else ``normal``."""
    return AS_IMPORTED if ctx.cg.has_as_imported else "normal"


def solve_as_imported(ctx: EngineContext) -> tuple[PowerFlowResult, FloatArray]:
    """One power flow of the whole imported case (loads, generation, storage, shunts and switch states as
    in the source) and the per-bus net demand it used (kW). Raises `InvalidInputError` (field
    ``scenario``) for a grid that was not imported."""
    case = as_imported_case(ctx.cg)
    if case is None:
        raise InvalidInputError(
            "scenario 'as_imported' needs an imported grid (this one was generated)", field="scenario"
        )
    p, q, closed = case
    return run_powerflow(ctx.cg, p_kw=p, q_kvar=q, closed=closed), np.asarray(p, np.float64)


def feeder_powerflow(
    ctx: EngineContext,
    feeder_id: str,
    scenario: str | None,
    as_imported: tuple[PowerFlowResult, FloatArray] | None = None,
) -> dict[str, Any]:
    """Voltages and loadings of ``feeder_id``. ``scenario`` None means `default_scenario`. For
    ``as_imported`` pass the cached `solve_as_imported` answer (solved here when not given)."""
    grid = ctx.grid
    fd = grid.feeders[grid.feeders["feeder_id"] == feeder_id]
    if fd.empty:
        raise NotFoundError(f"no feeder {feeder_id!r}", details={"feeder_id": feeder_id})
    name = scenario or default_scenario(ctx)
    if name == AS_IMPORTED:
        pf, p = as_imported if as_imported is not None else solve_as_imported(ctx)
        scope, n_sub = ctx, len(ctx.cg.substation_ids)
        losses = pf.losses_kw if n_sub == 1 else None  # one flow of the whole case: not split by substation
        extra: dict[str, Any] = {"losses_kw_case": pf.losses_kw, "scope": "whole imported case"}
    else:
        s = int(np.flatnonzero(ctx.cg.substation_ids == fd["substation_id"].iloc[0])[0])
        scope = local_context(ctx, {s})
        sc = resolve_scenario(name)
        name = sc.name
        p, q = scenario_loads(scope, sc.load_multiplier, sc.residential_heating_factor)
        pf = run_powerflow(scope.cg, p_kw=p, q_kvar=q)
        losses, extra = pf.losses_kw, {"scope": "substation and its tie neighbours"}
    return _report(scope, feeder_id, name, pf, p, losses, extra)


def _report(
    scope: EngineContext,
    feeder_id: str,
    scenario: str,
    pf: PowerFlowResult,
    p: FloatArray,
    losses: float | None,
    extra: dict[str, Any],
) -> dict[str, Any]:
    cg = scope.cg
    bus_f = scope.grid.buses["feeder_id"].to_numpy(object) == feeder_id
    edge_f = bus_f[cg.to_bus] | bus_f[cg.from_bus]

    def num(x: float, nd: int) -> float | None:
        return round(float(x), nd) if np.isfinite(x) else None

    return {
        "feeder_id": feeder_id,
        "scenario": scenario,
        "converged": pf.converged,
        "iterations": pf.iterations,
        "max_mismatch_mva": pf.max_mismatch_mva,
        "method": pf.method,
        "losses_kw_substation": losses,
        **extra,
        "buses": [
            {"id": str(cg.bus_ids[b]), "v_pu": num(pf.vm_pu[b], 5), "p_kw": round(float(p[b]), 2)}
            for b in np.flatnonzero(bus_f)
        ],
        "edges": [
            {
                "id": str(cg.edge_ids[e]),
                "i_a": round(float(pf.i_edge_a[e]), 3),
                "loading_pct": num(pf.loading_pct[e], 3),
                "p_from_kw": round(float(pf.p_from_kw[e]), 3),
            }
            for e in np.flatnonzero(edge_f)
        ],
    }
