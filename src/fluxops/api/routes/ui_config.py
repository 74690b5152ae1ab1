"""`GET /api/ui/config` (viewer): what the browser UI starts with — the utility's time zone
(`FLUXOPS_UI__TIME_ZONE`, default America/Chicago), which the header's picker defaults to."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from fluxops.api.security import require_role

router = APIRouter(prefix="/api/ui", tags=["ui"])


@router.get("/config", dependencies=[Depends(require_role("viewer"))])
def ui_config(request: Request) -> dict[str, Any]:
    """The UI's server-side settings: ``time_zone`` (IANA name) every time is shown in by default."""
    return {"time_zone": request.app.state.settings.ui.time_zone}
