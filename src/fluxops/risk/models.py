"""Likelihood models — P(asset fails in the next 12 months) — their split, evaluation and model card.

Split (no leakage by construction, `fluxops.risk.features`): snapshots at the start of each history year
``k`` (features from years ``< k``, label = fails in year ``k``). A share of the **substations** is held
out (grouped: every asset of a held-out substation is test-only). Training uses the training
substations' snapshots of years ``1 .. N−2``; the test is year ``N−1`` on the held-out substations.
Model choice is by validation inside the training data only: fit on years ``1 .. N−3``, score year
``N−2`` (training substations), pick the best AUPRC. The served model is the chosen kind refitted on
every substation and year, scoring the 12 months after the history.

Models on the same split: ``past_failures`` (the rate of failure among assets of the same type and
past-failure count), ``age_only`` (the rate per type and age decile), ``lightgbm`` (gradient-boosted trees
on the tabular and neighbour features), and the ``oracle`` — ``1 − exp(−Λ)`` from the hidden truth
(expected failures of the test year), the ceiling no model may beat: `oracle_violations` finds any
model significantly above it (paired bootstrap), and training refuses to serve such a model. A GNN
(GraphSAGE) is **not built** (docs/risk.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from fluxops.core.errors import CapabilityError, ConflictError, InvalidInputError
from fluxops.risk.ceilings import ceiling_probabilities
from fluxops.risk.features import FEATURE_WORDS, FEATURES, labels, snapshot
from fluxops.risk.hazard import decimal_year
from fluxops.risk.history import History, year_edges
from fluxops.risk.metrics import (
    HIGHER_IS_BETTER,
    bootstrap_index,
    calibration_curve,
    paired_difference,
    score,
)

F64 = npt.NDArray[np.float64]
Progress = Callable[[float, str], None]
Checkpoint = Callable[[], None]  # called inside long loops; a cancelled job's callback raises there


def _noop() -> None:
    return None


MODEL_KINDS: tuple[str, ...] = ("past_failures", "age_only", "lightgbm", "lightgbm_prior")
CEILING_METRICS: tuple[str, ...] = ("auprc", "roc_auc", "brier")
MIN_TRAIN_FAILURES = 10  # failing asset-years below which no model is trained (nothing to learn from)


@dataclass(frozen=True)
class TrainConfig:
    """Split and model settings (stored with each model card)."""

    test_share: float = 0.25  # of substations held out
    seed: int = 0
    bootstrap: int = 200
    lgbm_rounds: int = 300
    lgbm_learning_rate: float = 0.03
    lgbm_num_leaves: int = 15
    lgbm_min_child_samples: int = 100
    # speed (houston: ~1.07 M training rows): 63 histogram bins instead of 255 (the features are counts,
    # rates and a few continuous columns; 63 bins cut the dataset construction by a third) and float32
    # input. One thread: on the shared 2-core machine, 2 OpenMP threads under load waited on each other
    # far longer than they saved (a 2-thread fit did not finish where 1 thread took 30 s wall); 2 halve the
    # boosting on a quiet machine. Deterministic for a given thread count.
    lgbm_max_bin: int = 63
    lgbm_threads: int = 1
    smoothing: float = 20.0  # pseudo-assets at the type rate, for the rate-table baselines
    gnn: bool = False  # also evaluate the GraphSAGE model (needs torch, the `gnn` extra)
    gnn_epochs: int = 60

    def __post_init__(self) -> None:
        if not 0.05 <= self.test_share <= 0.5:
            raise InvalidInputError("must be in [0.05, 0.5]", field="test_share")
        if not 0 <= self.bootstrap <= 2000:
            raise InvalidInputError("must be in [0, 2000]", field="bootstrap")
        if not 10 <= self.lgbm_rounds <= 5000:
            raise InvalidInputError("must be in [10, 5000]", field="lgbm_rounds")
        if not 15 <= self.lgbm_max_bin <= 255:
            raise InvalidInputError("must be in [15, 255]", field="lgbm_max_bin")
        if not 1 <= self.lgbm_threads <= 64:
            raise InvalidInputError("must be in [1, 64]", field="lgbm_threads")
        if not 1 <= self.gnn_epochs <= 2000:
            raise InvalidInputError("must be in [1, 2000]", field="gnn_epochs")

    def kinds(self) -> tuple[str, ...]:
        return (*MODEL_KINDS, "gnn") if self.gnn else MODEL_KINDS


class Model(Protocol):
    kind: str

    def fit(self, x: pd.DataFrame, y: npt.NDArray[np.int8]) -> Model: ...

    def predict(self, x: pd.DataFrame) -> F64: ...


class _RateTable:
    """P(fail) per key, smoothed toward the asset type's rate (``smoothing`` pseudo-assets)."""

    kind = "rate_table"

    def __init__(self, smoothing: float) -> None:
        self.smoothing = smoothing
        self.table: pd.Series | None = None
        self.type_rate: pd.Series | None = None
        self.overall = 0.0

    def key(self, x: pd.DataFrame) -> pd.Series:
        raise NotImplementedError

    def fit(self, x: pd.DataFrame, y: npt.NDArray[np.int8]) -> _RateTable:
        yy = pd.Series(y.astype(np.float64))
        self.overall = float(yy.mean()) if len(yy) else 0.0
        tr = yy.groupby(x["type_code"].to_numpy()).mean()
        self.type_rate = tr
        k = self.key(x).to_numpy()
        g = yy.groupby(k).agg(["sum", "count"])
        prior = tr.reindex(g.index.map(lambda s: int(str(s).split("|")[0]))).to_numpy(np.float64)
        self.table = pd.Series(
            (g["sum"].to_numpy() + self.smoothing * prior) / (g["count"].to_numpy() + self.smoothing),
            index=g.index,
        )
        return self

    def predict(self, x: pd.DataFrame) -> F64:
        assert self.table is not None and self.type_rate is not None
        p = self.key(x).map(self.table).to_numpy(np.float64, na_value=np.nan)
        fallback = x["type_code"].map(self.type_rate).fillna(self.overall).to_numpy(np.float64)
        out: F64 = np.where(np.isfinite(p), p, fallback)
        return out


class PastFailuresModel(_RateTable):
    kind = "past_failures"

    def key(self, x: pd.DataFrame) -> pd.Series:
        c = np.minimum(x["fail_all"].to_numpy(), 3).astype(np.int64)
        return x["type_code"].astype(str) + "|" + pd.Series(c, index=x.index).astype(str)


class AgeOnlyModel(_RateTable):
    kind = "age_only"

    def __init__(self, smoothing: float) -> None:
        super().__init__(smoothing)
        self.edges: dict[int, F64] = {}

    def _decile(self, x: pd.DataFrame) -> npt.NDArray[np.int64]:
        d = np.full(len(x), -1, np.int64)
        tc = x["type_code"].to_numpy()
        age = x["age_y"].to_numpy(np.float64)
        for t, e in self.edges.items():
            m = (tc == t) & np.isfinite(age)
            d[m] = np.searchsorted(e, age[m], side="right")
        return d

    def key(self, x: pd.DataFrame) -> pd.Series:
        return x["type_code"].astype(str) + "|" + pd.Series(self._decile(x), index=x.index).astype(str)

    def fit(self, x: pd.DataFrame, y: npt.NDArray[np.int8]) -> AgeOnlyModel:
        self.edges = {}
        tc = x["type_code"].to_numpy(np.int64)
        age = x["age_y"].to_numpy(np.float64)
        for t in np.unique(tc):
            a = age[(tc == t) & np.isfinite(age)]
            if len(a):
                self.edges[int(t)] = np.unique(np.quantile(a, np.linspace(0.1, 0.9, 9)))
        super().fit(x, y)
        return self


class LightGBMModel:
    kind = "lightgbm"

    def __init__(self, cfg: TrainConfig, checkpoint: Checkpoint = _noop) -> None:
        self.cfg = cfg
        self.checkpoint = checkpoint
        self.booster: Any = None

    def params(self) -> dict[str, Any]:
        c = self.cfg
        return {
            "objective": "binary",
            "learning_rate": c.lgbm_learning_rate,
            "num_leaves": c.lgbm_num_leaves,
            "min_child_samples": c.lgbm_min_child_samples,
            "feature_fraction": 0.9,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "lambda_l2": 1.0,
            "seed": c.seed,
            "deterministic": True,
            "force_row_wise": True,
            "max_bin": c.lgbm_max_bin,
            "num_threads": c.lgbm_threads,
            "verbose": -1,
        }

    def dataset(self, x: pd.DataFrame, y: npt.NDArray[np.int8], init_score: F64 | None = None) -> Any:
        """The training matrix as float32 (half the memory and copy time of float64; LightGBM bins it
        anyway), with the categorical columns named."""
        return _lightgbm().Dataset(
            _matrix(x),
            label=y,
            init_score=init_score,
            feature_name=list(FEATURES),
            categorical_feature=["type_code", "material_code"],
            params={"max_bin": self.cfg.lgbm_max_bin, "num_threads": self.cfg.lgbm_threads},
            free_raw_data=True,
        )

    def fit(self, x: pd.DataFrame, y: npt.NDArray[np.int8]) -> LightGBMModel:
        lgb = _lightgbm()
        ds = self.dataset(x, y)

        def every_10(env: Any) -> None:
            if env.iteration % 10 == 0:
                self.checkpoint()

        self.booster = lgb.train(
            self.params(), ds, num_boost_round=self.cfg.lgbm_rounds, callbacks=[every_10]
        )
        return self

    def predict(self, x: pd.DataFrame) -> F64:
        out: F64 = np.asarray(self.booster.predict(_matrix(x)), np.float64)
        return out

    def contributions(self, x: pd.DataFrame) -> F64:
        """Per row: each feature's contribution to the log-odds, then the bias (LightGBM pred_contrib)."""
        out: F64 = np.asarray(self.booster.predict(_matrix(x), pred_contrib=True), np.float64)
        return out


class LightGBMPriorModel(LightGBMModel):
    """LightGBM boosted from an engineering prior: the initial log-odds of every row is the log of the
    published failure rate of its type × its exposure (`prior_rate_per_y`, known without any failure
    record), so the trees learn multipliers on it — the hazard's multiplicative form — instead of the
    rate itself from a few hundred positives. Its explanations add the prior to the bias."""

    kind = "lightgbm_prior"

    @staticmethod
    def offset(x: pd.DataFrame) -> F64:
        out: F64 = np.log(np.clip(x["prior_rate_per_y"].to_numpy(np.float64), 1e-6, None))
        return out

    def fit(self, x: pd.DataFrame, y: npt.NDArray[np.int8]) -> LightGBMPriorModel:
        lgb = _lightgbm()
        ds = self.dataset(x, y, self.offset(x))

        def every_10(env: Any) -> None:
            if env.iteration % 10 == 0:
                self.checkpoint()

        self.booster = lgb.train(
            self.params(), ds, num_boost_round=self.cfg.lgbm_rounds, callbacks=[every_10]
        )
        return self

    def predict(self, x: pd.DataFrame) -> F64:
        raw = np.asarray(self.booster.predict(_matrix(x), raw_score=True), np.float64)
        out: F64 = 1.0 / (1.0 + np.exp(-(raw + self.offset(x))))
        return out

    def contributions(self, x: pd.DataFrame) -> F64:
        c = super().contributions(x)
        c[:, -1] += self.offset(x)
        return c


def _matrix(x: pd.DataFrame) -> npt.NDArray[np.float32]:
    out: npt.NDArray[np.float32] = x[list(FEATURES)].to_numpy(np.float32)
    return out


def _lightgbm() -> Any:
    try:
        import lightgbm
    except ImportError as exc:  # the `risk` extra
        raise CapabilityError("LightGBM is not installed: pip install -e '.[risk]'") from exc
    return lightgbm


def make_model(kind: str, cfg: TrainConfig, checkpoint: Checkpoint = _noop) -> Model:
    if kind == "past_failures":
        return PastFailuresModel(cfg.smoothing)
    if kind == "age_only":
        return AgeOnlyModel(cfg.smoothing)
    if kind == "lightgbm":
        return LightGBMModel(cfg, checkpoint)
    if kind == "lightgbm_prior":
        return LightGBMPriorModel(cfg, checkpoint)
    raise InvalidInputError(f"unknown model {kind!r}", field="model")


# --- snapshots and split -------------------------------------------------------------------------------


@dataclass
class Snapshots:
    """Features and labels per cut-off year (label year = cut-off year; the last has no label)."""

    history: History
    x: dict[int, pd.DataFrame] = field(default_factory=dict)
    y: dict[int, npt.NDArray[np.int8]] = field(default_factory=dict)

    def at(self, k: int) -> pd.DataFrame:
        if k not in self.x:
            h = self.history
            self.x[k] = snapshot(
                h.assets,
                h.failures,
                cutoff_year=k,
                start_year_decimal=decimal_year(h.start_utc),
                cutoff_day=int(year_edges(h.n_days, h.years)[k]),
                inspections=h.inspections,
                ami=(h.ami_years, h.ami_events),
            )
            if k < h.years:
                self.y[k] = labels(h.assets, h.failures, year=k)
        return self.x[k]


def held_out_substations(assets: pd.DataFrame, share: float, seed: int) -> npt.NDArray[np.object_]:
    subs = np.sort(assets["substation_id"].dropna().unique().astype(object))
    rng = np.random.default_rng([seed, 12_004])
    k = max(1, round(share * len(subs)))
    if len(subs) < 2:
        raise InvalidInputError("a grouped split needs at least 2 substations", field="grid")
    out: npt.NDArray[np.object_] = np.sort(rng.choice(subs, size=min(k, len(subs) - 1), replace=False))
    return out


def _stack(
    s: Snapshots, years: range, mask: npt.NDArray[np.bool_]
) -> tuple[pd.DataFrame, npt.NDArray[np.int8]]:
    xs = [s.at(k)[mask] for k in years]
    ys = [s.y[k][mask] for k in years]
    return pd.concat(xs, ignore_index=True), np.concatenate(ys)


def _fit_predict(
    kind: str,
    cfg: TrainConfig,
    snaps: Snapshots,
    years: range,
    train: npt.NDArray[np.bool_],
    at: int,
    where: npt.NDArray[np.bool_],
    checkpoint: Checkpoint = _noop,
) -> F64:
    """Fit ``kind`` on the ``train`` assets of snapshots ``years``; predict snapshot ``at`` on ``where``."""
    if kind == "gnn":
        from fluxops.risk.gnn import GNNModel

        g = GNNModel(snaps.history.assets, seed=cfg.seed, epochs=cfg.gnn_epochs)
        g.fit_snapshots([(snaps.at(k), snaps.y[k], train) for k in years], checkpoint)
        return g.predict(snaps.at(at))[where]
    x, y = _stack(snaps, years, train)
    return make_model(kind, cfg, checkpoint).fit(x, y).predict(snaps.at(at)[where])


CEILING_WORDS = {
    "known_drivers": "truth without the unobserved condition: what the recorded drivers explain (diagnostic)",
    "own_history": "truth's drivers + Bayes posterior of the condition from the asset's own past failures "
    "(diagnostic)",
}


def oracle_probability(history: History, year: int) -> F64:
    """1 − exp(−Λ) of ``year`` from the truth; 1 for an asset whose failure that year has an AMI
    precursor dated before the year's cut-off (`fluxops.risk.ami_signals`): the truth knows the anomaly
    was a precursor, a model only that there was an anomaly."""
    rows = history.truth.loc[history.truth["year_index"] == year].set_index("asset_id")
    ids = history.assets["asset_id"].to_numpy(object)
    out: F64 = 1.0 - np.exp(-rows["expected_failures"].reindex(ids).to_numpy(np.float64))
    if "precursor_first_day" in rows.columns:
        cut = int(year_edges(history.n_days, history.years)[year])
        first = rows["precursor_first_day"].reindex(ids).to_numpy(np.float64)
        out = np.where(np.isfinite(first) & (first < cut), 1.0, out)
    return out


def oracle_violations(
    y: npt.NDArray[np.int8], preds: dict[str, F64], oracle: F64, idx: npt.NDArray[np.int64] | None
) -> list[dict[str, Any]]:
    """Models significantly better than the oracle (95 % paired bootstrap interval of the difference
    entirely on the better side) — impossible for an honest model: a leak or a bug."""
    out: list[dict[str, Any]] = []
    if idx is None:
        return out
    for kind, p in preds.items():
        for m in CEILING_METRICS:
            d, lo, hi = paired_difference(y, p, oracle, idx, m)
            better = lo > 0 if HIGHER_IS_BETTER[m] else hi < 0
            if better:
                out.append({"model": kind, "metric": m, "difference": d, "ci_lo": lo, "ci_hi": hi})
    return out


MIN_CEILING_FAILURES = 5  # test-year failures below which a paired bootstrap cannot tell a leak from noise


def ceiling_check(
    y: npt.NDArray[np.int8], preds: dict[str, F64], oracle: F64, idx: npt.NDArray[np.int64] | None
) -> tuple[list[dict[str, Any]], str]:
    """`oracle_violations` where the test year has enough failures to judge, with a sentence saying
    which: with one or two failures every bootstrap resample holds them or not, so a model can land
    "significantly" above the oracle by chance (seen on the 600-meter test grid) and a real utility's
    small history would be refused as a leak."""
    failures = int(y.sum())
    if failures < MIN_CEILING_FAILURES:
        return [], (
            f"not judged: {failures} test-year failures, fewer than the {MIN_CEILING_FAILURES} needed "
            "to tell a model above the oracle (a leak) from noise"
        )
    violations = oracle_violations(y, preds, oracle, idx)
    verdict = "failed: a model is significantly above the oracle" if violations else "passed"
    return violations, f"{verdict} ({failures} test-year failures)"


def evaluate(history: History, cfg: TrainConfig, progress: Progress | None = None) -> dict[str, Any]:
    """Validation (model choice), test metrics per model and asset type, the oracle and its ceiling check.
    Returns the model card's evaluation part (JSON-able)."""
    report = progress or (lambda _f, _m: None)
    n_years = history.years
    if n_years < 4:
        raise InvalidInputError("evaluation needs at least 4 years of history", field="years")
    a = history.assets
    test_subs = held_out_substations(a, cfg.test_share, cfg.seed)
    is_test = a["substation_id"].isin(test_subs).to_numpy()
    train = ~is_test
    snaps = Snapshots(history)
    for k in range(1, n_years + 1):
        snaps.at(k)
    report(0.15, "features")
    train_pos = sum(int(snaps.y[k][train].sum()) for k in range(1, n_years - 1))
    test_pos = int(snaps.y[n_years - 1][is_test].sum())
    if train_pos < MIN_TRAIN_FAILURES or test_pos < 1:
        raise ConflictError(
            f"the history has too few failures to train and test on this grid ({train_pos} failing "
            f"asset-years to train on, at least {MIN_TRAIN_FAILURES} needed; {test_pos} in the test year "
            "on held-out substations, at least 1): generate more years of history",
            details={"train_failures": train_pos, "test_failures": test_pos},
        )

    # validation: fit on 1..N-3, score N-2 (training substations)
    kinds = cfg.kinds()
    y_val = snaps.y[n_years - 2][train]
    validation: dict[str, dict[str, float]] = {}
    for i, kind in enumerate(kinds):
        msg = f"validating {kind}"
        p_val = _fit_predict(
            kind,
            cfg,
            snaps,
            range(1, n_years - 2),
            train,
            n_years - 2,
            train,
            partial(report, 0.15, msg),
        )
        validation[kind] = {k: v["value"] for k, v in score(y_val, p_val).items()}
        report(0.15 + 0.3 * (i + 1) / len(kinds), f"validated {kind}")
    ranked = sorted(kinds, key=lambda k: -np.nan_to_num(validation[k]["auprc"], nan=-1.0))
    chosen = ranked[0]

    # test: fit on 1..N-2 (training substations), score N-1 on held-out substations
    _, yt = _stack(snaps, range(1, n_years - 1), train)
    y_test = snaps.y[n_years - 1][is_test]
    preds: dict[str, F64] = {}
    for i, kind in enumerate(kinds):
        msg = f"testing {kind}"
        preds[kind] = _fit_predict(
            kind,
            cfg,
            snaps,
            range(1, n_years - 1),
            train,
            n_years - 1,
            is_test,
            partial(report, 0.45, msg),
        )
        report(0.45 + 0.35 * (i + 1) / len(kinds), f"tested {kind}")
    oracle = oracle_probability(history, n_years - 1)[is_test]
    idx = bootstrap_index(len(y_test), cfg.bootstrap, cfg.seed) if cfg.bootstrap else None
    types = a["asset_type"].to_numpy(object)[is_test]
    test: dict[str, Any] = {}
    for kind, p in {**preds, "oracle": oracle}.items():
        per_type: dict[str, Any] = {}
        for t in np.unique(types):
            m = types == t
            if y_test[m].sum() >= 5:
                per_type[str(t)] = {k: v["value"] for k, v in score(y_test[m], p[m]).items()} | {
                    "assets": int(m.sum()),
                    "positives": int(y_test[m].sum()),
                }
        test[kind] = {
            "overall": score(y_test, p, idx),
            "calibration": calibration_curve(y_test.astype(np.float64), p),
            "by_type": per_type,
        }
    violations, oracle_check = ceiling_check(y_test, preds, oracle, idx)
    ceilings = {
        name: {"overall": score(y_test, p[is_test], idx), "what": CEILING_WORDS[name]}
        for name, p in ceiling_probabilities(history, n_years - 1).items()
    }
    report(0.9, "evaluated")
    v_win = validation[chosen]["auprc"]
    v_next = validation[ranked[1]]["auprc"]
    return {
        "chosen": chosen,
        "chosen_by": "validation AUPRC on training substations, year N-2 (fit on years 1..N-3)",
        "validation": validation,
        "validation_margin_auprc": {"over": ranked[1], "value": float(v_win - v_next)},
        "test": test,
        "oracle_violations": violations,
        "oracle_check": oracle_check,
        "ceilings": ceilings,
        "split": {
            "test_substations": [str(s) for s in test_subs],
            "train_years": [1, n_years - 2],
            "test_year": n_years - 1,
            "train_rows": len(yt),
            "train_positives": int(yt.sum()),
            "test_assets": len(y_test),
            "test_positives": int(y_test.sum()),
        },
        "config": asdict(cfg),
    }


def fit_served(
    history: History, kind: str, cfg: TrainConfig, checkpoint: Checkpoint = _noop
) -> tuple[Any, pd.DataFrame, F64]:
    """The chosen model refitted on every substation and labelled year; features at the end of the
    history and the probabilities of failing in the next 12 months."""
    snaps = Snapshots(history)
    everyone = np.ones(len(history.assets), bool)
    if kind == "gnn":
        from fluxops.risk.gnn import GNNModel

        g = GNNModel(history.assets, seed=cfg.seed, epochs=cfg.gnn_epochs)
        g.fit_snapshots([(snaps.at(k), snaps.y[k], everyone) for k in range(1, history.years)], checkpoint)
        x_now = snaps.at(history.years)
        return g, x_now, g.predict(x_now)
    x, y = _stack(snaps, range(1, history.years), everyone)
    model = make_model(kind, cfg, checkpoint).fit(x, y)
    x_now = snaps.at(history.years)
    return model, x_now, model.predict(x_now)


DRIVER_COLUMNS: tuple[str, ...] = (
    "asset_id",
    "rank",
    "feature",
    "words",
    "value",
    "log_odds_contribution",
    "direction",
)


def drivers(model: Any, x: pd.DataFrame, top: int = 5) -> pd.DataFrame:
    """Top drivers of every row (`DRIVER_COLUMNS`, long format), vectorized. LightGBM: the features'
    contributions to the log-odds (``pred_contrib``), largest magnitude first, then the bias; the
    rate tables: the features their probability was read from (type and past failures, or age)."""
    n = len(x)
    ids = x["asset_id"].to_numpy(object)
    feats = np.array(FEATURES, dtype=object)
    words = np.array([FEATURE_WORDS[f] for f in FEATURES], dtype=object)
    vals = x[list(FEATURES)].to_numpy(np.float64)
    if isinstance(model, LightGBMModel):
        c = model.contributions(x)
        k = min(top, len(FEATURES))
        order = np.argsort(-np.abs(c[:, :-1]), axis=1, kind="stable")[:, :k]
        contrib = np.take_along_axis(c[:, :-1], order, 1)
        body = pd.DataFrame(
            {
                "asset_id": np.repeat(ids, k),
                "rank": np.tile(np.arange(k), n),
                "feature": feats[order].ravel(),
                "words": words[order].ravel(),
                "value": np.take_along_axis(vals, order, 1).ravel(),
                "log_odds_contribution": contrib.ravel(),
                "direction": np.where(contrib.ravel() > 0, "raises", "lowers").astype(object),
            }
        )
        bias = pd.DataFrame(
            {
                "asset_id": ids,
                "rank": k,
                "feature": "bias",
                "words": "fleet base rate (log-odds)"
                if not isinstance(model, LightGBMPriorModel)
                else "published rate of its type × exposure, and the fleet base (log-odds)",
                "value": np.nan,
                "log_odds_contribution": c[:, -1],
                "direction": None,
            }
        )
        out = pd.concat([body, bias], ignore_index=True)
    else:
        # rate tables: the key the probability was read from; the GNN has no attribution here: its
        # inputs that carry the most signal in the other models (own and zone failure records)
        cols = {
            "past_failures": ["type_code", "fail_all"],
            "age_only": ["type_code", "age_y"],
        }.get(getattr(model, "kind", ""), ["type_code", "fail_all", "zone_fail_rate"])
        j = np.array([FEATURES.index(col) for col in cols])
        out = pd.DataFrame(
            {
                "asset_id": np.repeat(ids, len(cols)),
                "rank": np.tile(np.arange(len(cols)), n),
                "feature": np.tile(feats[j], n),
                "words": np.tile(words[j], n),
                "value": vals[:, j].ravel(),
                "log_odds_contribution": np.nan,
                "direction": None,
            }
        )
    return out.sort_values(["asset_id", "rank"], kind="stable").reset_index(drop=True)[list(DRIVER_COLUMNS)]
