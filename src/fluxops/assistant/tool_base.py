"""What every assistant tool is built on: the context of services a tool may use, the tool's strict
JSON schema (OpenAI "strict" form: every object ``additionalProperties: false``, every property
``required``, optional arguments nullable), the validation of a call's arguments against it, and the
small helpers the tools share (argument parsing, JSON-able rows).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar, cast

import pandas as pd
import pyarrow as pa

from fluxops.assistant.models import ToolResult
from fluxops.assistant.ports import AmiPort, CascadePort, OpsPort, SqlPort
from fluxops.assistant.retrieval import DocumentIndex
from fluxops.core.errors import CapabilityError, InvalidInputError
from fluxops.grid.assets import asset_index
from fluxops.grid.models import Grid
from fluxops.grid.topology import GridTopology

T = TypeVar("T")
ROLE_ORDER: dict[str, int] = {"viewer": 0, "operator": 1, "admin": 2}
MAX_ROWS_SHOWN = 50  # rows a tool puts in its data (counts always cover every row)
MAX_LIMIT = 500
MAX_OUTAGES_SUMMED = 5000
SQL_DEFAULT_LIMIT = 200
SQL_MAX_LIMIT = 5000
SCENARIOS: tuple[str, ...] = ("normal", "summer_peak", "winter_storm", "hurricane")
RELIABILITY_LEVELS: tuple[str, ...] = ("system", "substation", "feeder")


@dataclass
class ToolContext:
    """The services a tool may use, built by a composition root (API request, CLI command, test).

    ``derive(key, build)`` caches what is built from the grid (the asset index, the topology) for as
    long as the caller's grid lives (the API passes ``LoadedGrid.derived``)."""

    grid: Grid
    ops: OpsPort | None = None
    ami: AmiPort | None = None
    cascade: CascadePort | None = None
    sql: SqlPort | None = None
    docs: DocumentIndex | None = None
    actor: str = "unknown"
    derive: Callable[[str, Callable[[], Any]], Any] | None = None
    _local: dict[str, Any] = field(default_factory=dict, repr=False)

    def _derived(self, key: str, build: Callable[[], T]) -> T:
        if self.derive is not None:
            return cast(T, self.derive(key, build))
        if key not in self._local:
            self._local[key] = build()
        return cast(T, self._local[key])

    def assets(self) -> pd.DataFrame:
        return self._derived("assistant_asset_index", lambda: asset_index(self.grid))

    def topology(self) -> GridTopology:
        return self._derived("topology", lambda: GridTopology.build(self.grid))

    def need(self, what: str) -> Any:
        svc = getattr(self, what)
        if svc is None:
            raise CapabilityError(f"the {what} service is not available here", details={"service": what})
        return svc


Handler = Callable[[ToolContext, dict[str, Any]], ToolResult]


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    properties: dict[str, dict[str, Any]]
    handler: Handler
    role: str = "viewer"  # the least role that may call it (as the matching API route)
    mutating: bool = False  # changes state: an operator must confirm the call first

    def parameters(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": self.properties,
            "required": list(self.properties),
            "additionalProperties": False,
        }

    def spec(self) -> dict[str, Any]:
        """The Chat Completions tool definition (strict)."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters(),
                "strict": True,
            },
        }


# --- argument validation (the strict-schema subset the tools use) -------------------------------

_JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def _check(schema: dict[str, Any], value: Any, path: str) -> None:
    types = schema.get("type")
    type_list = [types] if isinstance(types, str) else list(types or [])
    if type_list and not any(_JSON_TYPES[t](value) for t in type_list):
        raise InvalidInputError(f"{path} must be {' or '.join(type_list)}", field=path)
    if value is None:
        return
    if "enum" in schema and value not in schema["enum"]:
        allowed = [e for e in schema["enum"] if e is not None]
        raise InvalidInputError(f"{path} must be one of {allowed}", field=path)
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            _check(schema["items"], item, f"{path}[{i}]")


def validate_arguments(tool: Tool, args: Any) -> dict[str, Any]:
    """The arguments as the tool's schema allows them, or `InvalidInputError` naming the field."""
    if not isinstance(args, dict):
        raise InvalidInputError("tool arguments must be a JSON object", field="arguments")
    unknown = sorted(set(args) - set(tool.properties))
    if unknown:
        raise InvalidInputError(f"unknown argument {unknown[0]!r} for {tool.name}", field=unknown[0])
    out: dict[str, Any] = {}
    for name, schema in tool.properties.items():
        if name not in args:  # strict: every field is required; a lenient caller's omission = null
            types = schema.get("type")
            if isinstance(types, list) and "null" in types:
                out[name] = None
                continue
            raise InvalidInputError(f"missing argument {name!r} for {tool.name}", field=name)
        _check(schema, args[name], name)
        out[name] = args[name]
    return out


# --- small shared helpers ---------------------------------------------------------------------------


def _s(desc: str, *, nullable: bool = True, enum: tuple[str, ...] | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {"type": ["string", "null"] if nullable else "string", "description": desc}
    if enum is not None:
        d["enum"] = [*enum, None] if nullable else list(enum)
    return d


def _i(desc: str) -> dict[str, Any]:
    return {"type": ["integer", "null"], "description": desc}


def _limit(value: int | None, default: int, maximum: int = MAX_LIMIT, name: str = "limit") -> int:
    if value is None:
        return default
    if not 1 <= value <= maximum:
        raise InvalidInputError(f"{name} must be within [1, {maximum}]", field=name)
    return value


def _date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        d = date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInputError(f"{name} must be a date YYYY-MM-DD", field=name) from exc
    if not 2000 <= d.year <= 2099:
        raise InvalidInputError(f"{name} must be within 2000-2099", field=name)
    return d


def _datetime(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInputError(f"{name} must be an ISO 8601 date or time", field=name) from exc
    if not 2000 <= t.year <= 2099:
        raise InvalidInputError(f"{name} must be within 2000-2099", field=name)
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def plain(value: Any) -> Any:
    """A JSON-able copy (timestamps as ISO text, NaN as null, numpy scalars as Python)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return None
    return value


def _rows(table: pa.Table, limit: int = MAX_ROWS_SHOWN) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], plain(table.slice(0, limit).to_pylist()))


def _frame_rows(df: pd.DataFrame, limit: int = MAX_ROWS_SHOWN) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], plain(df.head(limit).to_dict(orient="records")))
