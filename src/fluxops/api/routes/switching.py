"""Switching and what-if: operate devices, switching orders, and studies on a proposed configuration.

Routes parse, authorize and delegate: the use cases are `fluxops.ops.switching_service`, the checks
`fluxops.ops.switching_validation`, the studies the same power flow, N-1 and cascade engine as the
rest of the API, run on the live configuration with the proposed switch states laid over it
(`fluxops.ops.switching.apply_switch_states`) — never written anywhere.

An operation changes the live configuration for every consumer on the next request: the loaded grid
(`fluxops.api.deps.GridCache`) is rebuilt with the new states and a new configuration hash, which keys
the loading map's cache, the ETags, stored N-1 screenings and the ops runtime (topology, outage trace).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from fluxops.api.deps import LoadedGrid, get_loaded_grid, get_store, grid_cache
from fluxops.api.openapi import error_responses
from fluxops.api.params import IdText, finite, id_path, id_query, one_of, one_of_path, one_of_query
from fluxops.api.security import require_role
from fluxops.cascade.config import config_from_dict
from fluxops.cascade.context import EngineContext, build_context, local_context
from fluxops.cascade.economics import EconomicsConfig, economic_impact
from fluxops.cascade.models import jsonable
from fluxops.cascade.scenarios import PRESETS
from fluxops.cascade.service import CascadeService, parse_inputs
from fluxops.cascade.whatif import flow_summary, n_minus_1_summary, numbers_diff, overloaded_elements
from fluxops.core.errors import InvalidInputError, NotFoundError
from fluxops.grid.models import SWITCH_STATES
from fluxops.ops.switching import (
    MAX_REASON_CHARS,
    MAX_STEPS,
    ORDER_STATUSES,
    SWITCH_ACTIONS,
    SwitchingOrder,
    apply_switch_states,
    configuration_hash,
    device_states,
    differing_states,
    parse_states,
)
from fluxops.ops.switching_service import MAX_TITLE_CHARS, LiveConfiguration, SwitchingService
from fluxops.ops.switching_validation import critical_customers_by_bus
from fluxops.security.roles import Principal
from fluxops.storage.switching_store import SwitchingTableStore

router = APIRouter(prefix="/api", tags=["switching"])
VIEWER = [Depends(require_role("viewer"))]
OPERATOR = require_role("operator")
MAX_PROPOSED = 500  # switch states in one proposed configuration
WHATIF_CONTEXTS = 4  # compiled proposed configurations kept (each is one engine context)
MAX_LIST = 1000
MAX_PATIENT_ZEROS = 1000
SCENARIO_NAMES = (*PRESETS, "custom")


def on_startup(app: FastAPI) -> None:
    tables = SwitchingTableStore(app.state.store)
    tables.ensure_tables()
    app.state.switching = SwitchingService(tables)
    app.state.whatif_contexts = OrderedDict()
    app.state.whatif_lock = threading.Lock()


def _svc(request: Request) -> SwitchingService:
    svc: SwitchingService = request.app.state.switching
    return svc


def _cascade(request: Request) -> CascadeService:
    svc: CascadeService = request.app.state.cascade
    return svc


def _ctx(loaded: LoadedGrid) -> EngineContext:
    # the same derived key as the cascade routes: one engine context per live configuration
    return loaded.derived("cascade_context", lambda: build_context(loaded.grid))


def _config(loaded: LoadedGrid) -> LiveConfiguration:
    ctx = _ctx(loaded)
    crit = loaded.derived("critical_by_bus", lambda: critical_customers_by_bus(loaded.grid, ctx.cg))
    return LiveConfiguration(loaded.stored_hash, loaded.grid, ctx.cg, crit)


def _live(request: Request) -> LiveConfiguration:
    """The configuration live now (read again from the store: the service calls it under its lock)."""
    return _config(grid_cache(request.app).get(get_store(request)))


# --- bodies ------------------------------------------------------------------------------------------

Reason = Annotated[str, Field(min_length=1, max_length=MAX_REASON_CHARS, pattern=r"\S")]
LoadMultiplier = finite(gt=0.0, le=5.0)


class OperateIn(BaseModel):
    """Why the device is operated (required, recorded with the state and in the switching log)."""

    model_config = ConfigDict(extra="forbid")
    reason: Reason = Field(..., description="Why (required; recorded with the operation)")
    force: bool = Field(
        False,
        description="Emergency switching: apply even when the check finds an islanded critical customer "
        "or an overload (recorded as forced, with the check)",
    )
    load_multiplier: LoadMultiplier = Field(1.0, description="Check load: × design peak")  # type: ignore[valid-type]


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    device_id: IdText
    action: one_of(SWITCH_ACTIONS)  # type: ignore[valid-type]


class CheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    steps: Annotated[list[StepIn], Field(min_length=1, max_length=MAX_STEPS)]
    load_multiplier: LoadMultiplier = Field(1.0, description="Validation load: × design peak")  # type: ignore[valid-type]


class OrderIn(CheckIn):
    title: Annotated[str, Field(min_length=1, max_length=MAX_TITLE_CHARS, pattern=r"\S")]
    reason: Reason


class SwitchStateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    device_id: IdText
    state: one_of(SWITCH_STATES)  # type: ignore[valid-type]


ProposedStates = Annotated[list[SwitchStateIn], Field(max_length=MAX_PROPOSED)]


class WhatIfFlowIn(BaseModel):
    """A proposed configuration: switch states laid over the live ones (nothing is written)."""

    model_config = ConfigDict(extra="forbid")
    switch_states: ProposedStates = Field(default_factory=list)
    scenario: one_of(SCENARIO_NAMES) = "normal"  # type: ignore[valid-type]
    limit: int = Field(50, ge=1, le=MAX_LIST, description="Rows listed (overloads, contingencies)")


class WhatIfCascadeIn(BaseModel):
    """A cascade's inputs (as ``POST /api/cascade/simulate`` takes them; nested configs are checked
    field by field by the model, each error naming its field) and the proposed switch states."""

    model_config = ConfigDict(extra="forbid")
    patient_zero: IdText | Annotated[list[IdText], Field(max_length=MAX_PATIENT_ZEROS)] | None = Field(
        None, description="Element id(s) that fail first"
    )
    scenario: one_of(SCENARIO_NAMES) = "normal"  # type: ignore[valid-type]
    overrides: dict[str, Any] | None = Field(None, description="ScenarioConfig fields to override")
    config: dict[str, Any] | None = Field(None, description="CascadeConfig fields")
    restoration: dict[str, Any] | None = Field(None, description="RestorationConfig fields")
    crews: int | None = Field(None, ge=1, le=1000, description="Repair crews (restoration.crews)")
    seed: int = Field(0, ge=0, le=2**32 - 1)
    switch_states: ProposedStates = Field(default_factory=list, description="Proposed switch states")

    def inputs(self) -> dict[str, Any]:
        """The cascade inputs as the model's parser reads them (absent fields left out)."""
        return self.model_dump(exclude_none=True, exclude={"switch_states", "label"})


class CompareSide(WhatIfCascadeIn):
    label: Annotated[str, Field(max_length=100)] | None = None


class CompareIn(BaseModel):
    """Two cascades (each its inputs and proposed switch states) run and compared side by side."""

    model_config = ConfigDict(extra="forbid")
    a: CompareSide
    b: CompareSide
    economics: dict[str, Any] | None = Field(None, description="EconomicsConfig fields (both sides)")


def _json(value: Any) -> dict[str, Any]:
    out: dict[str, Any] = jsonable(value)
    return out


def _states(body_states: list[SwitchStateIn]) -> list[dict[str, Any]]:
    return [s.model_dump() for s in body_states]


# --- devices -----------------------------------------------------------------------------------------


@router.get(
    "/devices/{device_id}/switching", summary="A device's recorded and live state", dependencies=VIEWER
)
def device_switching(
    request: Request,
    device_id: str = id_path("Device id"),
    loaded: LoadedGrid = Depends(get_loaded_grid),
    limit: int = Query(20, ge=1, le=MAX_LIST, description="Operations listed"),
) -> dict[str, Any]:
    cfg = _config(loaded)
    live = device_states(cfg.grid)
    if device_id not in live:
        raise NotFoundError(f"no switching device {device_id!r}", details={"device_id": device_id})
    dev = loaded.grid.devices
    row = dev[dev["device_id"] == device_id].iloc[0]
    ops = _svc(request).operations(grid_hash=cfg.base_hash, device_id=device_id, limit=limit)
    return _json(
        {
            "device_id": device_id,
            "device_type": str(row["device_type"]),
            "normal_state": str(row["normal_state"]),
            "state": live[device_id],
            "off_normal": live[device_id] != str(row["normal_state"]),
            "operations": [o.to_dict() for o in ops],
        }
    )


@router.post(
    "/devices/{device_id}/{action}",
    summary="Open or close a switching device now (validated first; a reason is required)",
    responses=error_responses(409),
)
def operate_device(
    request: Request,
    body: OperateIn,
    device_id: str = id_path("Device id"),
    action: str = one_of_path(SWITCH_ACTIONS, "Operation"),
    principal: Principal = Depends(OPERATOR),
) -> dict[str, Any]:
    op, check = _svc(request).operate(
        lambda: _live(request),
        device_id=device_id,
        action=action,
        actor=principal.actor,
        reason=body.reason,
        force=body.force,
        load_multiplier=body.load_multiplier,
    )
    loaded = grid_cache(request.app).get(get_store(request))
    return _json(
        {"operation": op.to_dict(), "configuration_hash": loaded.info.content_hash, "check": check.to_dict()}
    )


# --- live configuration and log -------------------------------------------------------------------------


@router.get(
    "/switching/states",
    summary="The live configuration: devices operated on the loaded grid, every device off its normal state",
    dependencies=VIEWER,
)
def switching_states(request: Request, loaded: LoadedGrid = Depends(get_loaded_grid)) -> dict[str, Any]:
    live = device_states(loaded.grid)
    dev = loaded.grid.devices
    off = dev[dev["device_id"].astype(str).map(live) != dev["normal_state"].astype(str)]
    return _json(
        {
            "grid_hash": loaded.stored_hash,
            "configuration_hash": loaded.info.content_hash,
            "states": [s.to_dict() for s in _svc(request).switch_states(loaded.stored_hash)],
            "off_normal": [
                {
                    "device_id": str(r.device_id),
                    "device_type": str(r.device_type),
                    "normal_state": str(r.normal_state),
                }
                | {"state": live[str(r.device_id)]}
                for r in off.itertuples(index=False)
            ],
        }
    )


@router.get("/switching/log", summary="Switching operations, newest first", dependencies=VIEWER)
def switching_log(
    request: Request,
    loaded: LoadedGrid = Depends(get_loaded_grid),
    device_id: str | None = id_query("Device id"),
    limit: int = Query(100, ge=1, le=MAX_LIST),
) -> dict[str, Any]:
    ops = _svc(request).operations(grid_hash=loaded.stored_hash, device_id=device_id, limit=limit)
    return _json({"operations": [o.to_dict() for o in ops]})


@router.post("/switching/check", summary="Validate switching steps against the live configuration")
def switching_check(
    request: Request,
    body: CheckIn,
    loaded: LoadedGrid = Depends(get_loaded_grid),
    principal: Principal = Depends(OPERATOR),
) -> dict[str, Any]:
    steps = [s.model_dump() for s in body.steps]
    out: dict[str, Any] = (
        _svc(request).check(_config(loaded), steps, load_multiplier=body.load_multiplier).to_dict()
    )
    return out


# --- switching orders -----------------------------------------------------------------------------------


def _order(o: SwitchingOrder) -> dict[str, Any]:
    out: dict[str, Any] = jsonable(o.to_dict())
    return out


@router.post(
    "/switching/orders",
    summary="Create a switching order (draft), refused when a step fails validation",
    status_code=201,
)
def create_order(
    request: Request,
    body: OrderIn,
    loaded: LoadedGrid = Depends(get_loaded_grid),
    principal: Principal = Depends(OPERATOR),
) -> dict[str, Any]:
    order = _svc(request).create_order(
        _config(loaded),
        title=body.title,
        reason=body.reason,
        steps=[s.model_dump() for s in body.steps],
        actor=principal.actor,
        load_multiplier=body.load_multiplier,
    )
    return _order(order)


@router.get("/switching/orders", summary="Switching orders, newest first", dependencies=VIEWER)
def list_orders(
    request: Request,
    status: str | None = one_of_query(ORDER_STATUSES, "Order status"),
    limit: int = Query(100, ge=1, le=MAX_LIST),
) -> dict[str, Any]:
    statuses = (status,) if status is not None else None
    return {"orders": [_order(o) for o in _svc(request).list_orders(statuses=statuses, limit=limit)]}


@router.get("/switching/orders/{order_id}", summary="One switching order", dependencies=VIEWER)
def get_order(request: Request, order_id: str = id_path("Switching order id")) -> dict[str, Any]:
    return _order(_svc(request).get_order(order_id))


@router.post(
    "/switching/orders/{order_id}/validate",
    summary="Validate an order's steps against the configuration live now (changes nothing)",
    responses=error_responses(409),
)
def validate_order(
    request: Request, order_id: str = id_path("Switching order id"), principal: Principal = Depends(OPERATOR)
) -> dict[str, Any]:
    out: dict[str, Any] = _svc(request).validate_order(order_id, lambda: _live(request)).to_dict()
    return out


@router.post(
    "/switching/orders/{order_id}/{action}",
    summary="Transition: approve (re-validated), execute (re-validated, applied atomically), cancel",
    responses=error_responses(409),
)
def order_action(
    request: Request,
    order_id: str = id_path("Switching order id"),
    action: str = one_of_path(("approve", "execute", "cancel"), "Transition"),
    principal: Principal = Depends(OPERATOR),
) -> dict[str, Any]:
    svc = _svc(request)
    if action == "approve":
        order = svc.approve(order_id, lambda: _live(request), actor=principal.actor)
    elif action == "execute":
        order = svc.execute(order_id, lambda: _live(request), actor=principal.actor)
    else:
        order = svc.cancel(order_id, actor=principal.actor)
    return _order(order)


# --- what-if --------------------------------------------------------------------------------------------


def _proposed(
    request: Request, loaded: LoadedGrid, states: list[dict[str, Any]]
) -> tuple[EngineContext, str]:
    """The engine context of the live configuration with ``states`` laid over it, and its hash (cached
    per configuration; the live one itself when nothing differs)."""
    wanted = parse_states(loaded.grid, states)
    diff = differing_states(loaded.grid, wanted)
    if not diff:
        return _ctx(loaded), loaded.info.content_hash
    key = configuration_hash(loaded.info.content_hash, diff)
    cache: OrderedDict[str, EngineContext] = request.app.state.whatif_contexts
    with request.app.state.whatif_lock:
        hit = cache.get(key)
        if hit is not None:
            cache.move_to_end(key)
            return hit, key
    ctx = build_context(apply_switch_states(loaded.grid, diff))
    with request.app.state.whatif_lock:
        cache[key] = ctx
        while len(cache) > WHATIF_CONTEXTS:
            cache.popitem(last=False)
    return ctx, key


@router.post("/whatif/powerflow", summary="Power flow on a proposed configuration, next to the live one")
def whatif_powerflow(
    request: Request,
    body: WhatIfFlowIn,
    loaded: LoadedGrid = Depends(get_loaded_grid),
    principal: Principal = Depends(OPERATOR),
) -> dict[str, Any]:
    ctx, key = _proposed(request, loaded, _states(body.switch_states))
    live = flow_summary(_ctx(loaded), body.scenario, body.limit)
    proposed = flow_summary(ctx, body.scenario, body.limit)
    return _json(
        {
            "scenario": body.scenario,
            "live": {"configuration_hash": loaded.info.content_hash, **live},
            "proposed": {"configuration_hash": key, **proposed},
            "difference": numbers_diff(live, proposed),
        }
    )


@router.post(
    "/whatif/n-1",
    summary="N-1 (every line segment out, one at a time) on a proposed configuration, over the substations "
    "it changes and those tied to them",
)
def whatif_n_minus_1(
    request: Request,
    body: WhatIfFlowIn,
    loaded: LoadedGrid = Depends(get_loaded_grid),
    principal: Principal = Depends(OPERATOR),
) -> dict[str, Any]:
    full, key = _proposed(request, loaded, _states(body.switch_states))
    # scope: the substations whose devices the proposal changes, and those tied to them (a contingency
    # elsewhere is the same as in the live configuration); the whole grid when nothing changes
    wanted = parse_states(loaded.grid, _states(body.switch_states))
    changed = set(differing_states(loaded.grid, wanted))
    dev = loaded.grid.devices
    subs = set(dev.loc[dev["device_id"].astype(str).isin(changed), "substation_id"].astype(str))
    pos = {str(x): i for i, x in enumerate(full.cg.substation_ids)}
    ctx = local_context(full, {pos[x] for x in subs if x in pos}) if subs else full
    out = n_minus_1_summary(ctx, body.scenario, body.limit)
    return _json({"configuration_hash": key, **out})


def _run_side(
    request: Request, loaded: LoadedGrid, side: WhatIfCascadeIn, economics: dict[str, Any] | None
) -> dict[str, Any]:
    ctx, key = _proposed(request, loaded, _states(side.switch_states))
    svc = _cascade(request)
    inp = parse_inputs(side.inputs())
    result = svc.run(ctx, inp)
    impact = economic_impact(
        result,
        svc.plan(ctx, result, inp),
        cfg=config_from_dict(EconomicsConfig, economics, prefix="economics"),
    )
    t = result.totals
    return {
        "configuration_hash": key,
        "switch_states": _states(side.switch_states),
        "inputs": inp.to_dict(),
        "figures": {
            "customers_out": t.customers_out,
            "peak_customers_out": t.peak_customers_out,
            "critical_out": t.critical_out,
            "customer_minutes": t.customer_minutes,
            "mwh_unserved": t.mwh_unserved,
            "cost_usd": impact.total_cost_usd,
            "overloaded_elements": overloaded_elements(result),
        },
        "impact": jsonable(impact),
        "result": jsonable(result.to_dict()),
    }


@router.post("/whatif/cascade", summary="A cascade on a proposed configuration (the live one is unchanged)")
def whatif_cascade(
    request: Request,
    body: WhatIfCascadeIn,
    loaded: LoadedGrid = Depends(get_loaded_grid),
    principal: Principal = Depends(OPERATOR),
) -> dict[str, Any]:
    ctx, key = _proposed(request, loaded, _states(body.switch_states))
    out = _cascade(request).simulate(ctx, key, parse_inputs(body.inputs()))
    out["configuration_hash"] = key
    return out


@router.post(
    "/cascade/compare",
    summary="Two cascades (inputs and proposed switch states each) side by side, with their differences",
)
def compare(
    request: Request,
    body: CompareIn,
    loaded: LoadedGrid = Depends(get_loaded_grid),
    principal: Principal = Depends(OPERATOR),
) -> dict[str, Any]:
    sides: dict[str, dict[str, Any]] = {}
    for name, side in (("a", body.a), ("b", body.b)):
        try:
            sides[name] = _run_side(request, loaded, side, body.economics)
        except InvalidInputError as exc:  # name the side in the field
            field = exc.details.get("field")
            named = f"{name}.{field}" if field else name
            raise InvalidInputError(exc.message, details={**exc.details, "field": named}) from exc
        sides[name]["label"] = side.label or name
    fa, fb = sides["a"]["figures"], sides["b"]["figures"]
    oa, ob = set(fa["overloaded_elements"]), set(fb["overloaded_elements"])
    difference = {
        **{k: v for k, v in numbers_diff(fa, fb).items()},
        "overloaded_only_a": sorted(oa - ob),
        "overloaded_only_b": sorted(ob - oa),
        "overloaded_both": sorted(oa & ob),
    }
    return _json({"a": sides["a"], "b": sides["b"], "difference_b_minus_a": difference})
