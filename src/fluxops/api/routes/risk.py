"""Asset risk: the served likelihood model's scores, one asset's drivers, the model cards, and (admin)
history generation and training as background jobs (`fluxops.risk.service`).

The hidden truth of the generated history is never served; the failure records are (they are what an
OMS would hold). A grid without history answers 409 with what to do; so does a grid without a model.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from fluxops.api.deps import LoadedGrid, get_loaded_grid
from fluxops.api.openapi import error_responses
from fluxops.api.params import BoundedDate, JsonInt, id_path, id_query, offset_query, one_of_query
from fluxops.api.routes._risk_models import AssetsPage, ConsequenceIn, RollupPage
from fluxops.api.security import require_role
from fluxops.cascade.context import EngineContext, build_context
from fluxops.cascade.jobs import Job, JobRunner
from fluxops.cascade.scenarios import PRESETS, resolve_scenario
from fluxops.core.errors import ConflictError
from fluxops.risk.assets import RISK_ASSET_TYPES
from fluxops.risk.consequence import risk_rollup
from fluxops.risk.models import TrainConfig
from fluxops.risk.replacement import NEW_UNIT_FAILURES_PER_Y, replace_first, replacement_cost_usd
from fluxops.risk.service import RiskService
from fluxops.storage.risk_files import RiskFileStore

router = APIRouter(prefix="/api/risk", tags=["risk"])
VIEWER = [Depends(require_role("viewer"))]
ADMIN = [Depends(require_role("admin"))]
SORTS = (
    "-probability",
    "probability",
    "-customers_affected",
    "-past_failures",
    "asset_id",
    "-risk_customer_minutes_per_y",
    "-risk_usd_per_y",
    "-customer_minutes",
)
MAX_PAGE = 1000
SCENARIOS = tuple(PRESETS)
DEFAULT_SCENARIO = "summer_peak"  # as the cascade screening's patient-zero candidates
OPERATOR = [Depends(require_role("operator"))]


def on_startup(app: FastAPI) -> None:
    app.state.risk = RiskService(RiskFileStore(app.state.settings.data_dir), JobRunner(max_workers=1))


def on_shutdown(app: FastAPI) -> None:
    svc: RiskService | None = getattr(app.state, "risk", None)
    if svc is not None:
        svc.jobs.shutdown()


def _svc(request: Request) -> RiskService:
    svc: RiskService = request.app.state.risk
    return svc


def _job(job: Job) -> dict[str, Any]:
    return {
        "job_id": job.job_id,
        "kind": job.kind,
        "state": job.state,
        "progress": job.progress,
        "message": job.message,
        "created_utc": job.created_utc.isoformat(),
        "finished_utc": job.finished_utc.isoformat() if job.finished_utc else None,
        "result_id": job.result_id,
        "error": job.error,
    }


class HistoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    years: JsonInt = Field(5, ge=4, le=30, description="Years of history (4 or more: training needs them)")
    seed: JsonInt = Field(0, ge=0, le=2**32 - 1)
    end_date: BoundedDate | None = Field(None, description="History ends before this UTC day (default today)")  # type: ignore[valid-type]


class TrainIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    seed: JsonInt = Field(0, ge=0, le=2**32 - 1)
    test_share: float = Field(0.25, ge=0.05, le=0.5, allow_inf_nan=False, description="Substations held out")
    bootstrap: JsonInt = Field(200, ge=0, le=1000, description="Bootstrap replicates for the 95 % intervals")
    lgbm_rounds: JsonInt = Field(300, ge=10, le=2000)
    gnn: bool = Field(False, description="Also evaluate the GraphSAGE model (needs torch; 501 without it)")
    gnn_epochs: JsonInt = Field(60, ge=1, le=500)


def _scenario_query() -> Any:
    return one_of_query(SCENARIOS, "Scenario of the simulated consequence", default=DEFAULT_SCENARIO)


@router.get("/assets", dependencies=VIEWER, responses=error_responses(409), response_model=AssetsPage)
def assets(
    request: Request,
    loaded: LoadedGrid = Depends(get_loaded_grid),
    asset_type: str | None = one_of_query(RISK_ASSET_TYPES, "Asset type"),
    feeder_id: str | None = id_query("Feeder id"),
    substation_id: str | None = id_query("Substation id"),
    sort: str = one_of_query(SORTS, "Order", default="-probability"),
    scenario: str = _scenario_query(),
    limit: int = Query(100, ge=1, le=MAX_PAGE, description=f"Page size, at most {MAX_PAGE}"),
    offset: int = offset_query(),
) -> dict[str, Any]:
    """Assets with their probability of failing in the next 12 months (served model), their simulated
    consequence under ``scenario`` and risk = likelihood × consequence (null until an operator has run
    POST /api/risk/consequence for this grid configuration and scenario), filtered and paged."""
    filters = {"asset_type": asset_type, "feeder_id": feeder_id, "substation_id": substation_id}
    model_id, total, page, meta = _svc(request).page(
        loaded.stored_hash,
        loaded.info.content_hash,
        scenario,
        filters=filters,
        sort=sort,
        offset=offset,
        limit=limit,
    )
    rows = page.replace({np.nan: None}).to_dict("records")
    return {
        "model_id": model_id,
        "total": total,
        "offset": offset,
        "limit": limit,
        "horizon": "12 months after the history",
        "consequence": meta,
        "assets": rows,
    }


@router.get("/assets/{asset_id}", dependencies=VIEWER, responses=error_responses(409))
def asset(
    request: Request,
    asset_id: str = id_path("Asset id"),
    scenario: str = _scenario_query(),
    loaded: LoadedGrid = Depends(get_loaded_grid),
) -> dict[str, Any]:
    """One asset: probability, rank, top drivers (LightGBM contributions, log-odds), past failures, and
    (fields added to ``asset``, as in the list) its simulated consequence and risk under ``scenario``."""
    svc = _svc(request)
    out = svc.asset(loaded.stored_hash, asset_id)
    _, s, meta = svc.scored(loaded.stored_hash, loaded.info.content_hash, scenario)
    row = s[s["asset_id"] == asset_id].replace({np.nan: None}).to_dict("records")
    if row:
        out["asset"] = {**out["asset"], **{k: v for k, v in row[0].items() if k not in out["asset"]}}
    out["consequence"] = meta
    return out


@router.get("/rollup", dependencies=VIEWER, responses=error_responses(409), response_model=RollupPage)
def rollup(
    request: Request,
    loaded: LoadedGrid = Depends(get_loaded_grid),
    level: str = one_of_query(("feeder", "substation"), "Level", default="feeder"),
    scenario: str = _scenario_query(),
    limit: int = Query(100, ge=1, le=MAX_PAGE, description=f"Page size, at most {MAX_PAGE}"),
    offset: int = offset_query(),
) -> dict[str, Any]:
    """Expected failures, customers interrupted, customer-minutes and ICE $ a year, summed over the
    assets of each feeder or substation, highest expected customer-minutes first."""
    model_id, s, meta = _svc(request).scored(loaded.stored_hash, loaded.info.content_hash, scenario)
    r = risk_rollup(s, level).sort_values(
        ["risk_customer_minutes_per_y", "id"], ascending=[False, True], na_position="last"
    )
    return {
        "model_id": model_id,
        "level": level,
        "total": len(r),
        "offset": offset,
        "limit": limit,
        "consequence": meta,
        "rows": r.iloc[offset : offset + limit].replace({np.nan: None}).to_dict("records"),
    }


@router.get("/transformers/replace-first", dependencies=VIEWER, responses=error_responses(409))
def replace_first_route(
    request: Request,
    loaded: LoadedGrid = Depends(get_loaded_grid),
    budget_usd: float = Query(1_000_000.0, ge=0, le=1e12, description="Replacement budget, $"),
    scenario: str = _scenario_query(),
) -> dict[str, Any]:
    """Distribution transformers to replace first within the budget, by expected avoided customer-minutes
    a year (served model's likelihood above a new unit's × simulated customer-minutes; `risk.replacement`).
    409 until the consequence under ``scenario`` has been simulated."""
    model_id, s, meta = _svc(request).scored(loaded.stored_hash, loaded.info.content_hash, scenario)
    if meta["status"] != "computed":
        raise ConflictError(meta["message"], details={"scenario": scenario})
    unit = replacement_cost_usd()
    pick = replace_first(s, budget_usd, unit)
    return {
        "model_id": model_id,
        "scenario": scenario,
        "budget_usd": budget_usd,
        "unit_cost_usd": unit,
        "new_unit_failures_per_y": NEW_UNIT_FAILURES_PER_Y,
        "likelihood": "transformer model (the card's transformer_card)"
        if "transformer_probability" in s.columns
        else "served general model",
        "count": len(pick),
        "cost_usd": float(pick["cost_usd"].sum()) if len(pick) else 0.0,
        "avoided_customer_minutes_per_y": float(pick["avoided_customer_minutes_per_y"].sum())
        if len(pick)
        else 0.0,
        "transformers": pick.replace({np.nan: None}).to_dict("records"),
    }


def _ctx(loaded: LoadedGrid) -> EngineContext:
    return loaded.derived("cascade_context", lambda: build_context(loaded.grid))


@router.post("/consequence", dependencies=OPERATOR, status_code=202, responses=error_responses(409))
def consequence(
    request: Request, body: ConsequenceIn | None = None, loaded: LoadedGrid = Depends(get_loaded_grid)
) -> dict[str, Any]:
    """Simulate every asset's consequence under the scenario (a background job, followed at
    GET /api/risk/jobs/{id}; a second request for the same configuration and scenario joins it)."""
    b = body or ConsequenceIn.model_validate({})
    sc = resolve_scenario(b.scenario)
    job = _svc(request).start_consequence(
        _ctx(loaded), loaded.grid, loaded.stored_hash, loaded.info.content_hash, sc, force=b.force
    )
    return {"job": _job(job)}


@router.get("/models", dependencies=VIEWER)
def models(request: Request, loaded: LoadedGrid = Depends(get_loaded_grid)) -> dict[str, Any]:
    """The model cards of this grid (newest first), which one serves, and the history's summary."""
    svc = _svc(request)
    h = loaded.stored_hash
    return {
        "current": svc.store.current_model_id(h),
        "history": svc.store.history_meta(h),
        "models": svc.store.list_models(h),
    }


@router.post("/history", dependencies=ADMIN, status_code=202, responses=error_responses(409))
def history(
    request: Request, body: HistoryIn | None = None, loaded: LoadedGrid = Depends(get_loaded_grid)
) -> dict[str, Any]:
    """Generate (replace) the grid's failure history from the hazard process, as a background job."""
    b = body or HistoryIn.model_validate({})
    end = datetime(b.end_date.year, b.end_date.month, b.end_date.day, tzinfo=UTC) if b.end_date else None
    job = _svc(request).start_history(
        loaded.grid, loaded.stored_hash, years=b.years, seed=b.seed, end_utc=end
    )
    return {"job": _job(job)}


@router.post("/train", dependencies=ADMIN, status_code=202, responses=error_responses(409, 501))
def train(
    request: Request, body: TrainIn | None = None, loaded: LoadedGrid = Depends(get_loaded_grid)
) -> dict[str, Any]:
    """Evaluate the models on the held-out split, choose by validation, serve the winner (a background
    job; a second request while one runs joins it). A failed job leaves the previous model serving."""
    b = body or TrainIn.model_validate({})
    if b.gnn:
        from fluxops.risk.gnn import require_torch

        require_torch()  # 501 now, not a failed job later
    cfg = TrainConfig(
        test_share=b.test_share,
        seed=b.seed,
        bootstrap=b.bootstrap,
        lgbm_rounds=b.lgbm_rounds,
        gnn=b.gnn,
        gnn_epochs=b.gnn_epochs,
    )
    return {"job": _job(_svc(request).start_training(loaded.stored_hash, cfg))}


@router.get("/jobs/{job_id}", dependencies=VIEWER)
def job(request: Request, job_id: str = id_path("Job id")) -> dict[str, Any]:
    return _job(_svc(request).jobs.get(job_id))
