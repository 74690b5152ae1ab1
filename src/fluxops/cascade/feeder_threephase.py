"""Three-phase unbalanced power flow of one feeder, as the API reports it (``model=three_phase``).

Why beside the balanced answer: a North American feeder's single-phase laterals load A, B and C
unequally, so the phase voltages differ — the lowest phase is what a customer on it sees, and the
voltage unbalance factor (VUF, ANSI C84.1 recommends ≤ 3 %) is what three-phase motors feel. The
feeder's substation island (its source and everything energized from it) is converted by
`fluxops.network.threephase.from_grid` and solved by the three-phase solver; the balanced sweep runs on
the same loads for comparison (with balanced phases the two agree to solver precision).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fluxops.cascade.context import EngineContext, local_context, scenario_loads
from fluxops.cascade.feeder_threephase_dss import AS_IMPORTED, feeder_powerflow_dss, has_dss_model
from fluxops.cascade.scenarios import resolve_scenario
from fluxops.core.errors import InvalidInputError, NotFoundError
from fluxops.network.energization import energize
from fluxops.network.powerflow import run_powerflow
from fluxops.network.threephase.from_grid import (
    Z0_OVER_Z1,
    GridThreePhase,
    build_threephase,
    bus_phase_share,
    bus_phase_voltages,
    edge_phases,
    node_positions,
    vuf_pct,
)
from fluxops.network.threephase.solver import ThreePhaseResult, solve_compiled
from fluxops.network.threephase.ybus import compile_threephase

MODELS = ("balanced", "three_phase")
VUF_LIMIT_PCT = 3.0  # ANSI C84.1 Annex D: systems designed to keep voltage unbalance under 3 %
_PH = ("A", "B", "C")


def _per_phase(values: Any, digits: int) -> dict[str, float | None]:
    return {
        ph: (round(float(v), digits) if np.isfinite(v) else None) for ph, v in zip(_PH, values, strict=True)
    }


def feeder_powerflow_threephase(ctx: EngineContext, feeder_id: str, scenario: str) -> dict[str, Any]:
    """Per-phase voltages, VUF and per-phase currents of ``feeder_id`` under ``scenario`` loads.

    An imported OpenDSS grid solves the file's own three-phase model (`feeder_threephase_dss`), its
    ``as_imported`` case included; any other grid's three-phase model is built from its tables, for a
    scenario only (there is no per-phase source case to reproduce)."""
    if has_dss_model(ctx):
        return feeder_powerflow_dss(ctx, feeder_id, scenario)
    if scenario == AS_IMPORTED:
        raise InvalidInputError(
            "model=three_phase runs a scenario (normal, summer_peak, ...), not the imported source case "
            "(only an OpenDSS import carries its own three-phase case)",
            field="scenario",
        )
    grid = ctx.grid
    fd = grid.feeders[grid.feeders["feeder_id"] == feeder_id]
    if fd.empty:
        raise NotFoundError(f"no feeder {feeder_id!r}", details={"feeder_id": feeder_id})
    s = int(np.flatnonzero(ctx.cg.substation_ids == fd["substation_id"].iloc[0])[0])
    scope = local_context(ctx, {s})
    sc = resolve_scenario(scenario)
    cg = scope.cg
    p, q = scenario_loads(scope, sc.load_multiplier, sc.residential_heating_factor)
    en = energize(cg)
    head = cg.bus_index.get(str(fd["head_bus_id"].iloc[0]), -1)
    src = int(en.bus_source[head]) if head >= 0 else -1
    if src < 0:
        raise InvalidInputError(
            f"feeder {feeder_id} is de-energized: no power flow to run", field="feeder_id"
        )
    share = bus_phase_share(cg, scope.grid)
    g3 = build_threephase(cg, en, src, edge_phases(scope.grid, cg), p[:, None] * share, q[:, None] * share)
    compiled = compile_threephase(g3.model)
    res = solve_compiled(compiled, tol_pu=1e-9)
    pos = node_positions(g3, compiled.index)
    v = bus_phase_voltages(pos, res.v_pu)
    vm = np.abs(v)
    vuf = np.where(g3.bus_phases.all(axis=1), vuf_pct(v), np.nan)
    bal = run_powerflow(cg, p_kw=p, q_kvar=q)

    bus_f = scope.grid.buses.set_index("bus_id")["feeder_id"].reindex(cg.bus_ids.astype(object)) == feeder_id
    rows = np.flatnonzero(bus_f.to_numpy() & (g3.bus_rep >= 0))
    kw = p[:, None] * share
    phase_kw = kw[rows].sum(axis=0)
    mean_kw = float(phase_kw.mean())
    buses = [
        {
            "id": str(cg.bus_ids[b]),
            "phases": "".join(ph for ph, on in zip(_PH, g3.bus_phases[b], strict=True) if on),
            "v_pu": _per_phase(vm[b], 5),
            "v_pu_balanced": round(float(bal.vm_pu[b]), 5),
            "vuf_pct": round(float(vuf[b]), 3) if np.isfinite(vuf[b]) else None,
        }
        for b in rows.tolist()
    ]
    edges = _edge_currents(scope, g3, res, feeder_id)
    worst = int(np.nanargmax(np.where(np.isfinite(vuf[rows]), vuf[rows], -1.0))) if len(rows) else -1
    return {
        "feeder_id": feeder_id,
        "scenario": sc.name,
        "model": "three_phase",
        "converged": bool(res.converged),
        "iterations": int(res.iterations),
        "max_mismatch_pu": float(res.max_mismatch_pu),
        "summary": {
            "v_min_pu": _per_phase(np.nanmin(np.where(np.isfinite(vm[rows]), vm[rows], np.inf), axis=0), 5),
            "v_min_pu_balanced": round(float(np.nanmin(bal.vm_pu[rows])), 5) if len(rows) else None,
            "vuf_max_pct": round(float(vuf[rows][worst]), 3)
            if worst >= 0 and np.isfinite(vuf[rows][worst])
            else None,
            "vuf_max_bus_id": str(cg.bus_ids[rows[worst]]) if worst >= 0 else None,
            "vuf_limit_pct": VUF_LIMIT_PCT,
            "buses_over_vuf_limit": int(np.sum(vuf[rows] > VUF_LIMIT_PCT)),
            "phase_load_kw": _per_phase(phase_kw, 1),
            "phase_load_unbalance_pct": round((float(phase_kw.max()) - mean_kw) / mean_kw * 100.0, 2)
            if mean_kw > 0
            else None,
        },
        "buses": buses,
        "edges": edges,
        "notes": [
            f"line impedance per phase from the positive sequence with Z0 = {Z0_OVER_Z1:g}·Z1 (IEEE 13 "
            "configuration 601); devices merged (no impedance); each bus's load split over the phases "
            "of its transformers, constant power; scope: the feeder's source island",
            *(
                [f"{g3.moved_load_kw:.1f} kW sat on phases their bus lacks; spread over the phases present"]
                if g3.moved_load_kw > 0
                else []
            ),
        ],
    }


def _edge_currents(
    scope: EngineContext, g3: GridThreePhase, res: ThreePhaseResult, feeder_id: str
) -> list[dict[str, Any]]:
    """Per-phase current (A) into each of the feeder's line segments and its loading on the worst phase."""
    cg = scope.cg
    seg = scope.grid.line_segments
    mine = set(seg.loc[seg["feeder_id"] == feeder_id, "segment_id"].astype(str))
    out = []
    edge_pos = {str(x): i for i, x in enumerate(cg.edge_ids.tolist())}
    for line in g3.model.lines:
        if line.name not in mine:
            continue
        i = np.abs(res.branch_current(f"Line.{line.name}"))[: len(line.nodes1)]
        per = np.full(3, np.nan)
        per[np.asarray(line.nodes1) - 1] = i
        amp = float(cg.ampacity_a[edge_pos[line.name]])
        out.append(
            {
                "id": line.name,
                "phases": "".join(_PH[k - 1] for k in line.nodes1),
                "i_a": _per_phase(per, 3),
                "loading_pct": round(float(np.nanmax(per)) / amp * 100.0, 3) if amp > 0 else None,
            }
        )
    return out
