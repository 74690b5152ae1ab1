"""Unknown query parameters are a 422 naming the parameter, on every GET route (issue 9 §3).

Regression: ``/api/assets?transformer=…`` and ``?q=…`` answered 200 with unrelated breakers."""

from __future__ import annotations

import httpx
from fastapi.routing import APIRoute
from live_server import LiveServer

from fluxops.api.query_guard import COMMON_QUERY_PARAMS, allowed_query_params


def test_assets_unknown_filter_is_named(viewer: httpx.Client) -> None:
    for name in ("transformer", "q"):
        r = viewer.get("/api/assets", params={name: "XFMR-0001-01-0001"})
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["code"] == "invalid_input"
        assert body["details"]["field"] == name
        assert name in body["message"]
        assert {"type", "bbox", "cursor"} <= set(body["details"]["allowed"])


def test_declared_aliases_and_common_params_pass(viewer: httpx.Client, live: LiveServer) -> None:
    assert viewer.get("/api/assets", params={"type": "substation", "limit": 2}).status_code == 200
    # the token for clients that cannot set a header, and the export format, are accepted everywhere
    with live.client() as anon:
        r = anon.get("/api/assets", params={"access_token": live.admin_token, "limit": 1})
    assert r.status_code == 200, r.text
    assert viewer.get("/api/substations", params={"format": "json"}).status_code == 200


def test_every_get_route_rejects_an_unknown_parameter(viewer: httpx.Client, live: LiveServer) -> None:
    """Walk the route table: each parameterless GET route refuses ``?bogus=1`` with 422 naming it."""
    from fastapi.routing import iter_route_contexts

    checked = 0
    for ctx in iter_route_contexts(live.app.routes):
        route = ctx.original_route
        if not isinstance(route, APIRoute) or "GET" not in (route.methods or set()):
            continue
        path = str(getattr(ctx, "path", None) or route.path)
        if "{" in path or path == "/api/stream":
            continue
        assert allowed_query_params(route) >= COMMON_QUERY_PARAMS
        r = viewer.get(path, params={"bogus_param": "1"})
        assert r.status_code in (401, 403, 422), (path, r.status_code, r.text)
        if r.status_code == 422:
            assert r.json()["details"]["field"] == "bogus_param", (path, r.text)
            checked += 1
    assert checked >= 20


def test_post_routes_are_not_guarded(admin: httpx.Client) -> None:
    """The guard is for reads: a POST's query string is not a filter (bodies are validated)."""
    r = admin.post("/api/cascade/explain", params={"bogus_param": "1"}, json={})
    assert r.status_code != 422 or r.json()["details"]["field"] != "bogus_param"
