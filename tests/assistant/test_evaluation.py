"""Evaluation: the shipped public set holds recipes (never typed-in answers), the gold is computed from
the grid, the scoring catches wrong numbers, missing tools, ungrounded figures and unrefused questions;
the CLI runs it end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from fluxops.assistant.engine import Assistant
from fluxops.assistant.evaluation import (
    EvalQuestion,
    Gold,
    build_question_set,
    load_questions,
    number_in,
    run_eval,
    score,
)
from fluxops.assistant.offline import OfflineBrain
from fluxops.assistant.tools import ToolContext
from fluxops.grid.models import Grid


def test_public_set_is_recipes_over_demo() -> None:
    text = (resources.files("fluxops.assistant") / "evalsets" / "demo.jsonl").read_text(encoding="utf-8")
    qs = load_questions(text.splitlines())
    assert len(qs) >= 80
    assert len({q.qid for q in qs}) == len(qs)
    for q in qs:
        # a gold is a recipe: its kind and inputs (ids, dates, names), never an answer value
        assert set(q.gold) <= {
            "kind",
            "table",
            "where",
            "transformer_id",
            "asset_id",
            "status",
            "feeder_id",
            "level",
            "key",
            "meter_id",
            "date",
            "id",
            "k",
            "doc_id",
            "patient_zero",
            "scenario",
            "tools",
        }, q.gold
    cats = {q.category for q in qs}
    assert {
        "count",
        "lookup",
        "sql",
        "docs",
        "refusal",
        "permission",
        "cascade",
        "outages",
        "reliability",
        "ami",
        "voltage",
        "compare",
    } <= cats


def test_offline_engine_on_the_tiny_grid(ctx: ToolContext, tiny_grid: Grid) -> None:
    from fluxops.cascade.context import build_context
    from fluxops.cascade.service import CascadeService
    from fluxops.storage.assistant_context import CascadeAdapter

    ctx.cascade = CascadeAdapter(CascadeService(None, None), lambda: build_context(tiny_grid))  # type: ignore[arg-type]
    qs = [EvalQuestion.from_dict(d) for d in build_question_set(ctx, ami=False, ops=False)]
    assert len(qs) >= 50
    results, summary = run_eval(qs, ctx, lambda role: Assistant(OfflineBrain(), ctx, role=role))
    failed = [(r.qid, r.question, r.reasons) for r in results if not r.passed]
    assert failed == []
    assert summary["accuracy"] == 1.0 and summary["permission_violations"] == 0
    assert summary["ungrounded_answers"] == 0 and summary["latency_ms_p50"] is not None


def _answer(text: str, calls: list[dict[str, Any]], **ev: Any) -> dict[str, Any]:
    return {
        "text": text,
        "evidence": {
            "tool_calls": calls,
            "citations": [],
            "ungrounded_numbers": [],
            "answerable": True,
            **ev,
        },
    }


def test_scoring_catches_what_is_wrong() -> None:
    q = EvalQuestion("q", "how many?", "count", ("find_assets",), {"kind": "count", "table": "meters"})
    ok = [{"name": "find_assets", "status": "ok"}]
    assert score(q, Gold(numbers=[1234.0]), _answer("There are 1,234 meters.", ok), 1.0).passed
    r = score(q, Gold(numbers=[1234.0]), _answer("There are 1,235 meters.", ok), 1.0)
    assert not r.passed and not r.numbers_ok
    r = score(q, Gold(numbers=[1234.0]), _answer("There are 1,234 meters.", []), 1.0)
    assert not r.passed and not r.tool_ok
    r = score(
        q, Gold(numbers=[1234.0]), _answer("There are 1,234 meters.", ok, ungrounded_numbers=["7"]), 1.0
    )
    assert not r.passed and not r.grounded
    refuse = EvalQuestion("r", "poem", "refusal", (), {"kind": "unanswerable"})
    assert not score(refuse, Gold(answerable=False), _answer("Here is a poem", []), 1.0).passed
    assert score(refuse, Gold(answerable=False), _answer("I can't", [], answerable=False), 1.0).passed
    perm = EvalQuestion(
        "p", "what if", "permission", (), {"kind": "forbidden", "tools": ["run_cascade"]}, "viewer"
    )
    ran = [{"name": "run_cascade", "status": "ok"}]
    r = score(
        perm,
        Gold(answerable=False, forbidden_tools=("run_cascade",)),
        _answer("x", ran, answerable=False),
        1.0,
    )
    assert r.permission_violation and not r.passed


@pytest.mark.parametrize(
    ("value", "text", "ok"),
    [
        (0.78, "SAIDI 0.78 min", True),
        (0.7849, "SAIDI 0.78 min", True),
        (0.79, "SAIDI 0.78 min", False),
        (12345.6, "12,345.6 kWh", True),
        (100.04, "100.3 kW", True),
        (100.0, "101 kW", False),
        (1234.0, "1,235 meters", False),
    ],
)
def test_number_matching(value: float, text: str, ok: bool) -> None:
    assert number_in(value, text) is ok


def test_cli_ask_eval_and_docs(tmp_path: Path, tiny_grid: Grid) -> None:
    from fluxops.storage.duckdb_store import DuckDBStore

    store = DuckDBStore(tmp_path / "fluxops.duckdb")
    store.load_grid(tiny_grid)
    store.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLUXOPS_")}
    env["FLUXOPS_DATA_DIR"] = str(tmp_path)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", "from fluxops.cli import main; main()", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )

    r = run("assistant", "ask", "How many feeders are there?", "--evidence")
    assert r.returncode == 0, r.stderr
    assert f"There are {len(tiny_grid.feeders)} feeders." in r.stdout and '"find_assets"' in r.stdout
    qfile = tmp_path / "q.jsonl"
    qfile.write_text(
        json.dumps(
            {
                "qid": "a",
                "question": "How many poles are there?",
                "category": "count",
                "tools": ["find_assets"],
                "gold": {"kind": "count", "table": "poles"},
            }
        )
        + "\n"
    )
    r = run("assistant", "eval", str(qfile), "--report", str(tmp_path / "rep.json"))
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "rep.json").read_text())["summary"]["accuracy"] == 1.0
    doc = tmp_path / "vault.md"
    doc.write_text("# Vault entry\n\n## Gas test\n\nTest the vault atmosphere for combustible gas.\n")
    r = run("docs", "add", str(doc))
    assert r.returncode == 0 and "added doc_" in r.stdout, r.stderr
    r = run("docs", "add", str(tmp_path / "manual.doc"))
    assert r.returncode == 2 and ".doc is not supported" in r.stderr
    r = run("assistant", "ask", "How do I test the vault atmosphere for gas?", "--evidence")
    assert r.returncode == 0 and "Vault entry" in r.stdout, r.stderr
