"""Distribution-transformer failure model: its own card (issue 12 §4), on the general model's split.

Why a model of its own: transformers carry most of the signal (their loading and insulation aging are
observed) and are what a utility replaces by list. Their model reads the C57.91 aging (the modelled cycle
factor and the measured hot-spot history of last year), the hours over 110 °C, the age and insulation life
used, the AMI voltage anomalies (`fluxops.risk.ami_signals`), the inspection grades and the failure record.

Same split as `fluxops.risk.models.evaluate` (held-out substations, test year N−1, validation on year N−2
of the training substations), restricted to distribution transformers. Models: the two rate-table
baselines, LightGBM without the AMI features and with them (which one is shown is chosen by validation,
not by the test), and the oracle. The served transformer model is the chosen one refitted on every
substation and labelled year; its probabilities feed the replace-first list (`fluxops.risk.replacement`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from fluxops.risk.ami_signals import AMI_FEATURES
from fluxops.risk.features import FEATURES
from fluxops.risk.history import History
from fluxops.risk.metrics import bootstrap_index, calibration_curve, score
from fluxops.risk.models import (
    AgeOnlyModel,
    LightGBMModel,
    PastFailuresModel,
    Snapshots,
    TrainConfig,
    held_out_substations,
    oracle_probability,
)

F64 = npt.NDArray[np.float64]

XF_FEATURES: tuple[str, ...] = (
    "age_y",
    "life_fraction",
    "rating",
    "k_avg",
    "k_peak",
    "f_aa_cycle",
    "customers_affected",
    "fail_all",
    "fail_last1",
    "fail_last3",
    "feeder_fail_rate",
    "feeder_type_fail_rate",
    "feeder_mean_age_y",
    "insp_last_grade",
    "insp_mean_grade",
    "insp_count",
    "insp_years_since",
    *AMI_FEATURES,
)
XF_KINDS: tuple[str, ...] = ("past_failures", "age_only", "lightgbm_no_ami", "lightgbm_ami")


class _SubsetLightGBM(LightGBMModel):
    """LightGBM on a subset of the features: the others are masked to NaN (LightGBM's missing value),
    so the general model's Dataset and parameters are reused unchanged."""

    def __init__(self, cfg: TrainConfig, features: tuple[str, ...]) -> None:
        super().__init__(cfg)
        self.kind = "lightgbm_ami" if set(AMI_FEATURES) <= set(features) else "lightgbm_no_ami"
        self.features = features

    def _mask(self, x: pd.DataFrame) -> pd.DataFrame:
        out = x.copy()
        drop = [f for f in FEATURES if f not in self.features and f != "type_code"]
        out[drop] = np.nan
        return out

    def fit(self, x: pd.DataFrame, y: npt.NDArray[np.int8]) -> _SubsetLightGBM:
        super().fit(self._mask(x), y)
        return self

    def predict(self, x: pd.DataFrame) -> F64:
        return super().predict(self._mask(x))


def _make(kind: str, cfg: TrainConfig) -> Any:
    if kind == "past_failures":
        return PastFailuresModel(cfg.smoothing)
    if kind == "age_only":
        return AgeOnlyModel(cfg.smoothing)
    feats = XF_FEATURES if kind == "lightgbm_ami" else tuple(f for f in XF_FEATURES if f not in AMI_FEATURES)
    return _SubsetLightGBM(cfg, feats)


def _rows(
    s: Snapshots, years: range, mask: npt.NDArray[np.bool_]
) -> tuple[pd.DataFrame, npt.NDArray[np.int8]]:
    return (
        pd.concat([s.at(k)[mask] for k in years], ignore_index=True),
        np.concatenate([s.y[k][mask] for k in years]),
    )


def transformer_evaluation(
    history: History, cfg: TrainConfig, snaps: Snapshots | None = None
) -> dict[str, Any]:
    """The transformer card's evaluation (JSON-able), on the general split restricted to transformers."""
    n = history.years
    a = history.assets
    xf = (a["asset_type"] == "transformer").to_numpy()
    is_test = a["substation_id"].isin(held_out_substations(a, cfg.test_share, cfg.seed)).to_numpy()
    train, test = xf & ~is_test, xf & is_test
    s = snaps or Snapshots(history)
    for k in range(1, n):
        s.at(k)
    y_val = s.y[n - 2][train]
    validation: dict[str, dict[str, float]] = {}
    preds: dict[str, F64] = {}
    for kind in XF_KINDS:
        x, y = _rows(s, range(1, n - 2), train)
        p_val = _make(kind, cfg).fit(x, y).predict(s.at(n - 2)[train])
        validation[kind] = {k: v["value"] for k, v in score(y_val, p_val).items()}
        x, y = _rows(s, range(1, n - 1), train)
        preds[kind] = _make(kind, cfg).fit(x, y).predict(s.at(n - 1)[test])
    ranked = sorted(XF_KINDS, key=lambda k: -np.nan_to_num(validation[k]["auprc"], nan=-1.0))
    y_test = s.y[n - 1][test]
    idx = bootstrap_index(len(y_test), cfg.bootstrap, cfg.seed) if cfg.bootstrap else None
    oracle = oracle_probability(history, n - 1)[test]
    results = {
        kind: {
            "overall": score(y_test, p, idx),
            "calibration": calibration_curve(y_test.astype(np.float64), p),
        }
        for kind, p in {**preds, "oracle": oracle}.items()
    }
    return {
        "task": "P(a distribution transformer fails in the next 12 months)",
        "features": list(XF_FEATURES),
        "chosen": ranked[0],
        "chosen_by": "validation AUPRC on training substations' transformers, year N-2 (fit on years 1..N-3)",
        "validation": validation,
        "validation_margin_auprc": {
            "over": ranked[1],
            "value": float(validation[ranked[0]]["auprc"] - validation[ranked[1]]["auprc"]),
        },
        "test": results,
        "split": {
            "test_year": n - 1,
            "train_years": [1, n - 2],
            "test_transformers": int(test.sum()),
            "test_positives": int(y_test.sum()),
            "train_positives": int(sum(int(s.y[k][train].sum()) for k in range(1, n - 1))),
        },
        "ami_signals": {
            "precursor_share": "0.3 of transformer failures (assumption; docs/risk.md)",
            "what": "last year's measured hot-spot aging and hours over 110 °C, abnormal secondary-voltage "
            "days in the 90 and 365 days before the cut-off",
        },
    }


def fit_transformer_model(
    history: History, kind: str, cfg: TrainConfig, snaps: Snapshots | None = None
) -> F64:
    """The chosen transformer model refitted on every substation and labelled year: P(fail in the next 12
    months) per asset of the history (NaN for assets that are not distribution transformers)."""
    s = snaps or Snapshots(history)
    xf = (history.assets["asset_type"] == "transformer").to_numpy()
    x, y = _rows(s, range(1, history.years), xf)
    model = _make(kind, replace(cfg))
    p = np.full(len(xf), np.nan)
    p[xf] = model.fit(x, y).predict(s.at(history.years)[xf])
    return p
