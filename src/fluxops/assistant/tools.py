"""Typed tools over the domain services, each with a JSON schema in OpenAI "strict" form.

Strict form: every object has ``additionalProperties: false`` and lists every property in
``required``; an optional argument is a nullable type (``["string", "null"]``). Bounds that strict mode
does not express are checked by the handler and refused naming the field (`InvalidInputError`).

A tool returns a `ToolResult`: JSON-able data plus evidence (row counts, SQL run, citations). Handlers
never invent figures: every number in ``data`` comes from a service, the grid or the lake.

This module is the registry (`TOOLS`, `tool_specs`); the tools live by domain in ``tools_grid``,
``tools_ami``, ``tools_ops`` and ``tools_data``, on ``tool_base``.
"""

from __future__ import annotations

from typing import Any

from fluxops.assistant.tool_base import (
    RELIABILITY_LEVELS,
    ROLE_ORDER,
    SCENARIOS,
    Tool,
    ToolContext,
    _i,
    _s,
    validate_arguments,
)
from fluxops.assistant.tools_ami import feeder_load, meter_history, transformer_loading, voltage_compliance
from fluxops.assistant.tools_data import describe_views, run_sql, search_documents
from fluxops.assistant.tools_grid import asset_detail, find_assets, grid_summary, transformer_meters
from fluxops.assistant.tools_ops import (
    acknowledge_outage,
    list_crews,
    list_outages,
    list_work_orders,
    reliability_indices,
    run_cascade,
)
from fluxops.grid.models import ASSET_TYPES
from fluxops.ops.models import OUTAGE_STATUSES, WORK_ORDER_PRIORITIES, WORK_ORDER_STATUSES

__all__ = ["ROLE_ORDER", "TOOLS", "Tool", "ToolContext", "tool_specs", "validate_arguments"]

TOOLS: dict[str, Tool] = {
    t.name: t
    for t in (
        Tool(
            "grid_summary",
            "Counts of every asset table of the loaded grid, customers by class, devices by type, "
            "km of line.",
            {},
            grid_summary,
        ),
        Tool(
            "find_assets",
            "Find assets by id or name text, type, feeder, substation or bounding box; returns the total, "
            "counts by type and the first rows.",
            {
                "query": _s("Text in the asset id or name"),
                "asset_type": _s("Asset type", enum=ASSET_TYPES),
                "feeder_id": _s("Feeder id, e.g. FDR-0001-01"),
                "substation_id": _s("Substation id, e.g. SUB-0001"),
                "bbox": {
                    "type": ["array", "null"],
                    "items": {"type": "number"},
                    "description": "[min_lon, min_lat, max_lon, max_lat]",
                },
                "limit": _i("Rows to list (1-500, default 20)"),
            },
            find_assets,
        ),
        Tool(
            "asset_detail",
            "One asset's attributes, its electrical path up to the substation and its downstream totals.",
            {"asset_id": _s("Asset id", nullable=False)},
            asset_detail,
        ),
        Tool(
            "transformer_meters",
            "The meters (customers) served by one distribution transformer, by customer class.",
            {"transformer_id": _s("Distribution transformer id", nullable=False)},
            transformer_meters,
        ),
        Tool(
            "meter_history",
            "A meter's interval history from the AMI lake: energy (kWh), peak demand (kW), voltage range.",
            {
                "meter_id": _s("Meter id", nullable=False),
                "start_date": _s("First UTC date YYYY-MM-DD (default: the latest day in the lake)"),
                "end_date": _s("Last UTC date YYYY-MM-DD (default: start_date)"),
            },
            meter_history,
        ),
        Tool(
            "feeder_load",
            "Feeder or substation load from AMI: peak kW and its hour, average kW, load factor, energy kWh.",
            {
                "level": _s("feeder or substation", nullable=False, enum=("feeder", "substation")),
                "id": _s("One feeder / substation id (null: all, highest peak first)"),
                "start_date": _s("First UTC date YYYY-MM-DD (default: latest day)"),
                "end_date": _s("Last UTC date YYYY-MM-DD (default: start_date)"),
                "limit": _i("Rows (1-500, default 10)"),
            },
            feeder_load,
        ),
        Tool(
            "transformer_loading",
            "Distribution transformer loading (% of rating) at the latest complete hour, highest first.",
            {
                "feeder_id": _s("Only this feeder"),
                "min_loading_pct": {"type": ["number", "null"], "description": "Only at or above this %"},
                "limit": _i("Rows (1-500, default 10)"),
            },
            transformer_loading,
        ),
        Tool(
            "voltage_compliance",
            "ANSI C84.1 service-voltage compliance of every meter on one day: meters outside range A "
            "(114-126 V) and range B (110-127 V), worst meters first.",
            {"date": _s("UTC date YYYY-MM-DD (default: latest day)"), "limit": _i("Worst meters listed")},
            voltage_compliance,
        ),
        Tool(
            "list_outages",
            "Outages (OMS) by status (active, history, all or one status), feeder, substation and "
            "start time.",
            {
                "status": _s("Which outages", enum=("active", "history", "all", *OUTAGE_STATUSES)),
                "feeder_id": _s("Feeder id"),
                "substation_id": _s("Substation id"),
                "since": _s("start_utc >= since (ISO 8601)"),
                "until": _s("start_utc < until (ISO 8601)"),
                "limit": _i("Rows listed (1-500, default 20)"),
            },
            list_outages,
        ),
        Tool(
            "reliability_indices",
            "IEEE 1366 indices (SAIFI, SAIDI, CAIDI, ASAI, MAIFIe) from outage records for the system, "
            "each substation or each feeder.",
            {
                "level": _s("system, substation or feeder", enum=RELIABILITY_LEVELS),
                "key": _s("One substation / feeder id"),
                "start": _s("Period start (ISO 8601; default: last 365 days or the data there are)"),
                "end": _s("Period end (ISO 8601; default: now)"),
                "exclude_major_events": {
                    "type": ["boolean", "null"],
                    "description": "Exclude Major Event Days",
                },
            },
            reliability_indices,
        ),
        Tool(
            "list_work_orders",
            "Work orders by status ('open' = open, assigned or in progress), priority or asset.",
            {
                "status": _s("Status", enum=("open", *WORK_ORDER_STATUSES)),
                "priority": _s("Priority", enum=WORK_ORDER_PRIORITIES),
                "asset_id": _s("Asset id"),
                "limit": _i("Rows listed"),
            },
            list_work_orders,
        ),
        Tool(
            "list_crews",
            "Field crews and their status.",
            {"available_only": {"type": ["boolean", "null"], "description": "Only available crews"}},
            list_crews,
        ),
        Tool(
            "run_cascade",
            "Simulate a cascade from one or more patient-zero elements under a scenario (protection, power "
            "flow, C57.91 thermal limits) with its economic impact (ICE method) and restoration cost.",
            {
                "patient_zero": {"type": "array", "items": {"type": "string"}, "description": "Element ids"},
                "scenario": _s("Scenario preset", enum=SCENARIOS),
            },
            run_cascade,
            role="operator",
        ),
        Tool(
            "acknowledge_outage",
            "Acknowledge an outage (changes its record; the operator must confirm the call).",
            {"outage_id": _s("Outage id", nullable=False)},
            acknowledge_outage,
            role="operator",
            mutating=True,
        ),
        Tool(
            "search_documents",
            "Search the operating procedures, standard summaries, manual and uploaded documents; returns "
            "passages with document, heading and line.",
            {"query": _s("What to look for", nullable=False), "limit": _i("Passages (1-20, default 5)")},
            search_documents,
        ),
        Tool(
            "describe_views",
            "The read-only SQL views (asset model, outages, work orders, AMI lake) and their columns.",
            {},
            describe_views,
        ),
        Tool(
            "run_sql",
            "Run one read-only SELECT (or WITH) over the documented views, DuckDB SQL; row limit and "
            "statement timeout apply.",
            {"sql": _s("One SELECT statement", nullable=False), "limit": _i("Rows (1-5000, default 200)")},
            run_sql,
        ),
    )
}


def tool_specs(role: str) -> list[dict[str, Any]]:
    """The tool definitions a principal of ``role`` may call."""
    rank = ROLE_ORDER.get(role, -1)
    return [t.spec() for t in TOOLS.values() if ROLE_ORDER[t.role] <= rank]
