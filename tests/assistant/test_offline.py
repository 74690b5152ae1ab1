"""The offline engine: documented question types become the same tool calls a model would make, the
answers carry the tools' numbers (and only those), roles and confirmation are enforced, and questions
outside the tools are declined plainly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from assistant_events import answer_of

from fluxops.assistant.engine import (
    MAX_QUESTION_CHARS,
    Assistant,
    BrainReply,
    ToolCallRequest,
    ungrounded_numbers,
)
from fluxops.assistant.models import ToolCallRecord, ToolResult
from fluxops.assistant.offline import OfflineBrain, plan
from fluxops.assistant.tools import ToolContext
from fluxops.core.errors import InvalidInputError
from fluxops.grid.models import Grid

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


def ask(ctx: ToolContext, question: str, role: str = "operator", **kw: Any) -> dict[str, Any]:
    audit: list[tuple[ToolCallRecord, str]] = []
    a = Assistant(OfflineBrain(), ctx, role=role, audit=lambda r, role: audit.append((r, role)))
    out = answer_of(list(a.run(question, **kw)))
    out["audit"] = audit
    return out


def tools_of(ans: dict[str, Any]) -> list[str]:
    return [c["name"] for c in ans["evidence"]["tool_calls"]]


@pytest.mark.parametrize(
    ("question", "tool", "expected"),
    [
        (
            "How many transformers are on feeder FDR-0001-01?",
            "find_assets",
            lambda g: (g.transformers.feeder_id == "FDR-0001-01").sum(),
        ),
        (
            "how many fuses are on feeder FDR-0001-02",
            "find_assets",
            lambda g: ((g.devices.feeder_id == "FDR-0001-02") & (g.devices.device_type == "fuse")).sum(),
        ),
        (
            "Number of poles at substation SUB-0002?",
            "find_assets",
            lambda g: (g.poles.substation_id == "SUB-0002").sum(),
        ),
        ("How many customers do we serve?", "find_assets", lambda g: len(g.meters)),
        (
            "How many meters are on transformer XFMR-0001-01-0001?",
            "transformer_meters",
            lambda g: (g.meters.transformer_id == "XFMR-0001-01-0001").sum(),
        ),
        (
            "sql: SELECT count(*) AS n FROM meters WHERE feeder_id = 'FDR-0001-02'",
            "run_sql",
            lambda g: (g.meters.feeder_id == "FDR-0001-02").sum(),
        ),
        ("grid summary overview", "grid_summary", lambda g: len(g.meters)),
    ],
)
def test_counts_come_from_the_tools(ctx: ToolContext, question: str, tool: str, expected: Any) -> None:
    ans = ask(ctx, question)
    assert tools_of(ans) == [tool]
    value = int(expected(ctx.grid))
    assert f"{value:,}" in ans["text"] or str(value) in ans["text"]
    assert ans["evidence"]["ungrounded_numbers"] == []
    assert ans["evidence"]["answerable"] is True


def test_list_and_lookup(ctx: ToolContext) -> None:
    ans = ask(ctx, "list the fuses on feeder FDR-0001-02")
    fuses = ctx.grid.devices[
        (ctx.grid.devices.feeder_id == "FDR-0001-02") & (ctx.grid.devices.device_type == "fuse")
    ]
    assert all(f in ans["text"] for f in fuses.device_id.head(5))
    m = ctx.grid.meters.iloc[10]
    ans = ask(ctx, f"What is the path from {m.meter_id} to the substation?")
    assert tools_of(ans) == ["asset_detail"]
    assert m.transformer_id in ans["text"] and m.substation_id in ans["text"]


def test_sql_evidence_carries_the_sql_and_row_count(ctx: ToolContext) -> None:
    ans = ask(ctx, "SELECT feeder_id, count(*) AS n FROM transformers GROUP BY 1 ORDER BY 1")
    ev = ans["evidence"]
    assert ev["sql"] == ["SELECT feeder_id, count(*) AS n FROM transformers GROUP BY 1 ORDER BY 1"]
    assert list(ev["row_counts"].values()) == [ctx.grid.transformers.feeder_id.nunique()]


def test_sql_that_writes_is_a_clear_message(ctx: ToolContext) -> None:
    ans = ask(ctx, "sql: WITH x AS (SELECT 1) DELETE FROM meters")
    assert "could not answer" in ans["text"].lower()
    call = ans["evidence"]["tool_calls"][0]
    assert call["status"] == "error" and call["result"]["error_field"] == "sql"


def test_documents_are_cited(ctx: ToolContext) -> None:
    ans = ask(ctx, "What does IEEE 1366 say about Major Event Days?")
    assert tools_of(ans) == ["search_documents"]
    cites = ans["evidence"]["citations"]
    assert cites and cites[0]["doc_id"] == "ieee-1366"
    assert "Major Event Days" in cites[0]["heading"] and cites[0]["line"] > 1
    assert "line" in ans["text"] and ans["evidence"]["ungrounded_numbers"] == []


@pytest.mark.parametrize(
    "question",
    [
        "What will the stock price be next year?",
        "How much did customer CUST-00000001 pay last month?",
        "Write me a poem",
        "zzz qqq",
    ],
)
def test_questions_outside_the_tools_are_declined(ctx: ToolContext, question: str) -> None:
    ans = ask(ctx, question)
    assert ans["evidence"]["answerable"] is False
    assert ans["evidence"]["tool_calls"] == []
    assert "can't answer that offline" in ans["text"]


def test_viewer_cannot_run_a_cascade(ctx: ToolContext) -> None:
    ans = ask(ctx, "What if FDR-0001-01 fails?", role="viewer")
    assert ans["evidence"]["tool_calls"] == [] and ans["evidence"]["answerable"] is False
    assert "role" in ans["text"]


def test_a_tool_above_the_role_is_refused_and_audited(ctx: ToolContext) -> None:
    audit: list[tuple[ToolCallRecord, str]] = []
    a = Assistant(OfflineBrain(), ctx, role="viewer", audit=lambda r, role: audit.append((r, role)))
    rec = a.call_tool("run_cascade", '{"patient_zero": ["FDR-0001-01"], "scenario": null}')
    assert rec.status == "refused" and rec.result is not None and rec.result.error_field == "role"
    assert [(r.name, r.status, role) for r, role in audit] == [("run_cascade", "refused", "viewer")]


@pytest.mark.parametrize(
    ("name", "args", "field"),
    [
        ("nope", "{}", "name"),
        ("asset_detail", "{not json", "arguments"),
        ("asset_detail", "[1]", "arguments"),
        ("asset_detail", '{"asset_id": 5}', "asset_id"),
        ("find_assets", '{"limit": 100000}', "limit"),
    ],
)
def test_invalid_tool_calls_are_results_not_crashes(
    ctx: ToolContext, name: str, args: str, field: str
) -> None:
    rec = Assistant(OfflineBrain(), ctx, role="admin").call_tool(name, args)
    assert rec.status == "error"
    assert rec.result is not None and rec.result.error_field == field


@pytest.mark.parametrize("question", ["", "   ", "x" * (MAX_QUESTION_CHARS + 1)])
def test_empty_or_huge_question(ctx: ToolContext, question: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        list(Assistant(OfflineBrain(), ctx, role="viewer").run(question))
    assert err.value.field == "content"


def test_time_windows_parse() -> None:
    today = datetime.now(UTC).date()
    p = plan("usage of meter MTR-00000001 yesterday")
    assert p is not None and p.calls[0][1]["start_date"] == (today - timedelta(days=1)).isoformat()
    p = plan("energy use of meter MTR-00000001 last 3 days")
    assert p is not None and p.calls[0][1]["start_date"] == (today - timedelta(days=2)).isoformat()
    p = plan("voltage history of meter MTR-00000001 on 2026-11-30")
    assert p is not None and p.calls[0][1]["start_date"] == "2026-11-30"
    p = plan("how many outages in the last 7 days on feeder FDR-0001-01")
    assert p is not None and p.calls[0][0] == "list_outages"
    assert p.calls[0][1]["feeder_id"] == "FDR-0001-01" and p.calls[0][1]["since"] is not None
    p = plan("top 3 feeders by peak load")
    assert p is not None and p.calls[0][1]["limit"] == 3
    p = plan("compare the peak load of feeder FDR-0001-01 and feeder FDR-0001-02")
    assert p is not None and [c[1]["id"] for c in p.calls] == ["FDR-0001-01", "FDR-0001-02"]
    p = plan("What is SAIDI for feeder FDR-0001-01 excluding major events?")
    assert p is not None and p.calls[0][1] == {
        "level": "feeder",
        "key": "FDR-0001-01",
        "start": None,
        "end": None,
        "exclude_major_events": True,
    }
    p = plan("what if XFMR-0001-01-0001 fails in a hurricane")
    assert p is not None and p.calls[0][1] == {"patient_zero": ["XFMR-0001-01-0001"], "scenario": "hurricane"}


def test_grounding_check() -> None:
    rec = ToolCallRecord(
        "c1", "find_assets", {}, "ok", ToolResult(data={"total": 1234, "pct": 0.1234, "kw": 5.678})
    )
    assert ungrounded_numbers("There are 1,234 meters, 12.3% of them, 5.68 kW.", [rec]) == []
    assert ungrounded_numbers("There are 1,235 meters.", [rec]) == ["1,235"]
    assert ungrounded_numbers("Per IEEE 1366 on FDR-0001-01 at 2026-12-07T10:00Z", [rec]) == []
    assert ungrounded_numbers("The top 5", [rec], question="top 5 feeders") == []


class _Loop:
    name = "loop"

    def reply(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], on_delta: Any = None
    ) -> BrainReply:
        return BrainReply(tool_calls=[ToolCallRequest(f"c{len(messages)}", "grid_summary", "{}")])


def test_tool_loop_is_bounded(ctx: ToolContext) -> None:
    ans = answer_of(list(Assistant(_Loop(), ctx, role="viewer", max_steps=3).run("loop forever")))
    assert len(ans["evidence"]["tool_calls"]) == 3 and ans["evidence"]["answerable"] is False


# --- with the ops service over a real store ----------------------------------------------------------


@pytest.fixture
def ops_ctx(ctx: ToolContext, tiny_grid: Grid, tmp_path: Path) -> Iterator[ToolContext]:
    from fluxops.ops.models import MeterEvent
    from fluxops.ops.service import OpsService
    from fluxops.storage.duckdb_store import DuckDBStore
    from fluxops.storage.ops_store import OpsTableStore

    store = DuckDBStore(tmp_path / "ops.duckdb")
    store.load_grid(tiny_grid)
    svc = OpsService(OpsTableStore(store), tiny_grid, clock=lambda: T0 + timedelta(minutes=5))
    meters = tiny_grid.meters[tiny_grid.meters.transformer_id == "XFMR-0001-01-0001"].meter_id.tolist()
    svc.process_events([MeterEvent(m, "last_gasp", T0 + timedelta(seconds=i)) for i, m in enumerate(meters)])
    ctx.ops = svc
    yield ctx
    store.close()


def test_outages_and_confirmation_flow(ops_ctx: ToolContext) -> None:
    ans = ask(ops_ctx, "How many active outages are there?")
    assert ans["text"].startswith("1 active outages") and ans["evidence"]["ungrounded_numbers"] == []
    oid = ans["evidence"]["tool_calls"][0]["result"]["data"]["items"][0]["outage_id"]

    class Ack:
        name = "ack"

        def reply(
            self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], on_delta: Any = None
        ) -> BrainReply:
            if messages[-1]["role"] == "tool":
                return BrainReply(text=json.loads(messages[-1]["content"])["status"])
            return BrainReply(
                tool_calls=[ToolCallRequest("c1", "acknowledge_outage", json.dumps({"outage_id": oid}))]
            )

    a = Assistant(Ack(), ops_ctx, role="operator")
    first = answer_of(list(a.run("acknowledge it")))
    assert first["text"] == "confirmation_required"
    assert first["evidence"]["pending_confirmation"] == {
        "name": "acknowledge_outage",
        "arguments": {"outage_id": oid},
    }
    rec = ops_ctx.ops.list_outages(__import__("fluxops.ops.ports", fromlist=["OutageQuery"]).OutageQuery())[
        0
    ][0]  # type: ignore[union-attr]
    assert rec.acknowledged_utc is None  # nothing ran before the confirmation
    second = answer_of(list(a.run("yes", confirm=first["evidence"]["pending_confirmation"])))
    assert second["evidence"]["tool_calls"][0]["status"] == "ok"
    rec = ops_ctx.ops.list_outages(__import__("fluxops.ops.ports", fromlist=["OutageQuery"]).OutageQuery())[
        0
    ][0]  # type: ignore[union-attr]
    assert rec.acknowledged_by == "tester"
    viewer = Assistant(Ack(), ops_ctx, role="viewer")
    assert viewer.call_tool("acknowledge_outage", {"outage_id": oid}, confirmed=True).status == "refused"


def test_reliability_answer(ops_ctx: ToolContext) -> None:
    ans = ask(ops_ctx, "What is the system SAIDI?")
    assert tools_of(ans) == ["reliability_indices"]
    assert "SAIDI" in ans["text"] and ans["evidence"]["ungrounded_numbers"] == []


def test_cascade_answer_has_economics(ctx: ToolContext) -> None:
    from fluxops.cascade.context import build_context
    from fluxops.cascade.service import CascadeService
    from fluxops.storage.assistant_context import CascadeAdapter

    ctx.cascade = CascadeAdapter(CascadeService(None, None), lambda: build_context(ctx.grid))  # type: ignore[arg-type]
    ans = ask(ctx, "What if FDR-0001-01 fails in a summer peak?")
    assert tools_of(ans) == ["run_cascade"]
    data = ans["evidence"]["tool_calls"][0]["result"]["data"]
    assert f"{data['impact']['total_cost_usd']:,.2f} USD" in ans["text"]
    assert ans["evidence"]["ungrounded_numbers"] == []
    ans = ask(ctx, "What if NOPE-1 fails?")
    assert "no asset" in ans["text"]


def test_offline_acknowledge_waits_for_the_operators_confirmation(ops_ctx: ToolContext) -> None:
    ans = ask(ops_ctx, "How many active outages are there?")
    oid = ans["evidence"]["tool_calls"][0]["result"]["data"]["items"][0]["outage_id"]
    question = f"Acknowledge outage {oid}"
    a = Assistant(OfflineBrain(), ops_ctx, role="operator")
    first = answer_of(list(a.run(question)))
    assert first["evidence"]["pending_confirmation"] == {
        "name": "acknowledge_outage",
        "arguments": {"outage_id": oid},
    }
    assert "Confirm" in first["text"]
    second = answer_of(list(a.run(question, confirm=first["evidence"]["pending_confirmation"])))
    assert second["text"] == f"Outage {oid} is acknowledged (by tester)."
    assert second["evidence"]["tool_calls"][0]["status"] == "ok"
    viewer = answer_of(list(Assistant(OfflineBrain(), ops_ctx, role="viewer").run(question)))
    assert "acknowledge_outage" in viewer["text"] and viewer["evidence"]["tool_calls"] == []
