"""Documents the assistant searches: list, read (the viewer a citation opens) and upload (admin).

``POST /api/docs`` takes Markdown or text in ``content``, or a file's bytes in ``content_base64`` with
``format`` (``pdf``, ``markdown``, ``text``). The file is converted and indexed before it is stored
(`fluxops.assistant.documents`), so a bad file is a 422 naming the problem and stores nothing, and a
stored one is searchable by the next question.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from fluxops.api.params import id_path
from fluxops.api.security import require_role
from fluxops.assistant.documents import MAX_UPLOAD_BYTES, PAGE_MARKER, ConvertedDocument, convert, from_text
from fluxops.assistant.models import Document
from fluxops.assistant.retrieval import DocumentIndex
from fluxops.core.clock import utc_now
from fluxops.core.errors import InvalidInputError, NotFoundError
from fluxops.security.roles import Principal
from fluxops.storage.assistant_store import AssistantTableStore

router = APIRouter(prefix="/api", tags=["assistant"])
VISIBLE = r"[^\s\x1c-\x1f]"
MAX_DOC_CHARS = 1_000_000
MAX_B64_CHARS = (MAX_UPLOAD_BYTES * 4) // 3 + 8


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    title: str = Field(..., min_length=1, max_length=200, pattern=VISIBLE)
    content: str | None = Field(
        None, min_length=1, max_length=MAX_DOC_CHARS, description="Markdown or plain text (or content_base64)"
    )
    content_base64: str | None = Field(
        None,
        min_length=1,
        max_length=MAX_B64_CHARS,
        pattern=r"^[A-Za-z0-9+/=\s]+$",
        description=f"The file's bytes, base64 (a PDF: format 'pdf'); at most {MAX_UPLOAD_BYTES:,} bytes",
    )
    format: Literal["markdown", "text", "pdf"] = "markdown"


def _threads(request: Request) -> AssistantTableStore:
    t: AssistantTableStore = request.app.state.assistant_threads
    return t


def _index(request: Request) -> DocumentIndex:
    index: DocumentIndex = request.app.state.assistant_docs.get(_threads(request))
    return index


@router.get("/docs", summary="Documents the assistant searches (shipped and uploaded)")
def list_documents(request: Request, _p: Principal = Depends(require_role("viewer"))) -> dict[str, Any]:
    index = _index(request)
    uploaded = {d.doc_id: d for d in _threads(request).list_documents()}
    items = []
    for doc_id in index.documents:
        chunks = [c for c in index.chunks if c.doc_id == doc_id]
        d = uploaded.get(doc_id)
        items.append(
            {
                "doc_id": doc_id,
                "title": chunks[0].title if chunks else doc_id,
                "passages": len(chunks),
                "source": "uploaded" if d else "shipped",
                "uploaded_by": d.uploaded_by if d else None,
            }
        )
    return {"items": items, "count": len(items), "retrieval": index.method}


@router.get("/docs/{doc_id}", summary="One document as indexed: its lines (with pages) and passages")
def get_document(
    request: Request,
    doc_id: str = id_path("Document id (from a citation or GET /api/docs)"),
    _p: Principal = Depends(require_role("viewer")),
) -> dict[str, Any]:
    """What a citation opens: the Markdown the search indexed, line by line with the page each line is
    on (uploaded PDFs), and the passages (heading path, first line, page) a citation names."""
    index = _index(request)
    chunks = [c for c in index.chunks if c.doc_id == doc_id]
    if not chunks:
        raise NotFoundError(f"no document {doc_id!r}", details={"doc_id": doc_id})
    text = index.source(doc_id)
    lines: list[dict[str, Any]] = []
    page: int | None = None
    for n, raw in enumerate(text.splitlines(), start=1):
        m = PAGE_MARKER.match(raw)
        if m:
            page = int(m.group(1))
            continue
        lines.append({"line": n, "page": page, "text": raw})
    uploaded = {d.doc_id for d in _threads(request).list_documents()}
    return {
        "doc_id": doc_id,
        "title": chunks[0].title,
        "source": "uploaded" if doc_id in uploaded else "shipped",
        "pages": max((c.page for c in chunks if c.page is not None), default=None),
        "lines": lines,
        "passages": [{"heading": c.heading, "line": c.line, "page": c.page} for c in chunks],
    }


def _converted(body: DocumentIn) -> ConvertedDocument:
    if (body.content is None) == (body.content_base64 is None):
        raise InvalidInputError("send exactly one of content and content_base64", field="content")
    try:
        if body.content is not None:
            if body.format == "pdf":
                raise InvalidInputError("a PDF travels as content_base64", field="format")
            return from_text(body.content, body.format, body.title)
        try:
            data = base64.b64decode("".join((body.content_base64 or "").split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidInputError("content_base64 is not valid base64", field="content_base64") from exc
        return convert(data, body.format, body.title)
    except InvalidInputError as exc:
        if exc.field != "file":
            raise
        where = "content" if body.content is not None else "content_base64"
        raise InvalidInputError(exc.message, field=where) from exc


@router.post(
    "/docs", summary="Upload a Markdown, text or PDF document for the assistant's search", status_code=201
)
def upload_document(
    request: Request, body: DocumentIn, principal: Principal = Depends(require_role("admin"))
) -> dict[str, Any]:
    conv = _converted(body)
    doc = Document(f"doc_{uuid.uuid4().hex[:12]}", body.title, conv.markdown, principal.actor, utc_now())
    threads = _threads(request)
    # indexed before it is stored: a document the search cannot take is refused, and nothing lands
    trial = DocumentIndex([*threads.list_documents(), doc])
    passages = [c for c in trial.chunks if c.doc_id == doc.doc_id]
    if not passages:
        raise InvalidInputError("the document has no text to search", field="content")
    threads.add_document(doc)
    _index(request)  # rebuilt now, so the next question searches it
    return {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "format": conv.format,
        "pages": conv.pages,
        "passages": len(passages),
        "chars": len(conv.markdown),
    }
