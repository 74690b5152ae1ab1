"""``model=three_phase`` on an imported OpenDSS feeder: the file's own three-phase circuit, solved.

Why not the generic conversion (`from_grid`, Z0 = 3.2·Z1 and loads split by transformer phases): an
OpenDSS file already says everything a three-phase solve needs — line-code 3×3 matrices, single-phase
regulators with band and line-drop compensation, transformer connections, capacitors, wye and delta
loads on their own phases. The importer kept that model (``grid.meta.params['dss_threephase']``, with
its sha256); here it is checked against its hash, solved with the regulator controllers running (taps
start where the file puts them, neutral when it says nothing, as OpenDSS does), and reported in the
same shape as the generated-grid answer. ``as_imported`` solves the file's loads; any other scenario
scales every load by the scenario's load multiplier (the file's case taken as 1.0).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from fluxops.cascade.context import EngineContext
from fluxops.cascade.scenarios import resolve_scenario
from fluxops.core.errors import InvalidInputError, NotFoundError
from fluxops.network.threephase.from_grid import vuf_pct
from fluxops.network.threephase.model import FeederModel
from fluxops.network.threephase.regulators import solve_with_regulators
from fluxops.network.threephase.serialize import model_from_dict, model_hash

VUF_LIMIT_PCT = 3.0  # ANSI C84.1 Annex D
AS_IMPORTED = "as_imported"
_PH = ("A", "B", "C")


def has_dss_model(ctx: EngineContext) -> bool:
    return isinstance(ctx.grid.meta.params.get("dss_threephase"), dict)


def stored_model(ctx: EngineContext) -> tuple[FeederModel, str]:
    """The imported file's model and its sha256, refused if the stored document no longer matches."""
    params = ctx.grid.meta.params
    doc = params["dss_threephase"]
    digest = model_hash(doc)
    if digest != params.get("dss_threephase_sha256"):
        raise InvalidInputError(
            "the grid's stored three-phase model does not match its sha256; re-import the file",
            field="model",
        )
    return model_from_dict(doc), digest


def _per_phase(values: Any, digits: int) -> dict[str, float | None]:
    return {
        ph: (round(float(v), digits) if np.isfinite(v) else None) for ph, v in zip(_PH, values, strict=True)
    }


def _scaled(model: FeederModel, mult: float) -> FeederModel:
    loads = tuple(replace(ld, kw=ld.kw * mult, kvar=ld.kvar * mult) for ld in model.loads)
    return replace(model, loads=loads)


def feeder_powerflow_dss(ctx: EngineContext, feeder_id: str, scenario: str) -> dict[str, Any]:
    """Per-phase voltages, VUF and per-phase line currents of an imported OpenDSS feeder."""
    grid = ctx.grid
    if not (grid.feeders["feeder_id"] == feeder_id).any():
        raise NotFoundError(f"no feeder {feeder_id!r}", details={"feeder_id": feeder_id})
    model, digest = stored_model(ctx)
    mult = 1.0 if scenario == AS_IMPORTED else resolve_scenario(scenario).load_multiplier
    out = solve_with_regulators(_scaled(model, mult) if mult != 1.0 else model)
    res = out.result
    c = res.compiled
    vpu = res.v_pu
    gb = grid.buses
    grid_bus_ids = set(gb["bus_id"].astype(str))
    has_f = gb["feeder_id"].notna()
    # buses of another feeder are left out; substation-side buses (no feeder) and the file's buses the
    # import folded away (source bus, service transformer secondaries) stay in
    bus_feeder = dict(
        zip(gb.loc[has_f, "bus_id"].astype(str), gb.loc[has_f, "feeder_id"].astype(str), strict=True)
    )
    names = sorted({n.split(".")[0] for n in c.node_names})
    v = np.full((len(names), 3), np.nan + 0j, dtype=np.complex128)
    row = {b: i for i, b in enumerate(names)}
    for pos, n in enumerate(c.node_names):
        bus, _, node = n.partition(".")
        if node in ("1", "2", "3"):
            v[row[bus], int(node) - 1] = vpu[pos]
    ids = [f"BUS-{b.upper()}" for b in names]
    keep = [i for i, gid in enumerate(ids) if bus_feeder.get(gid, feeder_id) == feeder_id]
    vm = np.abs(v)
    vuf = vuf_pct(v)
    buses = [
        {
            "id": ids[i] if ids[i] in grid_bus_ids else None,
            "dss_bus": names[i],
            "phases": "".join(ph for k, ph in enumerate(_PH) if np.isfinite(vm[i, k])),
            "v_pu": _per_phase(vm[i], 6),
            "v_pu_balanced": None,
            "vuf_pct": round(float(vuf[i]), 3) if np.isfinite(vuf[i]) else None,
        }
        for i in keep
    ]
    kv = vuf[keep]
    worst = int(np.argmax(np.where(np.isfinite(kv), kv, -1.0))) if keep else -1
    phase_kw = np.zeros(3)
    for ld in model.loads:
        ph = [k for k in ld.nodes[: ld.phases + (ld.conn == "delta" and ld.phases < 3)] if 1 <= k <= 3]
        phase_kw[np.asarray(ph) - 1] += ld.kw * mult / max(len(ph), 1)
    mean_kw = float(phase_kw.mean())
    return {
        "feeder_id": feeder_id,
        "scenario": scenario,
        "model": "three_phase",
        "model_source": "opendss_file",
        "model_sha256": digest,
        "converged": bool(res.converged and out.converged),
        "iterations": int(res.iterations),
        "max_mismatch_pu": float(res.max_mismatch_pu),
        "regulator_taps": {t: round((tap - 1.0) / 0.00625) for t, tap in sorted(out.taps.items())},
        "summary": {
            "v_min_pu": _per_phase(np.nanmin(np.where(np.isfinite(vm[keep]), vm[keep], np.inf), axis=0), 6),
            "v_min_pu_balanced": None,
            "vuf_max_pct": round(float(kv[worst]), 3) if worst >= 0 and np.isfinite(kv[worst]) else None,
            "vuf_max_bus_id": names[keep[worst]] if worst >= 0 else None,
            "vuf_limit_pct": VUF_LIMIT_PCT,
            "buses_over_vuf_limit": int(np.sum(kv > VUF_LIMIT_PCT)),
            "phase_load_kw": _per_phase(phase_kw, 1),
            "phase_load_unbalance_pct": round((float(phase_kw.max()) - mean_kw) / mean_kw * 100.0, 2)
            if mean_kw > 0
            else None,
        },
        "buses": buses,
        "edges": _edges(ctx, model, res),
        "notes": [
            "the imported file's own three-phase model: line-code matrices, transformers and single-phase "
            "regulators with their controls (taps solved), capacitors, wye/delta loads on their phases",
            *([f"every load × {mult:g} (scenario {scenario})"] if mult != 1.0 else []),
            "delta loads' kW split equally over the phases they connect (phase_load_kw)",
        ],
    }


def _edges(ctx: EngineContext, model: FeederModel, res: Any) -> list[dict[str, Any]]:
    cg = ctx.cg
    amp = dict(zip((str(x) for x in cg.edge_ids.tolist()), cg.ampacity_a.tolist(), strict=True))
    out = []
    for line in model.lines:
        i = np.abs(res.branch_current(f"Line.{line.name}"))[: len(line.nodes1)]
        per = np.full(3, np.nan)
        ph = np.asarray(line.nodes1)
        ok = (ph >= 1) & (ph <= 3)
        per[ph[ok] - 1] = i[ok]
        a = amp.get(f"SEG-{line.name.upper()}")
        out.append(
            {
                "id": f"SEG-{line.name.upper()}" if a is not None else None,
                "dss_line": line.name,
                "phases": "".join(_PH[k - 1] for k in ph[ok].tolist()),
                "i_a": _per_phase(per, 3),
                "loading_pct": round(float(np.nanmax(per)) / a * 100.0, 3)
                if a is not None and a > 0 and np.isfinite(a)
                else None,
            }
        )
    return out
