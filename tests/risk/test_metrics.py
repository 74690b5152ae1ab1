"""The vectorized metrics against their textbook definitions (brute force on small arrays with ties)."""

from __future__ import annotations

import numpy as np
import pytest

from fluxops.risk.metrics import auprc, bootstrap_index, brier, ece, roc_auc, score, top_capture


def _auc_pairs(y: np.ndarray, p: np.ndarray) -> float:
    pos, neg = p[y == 1], p[y == 0]
    d = pos[:, None] - neg[None, :]
    return float(((d > 0) + 0.5 * (d == 0)).mean())


def _ap_thresholds(y: np.ndarray, p: np.ndarray) -> float:
    """scikit-learn's definition: Σ (R_t − R_{t−1}) P_t over distinct thresholds, descending."""
    ap, prev_r = 0.0, 0.0
    for t in np.unique(p)[::-1]:
        sel = p >= t
        tp = (y[sel] == 1).sum()
        r, prec = tp / y.sum(), tp / sel.sum()
        ap += (r - prev_r) * prec
        prev_r = r
    return float(ap)


@pytest.mark.parametrize("seed", range(6))
def test_auc_and_ap_match_definitions_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 60
    y = (rng.random(n) < 0.2).astype(float)
    y[0], y[1] = 1, 0
    p = np.round(rng.random(n) * 0.5 + 0.3 * y, 1)  # rounded: many ties
    assert roc_auc(y[None], p[None])[0] == pytest.approx(_auc_pairs(y, p))
    assert auprc(y[None], p[None])[0] == pytest.approx(_ap_thresholds(y, p))


def test_other_metrics() -> None:
    y = np.array([[1, 0, 0, 1, 0, 0, 0, 0, 0, 0]], float)
    p = np.array([[0.9, 0.8, 0.1, 0.05, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]])
    assert brier(y, p)[0] == pytest.approx(np.mean((p - y) ** 2))
    assert top_capture(y, p, 0.1)[0] == 0.5  # the top 1 of 10 holds one of two positives
    # ECE: bins [0.0-0.1) .. ; |Σp − Σy| per bin / n
    bins = np.clip((p[0] * 10).astype(int), 0, 9)
    want = sum(abs(p[0][bins == b].sum() - y[0][bins == b].sum()) for b in np.unique(bins)) / 10
    assert ece(y, p)[0] == pytest.approx(want)


def test_bootstrap_rows_give_intervals_around_the_point() -> None:
    rng = np.random.default_rng(1)
    y = (rng.random(500) < 0.1).astype(float)
    p = np.clip(0.1 + 0.3 * y + rng.normal(0, 0.1, 500), 0, 1)
    s = score(y, p, bootstrap_index(500, 300, 0))
    for m in ("auprc", "roc_auc", "brier", "top10_capture", "ece"):
        assert s[m]["ci_lo"] <= s[m]["value"] <= s[m]["ci_hi"]
