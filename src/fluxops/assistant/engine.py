"""The tool loop: a brain proposes tool calls, the engine checks and runs them, the brain answers.

Checks on every call, whatever the brain: the tool exists, the arguments are a JSON object its strict
schema allows, the principal's role reaches the tool's role, a mutating tool runs only when the operator
confirmed exactly that call. Every call (run, refused or failed) goes to the ``audit`` callback. The
loop is bounded (`MAX_STEPS` brain turns). The answer carries its evidence, and every number in its text
is checked against the numbers the tools returned (`ungrounded_numbers`).
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from fluxops.assistant.models import Answer, ToolCallRecord, ToolResult
from fluxops.assistant.tools import ROLE_ORDER, TOOLS, ToolContext, tool_specs, validate_arguments
from fluxops.core.errors import FluxOpsError, InvalidInputError

MAX_STEPS = 6
MAX_QUESTION_CHARS = 4000
MAX_TOOL_CONTENT_CHARS = 12_000  # what one tool result may add to the conversation sent to a model
MAX_HISTORY_MESSAGES = 20  # earlier turns of a thread sent to the model (the thread keeps them all)

SYSTEM_PROMPT = """You are the operator's assistant of Flux Operations Center, an operations center for an \
electric distribution utility. Answer from tool results only: every number you state must come from a \
tool result in this conversation, with its unit. Call tools to look things up; prefer the specific tools \
(assets, outages, reliability, AMI load, voltage, cascade) and use run_sql (DuckDB SQL, read-only, call \
describe_views first) only when none fits. Cite documents you use as [document § heading, line N] \
(with "page P, " before the line when the search result has a page). When the tools cannot answer, \
say so plainly. Never reveal credentials or configuration secrets."""


@dataclass
class ToolCallRequest:
    call_id: str
    name: str
    arguments: str  # JSON text as the model sent it


@dataclass
class BrainReply:
    text: str | None = None
    tool_calls: list[ToolCallRequest] = field(default_factory=list)
    answerable: bool = True


class Brain(Protocol):
    name: str

    def reply(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        on_delta: Callable[[str], None] | None = None,
    ) -> BrainReply:
        """The next step: tool calls to make, or the final text (streamed through ``on_delta``)."""
        ...


Event = dict[str, Any]  # {"event": name, "data": {...}}
Audit = Callable[[ToolCallRecord, str], None]  # (record, role)


def check_question(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError("the question is empty", field="content")
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidInputError(
            f"the question is longer than {MAX_QUESTION_CHARS} characters", field="content"
        )
    return text.strip()


class Assistant:
    def __init__(
        self,
        brain: Brain,
        ctx: ToolContext,
        *,
        role: str,
        audit: Audit | None = None,
        max_steps: int = MAX_STEPS,
    ) -> None:
        if role not in ROLE_ORDER:
            raise InvalidInputError(f"unknown role {role!r}", field="role")
        self.brain = brain
        self.ctx = ctx
        self.role = role
        self.audit = audit
        self.max_steps = max_steps

    # --- one tool call ----------------------------------------------------------------------------

    def call_tool(
        self, name: str, raw_args: Any, *, call_id: str | None = None, confirmed: bool = False
    ) -> ToolCallRecord:
        """Check and run one call (see the module docstring); never raises for a bad call."""
        cid = call_id or f"call_{uuid.uuid4().hex[:12]}"
        t0 = time.perf_counter()
        args: Any = raw_args
        if isinstance(raw_args, str):
            try:
                args = json.loads(raw_args) if raw_args.strip() else {}
            except json.JSONDecodeError as exc:
                return self._done(
                    cid, name, {}, "error", _err(f"arguments are not JSON: {exc.msg}", "arguments"), t0
                )
        shown = args if isinstance(args, dict) else {"_raw": args}
        tool = TOOLS.get(name)
        if tool is None:
            msg = f"unknown tool {name!r}; tools: {', '.join(TOOLS)}"
            return self._done(cid, name, shown, "error", _err(msg, "name"), t0)
        if ROLE_ORDER[self.role] < ROLE_ORDER[tool.role]:
            msg = f"{name} needs the {tool.role} role; you are {self.role}"
            return self._done(cid, name, shown, "refused", _err(msg, "role"), t0)
        try:
            valid = validate_arguments(tool, args)
        except InvalidInputError as exc:
            return self._done(cid, name, shown, "error", _err(exc.message, exc.field), t0)
        if tool.mutating and not confirmed:
            msg = f"{name} changes data: the operator must confirm this call before it runs"
            return self._done(cid, name, valid, "confirmation_required", _err(msg, "confirm"), t0)
        try:
            result = tool.handler(self.ctx, valid)
        except FluxOpsError as exc:
            return self._done(cid, name, valid, "error", _err(exc.message, getattr(exc, "field", None)), t0)
        return self._done(cid, name, valid, "ok", result, t0)

    def _done(
        self, cid: str, name: str, args: dict[str, Any], status: str, result: ToolResult, t0: float
    ) -> ToolCallRecord:
        rec = ToolCallRecord(cid, name, args, status, result, (time.perf_counter() - t0) * 1000)
        if self.audit is not None:
            self.audit(rec, self.role)
        return rec

    # --- one turn ---------------------------------------------------------------------------------

    def run(
        self,
        question: str,
        history: Sequence[dict[str, Any]] = (),
        *,
        confirm: dict[str, Any] | None = None,
    ) -> Iterator[Event]:
        """Events of one turn: ``tool_call``, ``tool_result``, ``delta`` (answer text as it streams),
        then ``answer`` with the text and its evidence (or ``error``)."""
        question = check_question(question)
        messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM_PROMPT}]
        messages += [
            {"role": m["role"], "content": m["content"]}
            for m in list(history)[-MAX_HISTORY_MESSAGES:]
            if m.get("role") in ("user", "assistant")
        ]
        messages.append({"role": "user", "content": question})
        records: list[ToolCallRecord] = []
        pending: dict[str, Any] | None = None
        specs = tool_specs(self.role)
        if confirm is not None:
            rec = self.call_tool(str(confirm.get("name")), confirm.get("arguments") or {}, confirmed=True)
            yield {
                "event": "tool_call",
                "data": {"call_id": rec.call_id, "name": rec.name, "arguments": rec.arguments},
            }
            yield {"event": "tool_result", "data": rec.to_dict()}
            records.append(rec)
            messages += _exchange([rec])
        deltas: list[str] = []

        def on_delta(text: str) -> None:
            deltas.append(text)

        answerable = True
        text: str | None = None
        for _ in range(self.max_steps):
            reply = self.brain.reply(messages, specs, on_delta)
            for d in deltas:
                yield {"event": "delta", "data": {"text": d}}
            deltas.clear()
            if not reply.tool_calls:
                text, answerable = reply.text or "", reply.answerable
                break
            step: list[ToolCallRecord] = []
            for call in reply.tool_calls:
                yield {
                    "event": "tool_call",
                    "data": {"call_id": call.call_id, "name": call.name, "arguments": call.arguments},
                }
                rec = self.call_tool(call.name, call.arguments, call_id=call.call_id)
                if rec.status == "confirmation_required":
                    pending = {"name": rec.name, "arguments": rec.arguments}
                yield {"event": "tool_result", "data": rec.to_dict()}
                step.append(rec)
            records += step
            messages += _exchange(step, [c.arguments for c in reply.tool_calls])
        if text is None:
            text = (
                f"I stopped after {self.max_steps} tool steps without an answer; please narrow the question."
            )
            answerable = False
        answer = Answer(
            text=text,
            tool_calls=records,
            brain=self.brain.name,
            answerable=answerable,
            pending_confirmation=pending,
        )
        evidence = answer.evidence()
        evidence["ungrounded_numbers"] = ungrounded_numbers(text, records, question)
        yield {"event": "answer", "data": {"text": text, "evidence": evidence}}


def _err(message: str, fieldname: str | None) -> ToolResult:
    return ToolResult(data={}, error=message, error_field=fieldname)


def tool_content(rec: ToolCallRecord) -> str:
    """A tool result as the conversation carries it (JSON, cut to `MAX_TOOL_CONTENT_CHARS`)."""
    body: dict[str, Any] = {"status": rec.status}
    if rec.result is not None:
        if rec.result.error:
            body["error"] = rec.result.error
            body["field"] = rec.result.error_field
        else:
            body["data"] = rec.result.data
            body["row_count"] = rec.result.row_count
    text = json.dumps(body, default=str)
    for keep in (10, 3, 0):  # too long: shorten every list (valid JSON always), say so
        if len(text) <= MAX_TOOL_CONTENT_CHARS:
            break
        body["data"] = _shorten(body.get("data"), keep)
        body["note"] = f"lists cut to {keep} entries; ask for fewer rows"
        text = json.dumps(body, default=str)
    return text


def _shorten(value: Any, keep: int) -> Any:
    if isinstance(value, dict):
        return {k: _shorten(v, keep) for k, v in value.items()}
    if isinstance(value, list):
        return [_shorten(v, keep) for v in value[:keep]]
    if isinstance(value, str) and len(value) > 2000:
        return value[:2000]
    return value


def _exchange(records: list[ToolCallRecord], raw_args: list[str] | None = None) -> list[dict[str, Any]]:
    calls = [
        {
            "id": r.call_id,
            "type": "function",
            "function": {"name": r.name, "arguments": raw_args[i] if raw_args else json.dumps(r.arguments)},
        }
        for i, r in enumerate(records)
    ]
    out: list[dict[str, Any]] = [{"role": "assistant", "content": None, "tool_calls": calls}]
    out += [{"role": "tool", "tool_call_id": r.call_id, "content": tool_content(r)} for r in records]
    return out


# --- grounding -------------------------------------------------------------------------------------

_STANDARD = re.compile(r"\b(?:IEEE|ANSI|IEC|NERC|OSHA|LBNL)(?:/[A-Z]+)?\s*(?:Std\.?\s*)?[A-Z]?\d[\w.\-]*")
_NUMBER = re.compile(r"(?<![\w.\-:/])-?\d[\d,]*(?:\.\d+)?(?![\w\-:/]|\.\d)")


def _numbers_in(value: Any, out: list[float]) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        out.append(float(value))
    elif isinstance(value, dict):
        for v in value.values():
            _numbers_in(v, out)
    elif isinstance(value, list | tuple):
        for v in value:
            _numbers_in(v, out)
    elif isinstance(value, str):
        for m in _NUMBER.finditer(value):
            with contextlib.suppress(ValueError):
                out.append(float(m.group().replace(",", "")))


def ungrounded_numbers(text: str, records: Sequence[ToolCallRecord], question: str = "") -> list[str]:
    """Numbers in ``text`` that neither a tool result nor the question holds (at the precision shown).

    A figure shown with d decimals is grounded by a tool value within half a unit of its last digit;
    a percentage may also be a tool fraction x 100. Ids and timestamps are not figures."""
    values: list[float] = []
    for r in records:
        if r.result is not None:
            _numbers_in(r.result.data, values)
            _numbers_in(r.result.row_count, values)
            for c in r.result.citations:
                _numbers_in(c.text, values)
                values.append(float(c.line))
                if c.page is not None:
                    values.append(float(c.page))
        _numbers_in(r.arguments, values)
    _numbers_in(question, values)
    bad: list[str] = []
    text = _STANDARD.sub(" ", text)  # "IEEE 1366", "ANSI C84.1": names, not figures
    for m in _NUMBER.finditer(text):
        raw = m.group()
        try:
            x = float(raw.replace(",", ""))
        except ValueError:
            continue
        decimals = len(raw.split(".")[1]) if "." in raw else 0
        tol = 0.5 * 10.0**-decimals + 1e-9
        pct = text[m.end() : m.end() + 1] == "%"
        if any(abs(v - x) <= tol or (pct and abs(v * 100 - x) <= tol) for v in values):
            continue
        bad.append(raw)
    return bad
