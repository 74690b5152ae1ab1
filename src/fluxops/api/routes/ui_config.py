"""`GET /api/ui/config` (viewer): what the browser UI starts with — the utility's time zone
(`FLUXOPS_UI__TIME_ZONE`, default America/Chicago), which the header's picker defaults to.
`GET /api/ui/me` (viewer): who the caller is and their role, so the UI hides the operator's
actions from a viewer instead of letting them fail with 403."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from fluxops.api.security import require_role
from fluxops.security.roles import Principal, role_allows

router = APIRouter(prefix="/api/ui", tags=["ui"])


@router.get("/config", dependencies=[Depends(require_role("viewer"))])
def ui_config(request: Request) -> dict[str, Any]:
    """The UI's server-side settings: ``time_zone`` (IANA name) every time is shown in by default."""
    return {"time_zone": request.app.state.settings.ui.time_zone}


@router.get("/me")
def me(principal: Principal = Depends(require_role("viewer"))) -> dict[str, Any]:
    """The caller: ``actor`` (as the audit log names it), ``role`` (viewer / operator / admin) and
    ``can_operate`` (whether operator actions — switching, outage lifecycle, dispatch — are allowed)."""
    return {
        "actor": principal.actor,
        "role": principal.role,
        "can_operate": role_allows(principal.role, "operator"),
    }
