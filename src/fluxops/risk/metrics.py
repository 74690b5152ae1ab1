"""Ranking and probability metrics, vectorized over bootstrap replicates.

Every metric takes ``y`` (0/1) and ``p`` as 2-D arrays (replicates × assets) and returns one value per
replicate, so a 95 % bootstrap interval is one call on resampled index rows, not a Python loop:

* ``auprc`` — average precision (precision at each positive, ties grouped like scikit-learn);
* ``roc_auc`` — Mann-Whitney with average ranks for ties;
* ``brier`` — mean squared error of the probability;
* ``top_capture`` — share of the positives among the top ``share`` of assets by score;
* ``ece`` — expected calibration error over 10 equal-width probability bins (2-D via bincount).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
N_BINS = 10


def _sorted(y: F64, p: F64) -> tuple[F64, F64, npt.NDArray[np.int64]]:
    order = np.argsort(-p, axis=1, kind="stable")
    return np.take_along_axis(y, order, 1), np.take_along_axis(p, order, 1), order


def _group_end(ps: F64) -> npt.NDArray[np.int64]:
    """Per sorted position: index of the last position with the same score (end of its tie group)."""
    n = ps.shape[1]
    last = np.ones_like(ps, dtype=bool)
    last[:, :-1] = ps[:, 1:] != ps[:, :-1]
    idx = np.where(last, np.arange(n)[None, :], n)
    out: npt.NDArray[np.int64] = np.minimum.accumulate(idx[:, ::-1], axis=1)[:, ::-1]
    return out


def _group_start(ps: F64) -> npt.NDArray[np.int64]:
    n = ps.shape[1]
    first = np.ones_like(ps, dtype=bool)
    first[:, 1:] = ps[:, 1:] != ps[:, :-1]
    idx = np.where(first, np.arange(n)[None, :], 0)
    out: npt.NDArray[np.int64] = np.maximum.accumulate(idx, axis=1)
    return out


def auprc(y: F64, p: F64) -> F64:
    ys, ps, _ = _sorted(y, p)
    tp = np.cumsum(ys, axis=1)
    end = _group_end(ps)
    prec = np.take_along_axis(tp, end, 1) / (end + 1.0)
    pos = ys.sum(axis=1)
    out: F64 = np.where(pos > 0, (ys * prec).sum(axis=1) / np.maximum(pos, 1), np.nan)
    return out


def roc_auc(y: F64, p: F64) -> F64:
    n = y.shape[1]
    ys, ps, _ = _sorted(y, p)
    # ascending ranks: position in descending order r -> rank n - r; average over ties
    start, end = _group_start(ps), _group_end(ps)
    rank_desc = (start + end) / 2.0  # 0-based average position in the descending order
    rank_asc = n - rank_desc  # 1-based ascending average rank
    pos = ys.sum(axis=1)
    neg = n - pos
    s = (ys * rank_asc).sum(axis=1)
    out: F64 = np.where((pos > 0) & (neg > 0), (s - pos * (pos + 1) / 2.0) / np.maximum(pos * neg, 1), np.nan)
    return out


def brier(y: F64, p: F64) -> F64:
    out: F64 = ((p - y) ** 2).mean(axis=1)
    return out


def top_capture(y: F64, p: F64, share: float = 0.1) -> F64:
    ys, _, _ = _sorted(y, p)
    k = max(int(np.ceil(share * y.shape[1])), 1)
    pos = ys.sum(axis=1)
    out: F64 = np.where(pos > 0, ys[:, :k].sum(axis=1) / np.maximum(pos, 1), np.nan)
    return out


def ece(y: F64, p: F64) -> F64:
    r, n = y.shape
    b = np.clip((p * N_BINS).astype(np.int64), 0, N_BINS - 1) + N_BINS * np.arange(r)[:, None]
    sp = np.bincount(b.ravel(), weights=p.ravel(), minlength=r * N_BINS).reshape(r, N_BINS)
    sy = np.bincount(b.ravel(), weights=y.ravel(), minlength=r * N_BINS).reshape(r, N_BINS)
    out: F64 = np.abs(sp - sy).sum(axis=1) / n
    return out


def calibration_curve(y: F64, p: F64) -> list[dict[str, float]]:
    """Per probability bin (1-D inputs): count, mean predicted, observed frequency."""
    b = np.clip((p * N_BINS).astype(np.int64), 0, N_BINS - 1)
    cnt = np.bincount(b, minlength=N_BINS)
    sp = np.bincount(b, weights=p, minlength=N_BINS)
    sy = np.bincount(b, weights=y, minlength=N_BINS)
    return [
        {
            "bin_lo": i / N_BINS,
            "count": int(cnt[i]),
            "mean_p": float(sp[i] / cnt[i]),
            "observed": float(sy[i] / cnt[i]),
        }
        for i in range(N_BINS)
        if cnt[i] > 0
    ]


METRICS = {"auprc": auprc, "roc_auc": roc_auc, "brier": brier, "top10_capture": top_capture, "ece": ece}
HIGHER_IS_BETTER = {"auprc": True, "roc_auc": True, "brier": False, "top10_capture": True, "ece": False}


def bootstrap_index(n: int, replicates: int, seed: int) -> npt.NDArray[np.int64]:
    rng = np.random.default_rng([seed, 12_003])
    out: npt.NDArray[np.int64] = rng.integers(0, n, size=(replicates, n))
    return out


def score(
    y: npt.NDArray[Any], p: F64, idx: npt.NDArray[np.int64] | None = None
) -> dict[str, dict[str, float]]:
    """Each metric's point value and, with bootstrap rows ``idx``, its 95 % percentile interval."""
    yf = np.asarray(y, np.float64)
    pf = np.asarray(p, np.float64)
    out: dict[str, dict[str, float]] = {}
    for name, fn in METRICS.items():
        point = float(fn(yf[None, :], pf[None, :])[0])
        row = {"value": point}
        if idx is not None and len(yf):
            reps = fn(yf[idx], pf[idx])
            reps = reps[np.isfinite(reps)]
            if len(reps):
                row["ci_lo"], row["ci_hi"] = (float(v) for v in np.percentile(reps, [2.5, 97.5]))
        out[name] = row
    return out


def paired_difference(
    y: npt.NDArray[Any], p_a: F64, p_b: F64, idx: npt.NDArray[np.int64], metric: str
) -> tuple[float, float, float]:
    """(point, lo, hi) of metric(a) − metric(b) over the same bootstrap rows (95 % percentile)."""
    fn = METRICS[metric]
    yf = np.asarray(y, np.float64)
    point = float(fn(yf[None, :], p_a[None, :])[0] - fn(yf[None, :], p_b[None, :])[0])
    d = fn(yf[idx], p_a[idx]) - fn(yf[idx], p_b[idx])
    d = d[np.isfinite(d)]
    if not len(d):
        return point, float("nan"), float("nan")
    lo, hi = np.percentile(d, [2.5, 97.5])
    return point, float(lo), float(hi)
