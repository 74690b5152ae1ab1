"""The offline brain: used when no model is configured. It parses the documented question types with
regular expressions into the same tool calls a model would make, and writes the answer from the tool
results only (numbers with units). A question it does not recognise gets a plain "I can't answer that
offline" with the list of what it can answer.

Question types (docs/assistant.md lists examples of each):
counts ("how many transformers on feeder X"), lists ("list the fuses on feeder X"), entity lookups
("tell me about X", "path from X to the substation"), meters on a transformer, meter history with a
time window ("usage of meter M yesterday", "... last 3 days", "... on 2026-12-06"), feeder/substation
peak load and top-k ("top 5 feeders by peak load"), comparisons ("compare feeder A and feeder B"),
transformer loading, voltage compliance, outages (active / last N days / by feeder), reliability
indices (SAIDI/SAIFI/CAIDI, by level, period, excluding major events), work orders, crews, "what if X
fails [in a hurricane]", document questions ("how do I ...", "what does IEEE 1366 say about ..."),
read-only SQL ("sql: SELECT ..."), the SQL views, and a grid summary.

Parsing is in ``offline_parse`` (on the words of ``offline_vocabulary``), the answer text in
``offline_answer``; this module is the brain that runs one then the other.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fluxops.assistant.engine import BrainReply, ToolCallRequest
from fluxops.assistant.offline_answer import (
    _compose,
    cannot_answer,
)
from fluxops.assistant.offline_parse import (
    Plan,
    plan,
)

__all__ = ["OfflineBrain", "Plan", "cannot_answer", "plan"]


class OfflineBrain:
    """`fluxops.assistant.engine.Brain` without a model (see the module docstring)."""

    name = "offline"

    def __init__(self, planner: Callable[[str], Plan | None] = plan) -> None:
        self.planner = planner

    def reply(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        on_delta: Callable[[str], None] | None = None,
    ) -> BrainReply:
        last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
        question = str(messages[last_user]["content"])
        after = messages[last_user + 1 :]
        p = self.planner(question)
        results = _results(after)
        if p is None and not results:
            return BrainReply(text=cannot_answer(), answerable=False)
        if not results:
            allowed = {t["function"]["name"] for t in tools}
            for name, _args in p.calls if p else ():
                if name not in allowed:
                    return BrainReply(
                        text=f"Answering that needs the {name} tool, which your role may not call.",
                        answerable=False,
                    )
            assert p is not None
            return BrainReply(
                tool_calls=[
                    ToolCallRequest(f"call_{i}", n, json.dumps(a)) for i, (n, a) in enumerate(p.calls)
                ]
            )
        if p is None:  # a confirmed call with a question we do not parse: report the call
            r = results[-1]
            text = f"{r['name']}: {r.get('status')}" + (f" — {r.get('error')}" if r.get("error") else "")
            return BrainReply(text=text)
        text = _compose(p, results)
        if on_delta is not None:
            on_delta(text)
        return BrainReply(text=text)


def _results(after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names: dict[str, tuple[str, dict[str, Any]]] = {}
    out: list[dict[str, Any]] = []
    for m in after:
        if m["role"] == "assistant":
            for c in m.get("tool_calls") or []:
                try:
                    args = json.loads(c["function"]["arguments"])
                except (ValueError, TypeError):
                    args = {}
                names[c["id"]] = (c["function"]["name"], args)
        elif m["role"] == "tool":
            body = (
                json.loads(m["content"])
                if m["content"].startswith("{")
                else {"status": "error", "error": m["content"]}
            )
            name, args = names.get(m["tool_call_id"], ("?", {}))
            out.append({**body, "name": name, "args": args})
    return out
