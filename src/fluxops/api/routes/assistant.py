"""The operator's assistant: threads per user, answers streamed as server-sent events, feedback, and
the document index its search uses (`fluxops.assistant`; the documents' routes are in
`fluxops.api.routes.assistant_docs`).

``POST /api/assistant/threads/{id}/messages`` answers as SSE: ``tool_call`` and ``tool_result`` events as
the tools run, ``delta`` with answer text, then ``answer`` (text + evidence: tool calls with arguments,
SQL run, row counts, citations) or ``error``. Both messages are stored with the thread. Every tool call
is written to the audit log (method ``TOOL``, path ``/api/assistant/tools/<name>``). A viewer is offered
read-only tools; a mutating tool (``acknowledge_outage``) runs only when an operator re-sends the
message with ``confirm: true`` after the answer named the pending call.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from fluxops.api.audit import PRINCIPAL_KEY
from fluxops.api.deps import LoadedGrid, get_loaded_grid, get_store
from fluxops.api.openapi import error_responses
from fluxops.api.params import id_path
from fluxops.api.security import require_role
from fluxops.assistant.engine import MAX_QUESTION_CHARS, Assistant, check_question
from fluxops.assistant.models import Feedback, Message, Thread, ToolCallRecord
from fluxops.assistant.remote import brain_from_settings
from fluxops.assistant.retrieval import DocumentIndex, default_embedder
from fluxops.assistant.tools import tool_specs
from fluxops.core.clock import utc_now
from fluxops.core.errors import ConflictError, NotFoundError
from fluxops.security.ports import AuditEntry
from fluxops.security.roles import Principal
from fluxops.storage.assistant_context import build_tool_context
from fluxops.storage.assistant_store import AssistantTableStore

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["assistant"])
VISIBLE = r"[^\s\x1c-\x1f]"  # at least one visible character (blank text is refused by the schema)
MAX_THREADS = 200
STATUS_CODES = {"ok": 200, "confirmation_required": 202, "refused": 403, "error": 422}


class DocsCache:
    """The document index, rebuilt when the uploaded documents change; its dense embeddings are computed
    in a background thread (searches rank by BM25 until they are ready) and cached on disk by content."""

    def __init__(self, *, dense: bool = False, cache_dir: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._key: tuple[str, ...] | None = None
        self._index: DocumentIndex | None = None
        self.embedder = default_embedder(dense)
        self.cache_dir = cache_dir

    def get(self, threads: AssistantTableStore) -> DocumentIndex:
        docs = threads.list_documents()
        key = tuple(f"{d.doc_id}:{d.uploaded_utc.isoformat()}" for d in docs)
        with self._lock:
            if self._index is None or key != self._key:
                self._index = DocumentIndex(
                    docs, embedder=self.embedder, cache_dir=self.cache_dir, background=True
                )
                self._key = key
            return self._index


def on_startup(app: FastAPI) -> None:
    threads = AssistantTableStore(app.state.store)
    threads.ensure_tables()
    app.state.assistant_threads = threads
    settings = app.state.settings
    app.state.assistant_docs = DocsCache(
        dense=settings.assistant.dense_retrieval, cache_dir=settings.data_dir / "assistant" / "embeddings"
    )
    app.state.assistant_docs.get(threads)  # the corpus starts embedding now, not at the first question


def _threads(request: Request) -> AssistantTableStore:
    t: AssistantTableStore = request.app.state.assistant_threads
    return t


# --- bodies -----------------------------------------------------------------------------------------


class ThreadIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    title: str | None = Field(
        None, min_length=1, max_length=200, pattern=VISIBLE, description="Defaults to the first question"
    )


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    content: str = Field(
        ..., min_length=1, max_length=MAX_QUESTION_CHARS, pattern=VISIBLE, description="The question"
    )
    confirm: bool = Field(
        False, description="Run the mutating tool call the previous answer left pending (operators only)"
    )


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    message_id: str = Field(..., min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_\-]+$")
    rating: Literal["up", "down"]
    comment: str = Field("", max_length=2000)


# --- threads ----------------------------------------------------------------------------------------


def _own_thread(request: Request, principal: Principal, thread_id: str) -> Thread:
    t = _threads(request).get_thread(thread_id)
    if t is None or t.owner != principal.actor:  # another user's thread does not exist for this one
        raise NotFoundError(f"no thread {thread_id!r}", details={"thread_id": thread_id})
    return t


@router.get("/assistant/threads", summary="Your assistant threads, most recent first")
def list_threads(
    request: Request,
    limit: int = Query(50, ge=1, le=MAX_THREADS),
    principal: Principal = Depends(require_role("viewer")),
) -> dict[str, Any]:
    items = _threads(request).list_threads(principal.actor, limit=limit)
    return {"items": [t.to_dict() for t in items], "count": len(items)}


@router.post("/assistant/threads", summary="Start a thread", status_code=201)
def create_thread(
    request: Request, body: ThreadIn, principal: Principal = Depends(require_role("viewer"))
) -> dict[str, Any]:
    now = utc_now()
    t = Thread(f"thr_{uuid.uuid4().hex[:16]}", principal.actor, body.title or "New thread", now, now)
    _threads(request).create_thread(t)
    return t.to_dict()


@router.get("/assistant/threads/{thread_id}", summary="A thread with its messages and feedback")
def get_thread(
    request: Request,
    thread_id: str = id_path("Thread id"),
    principal: Principal = Depends(require_role("viewer")),
) -> dict[str, Any]:
    t = _own_thread(request, principal, thread_id)
    store = _threads(request)
    return {
        **t.to_dict(),
        "messages": [m.to_dict() for m in store.list_messages(thread_id)],
        "feedback": [f.to_dict() for f in store.list_feedback(thread_id)],
    }


@router.get("/assistant/tools", summary="The tools your role may use, as Chat Completions definitions")
def list_tools(principal: Principal = Depends(require_role("viewer"))) -> dict[str, Any]:
    specs = tool_specs(principal.role)
    return {"role": principal.role, "tools": specs, "count": len(specs)}


def _audit(request: Request, thread_id: str) -> Any:
    store = get_store(request)

    def write(rec: ToolCallRecord, role: str) -> None:
        principal = request.scope.get(PRINCIPAL_KEY)
        args = json.dumps(rec.arguments, default=str)[:2000]
        entry = AuditEntry(
            at_utc=utc_now(),
            actor=str(getattr(principal, "actor", "unknown")),
            role=role,
            method="TOOL",
            path=f"/api/assistant/tools/{rec.name}"[:200],
            status_code=STATUS_CODES.get(rec.status, 500),
            detail={
                "thread_id": thread_id,
                "call_id": rec.call_id,
                "arguments": args,
                "status": rec.status,
                "row_count": rec.result.row_count if rec.result else 0,
                "error": rec.result.error if rec.result else None,
            },
        )
        try:
            store.append_audit(entry)
        except Exception:
            log.exception("could not audit tool call %s", rec.name)

    return write


def _sse(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n".encode()


def _context(request: Request, loaded: LoadedGrid, principal: Principal) -> Any:
    app = request.app
    ops = None
    ops_rt = getattr(app.state, "ops", None)
    if ops_rt is not None:
        ops = ops_rt.service()
    analytics = None
    ami = getattr(app.state, "ami", None)
    if ami is not None:
        try:
            analytics = ami.queries()[0].a
        except Exception:  # no lake dims yet: AMI tools say they are unavailable
            log.info("AMI analytics unavailable to the assistant", exc_info=True)
    settings = app.state.settings
    return build_tool_context(
        app.state.store,
        loaded.grid,
        ops=ops,
        analytics=analytics,
        lake_dir=settings.lake_dir,
        cascade=getattr(app.state, "cascade", None),
        docs=app.state.assistant_docs.get(_threads(request)),
        actor=principal.actor,
        sql_timeout_s=settings.assistant.sql_timeout_s,
        derive=loaded.derived,
    )


@router.post(
    "/assistant/threads/{thread_id}/messages",
    summary="Ask in a thread; the answer streams as server-sent events",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "tool_call, tool_result, delta, answer"},
        **error_responses(409),
    },
)
def post_message(
    request: Request,
    body: MessageIn,
    thread_id: str = id_path("Thread id"),
    loaded: LoadedGrid = Depends(get_loaded_grid),
    principal: Principal = Depends(require_role("viewer")),
) -> StreamingResponse:
    question = check_question(body.content)
    thread = _own_thread(request, principal, thread_id)
    store = _threads(request)
    history = store.list_messages(thread_id)
    confirm = None
    if body.confirm:
        last = next((m for m in reversed(history) if m.role == "assistant"), None)
        confirm = (last.evidence or {}).get("pending_confirmation") if last else None
        if confirm is None:
            raise ConflictError("nothing awaits confirmation in this thread", details={"field": "confirm"})
    s = request.app.state.settings.assistant
    brain = brain_from_settings(
        s.base_url,
        s.model,
        s.api_key.get_secret_value() if s.api_key else None,
        timeout_s=s.timeout_s,
        max_retries=s.max_retries,
    )
    assistant = Assistant(
        brain, _context(request, loaded, principal), role=principal.role, audit=_audit(request, thread_id)
    )
    now = utc_now()
    seq = (history[-1].seq + 1) if history else 0
    store.add_message(Message(f"msg_{uuid.uuid4().hex[:16]}", thread_id, seq, "user", question, {}, now))
    if not history and thread.title == "New thread":
        store.create_thread(Thread(thread.thread_id, thread.owner, question[:80], thread.created_utc, now))
    past = [{"role": m.role, "content": m.content} for m in history]

    def events() -> Iterator[bytes]:
        answer_id = f"msg_{uuid.uuid4().hex[:16]}"
        try:
            for ev in assistant.run(question, past, confirm=confirm):
                if ev["event"] == "answer":
                    data = ev["data"]
                    store.add_message(
                        Message(
                            answer_id,
                            thread_id,
                            seq + 1,
                            "assistant",
                            data["text"],
                            data["evidence"],
                            utc_now(),
                        )
                    )
                    store.touch_thread(thread_id, utc_now())
                    yield _sse("answer", {**data, "message_id": answer_id, "thread_id": thread_id})
                else:
                    yield _sse(ev["event"], ev["data"])
        except Exception as exc:  # the stream has started: the error is an event, not a status
            log.exception("assistant turn failed")
            msg = getattr(exc, "message", None) or "the assistant failed; see the server log"
            yield _sse("error", {"message": msg, "thread_id": thread_id})

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.post("/assistant/threads/{thread_id}/feedback", summary="Rate an answer", status_code=201)
def post_feedback(
    request: Request,
    body: FeedbackIn,
    thread_id: str = id_path("Thread id"),
    principal: Principal = Depends(require_role("viewer")),
) -> dict[str, Any]:
    _own_thread(request, principal, thread_id)
    store = _threads(request)
    msgs = {m.message_id: m for m in store.list_messages(thread_id)}
    if body.message_id not in msgs or msgs[body.message_id].role != "assistant":
        raise NotFoundError(
            f"no answer {body.message_id!r} in this thread", details={"message_id": body.message_id}
        )
    fb = Feedback(
        f"fb_{uuid.uuid4().hex[:16]}",
        thread_id,
        body.message_id,
        principal.actor,
        body.rating,
        body.comment,
        utc_now(),
    )
    store.add_feedback(fb)
    return fb.to_dict()
