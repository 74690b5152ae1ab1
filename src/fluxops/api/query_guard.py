"""Unknown query parameters are a 422 naming the parameter, on every GET route.

Why: a filter the route does not know was silently ignored (``/api/assets?transformer=XFMR-…`` and
``?q=…`` answered with unrelated breakers), so a typo looked like an empty or wrong answer. The global
dependency `reject_unknown_query_params` compares the request's query keys with the query parameters
the matched route declares (its own, its router's and its dependencies', aliases included) and raises
`InvalidInputError` naming the first unknown one, with the accepted names in ``details.allowed``.

Accepted on every GET route besides the declared ones (`COMMON_QUERY_PARAMS`):

* ``access_token`` — the bearer token for clients that cannot set a header (``EventSource``; see
  `fluxops.api.security`);
* ``format`` — export a list answer as CSV, GeoJSON or Parquet, and ``list`` — which member list
  (`fluxops.api.export`).
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from fluxops.api.export import FORMAT_NAMES, FORMAT_PARAM, LIST_PARAM
from fluxops.api.security import TOKEN_QUERY_PARAM
from fluxops.core.errors import InvalidInputError

COMMON_QUERY_PARAMS: frozenset[str] = frozenset({TOKEN_QUERY_PARAM, FORMAT_PARAM, LIST_PARAM})
GUARDED_METHODS: frozenset[str] = frozenset({"GET", "HEAD"})

_ALLOWED_BY_ROUTE: dict[int, frozenset[str]] = {}


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    stack = [dependant]
    while stack:
        dep = stack.pop()
        yield dep
        stack.extend(dep.dependencies)


def declared_query_params(dependant: Dependant) -> frozenset[str]:
    """The query parameter names (aliases as sent on the wire) a route and its dependencies read."""
    names: set[str] = set()
    for dep in _walk(dependant):
        for param in dep.query_params:
            names.add(param.alias or param.name)
    return frozenset(names)


def allowed_query_params(route: APIRoute) -> frozenset[str]:
    key = id(route)
    allowed = _ALLOWED_BY_ROUTE.get(key)
    if allowed is None:
        allowed = declared_query_params(route.dependant) | COMMON_QUERY_PARAMS
        _ALLOWED_BY_ROUTE[key] = allowed
    return allowed


def _check_format(request: Request, route: APIRoute) -> None:
    """``format`` on a route without its own: one of the export formats (or json), else a 422."""
    values = request.query_params.getlist(FORMAT_PARAM)
    if not values or FORMAT_PARAM in declared_query_params(route.dependant):
        return
    fmt = values[-1].strip().lower()
    if fmt not in FORMAT_NAMES:
        raise InvalidInputError(
            f"unknown format {values[-1][:40]!r}; one of {', '.join(FORMAT_NAMES)}",
            field=FORMAT_PARAM,
            details={"allowed": list(FORMAT_NAMES)},
        )


async def reject_unknown_query_params(request: Request) -> None:
    """Global dependency: 422 naming the first query parameter the matched GET route does not declare,
    or an unknown ``format`` (any method). Async because it only looks at the request: a sync dependency
    costs every request a hop to the thread pool and back."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    _check_format(request, route)
    if request.method not in GUARDED_METHODS:
        return
    allowed = allowed_query_params(route)
    unknown = [k for k in dict.fromkeys(request.query_params.keys()) if k not in allowed]
    if unknown:
        name = unknown[0]
        raise InvalidInputError(
            f"unknown query parameter {name[:60]!r}; {route.path} accepts: {', '.join(sorted(allowed))}",
            field=name[:200],
            details={"unknown": [u[:200] for u in unknown[:20]], "allowed": sorted(allowed)},
        )
