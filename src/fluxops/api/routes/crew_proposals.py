"""``/api/work-orders/{id}/crew-proposals``: crews ranked for one work order (available, qualified for
the asset's construction, nearest first; `fluxops.ops.crew_proposals`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Request

from fluxops.api.deps import get_store
from fluxops.api.routes.assets import TABLE_BY_TYPE
from fluxops.api.security import require_role
from fluxops.grid.query import parse_id
from fluxops.ops.crew_proposals import propose_crews, required_skill

router = APIRouter(prefix="/api/work-orders", tags=["ops"], dependencies=[Depends(require_role("viewer"))])


@router.get(
    "/{work_order_id}/crew-proposals",
    summary="Crews for a work order: available and qualified first, then by distance to the asset",
    responses={404: {"description": "No work order with this id"}},
)
def crew_proposals(
    request: Request,
    work_order_id: str = Path(..., min_length=1, max_length=200, description="Work order id"),
) -> dict[str, Any]:
    svc = request.app.state.ops.service()
    wo = svc.dispatch.get_work_order(parse_id(work_order_id, field="work_order_id"))
    store = get_store(request)
    asset_id = wo.asset_id
    lon = lat = None
    if asset_id is None and wo.outage_id is not None:
        outage = svc.store.get_outage(wo.outage_id)
        if outage is not None:
            asset_id, lon, lat = outage.device_id, outage.lon, outage.lat
    row = store.get_asset(asset_id) if asset_id else None
    attributes: dict[str, Any] = {}
    if row is not None:
        lon, lat = row.lon, row.lat
        table = TABLE_BY_TYPE.get(row.asset_type)
        attributes = (store.get_element(table, row.asset_id) or {}) if table else {}
    skill = required_skill(row.asset_type if row else None, attributes, wo.work_type)
    proposals = propose_crews(svc.dispatch.list_crews(), lon=lon, lat=lat, skill=skill)
    return {
        "work_order_id": wo.work_order_id,
        "asset_id": asset_id,
        "required_skill": skill,
        "distance": "great-circle km from the crew's base (road routing not modelled)",
        "proposals": [p.to_dict() for p in proposals],
    }
