"""Document search: chunks keep their heading path and line; BM25 + heading fusion finds the document
that answers; uploaded documents are searched next to the shipped corpus."""

from __future__ import annotations

from datetime import UTC, datetime

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
