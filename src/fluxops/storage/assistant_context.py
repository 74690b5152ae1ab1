"""Wiring of the assistant's tools to the application's services, shared by the composition roots (the
API route `fluxops.api.routes.assistant` and the CLI `fluxops assistant ...`).

`build_tool_context` takes what the caller already holds (the API: its runtimes; the CLI: services it
opens here) and returns a `fluxops.assistant.tools.ToolContext`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fluxops.assistant.retrieval import DocumentIndex
from fluxops.assistant.tools import ToolContext
from fluxops.cascade.context import EngineContext, build_context
from fluxops.cascade.service import CascadeService, parse_inputs
from fluxops.grid.models import Grid
from fluxops.storage.assistant_sql import SqlSandbox, lake_files_of, store_ops_tables


class CascadeAdapter:
    """`fluxops.assistant.ports.CascadePort` over `CascadeService` and the grid's engine context."""

    def __init__(self, service: CascadeService, context: Callable[[], EngineContext]) -> None:
        self.service = service
        self.context = context

    def economic_impact(self, *, patient_zero: list[str], scenario: str) -> dict[str, Any]:
        inp = parse_inputs({"patient_zero": patient_zero, "scenario": scenario})
        return self.service.economic_impact(self.context(), inp)


def build_tool_context(
    store: Any,
    grid: Grid,
    *,
    ops: Any | None,
    analytics: Any | None,
    lake_dir: Path | None,
    cascade: CascadeService | None,
    docs: DocumentIndex | None,
    actor: str,
    sql_timeout_s: float = 10.0,
    derive: Callable[[str, Callable[[], Any]], Any] | None = None,
) -> ToolContext:
    from fluxops.storage.ami_queries import AmiQueries

    local: dict[str, Any] = {}

    def cached(key: str, build: Callable[[], Any]) -> Any:
        if derive is not None:
            return derive(key, build)
        if key not in local:
            local[key] = build()
        return local[key]

    sandbox = SqlSandbox(
        grid,
        ops_tables=store_ops_tables(store),
        lake_files=lake_files_of(analytics) if analytics is not None else None,
        lake_dir=lake_dir,
        timeout_s=sql_timeout_s,
    )
    return ToolContext(
        grid=grid,
        ops=ops,
        ami=AmiQueries(analytics) if analytics is not None else None,
        cascade=CascadeAdapter(
            cascade or CascadeService(None, None),  # type: ignore[arg-type]  # economics stores nothing
            lambda: cached("cascade_context", lambda: build_context(grid)),
        ),
        sql=sandbox,
        docs=docs,
        actor=actor,
        derive=cached,
    )
