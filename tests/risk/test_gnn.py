"""The optional GraphSAGE model: on the asset graph, same split, under the oracle, deterministic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fluxops.risk.history import History
from fluxops.risk.models import TrainConfig, evaluate

pytest.importorskip("torch")

from fluxops.risk.gnn import AssetGraph, GNNModel
from fluxops.risk.models import Snapshots


def test_asset_graph_joins_assets_through_their_buses(small_assets: pd.DataFrame) -> None:
    g = AssetGraph(small_assets)
    n = len(small_assets)
    assert g.n_nodes > n
    # bipartite: every edge joins an asset and a bus, both directions present
    assert ((g.src < n) != (g.dst < n)).all()
    fwd = set(zip(g.src.tolist(), g.dst.tolist(), strict=True))
    assert all((d, s) in fwd for s, d in fwd)
    # a segment touches two buses; a transformer one
    seg = int(np.flatnonzero(small_assets["asset_type"].to_numpy() == "line_segment")[0])
    xf = int(np.flatnonzero(small_assets["asset_type"].to_numpy() == "transformer")[0])
    assert (g.src == seg).sum() == 2 and (g.src == xf).sum() == 1


def test_gnn_on_the_split_stays_under_the_oracle(small_history: History) -> None:
    ev = evaluate(small_history, TrainConfig(bootstrap=100, lgbm_rounds=100, gnn=True, gnn_epochs=30))
    assert "gnn" in ev["test"] and "gnn" in ev["validation"]
    assert ev["oracle_violations"] == []
    g = ev["test"]["gnn"]["overall"]
    assert g["roc_auc"]["ci_lo"] > 0.5  # it learns something
    assert g["roc_auc"]["value"] <= ev["test"]["oracle"]["overall"]["roc_auc"]["value"] + 0.02


def test_gnn_is_deterministic(small_history: History) -> None:
    s = Snapshots(small_history)
    train = np.ones(len(small_history.assets), bool)
    frames = [(s.at(k), s.y[k], train) for k in (1, 2)]
    a = GNNModel(small_history.assets, seed=3, epochs=5).fit_snapshots(frames).predict(s.at(3))
    b = GNNModel(small_history.assets, seed=3, epochs=5).fit_snapshots(frames).predict(s.at(3))
    assert np.array_equal(a, b)
    assert ((a > 0) & (a < 1)).all()
