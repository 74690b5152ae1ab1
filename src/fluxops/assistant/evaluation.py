"""Evaluation of the assistant: question sets whose gold answers are computed by code from the store.

A question set is JSON lines; each question names a *gold recipe* (``gold``: a kind and its inputs),
never a typed-in answer. At evaluation time `gold_for` computes the gold from the grid and the services
(pandas over the grid tables, the ops store, the AMI lake, the cascade service), and `score` checks the
answer against it:

- tool selection: every tool in ``tools`` was called;
- numbers: every gold number appears in the answer text at the precision shown (or within 0.5 %);
- text: every gold string (an id, a document) appears in the answer or its citations;
- grounding: no number in the answer that no tool produced (`fluxops.assistant.engine.ungrounded_numbers`);
- refusals: a question outside the tools is answered "cannot" (``answerable`` false) with no tool call;
  a question above the caller's role runs no tool it may not call (a permission violation otherwise).

`build_question_set` writes the public set over a grid (ids picked deterministically).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import numpy as np

from fluxops.assistant.engine import _NUMBER, Assistant
from fluxops.assistant.tools import ToolContext
from fluxops.core.errors import FluxOpsError, InvalidInputError
from fluxops.ops.ports import OutageQuery, WorkOrderQuery
from fluxops.ops.query import STATUS_ALIASES

NUMBER_REL_TOL = 0.005


@dataclass(frozen=True)
class EvalQuestion:
    qid: str
    question: str
    category: str
    tools: tuple[str, ...]
    gold: dict[str, Any]
    role: str = "operator"

    @staticmethod
    def from_dict(d: dict[str, Any]) -> EvalQuestion:
        try:
            return EvalQuestion(
                str(d["qid"]),
                str(d["question"]),
                str(d["category"]),
                tuple(d.get("tools", ())),
                dict(d["gold"]),
                str(d.get("role", "operator")),
            )
        except (KeyError, TypeError) as exc:
            raise InvalidInputError(f"not an evaluation question: {exc}", field="question") from None


@dataclass
class Gold:
    numbers: list[float] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    answerable: bool = True
    forbidden_tools: tuple[str, ...] = ()


@dataclass
class EvalResult:
    qid: str
    category: str
    question: str
    passed: bool
    tool_ok: bool
    numbers_ok: bool
    texts_ok: bool
    grounded: bool
    refusal_ok: bool
    permission_violation: bool
    latency_ms: float
    tools_called: list[str]
    answer: str
    gold: dict[str, Any]
    reasons: list[str]


# --- gold ------------------------------------------------------------------------------------------


def gold_for(q: EvalQuestion, ctx: ToolContext) -> Gold:
    g = q.gold
    kind = g["kind"]
    grid = ctx.grid
    if kind == "count":
        df = getattr(grid, g["table"])
        for col, val in (g.get("where") or {}).items():
            df = df[df[col] == val]
        return Gold(numbers=[float(len(df))])
    if kind == "transformer_meters":
        return Gold(numbers=[float((grid.meters.transformer_id == g["transformer_id"]).sum())])
    if kind == "path":
        row = grid.meters[grid.meters.meter_id == g["asset_id"]]
        if len(row):
            fid, sid = row.feeder_id.iloc[0], row.substation_id.iloc[0]
        else:
            t = grid.transformers[grid.transformers.transformer_id == g["asset_id"]]
            fid, sid = t.feeder_id.iloc[0], t.substation_id.iloc[0]
        head = grid.feeders.loc[grid.feeders.feeder_id == fid, "head_device_id"].iloc[0]
        return Gold(texts=[str(head), str(sid)])
    if kind == "feeder_of":
        t = grid.transformers[grid.transformers.transformer_id == g["asset_id"]]
        return Gold(texts=[str(t.feeder_id.iloc[0])])
    if kind == "summary":
        return Gold(numbers=[float(len(grid.substations)), float(len(grid.feeders)), float(len(grid.meters))])
    if kind == "sql_count":
        df = getattr(grid, g["table"])
        for col, val in (g.get("where") or {}).items():
            df = df[df[col] == val]
        return Gold(numbers=[float(len(df))])
    if kind == "outages":
        ops = ctx.need("ops")
        statuses = STATUS_ALIASES.get(g["status"]) if g["status"] != "all" else None
        _items, total = ops.list_outages(
            OutageQuery(statuses=statuses, feeder_id=g.get("feeder_id"), limit=1)
        )
        return Gold(numbers=[float(total)])
    if kind == "reliability":
        ops = ctx.need("ops")
        rep = ops.reliability_report(level=g["level"], start_utc=None, end_utc=None)
        rows = [r for r in rep.rows if g.get("key") is None or r.key == g["key"]]
        return Gold(numbers=[round(float(rows[0].saidi_min), 2)] if rows else [])
    if kind == "work_orders":
        ops = ctx.need("ops")
        wos = ops.dispatch.list_work_orders(
            WorkOrderQuery(statuses=("open", "assigned", "in_progress"), limit=500)
        )
        return Gold(numbers=[float(len(wos))])
    if kind == "crews":
        ops = ctx.need("ops")
        crews = ops.dispatch.list_crews()
        return Gold(numbers=[float(len(crews))])
    if kind == "meter_kwh":
        ami = ctx.need("ami")
        d = date.fromisoformat(g["date"]) if g.get("date") else None
        t = ami.readings(meter_id=g["meter_id"], start=d, end=d, limit=96 * 32)
        kwh = float(np.asarray(t.column("kwh_delivered")).sum()) if t.num_rows else 0.0
        return Gold(numbers=[round(kwh, 2)])
    if kind == "feeder_peak":
        ami = ctx.need("ami")
        d = date.fromisoformat(g["date"]) if g.get("date") else None
        rows = ami.group_summary(g["level"], start=d, end=d, limit=100_000).to_pylist()
        hit = [r for r in rows if r[f"{g['level']}_id"] == g["id"]]
        return Gold(numbers=[round(float(hit[0]["peak_kw"]), 1)] if hit else [])
    if kind == "top_feeders":
        ami = ctx.need("ami")
        rows = ami.group_summary("feeder", start=None, end=None, limit=g["k"]).to_pylist()
        return Gold(texts=[str(r["feeder_id"]) for r in rows])
    if kind == "voltage":
        ami = ctx.need("ami")
        t = ami.voltage_meters(day=None, status=None, limit=10_000_000)
        st = np.asarray(t.column("status")) if t.num_rows else np.asarray([])
        return Gold(numbers=[float((st != "normal").sum())])
    if kind == "docs":
        return Gold(texts=[g["doc_id"]])
    if kind == "cascade":
        cascade = ctx.need("cascade")
        out = cascade.economic_impact(patient_zero=g["patient_zero"], scenario=g["scenario"])
        return Gold(
            numbers=[float(out["cascade"]["customers_out"]), round(float(out["impact"]["total_cost_usd"]), 2)]
        )
    if kind == "unanswerable":
        return Gold(answerable=False)
    if kind == "forbidden":
        return Gold(answerable=False, forbidden_tools=tuple(g["tools"]))
    raise InvalidInputError(f"unknown gold kind {kind!r}", field="gold")


# --- scoring ---------------------------------------------------------------------------------------


def _numbers(text: str) -> list[tuple[float, int]]:
    out = []
    for m in _NUMBER.finditer(text):
        raw = m.group()
        try:
            out.append((float(raw.replace(",", "")), len(raw.split(".")[1]) if "." in raw else 0))
        except ValueError:
            continue
    return out


def number_in(value: float, text: str) -> bool:
    """``value`` is in ``text`` at the precision shown; a non-integral value also within 0.5 % (a count
    must be exact)."""
    rel = 0.0 if float(value).is_integer() else NUMBER_REL_TOL * abs(value)
    for x, decimals in _numbers(text):
        if abs(x - value) <= 0.5 * 10.0**-decimals + 1e-9 or abs(x - value) <= rel:
            return True
    return False


def score(q: EvalQuestion, gold: Gold, answer: dict[str, Any], latency_ms: float) -> EvalResult:
    text = answer.get("text", "")
    ev = answer.get("evidence", {})
    calls = ev.get("tool_calls", [])
    called = [c["name"] for c in calls]
    ran = [c["name"] for c in calls if c.get("status") == "ok"]
    cited = " ".join(c.get("doc_id", "") for c in ev.get("citations", []))
    reasons: list[str] = []
    tool_ok = all(t in called for t in q.tools)
    if not tool_ok:
        reasons.append(f"tools {list(q.tools)} not all called ({called})")
    numbers_ok = all(number_in(v, text) for v in gold.numbers)
    if not numbers_ok:
        reasons.append(f"gold numbers {gold.numbers} not all in the answer")
    texts_ok = all(t in text or t in cited for t in gold.texts)
    if not texts_ok:
        reasons.append(f"gold texts {gold.texts} not all in the answer")
    grounded = not ev.get("ungrounded_numbers")
    if not grounded:
        reasons.append(f"ungrounded numbers {ev.get('ungrounded_numbers')}")
    violation = any(t in ran for t in gold.forbidden_tools)
    if violation:
        reasons.append("ran a tool above the caller's role")
    refusal_ok = True
    if not gold.answerable:
        refusal_ok = not ev.get("answerable", True) and not ran
        if not refusal_ok:
            reasons.append("should have said it cannot answer")
    passed = tool_ok and numbers_ok and texts_ok and grounded and refusal_ok and not violation
    return EvalResult(
        q.qid,
        q.category,
        q.question,
        passed,
        tool_ok,
        numbers_ok,
        texts_ok,
        grounded,
        refusal_ok,
        violation,
        latency_ms,
        called,
        text,
        asdict(gold),
        reasons,
    )


def run_eval(
    questions: Iterable[EvalQuestion],
    ctx: ToolContext,
    make_assistant: Callable[[str], Assistant],
) -> tuple[list[EvalResult], dict[str, Any]]:
    """Ask every question (a fresh thread each), score it; returns results and a summary."""
    results: list[EvalResult] = []
    for q in questions:
        try:
            gold = gold_for(q, ctx)
        except (FluxOpsError, LookupError) as exc:  # a service missing, or ids of another grid
            msg = exc.message if isinstance(exc, FluxOpsError) else f"{type(exc).__name__}: {exc}"
            results.append(
                EvalResult(
                    q.qid,
                    q.category,
                    q.question,
                    False,
                    False,
                    False,
                    False,
                    True,
                    True,
                    False,
                    0.0,
                    [],
                    "",
                    dict(q.gold),
                    [f"gold unavailable: {msg}"],
                )
            )
            continue
        assistant = make_assistant(q.role)
        t0 = time.perf_counter()
        answer: dict[str, Any] = {}
        for ev in assistant.run(q.question):
            if ev["event"] == "answer":
                answer = ev["data"]
        results.append(score(q, gold, answer, (time.perf_counter() - t0) * 1000))
    return results, summarize(results)


def summarize(results: list[EvalResult]) -> dict[str, Any]:
    n = len(results)
    lat = sorted(r.latency_ms for r in results if r.latency_ms > 0)

    def pct(k: float) -> float | None:
        if not lat:
            return None
        return round(lat[min(len(lat) - 1, round(k * (len(lat) - 1)))], 1)

    by_cat: dict[str, dict[str, int]] = {}
    for r in results:
        c = by_cat.setdefault(r.category, {"questions": 0, "passed": 0})
        c["questions"] += 1
        c["passed"] += int(r.passed)
    return {
        "questions": n,
        "passed": sum(r.passed for r in results),
        "accuracy": round(sum(r.passed for r in results) / n, 4) if n else None,
        "tool_selection_accuracy": round(sum(r.tool_ok for r in results) / n, 4) if n else None,
        "ungrounded_answers": sum(not r.grounded for r in results),
        "permission_violations": sum(r.permission_violation for r in results),
        "latency_ms_p50": pct(0.5),
        "latency_ms_p95": pct(0.95),
        "latency_ms_mean": round(statistics.fmean(lat), 1) if lat else None,
        "by_category": by_cat,
    }


def load_questions(lines: Iterable[str]) -> list[EvalQuestion]:
    out = []
    for i, line in enumerate(lines, start=1):
        if line.strip():
            try:
                out.append(EvalQuestion.from_dict(json.loads(line)))
            except json.JSONDecodeError as exc:
                raise InvalidInputError(f"line {i} is not JSON: {exc.msg}", field="file") from None
    return out


# --- the public question set -----------------------------------------------------------------------


def _pick(values: Any, k: int, seed: int) -> list[str]:
    arr = sorted(str(v) for v in values)
    if not arr:
        return []
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(arr), size=min(k, len(arr)), replace=False)
    return [arr[i] for i in sorted(idx)]


DOC_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("How do I write and check a switching order?", "switching-orders"),
    ("What are the steps of outage restoration after a feeder lockout?", "outage-restoration"),
    ("When does the control room declare storm mode?", "storm-mode"),
    ("How should we pick up load after a long outage to avoid cold load pickup trips?", "cold-load-pickup"),
    ("What does IEEE 1366 say about Major Event Days?", "ieee-1366"),
    ("How is SAIDI defined?", "ieee-1366"),
    ("What hot-spot temperature does IEEE C57.91 use for normal life?", "ieee-c57-91"),
    ("What are ANSI C84.1 range A service voltage limits?", "ansi-c84-1"),
    ("How does the ICE method estimate the cost of an interruption?", "ice-method"),
    ("How do I upload a document for the assistant?", "product-manual"),
    ("What is the loading_pct column in the data dictionary?", "data-dictionary"),
    ("What is cold load pickup?", "cold-load-pickup"),
)
UNANSWERABLE: tuple[str, ...] = (
    "What will the stock price of the utility be next year?",
    "Who won the football game last night?",
    "How much did customer CUST-00000001 pay on their last bill?",
    "Write me a poem about transformers.",
    "What is the salary of the crew foreman?",
    "Translate hello into French.",
)


def build_question_set(
    ctx: ToolContext, *, seed: int = 7, ami: bool = True, ops: bool = True
) -> list[dict[str, Any]]:
    """The public question set over ``ctx``'s grid (≥ 80 questions on ``demo``), as JSON-able dicts."""
    g = ctx.grid
    qs: list[dict[str, Any]] = []

    def add(
        category: str, question: str, tools: list[str], gold: dict[str, Any], role: str = "operator"
    ) -> None:
        qs.append(
            {
                "qid": f"q{len(qs) + 1:03d}",
                "question": question,
                "category": category,
                "tools": tools,
                "gold": gold,
                "role": role,
            }
        )

    feeders = _pick(g.feeders.feeder_id, 6, seed)
    subs = _pick(g.substations.substation_id, 3, seed + 1)
    xfmrs = _pick(g.transformers.transformer_id, 6, seed + 2)
    meters = _pick(g.meters.meter_id, 6, seed + 3)
    for f in feeders[:4]:
        add(
            "count",
            f"How many transformers are on feeder {f}?",
            ["find_assets"],
            {"kind": "count", "table": "transformers", "where": {"feeder_id": f}},
        )
        add(
            "count",
            f"How many meters are on feeder {f}?",
            ["find_assets"],
            {"kind": "count", "table": "meters", "where": {"feeder_id": f}},
        )
        add(
            "count",
            f"How many fuses are on feeder {f}?",
            ["find_assets"],
            {"kind": "count", "table": "devices", "where": {"feeder_id": f, "device_type": "fuse"}},
        )
    for s in subs:
        add(
            "count",
            f"How many feeders does substation {s} have?",
            ["find_assets"],
            {"kind": "count", "table": "feeders", "where": {"substation_id": s}},
        )
        add(
            "count",
            f"Number of poles at substation {s}?",
            ["find_assets"],
            {"kind": "count", "table": "poles", "where": {"substation_id": s}},
        )
    add(
        "count", "How many substations are there?", ["find_assets"], {"kind": "count", "table": "substations"}
    )
    add("count", "How many customers do we serve?", ["find_assets"], {"kind": "count", "table": "meters"})
    add(
        "count",
        "How many reclosers are there?",
        ["find_assets"],
        {"kind": "count", "table": "devices", "where": {"device_type": "recloser"}},
    )
    add("summary", "Give me a summary overview of the grid", ["grid_summary"], {"kind": "summary"})
    for x in xfmrs[:5]:
        add(
            "transformer",
            f"How many meters are on transformer {x}?",
            ["transformer_meters"],
            {"kind": "transformer_meters", "transformer_id": x},
        )
    for x in xfmrs[5:6]:
        add("lookup", f"Tell me about {x}", ["asset_detail"], {"kind": "feeder_of", "asset_id": x})
    for m in meters[:4]:
        add(
            "lookup",
            f"What is the path from {m} to the substation?",
            ["asset_detail"],
            {"kind": "path", "asset_id": m},
        )
    for x in xfmrs[:3]:
        add(
            "lookup",
            f"Which substation feeds {x}? Show its path",
            ["asset_detail"],
            {"kind": "path", "asset_id": x},
        )
    for f in feeders[:3]:
        add(
            "sql",
            f"sql: SELECT count(*) AS n FROM meters WHERE feeder_id = '{f}'",
            ["run_sql"],
            {"kind": "sql_count", "table": "meters", "where": {"feeder_id": f}},
        )
    add(
        "sql",
        "SELECT count(*) AS n FROM transformers WHERE mounting = 'pad'",
        ["run_sql"],
        {"kind": "sql_count", "table": "transformers", "where": {"mounting": "pad"}},
    )
    add(
        "sql",
        "sql: SELECT count(*) FROM customers WHERE customer_class = 'commercial'",
        ["run_sql"],
        {"kind": "sql_count", "table": "customers", "where": {"customer_class": "commercial"}},
    )
    for question, doc in DOC_QUESTIONS:
        add("docs", question, ["search_documents"], {"kind": "docs", "doc_id": doc})
    for question in UNANSWERABLE:
        add("refusal", question, [], {"kind": "unanswerable"})
    for f in feeders[:2]:
        add(
            "permission",
            f"What if {f} fails?",
            [],
            {"kind": "forbidden", "tools": ["run_cascade"]},
            role="viewer",
        )
    for f in feeders[:3]:
        add(
            "cascade",
            f"What if {f} fails in a summer peak?",
            ["run_cascade"],
            {"kind": "cascade", "patient_zero": [f], "scenario": "summer_peak"},
        )
    xf_cascade = xfmrs[0]
    add(
        "cascade",
        f"What happens if {xf_cascade} fails?",
        ["run_cascade"],
        {"kind": "cascade", "patient_zero": [xf_cascade], "scenario": "normal"},
    )
    if ops:
        add(
            "outages",
            "How many active outages are there?",
            ["list_outages"],
            {"kind": "outages", "status": "active"},
        )
        add(
            "outages",
            "How many outages were restored (history)?",
            ["list_outages"],
            {"kind": "outages", "status": "history"},
        )
        add(
            "outages",
            "How many outages are on record in total?",
            ["list_outages"],
            {"kind": "outages", "status": "all"},
        )
        for f in feeders[:3]:
            add(
                "outages",
                f"How many outages has feeder {f} had?",
                ["list_outages"],
                {"kind": "outages", "status": "all", "feeder_id": f},
            )
        add(
            "reliability",
            "What is the system SAIDI?",
            ["reliability_indices"],
            {"kind": "reliability", "level": "system"},
        )
        for f in feeders[:3]:
            add(
                "reliability",
                f"What is SAIDI for feeder {f}?",
                ["reliability_indices"],
                {"kind": "reliability", "level": "feeder", "key": f},
            )
        for s in subs[:2]:
            add(
                "reliability",
                f"Reliability indices for substation {s}",
                ["reliability_indices"],
                {"kind": "reliability", "level": "substation", "key": s},
            )
        add(
            "work_orders",
            "How many open work orders are there?",
            ["list_work_orders"],
            {"kind": "work_orders"},
        )
        add("crews", "How many crews do we have?", ["list_crews"], {"kind": "crews"})
    if ami:
        for m in meters[:5]:
            add(
                "ami",
                f"What was the energy usage of meter {m}?",
                ["meter_history"],
                {"kind": "meter_kwh", "meter_id": m},
            )
        for f in feeders[:5]:
            add(
                "ami",
                f"What was the peak load of feeder {f}?",
                ["feeder_load"],
                {"kind": "feeder_peak", "level": "feeder", "id": f},
            )
        for s in subs[:2]:
            add(
                "ami",
                f"Peak demand of substation {s}?",
                ["feeder_load"],
                {"kind": "feeder_peak", "level": "substation", "id": s},
            )
        add("ami", "Top 5 feeders by peak load", ["feeder_load"], {"kind": "top_feeders", "k": 5})
        add("ami", "Top 3 feeders by peak demand", ["feeder_load"], {"kind": "top_feeders", "k": 3})
        add(
            "voltage",
            "How many meters were outside ANSI range A voltage?",
            ["voltage_compliance"],
            {"kind": "voltage"},
        )
        add("voltage", "Voltage compliance report", ["voltage_compliance"], {"kind": "voltage"})
        if len(feeders) >= 2:
            add(
                "compare",
                f"Compare the peak load of feeder {feeders[0]} and feeder {feeders[1]}",
                ["feeder_load"],
                {"kind": "feeder_peak", "level": "feeder", "id": feeders[0]},
            )
    return qs
