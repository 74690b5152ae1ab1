"""Uploaded documents turned into the Markdown the search indexes: Markdown as is, plain text under its
title, PDF page by page (``pypdf``, the ``assistant`` extra).

A PDF becomes Markdown with a ``<!-- page N -->`` line before each page's text, so a passage keeps the
page it was printed on (`fluxops.assistant.retrieval.chunk_markdown` reads the markers). Headings come
from the PDF's outline (bookmarks) where it has one: a line equal to an outline title becomes a heading
of the outline's depth; an outline entry whose title is not a line of its page opens that page. Every
check runs before anything is stored, so an upload lands whole or not at all; each refusal is an
`InvalidInputError` naming what is wrong with the file.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from fluxops.core.errors import CapabilityError, InvalidInputError

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # a PDF or text file; a bigger one is refused, not truncated
MAX_PDF_PAGES = 2000
MAX_TEXT_CHARS = 1_000_000
FORMATS: tuple[str, ...] = ("markdown", "text", "pdf")
PAGE_MARKER = re.compile(r"^<!--\s*page\s+(\d+)\s*-->\s*$")
_HEADING_LIKE = re.compile(r"^\s{0,3}#{1,6}\s")


@dataclass(frozen=True)
class ConvertedDocument:
    """The Markdown to index, and what it came from."""

    markdown: str
    format: str
    pages: int | None  # PDF pages; None for Markdown and text


def format_for_filename(name: str) -> str:
    """The format a file name says (``.md``/``.markdown``, ``.txt``, ``.pdf``)."""
    suffix = name.lower().rsplit(".", 1)[-1] if "." in name else ""
    fmt = {"md": "markdown", "markdown": "markdown", "txt": "text", "pdf": "pdf"}.get(suffix)
    if fmt is None:
        raise InvalidInputError(
            f"{'.' + suffix if suffix else 'a file without an extension'} is not supported: "
            "Markdown (.md), text (.txt) or PDF (.pdf)",
            field="file",
        )
    return fmt


def convert(data: bytes, fmt: str, title: str) -> ConvertedDocument:
    """Markdown for the index from the bytes of an uploaded file (see the module docstring)."""
    if fmt not in FORMATS:
        raise InvalidInputError(f"format must be one of {', '.join(FORMATS)}", field="format")
    if not data:
        raise InvalidInputError("the file is empty", field="file")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInputError(
            f"the file is {len(data):,} bytes; at most {MAX_UPLOAD_BYTES:,} are accepted", field="file"
        )
    if fmt == "pdf":
        return _from_pdf(data, title)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"the file is not UTF-8 text (byte {exc.start}); upload Markdown, text or PDF", field="file"
        ) from exc
    return from_text(text, fmt, title)


def from_text(text: str, fmt: str, title: str) -> ConvertedDocument:
    if data_looks_binary(text):
        raise InvalidInputError("the file holds binary data, not text", field="file")
    if not text.strip():
        raise InvalidInputError("the file holds no text", field="file")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidInputError(f"the text is longer than {MAX_TEXT_CHARS:,} characters", field="file")
    md = text if fmt == "markdown" else f"# {title}\n\n{text}"
    return ConvertedDocument(md, fmt, None)


def data_looks_binary(text: str) -> bool:
    return "\x00" in text[:4096]


def _pdf_reader(data: bytes) -> Any:
    try:
        import pypdf
        from pypdf.errors import PdfReadError
    except ImportError as exc:  # pragma: no cover - the [assistant] extra
        raise CapabilityError("PDF upload needs the [assistant] extra (pypdf)") from exc
    if not data.lstrip()[:5].startswith(b"%PDF-"):
        raise InvalidInputError("the file is not a PDF (no %PDF- header)", field="file")
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise InvalidInputError(f"the PDF cannot be read: {str(exc)[:200]}", field="file") from exc
    if encrypted:
        raise InvalidInputError("the PDF is encrypted: upload an unprotected copy", field="file")
    return reader


def _outline(reader: Any) -> dict[int, list[tuple[int, str]]]:
    """Page index -> [(depth, title)] from the PDF's bookmarks; empty when it has none or they break."""
    out: dict[int, list[tuple[int, str]]] = {}

    def walk(items: Any, depth: int) -> None:
        for it in items:
            if isinstance(it, list):
                walk(it, depth + 1)
                continue
            try:
                page = reader.get_destination_page_number(it)
                title = " ".join(str(it.title).split())
            except Exception:  # a bookmark pointing nowhere: no heading from it
                continue
            if title and page is not None and page >= 0:
                out.setdefault(page, []).append((min(depth, 5), title))

    try:
        walk(reader.outline, 1)
    except Exception:  # malformed outline: the text is still indexed, without headings
        return {}
    return out


def _from_pdf(data: bytes, title: str) -> ConvertedDocument:
    from pypdf.errors import PdfReadError

    reader = _pdf_reader(data)
    try:
        pages = list(reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise InvalidInputError(f"the PDF cannot be read: {str(exc)[:200]}", field="file") from exc
    if not pages:
        raise InvalidInputError("the PDF has no pages", field="file")
    if len(pages) > MAX_PDF_PAGES:
        raise InvalidInputError(
            f"the PDF has {len(pages):,} pages; at most {MAX_PDF_PAGES:,} are accepted", field="file"
        )
    outline = _outline(reader)
    out = [f"# {title}", ""]
    chars = 0
    for n, page in enumerate(pages):
        try:
            text = page.extract_text() or ""
        except Exception as exc:  # pypdf raises many kinds on broken content streams
            raise InvalidInputError(
                f"page {n + 1} of the PDF cannot be read: {str(exc)[:200]}", field="file"
            ) from exc
        chars += len(text.strip())
        out.extend(_page_markdown(n + 1, text, outline.get(n, [])))
    if chars == 0:
        raise InvalidInputError(
            "the PDF has no text layer (scanned pages?): nothing to search; upload a PDF with text",
            field="file",
        )
    md = "\n".join(out)
    if len(md) > MAX_TEXT_CHARS:
        raise InvalidInputError(f"the PDF's text is longer than {MAX_TEXT_CHARS:,} characters", field="file")
    return ConvertedDocument(md, "pdf", len(pages))


def _page_markdown(page_no: int, text: str, headings: list[tuple[int, str]]) -> list[str]:
    """One page: its marker, then its lines, outline titles made headings (depth + 1: the title is #)."""
    lines = [ln.rstrip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    by_title = {" ".join(t.split()).lower(): d for d, t in headings}
    used: set[str] = set()
    body: list[str] = []
    for ln in lines:
        key = " ".join(ln.split()).lower()
        if key and key in by_title and key not in used:
            used.add(key)
            body.extend(["", f"{'#' * (by_title[key] + 1)} {ln.strip()}", ""])
            continue
        # a line that reads as Markdown syntax stays text
        body.append(("\\" + ln) if _HEADING_LIKE.match(ln) or PAGE_MARKER.match(ln) else ln)
    missing = [f"{'#' * (d + 1)} {t}" for d, t in headings if " ".join(t.split()).lower() not in used]
    head = [f"<!-- page {page_no} -->", ""]
    if missing:
        head += [h for m in missing for h in (m, "")]
    return head + body + [""]
