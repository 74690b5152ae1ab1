"""`GET /api/ui/config`: the server's time zone setting reaches the UI; a bad zone is refused at start."""

from __future__ import annotations

import httpx
import pytest
from live_server import LiveServer
from pydantic import ValidationError

from fluxops.core.config import Settings, UiSettings


def test_ui_config_default_zone(viewer: httpx.Client) -> None:
    r = viewer.get("/api/ui/config")
    assert r.status_code == 200, r.text
    assert r.json() == {"time_zone": "America/Chicago"}


def test_ui_config_needs_a_token(live: LiveServer) -> None:
    with httpx.Client(base_url=live.base_url, timeout=30) as c:
        assert c.get("/api/ui/config").status_code == 401


def test_time_zone_setting_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLUXOPS_UI__TIME_ZONE", "America/New_York")
    assert Settings().ui.time_zone == "America/New_York"
    with pytest.raises(ValidationError, match="unknown IANA time zone"):
        UiSettings(time_zone="Mars/Olympus")


def test_me_names_the_role(viewer: httpx.Client, live: LiveServer, role_tokens: dict[str, str]) -> None:
    """The UI hides operator actions from a viewer: /api/ui/me says who may operate."""
    v = viewer.get("/api/ui/me")
    assert v.status_code == 200, v.text
    assert v.json()["role"] == "viewer" and v.json()["can_operate"] is False
    with live.client(role_tokens["operator"]) as operator:
        o = operator.get("/api/ui/me").json()
    assert o["role"] == "operator" and o["can_operate"] is True
