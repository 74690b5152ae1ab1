"""``/api/assets/{id}/related``: the open outages an asset is part of and its work orders.

Relations come from each outage's own members (its device and the meters it holds, see
`fluxops.ops.relations`) and from each work order's asset and outage, never from "same feeder".
Footprints are computed once per (grid, outage, outage update) and kept on the app.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from fastapi import APIRouter, Depends, Path, Request

from fluxops.api.deps import get_loaded_grid, get_store
from fluxops.api.security import require_role
from fluxops.core.errors import NotFoundError
from fluxops.grid.query import parse_id
from fluxops.grid.topology import GridTopology
from fluxops.ops.models import OPEN_OUTAGE_STATUSES
from fluxops.ops.ports import OutageQuery, WorkOrderQuery
from fluxops.ops.relations import OutageFootprint, outage_footprint, related_outages, related_work_orders

router = APIRouter(prefix="/api/assets", tags=["assets"], dependencies=[Depends(require_role("viewer"))])
FOOTPRINTS_KEPT = 4096  # open outages at once, even in a storm, stay well under this
MAX_OPEN_OUTAGES = 100_000
_lock = threading.Lock()


def _footprints(request: Request, outages: list[Any]) -> dict[str, OutageFootprint]:
    loaded = get_loaded_grid(request)
    topology = loaded.derived("topology", lambda: GridTopology.build(loaded.grid))
    meters: dict[str, str] = loaded.derived(
        "meter_transformer",
        lambda: dict(
            zip(
                loaded.grid.meters.meter_id.astype(str),
                loaded.grid.meters.transformer_id.astype(str),
                strict=True,
            )
        ),
    )
    with _lock:
        cache: OrderedDict[tuple[str, str, str], OutageFootprint] | None = getattr(
            request.app.state, "outage_footprints", None
        )
        if cache is None:
            cache = OrderedDict()
            request.app.state.outage_footprints = cache
    svc = request.app.state.ops.service()
    out: dict[str, OutageFootprint] = {}
    for o in outages:
        key = (loaded.info.content_hash, o.outage_id, o.updated_utc.isoformat())
        with _lock:
            fp = cache.get(key)
        if fp is None:
            fp = outage_footprint(
                o,
                svc.store.outage_meter_ids(o.outage_id),
                meter_transformer=meters,
                path_to_substation=topology.path_to_substation,
            )
            with _lock:
                cache[key] = fp
                while len(cache) > FOOTPRINTS_KEPT:
                    cache.popitem(last=False)
        out[o.outage_id] = fp
    return out


@router.get(
    "/{asset_id}/related",
    summary="Open outages this asset is part of (device, member, feeding or inside) and its work orders",
    responses={404: {"description": "No asset with this id"}},
)
def get_related(
    request: Request,
    asset_id: str = Path(..., min_length=1, max_length=200, description="Asset id"),
) -> dict[str, Any]:
    asset_id = parse_id(asset_id, field="asset_id")
    if get_store(request).get_asset(asset_id) is None:
        raise NotFoundError(f"no asset {asset_id!r}", details={"field": "asset_id", "asset_id": asset_id})
    svc = request.app.state.ops.service()
    opened, _ = svc.list_outages(OutageQuery(statuses=OPEN_OUTAGE_STATUSES, limit=MAX_OPEN_OUTAGES))
    hits = related_outages(asset_id, opened, _footprints(request, opened))
    etr = svc.etr([o for o, _ in hits])
    empty = {"etr_utc": None, "etr_basis": None}
    outage_ids = [o.outage_id for o, _ in hits]
    orders = svc.dispatch.list_work_orders(WorkOrderQuery(asset_id=asset_id))
    for oid in outage_ids:
        orders += svc.dispatch.list_work_orders(WorkOrderQuery(outage_id=oid))
    return {
        "asset_id": asset_id,
        "outages": [{**o.to_dict(), **etr.get(o.outage_id, empty), "relation": rel} for o, rel in hits],
        "work_orders": [w.to_dict() for w in related_work_orders(asset_id, orders, outage_ids)],
    }
