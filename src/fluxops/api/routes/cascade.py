"""Cascade analysis endpoints: the seed's surface (seed-inventory §1.8–1.9), computed by the model.

Reading is for viewers; anything that runs a simulation is for operators. Long work (N-1 screening,
Monte Carlo) runs as background jobs: POST returns a job, ``GET /api/jobs/{id}`` reports progress and the
stored result's id, readable at ``GET /api/cascade/precomputed/{id}``.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, FastAPI, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from fluxops.ami.weather import WeatherParams
from fluxops.api.deps import LoadedGrid, get_loaded_grid
from fluxops.api.params import IdText, JsonInt, finite, id_path, id_query, one_of, one_of_query
from fluxops.api.security import require_role
from fluxops.cascade.config import config_from_dict, config_to_dict
from fluxops.cascade.context import EngineContext, build_context
from fluxops.cascade.explain import EXPLANATION_TYPES, explain
from fluxops.cascade.feeder_flow import AS_IMPORTED, default_scenario, feeder_powerflow, solve_as_imported
from fluxops.cascade.feeder_threephase import MODELS, feeder_powerflow_threephase
from fluxops.cascade.jobs import JobRunner
from fluxops.cascade.live_inputs import LiveState, live_load_scale
from fluxops.cascade.live_inputs import realtime_risk as realtime_risk_index
from fluxops.cascade.models import jsonable
from fluxops.cascade.montecarlo import MonteCarloConfig
from fluxops.cascade.risk import current_ambient_c
from fluxops.cascade.scenarios import PRESETS, list_scenarios, resolve_scenario
from fluxops.cascade.service import CascadeService, parse_inputs
from fluxops.cascade.topology_view import topology_slice
from fluxops.core.clock import utc_now
from fluxops.core.errors import ConflictError
from fluxops.security.roles import Principal, role_allows
from fluxops.storage import geo_layers_store
from fluxops.storage.cascade_runs import CascadeRunTableStore
from fluxops.storage.geo_generate import flood_freeboard

router = APIRouter(prefix="/api", tags=["cascade"])
VIEWER = [Depends(require_role("viewer"))]
OPERATOR = [Depends(require_role("operator"))]


def on_startup(app: FastAPI) -> None:
    runs = CascadeRunTableStore(app.state.store)
    runs.ensure_tables()
    app.state.cascade = CascadeService(runs, JobRunner(max_workers=1))


def on_shutdown(app: FastAPI) -> None:
    svc: CascadeService | None = getattr(app.state, "cascade", None)
    if svc is not None:
        svc.jobs.shutdown()


def _svc(request: Request) -> CascadeService:
    svc: CascadeService = request.app.state.cascade
    return svc


def _ctx(loaded: LoadedGrid) -> EngineContext:
    return loaded.derived("cascade_context", lambda: build_context(loaded.grid))


def _run_ctx(request: Request, loaded: LoadedGrid) -> EngineContext:
    """The context of a cascade run: `_ctx` with the stored flood zones' freeboards attached, so a
    hurricane run fails flooded sites at the start as the engine does. Cached per grid and flood-layer
    version (a re-import or regeneration of the zones is picked up on the next run)."""
    store = request.app.state.store
    meta = geo_layers_store.get_meta(store, "flood_zones")
    base = _ctx(loaded)  # outside the next `derived`: its lock is not re-entrant
    if meta is None:
        return base
    return loaded.derived(
        f"cascade_context_flood:{meta['version']}",
        lambda: dataclasses.replace(base, flood_freeboard_ft=flood_freeboard(store, loaded.grid)),
    )


SCENARIO_NAMES = (*PRESETS, "custom")
MAX_PATIENT_ZEROS = 1000
MAX_BUDGET_USD = 1e12  # a utility's whole capital plan is ~1e9-1e10 USD
Scenario = one_of(SCENARIO_NAMES)
SCENARIO_PATTERN = "^(" + "|".join(SCENARIO_NAMES) + ")$"
PatientZero = IdText | Annotated[list[IdText], Field(max_length=MAX_PATIENT_ZEROS)]


class CascadeIn(BaseModel):
    """What starts a cascade. The seed's names (``initial_failure_node``, ``scenario_name``) are accepted
    next to ours; ``overrides`` / ``config`` / ``restoration`` are checked field by field by the model
    (`fluxops.cascade.config.config_from_dict`), each error naming its field."""

    model_config = ConfigDict(extra="forbid", strict=True)  # JSON types as declared
    patient_zero: PatientZero | None = Field(None, description="Element id(s) that fail first")
    initial_failure_node: PatientZero | None = Field(None, description="The seed's name for patient_zero")
    scenario: Scenario | None = None  # type: ignore[valid-type]
    scenario_name: Scenario | None = Field(None, description="The seed's name for scenario")  # type: ignore[valid-type]
    overrides: dict[str, Any] | None = Field(None, description="ScenarioConfig fields to override")
    temperature_c: finite(ge=-50.0, le=60.0) | None = Field(None, description="Ambient temperature")  # type: ignore[valid-type]
    load_multiplier: finite(ge=0.0, le=5.0) | None = Field(None, description="× design peak load")  # type: ignore[valid-type]
    config: dict[str, Any] | None = Field(None, description="CascadeConfig fields")
    restoration: dict[str, Any] | None = Field(None, description="RestorationConfig fields")
    crews: JsonInt | None = Field(None, ge=1, le=1000, description="Repair crews (restoration.crews)")
    seed: JsonInt = Field(0, ge=0, le=2**32 - 1)
    failure_threshold: None = Field(
        None, description="Not a model input (elements fail by protection, ampacity and hot-spot limits)"
    )

    def inputs(self) -> dict[str, Any]:
        """The body as the model's input parser reads it (absent fields left out)."""
        return self.model_dump(exclude_none=True, include=set(CascadeIn.model_fields))


class SimulateIn(CascadeIn):
    save: bool = Field(False, description="Store the result (listed under /api/cascade/precomputed)")
    name: Annotated[str, Field(max_length=200)] | None = Field(None, description="Name of the stored run")


class EconomicIn(CascadeIn):
    economics: dict[str, Any] | None = Field(None, description="EconomicsConfig fields")


class MonteCarloIn(CascadeIn):
    montecarlo: dict[str, Any] | None = Field(None, description="MonteCarloConfig fields")


class CompareIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # JSON types as declared
    node_ids: Annotated[list[IdText], Field(max_length=MAX_PATIENT_ZEROS)] = Field(default_factory=list)
    hardening: dict[str, Any] | None = Field(None, description="Hardening options")


class ExplainIn(BaseModel):
    """A cascade result (as returned by simulate), or ``{"result": ..., "explanation_type": ...}``."""

    model_config = ConfigDict(extra="allow", strict=True)
    explanation_type: one_of(tuple(EXPLANATION_TYPES)) = "summary"  # type: ignore[valid-type]
    result: dict[str, Any] | None = None


# --- reading ---------------------------------------------------------------------------------------------


@router.get("/cascade/scenarios", dependencies=VIEWER)
def scenarios() -> dict[str, Any]:
    return {"scenarios": [config_to_dict(s) for s in list_scenarios()], "custom": "any preset + overrides"}


@router.get("/cascade/grid-topology", dependencies=VIEWER)
def grid_topology(
    loaded: LoadedGrid = Depends(get_loaded_grid),
    substation_id: str | None = id_query("Substation id"),
    feeder_id: str | None = id_query("Feeder id"),
    limit: int = Query(1000, ge=1, le=5000),
) -> dict[str, Any]:
    """Buses (with customers and design load) and edges (segments and devices with state and rating)."""
    return topology_slice(
        _ctx(loaded),
        loaded.grid.buses["feeder_id"].to_numpy(object),
        substation_id=substation_id,
        feeder_id=feeder_id,
        limit=limit,
    )


@router.get("/cascade/precomputed", dependencies=VIEWER)
def precomputed(
    request: Request,
    kind: str | None = Query(None, max_length=40, description="Run kind, e.g. screening, montecarlo"),
    limit: int = Query(10, ge=1, le=1000),
) -> dict[str, Any]:
    return {"runs": [jsonable(r) for r in _svc(request).list_runs(kind, limit)]}


@router.get("/cascade/precomputed/{run_id}", dependencies=VIEWER)
def precomputed_one(request: Request, run_id: str = id_path("Stored run id")) -> dict[str, Any]:
    out: dict[str, Any] = jsonable(_svc(request).get_run(run_id))
    return out


def _screening_or_job(
    request: Request, loaded: LoadedGrid, scenario: str, principal: Principal
) -> tuple[Any, dict[str, Any] | None]:
    """The latest stored N-1 screening; when there is none, operators start one (viewers are told to)."""
    svc = _svc(request)
    sc = resolve_scenario(scenario)
    stored = svc.latest("screening", loaded.info.content_hash, sc.name)
    if stored is not None:
        return stored, None
    if not role_allows(principal.role, "operator"):
        return None, {
            "status": "none",
            "message": "no N-1 screening stored for this grid and scenario; "
            "an operator can start one (POST /api/cascade/screening)",
        }
    job = svc.start_screening(_run_ctx(request, loaded), loaded.info.content_hash, sc)
    return None, {
        "status": "computing",
        "job": jsonable(job),
        "message": "no N-1 screening stored for this grid and scenario yet; one was started",
    }


USE_MODEL = Query(
    False,
    description="The seed's switch: rank by the asset-risk model's likelihood × the consequence simulated "
    "per asset (GET /api/risk/assets), instead of the N-1 screening's fixed failure rates; risk_source "
    "names the model",
)


def _model_risk(
    request: Request, loaded: LoadedGrid, scenario: str, principal: Principal
) -> tuple[dict[str, Any], list[dict[str, Any]]] | dict[str, Any]:
    """(answer head, ranked rows) from the served risk model and the simulated consequence; or what is
    missing (no model: say what to run; no consequence: operators start its job, viewers are told)."""
    risk = request.app.state.risk
    if scenario not in PRESETS:  # a custom scenario has no cached consequence: said, not refused
        return {
            "status": "none",
            "message": "the risk model's consequence is simulated for the preset scenarios: "
            + ", ".join(PRESETS),
            "risk_source": None,
        }
    try:
        source, info, rows = risk.ranked_risk(loaded.stored_hash, loaded.info.content_hash, scenario)
    except ConflictError as exc:
        pending: dict[str, Any] = {"status": "none", "message": exc.message, "risk_source": None}
        no_conseq = "POST /api/risk/consequence" in exc.message
        if no_conseq and role_allows(principal.role, "operator"):
            job = risk.start_consequence(
                _run_ctx(request, loaded),
                loaded.grid,
                loaded.stored_hash,
                loaded.info.content_hash,
                resolve_scenario(scenario),
            )
            pending.update(
                status="computing", job={"job_id": job.job_id, "state": job.state, "kind": job.kind}
            )
            pending["message"] = (
                "no simulated consequence for this grid and scenario yet; one was started "
                "(GET /api/risk/jobs/{job_id})"
            )
        return pending
    head = {
        "model_id": info["model_id"],
        "scenario": scenario,
        "likelihood_unit": "expected failures per year (served model)",
        "risk_source": source,
        "consequence": info["consequence"],
    }
    return head, rows


@router.get("/cascade/patient-zero-candidates")
def patient_zero_candidates(
    request: Request,
    principal: Principal = Depends(require_role("viewer")),
    loaded: LoadedGrid = Depends(get_loaded_grid),
    scenario: str = one_of_query(SCENARIO_NAMES, "Scenario", default="summer_peak"),
    limit: int = Query(20, ge=1, le=500),
    use_gnn_predictions: bool = USE_MODEL,
) -> dict[str, Any]:
    """Elements ranked by expected customer-minutes: N-1 simulated consequence × a fixed failure rate, or
    with ``use_gnn_predictions`` × the asset-risk model's likelihood."""
    if use_gnn_predictions:
        got = _model_risk(request, loaded, scenario, principal)
        if isinstance(got, dict):
            return got
        return {**got[0], "candidates": got[1][:limit]}
    stored, pending = _screening_or_job(request, loaded, scenario, principal)
    if pending is not None:
        return pending
    res = stored.result
    return {
        "run_id": stored.run_id,
        "scenario": res["scenario"],
        "likelihood_unit": res["likelihood_unit"],
        "candidates": res["candidates"][:limit],
        "risk_source": "n-1 screening (simulated)",
    }


@router.get("/cascade/high-risk-nodes")
def high_risk_nodes(
    request: Request,
    principal: Principal = Depends(require_role("viewer")),
    loaded: LoadedGrid = Depends(get_loaded_grid),
    scenario: str = one_of_query(SCENARIO_NAMES, "Scenario", default="summer_peak"),
    limit: int = Query(100, ge=1, le=5000),
    min_customers: int = Query(0, ge=0),
    use_gnn_predictions: bool = USE_MODEL,
) -> dict[str, Any]:
    if use_gnn_predictions:
        got = _model_risk(request, loaded, scenario, principal)
        if isinstance(got, dict):
            return got
        rows = [c for c in got[1] if (c["customers_out"] or 0) >= min_customers][:limit]
        return {**got[0], "nodes": rows}
    stored, pending = _screening_or_job(request, loaded, scenario, principal)
    if pending is not None:
        return pending
    rows = [c for c in stored.result["candidates"] if c["customers_out"] >= min_customers][:limit]
    return {"run_id": stored.run_id, "nodes": rows, "risk_source": "n-1 screening (simulated)"}


@router.get("/jobs/{job_id}", dependencies=VIEWER)
def job(request: Request, job_id: str = id_path("Job id")) -> dict[str, Any]:
    out: dict[str, Any] = jsonable(_svc(request).jobs.get(job_id))
    return out


@router.post("/cascade/explain", dependencies=VIEWER)
def explain_result(body: ExplainIn) -> dict[str, Any]:
    """Body: a cascade result (as returned by simulate), optionally wrapped as ``{"result": ...,
    "explanation_type": ...}``."""
    kind = body.explanation_type
    result = body.result if body.result is not None else body.model_extra or {}
    return {
        "explanation_type": kind,
        "text": explain(result, kind),
        "source": "templates over the result data",
    }


# --- running the model ----------------------------------------------------------------------------------


@router.post("/cascade/simulate", dependencies=OPERATOR)
def simulate(
    request: Request, body: SimulateIn, loaded: LoadedGrid = Depends(get_loaded_grid)
) -> dict[str, Any]:
    inp = parse_inputs(body.inputs())
    return _svc(request).simulate(
        _run_ctx(request, loaded), loaded.info.content_hash, inp, save=body.save, name=body.name
    )


def _live_state(request: Request) -> LiveState | None:
    """The operations state's columns (fed by AMI and the OMS), when the server runs one."""
    rt = getattr(request.app.state, "ops", None)
    try:
        state = getattr(rt.service() if rt is not None else None, "state", None)
    except Exception:  # no live state: callers fall back to the generated peak loads
        state = None
    if state is None:
        return None
    return LiveState.from_columns(state.asset_id, state.loading_pct, state.status)


@router.post("/cascade/simulate-realtime", dependencies=OPERATOR)
def simulate_realtime(
    request: Request,
    loaded: LoadedGrid = Depends(get_loaded_grid),
    patient_zero_id: str = id_query("Element that fails first", required=True),
    scenario_name: str = one_of_query(SCENARIO_NAMES, "Scenario", default="normal"),
    seed: int = Query(0, ge=0, le=2**32 - 1),
) -> dict[str, Any]:
    """A cascade from the live state: measured transformer loading (AMI) when present, else design peak
    × the scenario multiplier; ``load_source`` says which."""
    ctx = _run_ctx(request, loaded)
    sc = resolve_scenario(scenario_name)
    inp = parse_inputs({"patient_zero": [patient_zero_id], "scenario": sc.name, "seed": seed})
    live = live_load_scale(ctx, _live_state(request))
    scale, source, coverage = live.scale, live.source, live.coverage
    if scale is not None:
        # measured load replaces design peak × multiplier
        inp = dataclasses.replace(
            inp, scenario=dataclasses.replace(sc, load_multiplier=1.0, residential_heating_factor=1.0)
        )
    out = _svc(request).simulate(ctx, loaded.info.content_hash, inp, bus_load_scale=scale, load_source=source)
    out["live_coverage"] = round(coverage, 4)
    return out


@router.post("/cascade/economic-impact", dependencies=OPERATOR)
def economic(
    request: Request, body: EconomicIn, loaded: LoadedGrid = Depends(get_loaded_grid)
) -> dict[str, Any]:
    return _svc(request).economic_impact(
        _run_ctx(request, loaded), parse_inputs(body.inputs()), body.economics
    )


@router.post("/cascade/mitigation-actions", dependencies=OPERATOR)
def mitigation(
    request: Request, body: CascadeIn, loaded: LoadedGrid = Depends(get_loaded_grid)
) -> dict[str, Any]:
    return _svc(request).mitigation_actions(_run_ctx(request, loaded), parse_inputs(body.inputs()))


@router.post("/cascade/restoration-sequence", dependencies=OPERATOR)
def restoration(
    request: Request, body: CascadeIn, loaded: LoadedGrid = Depends(get_loaded_grid)
) -> dict[str, Any]:
    return _svc(request).restoration_sequence(_run_ctx(request, loaded), parse_inputs(body.inputs()))


@router.post("/cascade/compare-mitigations", dependencies=OPERATOR)
def compare_mitigations(
    request: Request,
    loaded: LoadedGrid = Depends(get_loaded_grid),
    investment_budget: float = Query(
        1_000_000.0, ge=0, le=MAX_BUDGET_USD, allow_inf_nan=False, description="USD"
    ),
    scenario: str = one_of_query(SCENARIO_NAMES, "Scenario", default="summer_peak"),
    body: CompareIn | Annotated[list[IdText], Field(max_length=MAX_PATIENT_ZEROS)] | None = Body(None),
) -> dict[str, Any]:
    """Body: a list of element ids (the seed's shape) or ``{"node_ids": [...], "hardening": {...}}``."""
    hardening = None
    if body is None:
        ids: list[str] = []
    elif isinstance(body, list):
        ids = body
    else:
        ids, hardening = body.node_ids, body.hardening
    return _svc(request).compare_mitigations(
        _run_ctx(request, loaded),
        loaded.info.content_hash,
        ids,
        investment_budget,
        resolve_scenario(scenario),
        hardening,
    )


@router.post("/cascade/montecarlo", dependencies=OPERATOR, status_code=202)
def montecarlo(
    request: Request, body: MonteCarloIn, loaded: LoadedGrid = Depends(get_loaded_grid)
) -> dict[str, Any]:
    mc = config_from_dict(MonteCarloConfig, body.montecarlo, prefix="montecarlo").validate()
    job = _svc(request).start_monte_carlo(
        _run_ctx(request, loaded), loaded.info.content_hash, parse_inputs(body.inputs()), mc
    )
    return {"job": jsonable(job), "poll": f"/api/jobs/{job.job_id}"}


@router.post("/cascade/screening", dependencies=OPERATOR, status_code=202)
def screening(
    request: Request,
    loaded: LoadedGrid = Depends(get_loaded_grid),
    scenario: str = one_of_query(SCENARIO_NAMES, "Scenario", default="summer_peak"),
) -> dict[str, Any]:
    job = _svc(request).start_screening(
        _run_ctx(request, loaded), loaded.info.content_hash, resolve_scenario(scenario)
    )
    return {"job": jsonable(job), "poll": f"/api/jobs/{job.job_id}"}


@router.get("/cascade/realtime-risk", dependencies=VIEWER)
def realtime_risk(
    request: Request,
    loaded: LoadedGrid = Depends(get_loaded_grid),
    scenario: str | None = Query(
        None,
        pattern=SCENARIO_PATTERN,
        description="a what-if scenario (its loads and ambient); default: live, weather-model ambient",
    ),
) -> dict[str, Any]:
    """Risk index from the live state (AMI loading, outages) or, without it, the scenario's flows. The
    thermal term's ambient is the weather model's temperature now, unless a scenario is asked for."""
    sc = resolve_scenario(scenario or "normal")
    if scenario is None:
        ami = getattr(request.app.state, "ami", None)
        params = getattr(getattr(ami, "analytics", None), "params", None)
        weather = getattr(params, "weather", None) or WeatherParams()
        ambient_c, ambient_source = current_ambient_c(utc_now(), weather), "weather_model"
    else:
        ambient_c, ambient_source = sc.ambient_temp_c, "scenario"
    return realtime_risk_index(
        _ctx(loaded), sc, ambient_c=ambient_c, ambient_source=ambient_source, live=_live_state(request)
    )


@router.get("/powerflow/{feeder_id}", dependencies=VIEWER)
def powerflow(
    loaded: LoadedGrid = Depends(get_loaded_grid),
    feeder_id: str = id_path("Feeder id"),
    scenario: str | None = one_of_query(
        (*SCENARIO_NAMES, AS_IMPORTED),
        "Scenario (default: as_imported on an imported grid — the source case — else normal)",
    ),
    model: str = one_of_query(
        MODELS, "Power-flow model (three_phase: per-phase voltages, VUF and currents)", default="balanced"
    ),
) -> dict[str, Any]:
    """Power flow of the feeder: voltages and loadings. An imported grid's default is its source case,
    solved whole once per grid; a scenario solves the feeder's substation with scenario loads.
    ``model=three_phase``: the unbalanced solver — an OpenDSS import's own circuit (its source case by
    default), else the feeder's source island converted from the tables (scenarios only)."""
    ctx = _ctx(loaded)
    name = scenario or default_scenario(ctx)
    if model == "three_phase":
        three: dict[str, Any] = jsonable(feeder_powerflow_threephase(ctx, feeder_id, name))
        return three
    case = loaded.derived("as_imported_flow", lambda: solve_as_imported(ctx)) if name == AS_IMPORTED else None
    out: dict[str, Any] = jsonable(feeder_powerflow(ctx, feeder_id, name, case))
    return out
