"""The OpenAPI document says which errors each route can answer, in the one error body shape.

FastAPI documents only 200 and its own validation error (``HTTPValidationError``, a shape this API
never sends). `install_openapi` wraps ``app.openapi`` so that every operation lists, with the
`fluxops.api.errors.ErrorBody` schema, the error statuses its declaration implies:

* reads credentials (``require_role`` or the bearer scheme): 401 and 403;
* has a path parameter, or needs the loaded grid (404 when none is loaded): 404;
* has any parameter or a body: 422 (``details.field`` names the parameter);
* POST / PUT / PATCH: 413 (body over the size limit) and 422;

plus whatever a route declares itself with ``responses=`` (409 on state transitions, ...). Every 4xx/5xx
response in the document carries the `ErrorBody` schema, declared or derived.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from fluxops.api.deps import get_loaded_grid, loaded_grid
from fluxops.api.errors import ErrorBody
from fluxops.api.security import PUBLIC, ROLE_ATTR, bearer_scheme

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Bad request",
    401: "Not authenticated: no, invalid or revoked credentials",
    403: "Authenticated, but the caller's role is too low for this route",
    404: "Not found: the id in the path, or no grid is loaded",
    405: "Method not allowed",
    409: "Conflicts with the current state (illegal transition, duplicate)",
    413: "Request body larger than the server accepts",
    415: "Unsupported media type",
    422: "Invalid input: `details.field` names the parameter at fault",
    500: "Internal error (`details.request_id` names it in the server log)",
    501: "A capability this route needs is not installed or configured",
    503: "The store is unavailable or the grid changed while it was read; retry",
}


def error_response(status: int, description: str | None = None) -> dict[str, Any]:
    """One ``responses=`` entry in the error body shape (for routes declaring extra statuses)."""
    return {"model": ErrorBody, "description": description or ERROR_DESCRIPTIONS.get(status, "Error")}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: error_response(s) for s in statuses}


@dataclass(frozen=True)
class _RouteFacts:
    authenticated: bool
    public: bool
    needs_grid: bool
    has_path_params: bool
    has_params: bool


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    stack = [dependant]
    while stack:
        dep = stack.pop()
        yield dep
        stack.extend(dep.dependencies)


def _facts(dependant: Dependant) -> _RouteFacts:
    deps = list(_walk(dependant))
    calls = {d.call for d in deps if d.call is not None}
    return _RouteFacts(
        authenticated=bearer_scheme in calls,
        public=any(getattr(c, ROLE_ATTR, None) == PUBLIC for c in calls),
        needs_grid=bool({get_loaded_grid, loaded_grid} & calls),
        has_path_params=any(d.path_params for d in deps),
        has_params=any(d.path_params or d.query_params or d.header_params or d.body_params for d in deps),
    )


def _api_routes(app: FastAPI) -> Iterator[tuple[str, frozenset[str], Dependant]]:
    """(path as served, methods, dependant) of every API route, included routers flattened."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: included routes are copied flat into app.routes
        contexts: list[tuple[Any, Any]] = [(r, r) for r in app.routes]
    else:
        contexts = [(c, c.original_route) for c in iter_route_contexts(app.routes)]
    for effective, original in contexts:
        if not isinstance(original, APIRoute):
            continue
        try:
            dependant = effective.dependant
        except AttributeError:
            dependant = original.dependant
        path = str(getattr(effective, "path", None) or original.path)
        methods: set[str] = getattr(effective, "methods", None) or original.methods or set()
        yield path, frozenset(methods), dependant


def implied_statuses(facts: _RouteFacts, method: str) -> list[int]:
    out: set[int] = set()
    if facts.authenticated:
        out |= {401, 403}
    if facts.needs_grid or facts.has_path_params:
        out.add(404)
    if facts.has_params:
        out.add(422)
    if method in BODY_METHODS:
        out |= {413, 422}
    return sorted(out)


def document_errors(spec: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    """Add the implied error responses and the `ErrorBody` schema to ``spec`` (in place; returned)."""
    components = spec.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorBody"] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    facts = {(path, m.lower()): _facts(dep) for path, methods, dep in _api_routes(app) for m in methods}
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            responses: dict[str, Any] = op["responses"]
            f = facts.get((path, method))
            if f is not None and f.public and op.get("security"):
                op["security"] = [{}, *op["security"]]  # credentials optional (they unlock more)
            if f is not None:
                for status in implied_statuses(f, method.upper()):
                    responses.setdefault(str(status), {"description": ERROR_DESCRIPTIONS[status]})
            for code, resp in responses.items():
                if code[:1] in ("4", "5"):
                    if code == "422" and resp.get("description") == "Validation Error":
                        resp["description"] = ERROR_DESCRIPTIONS[422]
                    resp["content"] = {"application/json": {"schema": ERROR_REF}}
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused in components and unused not in str(spec.get("paths")):
            del components[unused]
    return spec


def install_openapi(app: FastAPI) -> None:
    """Wrap ``app.openapi`` so the served document lists every route's error responses."""
    base = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(base(), app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
