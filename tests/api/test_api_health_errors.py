"""/health, the error body shape, request ids, CORS closed by default, and the audit log."""

from __future__ import annotations

from pathlib import Path

import httpx
from live_server import LiveServer, make_settings, start_uvicorn, stop_uvicorn

from fluxops.api.app import create_app


def test_basic_health_is_public(live: LiveServer) -> None:
    r = httpx.get(f"{live.base_url}/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert "store" not in r.json()
    assert r.headers["x-request-id"]


def test_detailed_health_needs_viewer(live: LiveServer, viewer: httpx.Client) -> None:
    assert httpx.get(f"{live.base_url}/health", params={"detailed": "true"}).status_code == 401
    body = viewer.get("/health", params={"detailed": "true"}).json()
    assert body["grid"]["loaded"] is True and body["grid"]["name"] == "tiny"
    assert body["counts"]["meter"] > 0
    assert body["store"]


def test_unknown_route_and_method_use_the_error_shape(viewer: httpx.Client) -> None:
    r = viewer.get("/api/no-such-thing")
    assert r.status_code == 404 and set(r.json()) == {"code", "message", "details"}
    r = viewer.put("/api/kpis")
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"


def test_cors_closed_by_default(live: LiveServer, viewer: httpx.Client) -> None:
    r = viewer.get("/api/assets", headers={"Origin": "http://evil.example"})
    assert r.status_code == 200
    assert "access-control-allow-origin" not in r.headers
    pre = httpx.options(
        f"{live.base_url}/api/kpis",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in pre.headers


def test_cors_allows_only_configured_origins(live: LiveServer, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, cors_origins=["http://ui.example"])
    app = create_app(settings, store=live.store)
    running = start_uvicorn(app)
    try:
        base = f"http://127.0.0.1:{running.port}"
        ok = httpx.options(
            f"{base}/api/kpis",
            headers={"Origin": "http://ui.example", "Access-Control-Request-Method": "GET"},
        )
        assert ok.headers.get("access-control-allow-origin") == "http://ui.example"
        bad = httpx.options(
            f"{base}/api/kpis",
            headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert "access-control-allow-origin" not in bad.headers
    finally:
        stop_uvicorn(running)


def test_mutating_calls_are_audited(live: LiveServer, admin: httpx.Client) -> None:
    created = admin.post("/api/admin/keys", json={"role": "viewer", "label": "audited"})
    assert created.status_code == 201
    refused = httpx.post(f"{live.base_url}/api/admin/keys", json={"role": "admin"})
    assert refused.status_code == 401
    bad = admin.post("/api/admin/keys", json={"role": "emperor"})
    assert bad.status_code == 422 and bad.json()["details"]["field"] == "role"
    entries = admin.get("/api/admin/audit", params={"limit": 50}).json()
    mine = [e for e in entries if e["path"] == "/api/admin/keys" and e["method"] == "POST"]
    by_status = {e["status_code"]: e for e in mine}
    assert by_status[201]["actor"] == "local-admin" and by_status[201]["role"] == "admin"
    assert by_status[401]["actor"] == "anonymous"
    assert 422 in by_status
    assert all("token" not in str(e["detail"]) or "***" in str(e["detail"]) for e in entries)
    assert not any(e["method"] == "GET" for e in entries)


def test_listing_keys_never_shows_secrets(admin: httpx.Client) -> None:
    issued = admin.post("/api/admin/keys", json={"role": "operator", "label": "listing"}).json()
    listing = admin.get("/api/admin/keys").text
    assert issued["key_id"] in listing
    assert issued["token"] not in listing
    assert "hash" not in listing


def test_admin_grid_reload_is_idempotent(admin: httpx.Client) -> None:
    r = admin.post("/api/admin/grid", json={"preset": "tiny", "seed": 0})
    assert r.status_code == 200, r.text
    assert r.json()["changed"] is False
    bad = admin.post("/api/admin/grid", json={"preset": "atlantis", "seed": 0})
    assert bad.status_code == 422 and bad.json()["details"]["field"] == "preset"
    neg = admin.post("/api/admin/grid", json={"preset": "tiny", "seed": -1})
    assert neg.status_code == 422 and neg.json()["details"]["field"] == "seed"


def test_openapi_and_docs_are_served(live: LiveServer) -> None:
    spec = httpx.get(f"{live.base_url}/openapi.json").json()
    for path in ("/api/assets", "/api/assets/{asset_id}", "/api/map/assets", "/api/admin/keys", "/health"):
        assert path in spec["paths"]
    assert spec["paths"]["/api/assets"]["get"]["summary"]
    assert httpx.get(f"{live.base_url}/docs").status_code == 200


def test_unexpected_errors_are_500_with_request_id_and_no_internals(live: LiveServer, tmp_path: Path) -> None:
    """The real error table and middleware on a bare app with two failing routes (the full app's
    static UI mount at / would shadow routes added after it)."""
    from fastapi import Depends, FastAPI

    from fluxops.api.errors import install_error_handlers
    from fluxops.api.security import install_security, require_role
    from fluxops.core.errors import StorageError

    app = FastAPI()
    app.state.store = live.store
    install_error_handlers(app)
    install_security(app, make_settings(tmp_path))

    def boom() -> None:
        raise RuntimeError("secret internal detail")

    def store_down() -> None:
        raise StorageError("the store is unreachable")

    viewer_only = [Depends(require_role("viewer"))]
    app.add_api_route("/api/test-boom", boom, dependencies=viewer_only)
    app.add_api_route("/api/test-store-down", store_down, dependencies=viewer_only)
    running = start_uvicorn(app)
    try:
        headers = {"Authorization": f"Bearer {live.admin_token}"}
        r = httpx.get(f"http://127.0.0.1:{running.port}/api/test-boom", headers=headers)
        assert r.status_code == 500
        body = r.json()
        assert body["code"] == "internal_error"
        assert body["details"]["request_id"] == r.headers["x-request-id"]
        assert "secret" not in r.text and "Traceback" not in r.text
        r = httpx.get(f"http://127.0.0.1:{running.port}/api/test-store-down", headers=headers)
        assert r.status_code == 503 and r.json()["details"]["request_id"] == r.headers["x-request-id"]
    finally:
        stop_uvicorn(running)
