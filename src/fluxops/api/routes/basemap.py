"""``/api/basemap``: street and neighbourhood labels from the generator's own street grid, for the
offline basemap (`fluxops.geo.basemap`). Computed once per loaded grid; the client asks per view
(``bbox``), so a city-sized grid never sends every street at once.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Query

from fluxops.api.deps import LoadedGrid, get_loaded_grid
from fluxops.api.openapi import error_responses
from fluxops.api.params import bbox_query
from fluxops.api.security import require_role
from fluxops.geo import basemap
from fluxops.grid.query import parse_bbox

router = APIRouter(prefix="/api/basemap", tags=["basemap"], dependencies=[Depends(require_role("viewer"))])
MAX_STREETS = 5000


@router.get(
    "/labels",
    summary="Street names (per feeder stretch, longest first) and neighbourhood names, inside a bbox",
    responses=error_responses(422),
)
def get_labels(
    bbox: str | None = bbox_query(),
    limit: int = Query(2000, ge=1, le=MAX_STREETS, description="Streets returned (all are counted)"),
    loaded: LoadedGrid = Depends(get_loaded_grid),
) -> dict[str, Any]:
    box = parse_bbox(bbox) if bbox is not None else None
    b = (box.min_lon, box.min_lat, box.max_lon, box.max_lat) if box is not None else None
    grid = loaded.grid
    streets = loaded.derived("basemap_streets", lambda: basemap.street_table(grid.meters))
    total, items = basemap.streets_in(streets, b, limit)
    hoods = [
        asdict(n)
        for n in loaded.derived("basemap_hoods", lambda: basemap.neighbourhood_labels(grid.substations))
        if b is None or (b[0] <= n.lon <= b[2] and b[1] <= n.lat <= b[3])
    ]
    return {
        "streets_total": total,
        "truncated": total > len(items),
        "streets": items,
        "neighbourhoods": hoods,
    }
