"""Tools over the documents and the data: cited document search and read-only SQL over the documented
views."""

from __future__ import annotations

from typing import Any

from fluxops.assistant.models import ToolResult
from fluxops.assistant.ports import SqlPort
from fluxops.assistant.retrieval import DocumentIndex
from fluxops.assistant.tool_base import (
    SQL_DEFAULT_LIMIT,
    SQL_MAX_LIMIT,
    ToolContext,
    _limit,
    _rows,
)
from fluxops.core.errors import InvalidInputError


def search_documents(ctx: ToolContext, a: dict[str, Any]) -> ToolResult:
    docs: DocumentIndex = ctx.need("docs")
    q = a["query"].strip()
    if not q:
        raise InvalidInputError("query must not be empty", field="query")
    limit = _limit(a["limit"], 5, 20)
    hits = docs.search(q, limit=limit)
    return ToolResult(
        data={"query": q, "hits": [h.to_dict() for h in hits], "retrieval": docs.method},
        row_count=len(hits),
        citations=hits,
    )


def describe_views(ctx: ToolContext, a: dict[str, Any]) -> ToolResult:
    sql: SqlPort = ctx.need("sql")
    views = sql.views()
    return ToolResult(data={"views": views}, row_count=len(views))


def run_sql(ctx: ToolContext, a: dict[str, Any]) -> ToolResult:
    sql: SqlPort = ctx.need("sql")
    text = a["sql"]
    if not text.strip():
        raise InvalidInputError("sql must not be empty", field="sql")
    if len(text) > 20_000:
        raise InvalidInputError("sql is longer than 20000 characters", field="sql")
    limit = _limit(a["limit"], SQL_DEFAULT_LIMIT, SQL_MAX_LIMIT)
    table, truncated = sql.run(text, limit=limit)
    return ToolResult(
        data={"columns": table.column_names, "rows": _rows(table, limit), "truncated": truncated},
        row_count=table.num_rows,
        sql=[text],
    )
