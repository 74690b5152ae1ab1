"""Walks the live route table: every route declares a role, and every non-public route refuses
anonymous (401) and under-privileged (403) callers. Routes added later by any domain are covered
automatically because the walk reads ``app.routes`` of the real app."""

from __future__ import annotations

import re

import httpx
from live_server import LiveServer

from fluxops.api.security import PUBLIC, RouteInfo, route_table
from fluxops.security.roles import lower_role

PUBLIC_PATHS = {"/health"}  # the only anonymous API route (basic liveness)
FRAMEWORK_PATHS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def _api_routes(live: LiveServer) -> list[RouteInfo]:
    return [r for r in route_table(live.app) if r.kind == "api"]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path.replace(":path}", "}"))


def test_every_route_declares_a_role(live: LiveServer) -> None:
    routes = _api_routes(live)
    assert len(routes) >= 10
    for route in routes:
        assert route.role is not None, f"{route.path} declares no role: add Depends(require_role(...))"
        if route.role == PUBLIC:
            assert route.path in PUBLIC_PATHS, f"{route.path} is public but not in the allowlist"
    for r in route_table(live.app):
        if r.kind == "mount":
            assert r.path in ("", "/"), f"unexpected mount {r.path}"  # the static UI at /
        elif r.kind == "other":
            assert r.path in FRAMEWORK_PATHS, f"route {r.path} bypasses auth"


def test_anonymous_and_under_privileged_calls_are_refused(
    live: LiveServer, role_tokens: dict[str, str]
) -> None:
    checked = 0
    with httpx.Client(base_url=live.base_url, timeout=60.0) as c:
        for route in _api_routes(live):
            role = route.role
            if role == PUBLIC:
                continue
            assert role is not None
            path = _concrete(route.path)
            for method in sorted(route.methods - {"HEAD"}):
                anon = c.request(method, path)
                assert anon.status_code == 401, f"anonymous {method} {route.path}: {anon.status_code}"
                assert anon.json()["code"] == "unauthenticated"
                bogus = c.request(method, path, headers={"Authorization": "Bearer fx_000000000000_nope"})
                assert bogus.status_code == 401, f"bogus key {method} {route.path}: {bogus.status_code}"
                below = lower_role(role)
                if below is not None:
                    weak = c.request(method, path, headers={"Authorization": f"Bearer {role_tokens[below]}"})
                    assert weak.status_code == 403, f"{below} {method} {route.path}: {weak.status_code}"
                    assert weak.json()["code"] == "forbidden"
                checked += 1
    assert checked >= 10


def test_query_token_only_on_get(live: LiveServer, role_tokens: dict[str, str]) -> None:
    with httpx.Client(base_url=live.base_url, timeout=60.0) as c:
        assert c.get("/api/assets", params={"access_token": role_tokens["viewer"]}).status_code == 200
        r = c.post("/api/admin/keys", params={"access_token": live.admin_token}, json={"role": "viewer"})
        assert r.status_code == 401


def test_revoked_key_is_refused(live: LiveServer) -> None:
    with live.client(live.admin_token) as admin:
        issued = admin.post("/api/admin/keys", json={"role": "viewer", "label": "to revoke"}).json()
    with live.client(issued["token"]) as c:
        assert c.get("/api/assets").status_code == 200
        with live.client(live.admin_token) as admin:
            assert admin.delete(f"/api/admin/keys/{issued['key_id']}").status_code == 204
            assert admin.delete(f"/api/admin/keys/{issued['key_id']}").status_code in (204, 404)
        assert c.get("/api/assets").status_code == 401


def test_access_log_never_shows_query_tokens() -> None:
    import logging

    from fluxops.api.security import TokenScrubFilter

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/api/stream?access_token=fx_abc_secret&x=1", "1.1", 200),
        None,
    )
    assert TokenScrubFilter().filter(record)
    line = record.getMessage()
    assert "secret" not in line and "access_token=***&x=1" in line
