"""The served OpenAPI document lists each route's error responses in the one error body shape."""

from __future__ import annotations

from typing import Any

import httpx
from live_server import LiveServer

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "responses" in op
    ]


def test_every_error_response_is_the_error_body(live: LiveServer) -> None:
    spec = httpx.get(f"{live.base_url}/openapi.json").json()
    body = spec["components"]["schemas"]["ErrorBody"]
    assert set(body["required"]) == {"code", "message", "details"}
    assert "HTTPValidationError" not in spec["components"]["schemas"]  # a shape this API never sends
    ops = _operations(spec)
    assert len(ops) >= 50
    for path, method, op in ops:
        for status, resp in op["responses"].items():
            if status[0] in "45":
                assert resp["content"] == {"application/json": {"schema": ERROR_REF}}, (method, path, status)


def test_statuses_follow_from_each_route_declaration(live: LiveServer) -> None:
    spec = httpx.get(f"{live.base_url}/openapi.json").json()
    for path, method, op in _operations(spec):
        codes = set(op["responses"])
        where = f"{method.upper()} {path}"
        if op.get("security"):
            assert {"401", "403"} <= codes, where
        if "{" in path:
            assert "404" in codes, where
        if op.get("parameters") or "requestBody" in op:
            assert "422" in codes, where
        if method in ("post", "put", "patch"):
            assert {"413", "422"} <= codes, where
    health = spec["paths"]["/health"]["get"]
    assert {} in health["security"]  # credentials optional: they unlock ?detailed=true
    assert "409" in spec["paths"]["/api/work-orders/{work_order_id}/{action}"]["post"]["responses"]
    assert "404" in spec["paths"]["/api/kpis"]["get"]["responses"]  # no grid loaded


def test_bounded_parameters_are_in_the_document(live: LiveServer) -> None:
    spec = httpx.get(f"{live.base_url}/openapi.json").json()

    def param(path: str, name: str, method: str = "get") -> dict[str, Any]:
        (p,) = [p for p in spec["paths"][path][method]["parameters"] if p["name"] == name]
        schema: dict[str, Any] = p["schema"]
        return schema.get("anyOf", [schema])[0]

    assert param("/api/ami/completeness", "start")["pattern"].startswith("^(20")
    assert param("/api/outages", "offset")["maximum"] == 2**31 - 1
    budget = param("/api/cascade/compare-mitigations", "investment_budget", "post")
    assert budget["maximum"] == 1e12 and budget["minimum"] == 0
    simulate = spec["paths"]["/api/cascade/simulate"]["post"]["requestBody"]["content"]["application/json"]
    ref = simulate["schema"]["$ref"].rsplit("/", 1)[-1]
    assert spec["components"]["schemas"][ref]["additionalProperties"] is False
