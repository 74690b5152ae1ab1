from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fluxops.core.errors import ConflictError, InvalidInputError
from fluxops.risk import models as risk_models
from fluxops.risk.history import History
from fluxops.risk.metrics import bootstrap_index
from fluxops.risk.models import (
    MODEL_KINDS,
    Snapshots,
    TrainConfig,
    ceiling_check,
    evaluate,
    held_out_substations,
    oracle_probability,
    oracle_violations,
)
from fluxops.risk.service import OracleCeilingError, RiskService
from fluxops.storage.risk_files import RiskFileStore

CFG = TrainConfig(bootstrap=100, lgbm_rounds=100, seed=0)


@pytest.fixture(scope="module")
def evaluation(small_history: History) -> dict[str, Any]:
    return evaluate(small_history, CFG)


def test_split_is_grouped_by_substation(small_history: History, evaluation: dict[str, Any]) -> None:
    held = set(evaluation["split"]["test_substations"])
    assert held and held < set(small_history.assets["substation_id"])
    assert held == set(held_out_substations(small_history.assets, CFG.test_share, CFG.seed))
    assert evaluation["split"]["test_year"] == small_history.years - 1
    assert evaluation["split"]["test_positives"] > 5


def test_no_model_beats_the_oracle(evaluation: dict[str, Any]) -> None:
    """The build fails when a model scores significantly above the oracle (paired bootstrap)."""
    assert evaluation["oracle_violations"] == []
    oracle = evaluation["test"]["oracle"]["overall"]
    for kind in MODEL_KINDS:
        m = evaluation["test"][kind]["overall"]
        assert m["roc_auc"]["value"] <= oracle["roc_auc"]["value"] + 0.02, kind
        assert m["auprc"]["value"] <= oracle["auprc"]["value"] + 0.05, kind


def test_models_learn_something(evaluation: dict[str, Any]) -> None:
    """LightGBM beats chance (AUC 0.5) with its 95 % interval; validation chose a model on training data."""
    lgbm = evaluation["test"]["lightgbm"]["overall"]["roc_auc"]
    assert lgbm["ci_lo"] > 0.5
    assert evaluation["chosen"] in MODEL_KINDS
    assert set(evaluation["validation"]) == set(MODEL_KINDS)


def test_a_leaking_model_is_caught(small_history: History) -> None:
    """The ceiling check can fail: a 'model' that peeks at the test-year label beats the oracle."""
    h = small_history
    snaps = Snapshots(h)
    snaps.at(h.years - 1)
    y = snaps.y[h.years - 1]
    oracle = oracle_probability(h, h.years - 1)
    cheat = (0.9 * y + 0.05).astype(np.float64)
    v = oracle_violations(y, {"cheat": cheat}, oracle, bootstrap_index(len(y), 200, 0))
    assert {x["metric"] for x in v} >= {"auprc", "roc_auc"}
    honest = oracle_violations(y, {"oracle_copy": oracle.copy()}, oracle, bootstrap_index(len(y), 200, 0))
    assert honest == []


def test_evaluation_is_deterministic(small_history: History, evaluation: dict[str, Any]) -> None:
    again = evaluate(small_history, CFG)
    assert again["test"]["lightgbm"]["overall"] == evaluation["test"]["lightgbm"]["overall"]


def test_too_short_a_history_is_refused(small_history: History) -> None:
    from dataclasses import replace

    short = replace(small_history, years=3)
    with pytest.raises(InvalidInputError) as e:
        evaluate(short, CFG)
    assert e.value.field == "years"


def test_service_trains_serves_and_keeps_the_last_model_on_failure(
    tmp_path: Path, small_history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = RiskService(RiskFileStore(tmp_path))
    with pytest.raises(ConflictError, match="no failure history"):
        svc.train("g1", CFG)
    with pytest.raises(ConflictError, match="no failure history"):
        svc.current("g1")
    svc.store.save_history("g1", small_history)
    with pytest.raises(ConflictError, match="no risk model"):
        svc.current("g1")
    first = svc.train("g1", CFG)
    mid, card = svc.current("g1")
    assert mid == first and card["kind"] in MODEL_KINDS
    assert card["evaluation"]["oracle_violations"] == []
    _, scores = svc.scores("g1")
    assert len(scores) == len(small_history.assets)
    assert scores["probability"].between(0, 1).all()
    assert sorted(scores["rank"]) == list(range(1, len(scores) + 1))
    top = scores.sort_values("rank").iloc[0]["asset_id"]
    one = svc.asset("g1", top)
    assert one["asset"]["rank"] == 1 and one["drivers"]
    assert "frailty" not in str(one) and "expected_failures" not in str(one)  # the truth never leaves

    # a training whose evaluation finds a model above the oracle fails and serves nothing new
    def leaky(history: History, cfg: TrainConfig, progress: Any = None) -> dict[str, Any]:
        out = evaluate(history, cfg)
        out["oracle_violations"] = [{"model": "lightgbm", "metric": "auprc"}]
        return out

    monkeypatch.setattr("fluxops.risk.service.evaluate", leaky)
    with pytest.raises(OracleCeilingError):
        svc.train("g1", CFG)
    assert svc.current("g1")[0] == first
    # a crash midway (after evaluation) leaves the previous model serving too
    monkeypatch.setattr("fluxops.risk.service.evaluate", evaluate)
    monkeypatch.setattr(
        "fluxops.risk.service.fit_served", lambda *a: (_ for _ in ()).throw(RuntimeError("x"))
    )
    with pytest.raises(RuntimeError):
        svc.train("g1", CFG)
    assert svc.current("g1")[0] == first
    assert risk_models.MODEL_KINDS == MODEL_KINDS


def test_history_round_trips_through_the_store(tmp_path: Path, small_history: History) -> None:
    store = RiskFileStore(tmp_path)
    store.save_history("g2", small_history)
    back = store.load_history("g2")
    assert back is not None
    assert back.failures.equals(small_history.failures)
    assert np.allclose(back.truth["expected_failures"], small_history.truth["expected_failures"])
    assert back.start_utc == small_history.start_utc and back.years == small_history.years
    for name in ("inspections", "ami_years", "ami_events"):  # the observable condition and AMI records
        assert len(getattr(back, name)) > 0
        pd.testing.assert_frame_equal(getattr(back, name), getattr(small_history, name), check_dtype=False)
    # the observable records and the truth live in different files
    assert (tmp_path / "risk" / "g2" / "truth" / "truth.parquet").exists()
    assert "expected_failures" not in store.load_failures("g2").columns  # type: ignore[union-attr]


def test_a_cancelled_training_stops_and_serves_nothing(tmp_path: Path, small_history: History) -> None:
    """Cancellation is cooperative: the job's progress callback raises at its next call."""
    import time

    from fluxops.cascade.jobs import JobRunner

    svc = RiskService(RiskFileStore(tmp_path), JobRunner(max_workers=1))
    svc.store.save_history("g3", small_history)
    try:
        job = svc.start_training("g3", TrainConfig(bootstrap=0, lgbm_rounds=5000, lgbm_num_leaves=63))
        while svc.jobs.get(job.job_id).state == "queued":
            time.sleep(0.01)
        svc.jobs.cancel(job.job_id)
        deadline = time.monotonic() + 120
        while svc.jobs.get(job.job_id).state == "running" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert svc.jobs.get(job.job_id).state == "cancelled"
        assert svc.store.current_model_id("g3") is None
    finally:
        svc.jobs.shutdown()


def test_lightgbm_calls_the_checkpoint_inside_its_rounds(small_history: History) -> None:
    """So a cancelled job stops within 10 boosting rounds, not after the whole fit."""
    from fluxops.risk.models import LightGBMModel

    s = Snapshots(small_history)
    calls: list[int] = []

    def stop() -> None:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError, match="cancelled"):
        LightGBMModel(TrainConfig(lgbm_rounds=500), stop).fit(s.at(2), s.y[2])
    assert len(calls) == 3


def test_a_history_with_too_few_failures_is_a_conflict(small_assets: Any) -> None:
    from fluxops.risk.history import generate_history

    from .conftest import END, scaled_params

    sparse = generate_history(small_assets, end_utc=END, years=4, seed=0, params=scaled_params(0.2))
    with pytest.raises(ConflictError, match="too few failures"):
        evaluate(sparse, CFG)


def test_ceilings_are_reported(evaluation: dict[str, Any]) -> None:
    """The diagnostic ceilings sit in the card apart from the models (never chosen, never checked as
    models against the oracle)."""
    assert set(evaluation["ceilings"]) == {"known_drivers", "own_history"}
    for c in evaluation["ceilings"].values():
        assert 0.5 < c["overall"]["roc_auc"]["value"] <= 1.0 and c["what"]
    assert not set(evaluation["ceilings"]) & set(evaluation["validation"])


def test_prior_model_explanations_add_up(small_history: History) -> None:
    """LightGBM from the published-rate prior: contributions + bias (prior included) = its log-odds."""
    from fluxops.risk.models import LightGBMPriorModel, drivers

    snaps = Snapshots(small_history)
    x, x2 = snaps.at(1), snaps.at(2)
    y = snaps.y[1]
    m = LightGBMPriorModel(CFG).fit(x, y)
    p = m.predict(x2)
    c = m.contributions(x2)
    assert np.allclose(c.sum(axis=1), np.log(p / (1 - p)))
    d = drivers(m, x2.iloc[:3])
    assert (d["feature"] == "bias").sum() == 3 and "published rate" in d.loc[
        d["feature"] == "bias", "words"
    ].iloc[0]


def test_transformer_card(small_history: History) -> None:
    """Issue 12 §4: its own split-restricted evaluation, chosen by validation, under the oracle; the
    served transformer model scores transformers only."""
    from fluxops.risk.transformer_card import XF_KINDS, fit_transformer_model, transformer_evaluation

    ev = transformer_evaluation(small_history, CFG)
    assert set(ev["test"]) == {*XF_KINDS, "oracle"} and ev["chosen"] in XF_KINDS
    assert ev["split"]["test_positives"] > 0
    oracle = ev["test"]["oracle"]["overall"]["roc_auc"]["value"]
    for kind in XF_KINDS:
        assert ev["test"][kind]["overall"]["roc_auc"]["value"] <= oracle + 0.05, kind
    p = fit_transformer_model(small_history, ev["chosen"], CFG)
    xf = (small_history.assets["asset_type"] == "transformer").to_numpy()
    assert np.isfinite(p[xf]).all() and np.isnan(p[~xf]).all() and ((p[xf] > 0) & (p[xf] < 1)).all()


def test_ceiling_not_judged_on_too_few_failures() -> None:
    """One test-year failure: a model 'above the oracle' is noise there, so the check says it did not judge
    (and refuses nothing); with enough failures the same cheat is caught."""
    rng = np.random.default_rng(0)
    oracle = rng.uniform(0.0, 0.05, 400)
    y = np.zeros(400, np.int8)
    y[[7]] = 1
    cheat = (0.9 * y + 0.05).astype(np.float64)
    v, note = ceiling_check(y, {"cheat": cheat}, oracle, bootstrap_index(len(y), 200, 0))
    assert v == [] and note.startswith("not judged: 1 test-year failures")
    y[rng.choice(400, 30, replace=False)] = 1
    cheat = (0.9 * y + 0.05).astype(np.float64)
    v, note = ceiling_check(y, {"cheat": cheat}, oracle, bootstrap_index(len(y), 200, 0))
    assert v and note.startswith("failed")
