"""Shapes the assistant passes around: tool calls and results with their evidence, answers, threads."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

ANSWER_ROLES: tuple[str, ...] = ("user", "assistant")
RATINGS: tuple[str, ...] = ("up", "down")


@dataclass(frozen=True)
class Citation:
    """Where a retrieved passage comes from: document, the heading it sits under, its first line (of the
    document as indexed) and, for an uploaded PDF, the page it was printed on."""

    doc_id: str
    title: str
    heading: str
    line: int
    score: float
    text: str
    page: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ToolResult:
    """What a tool returns: JSON-able data plus its evidence (row counts, SQL run, citations)."""

    data: dict[str, Any]
    row_count: int = 0
    sql: list[str] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    error: str | None = None
    error_field: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "data": self.data,
            "row_count": self.row_count,
            "sql": list(self.sql),
            "citations": [c.to_dict() for c in self.citations],
            "error": self.error,
            "error_field": self.error_field,
        }


@dataclass
class ToolCallRecord:
    """One tool call as run (or refused), kept as evidence with the answer."""

    call_id: str
    name: str
    arguments: dict[str, Any]
    status: str  # ok | error | refused | confirmation_required
    result: ToolResult | None
    elapsed_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "name": self.name,
            "arguments": self.arguments,
            "status": self.status,
            "result": self.result.to_dict() if self.result is not None else None,
            "elapsed_ms": round(self.elapsed_ms, 2),
        }


@dataclass
class Answer:
    """The final answer of one turn and everything it rests on."""

    text: str
    tool_calls: list[ToolCallRecord]
    brain: str
    answerable: bool = True
    pending_confirmation: dict[str, Any] | None = None

    def evidence(self) -> dict[str, Any]:
        return {
            "brain": self.brain,
            "answerable": self.answerable,
            "tool_calls": [c.to_dict() for c in self.tool_calls],
            "sql": [s for c in self.tool_calls if c.result for s in c.result.sql],
            "row_counts": {c.call_id: c.result.row_count for c in self.tool_calls if c.result},
            "citations": [x.to_dict() for c in self.tool_calls if c.result for x in c.result.citations],
            "pending_confirmation": self.pending_confirmation,
        }


@dataclass(frozen=True)
class Thread:
    thread_id: str
    owner: str
    title: str
    created_utc: datetime
    updated_utc: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "thread_id": self.thread_id,
            "owner": self.owner,
            "title": self.title,
            "created_utc": self.created_utc.isoformat(),
            "updated_utc": self.updated_utc.isoformat(),
        }


@dataclass(frozen=True)
class Message:
    message_id: str
    thread_id: str
    seq: int
    role: str  # ANSWER_ROLES
    content: str
    evidence: dict[str, Any]
    created_utc: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "thread_id": self.thread_id,
            "seq": self.seq,
            "role": self.role,
            "content": self.content,
            "evidence": self.evidence,
            "created_utc": self.created_utc.isoformat(),
        }


@dataclass(frozen=True)
class Feedback:
    feedback_id: str
    thread_id: str
    message_id: str
    owner: str
    rating: str  # RATINGS
    comment: str
    created_utc: datetime

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "created_utc": self.created_utc.isoformat()}


@dataclass(frozen=True)
class Document:
    """An uploaded document the search indexes next to the shipped corpus: Markdown (a PDF or text file is
    converted on upload, `fluxops.assistant.documents`)."""

    doc_id: str
    title: str
    content: str
    uploaded_by: str
    uploaded_utc: datetime
