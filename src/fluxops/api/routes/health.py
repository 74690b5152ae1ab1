"""``GET /health``: public liveness; ``?detailed=true`` (viewer) adds store status, grid, counts and the
AMI lake (degraded while a damaged lake file sits in quarantine)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel

from fluxops import __version__
from fluxops.api.deps import get_store
from fluxops.api.security import allow_anonymous, authorize, bearer_scheme
from fluxops.core.clock import utc_now
from fluxops.core.errors import FluxOpsError
from fluxops.storage.lake_manifest import lake_health

router = APIRouter(tags=["health"])


class HealthOut(BaseModel):
    status: str  # "ok" | "degraded"
    version: str
    time_utc: str
    store: dict[str, Any] | None = None
    grid: dict[str, Any] | None = None
    counts: dict[str, int] | None = None
    lake: dict[str, Any] | None = None


@router.get(
    "/health",
    summary="Liveness (public); detailed=true adds store, grid and counts (viewer)",
    response_model=HealthOut,
    response_model_exclude_none=True,
    dependencies=[Depends(allow_anonymous())],
)
def health(
    request: Request,
    detailed: bool = Query(False, description="Include store status, loaded grid and counts (viewer role)"),
    credentials: HTTPAuthorizationCredentials | None = Security(bearer_scheme),
) -> HealthOut:
    out = HealthOut(status="ok", version=__version__, time_utc=utc_now().isoformat())
    if not detailed:
        return out
    authorize(request, credentials, "viewer")
    store = get_store(request)
    try:
        out.store = store.health()
        info = store.get_grid_info()
        out.counts = store.count_assets_by_type()
    except FluxOpsError as exc:
        out.status = "degraded"
        out.store = {"ok": False, "error": exc.message}
        return out
    if out.store.get("ok") is False:
        out.status = "degraded"
    out.lake = lake_health(request.app.state.settings.lake_dir)  # quarantined files name themselves
    if not out.lake["ok"]:
        out.status = "degraded"
    out.grid = (
        None
        if info is None
        else {
            "loaded": True,
            "name": info.name,
            "source": info.source,
            "content_hash": info.content_hash,
            "loaded_utc": info.loaded_utc.isoformat(),
            "counts": info.counts,
        }
    )
    if out.grid is None:
        out.grid = {"loaded": False}
    return out
