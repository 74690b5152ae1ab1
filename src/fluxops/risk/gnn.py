"""GraphSAGE on the asset graph (optional: ``torch``, the ``gnn`` extra; CPU, full batch).

Graph: one node per asset and per bus; an asset is joined to the buses it touches (`bus_a`, `bus_b` of
`fluxops.risk.assets`: segment and device ends, a transformer's bus, a pole's segment ends, a substation
transformer's bus section). Two hops reach the assets sharing a bus, four the next ones along the feeder.
Layers: GraphSAGE with mean aggregation (Hamilton, Ying, Leskovec, NeurIPS 2017),
``h' = ReLU(W_self h + W_neigh mean_{u ∈ N(v)} h_u)``, written with ``index_add_`` — the same operation as
PyTorch Geometric's ``SAGEConv(aggr="mean")``, without the extra dependency (docs risk anchors §1.6).

Node features: the tabular features of `fluxops.risk.features` (counts and sizes through log1p, then
z-scored with the training rows' statistics; a missing age is 0 with a flag), the asset type one-hot, and
a bus flag (buses carry no other feature). Training: binary cross-entropy on the training substations'
asset nodes of every training snapshot (same graph, that snapshot's features), Adam, a fixed number of
epochs, seeded. Held-out substations' nodes are in the graph with their cut-off features (known at the
cut-off) but never in the loss.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from fluxops.core.errors import CapabilityError
from fluxops.risk.features import FEATURES, TYPE_CODES

F64 = npt.NDArray[np.float64]
LOG1P = ("length_km", "rating", "customers_affected", "fail_all", "fail_last1", "fail_last3", "fail_rate_y")


def torch_installed() -> bool:
    """Whether torch can be imported, without importing it: a request that only asks must not pay the
    seconds a first ``import torch`` takes (the fuzz test's 10 s read timeout did, on a loaded machine)."""
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def require_torch() -> None:
    """Raise `CapabilityError` (501) when torch is not installed."""
    if not torch_installed():
        raise CapabilityError("the GNN needs torch: pip install -e '.[gnn]' (CPU wheel)")


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise CapabilityError("the GNN needs torch: pip install -e '.[gnn]' (CPU wheel)") from exc
    return torch


class AssetGraph:
    """Edge lists (both directions) over asset nodes 0..n-1 and bus nodes n..n+m-1."""

    def __init__(self, assets: pd.DataFrame) -> None:
        n = len(assets)
        buses = pd.Index(
            pd.unique(
                pd.concat([assets["bus_a"], assets["bus_b"]], ignore_index=True).dropna().to_numpy(object)
            )
        )
        src: list[npt.NDArray[np.int64]] = []
        dst: list[npt.NDArray[np.int64]] = []
        for col in ("bus_a", "bus_b"):
            b = buses.get_indexer(pd.Index(assets[col]))
            ok = (b >= 0) & assets[col].notna().to_numpy()
            a_idx = np.flatnonzero(ok)
            b_idx = n + b[ok]
            src += [a_idx, b_idx]
            dst += [b_idx, a_idx]
        s, d = np.concatenate(src), np.concatenate(dst)
        pair = np.unique(np.stack([s, d], 1), axis=0)  # a pole on one bus twice: one edge
        self.n_assets = n
        self.n_nodes = n + len(buses)
        self.src = pair[:, 0].astype(np.int64)
        self.dst = pair[:, 1].astype(np.int64)
        self.deg = np.bincount(self.dst, minlength=self.n_nodes).astype(np.float64)


class GNNModel:
    kind = "gnn"

    def __init__(self, assets: pd.DataFrame, *, seed: int, epochs: int = 60, hidden: int = 32) -> None:
        self.graph = AssetGraph(assets)
        self.type_code = assets["asset_type"].map(TYPE_CODES).to_numpy(np.int64)
        self.seed = seed
        self.epochs = epochs
        self.hidden = hidden
        self.mean: F64 | None = None
        self.std: F64 | None = None
        self.net: Any = None

    # --- features ----------------------------------------------------------------------------------------

    def _raw(self, x: pd.DataFrame) -> F64:
        cols = [c for c in FEATURES if c not in ("type_code", "material_code")]
        v = x[cols].to_numpy(np.float64).copy()
        for j, c in enumerate(cols):
            if c in LOG1P:
                v[:, j] = np.log1p(np.maximum(v[:, j], 0.0))
        return v

    def _nodes(self, x: pd.DataFrame) -> Any:
        torch = _torch()
        assert self.mean is not None and self.std is not None
        raw = self._raw(x)
        missing = ~np.isfinite(raw)
        z = np.where(missing, 0.0, (raw - self.mean) / self.std)
        onehot = np.zeros((len(x), len(TYPE_CODES)))
        onehot[np.arange(len(x)), self.type_code] = 1.0
        asset_rows = np.concatenate([z, missing.any(axis=1, keepdims=True), onehot, np.zeros((len(x), 1))], 1)
        g = self.graph
        bus_rows = np.zeros((g.n_nodes - g.n_assets, asset_rows.shape[1]))
        bus_rows[:, -1] = 1.0
        return torch.tensor(np.concatenate([asset_rows, bus_rows]), dtype=torch.float32)

    # --- model -------------------------------------------------------------------------------------------

    def _build(self, n_in: int) -> Any:
        torch = _torch()
        g = self.graph
        src = torch.tensor(g.src)
        dst = torch.tensor(g.dst)
        inv_deg = torch.tensor(1.0 / np.maximum(g.deg, 1.0), dtype=torch.float32)[:, None]
        hidden = self.hidden

        class SAGE(torch.nn.Module):  # type: ignore[misc,name-defined]
            def __init__(self) -> None:
                super().__init__()
                dims = [n_in, hidden, hidden, hidden, hidden]
                self.self_lin = torch.nn.ModuleList(
                    torch.nn.Linear(a, b) for a, b in itertools.pairwise(dims)
                )
                self.neigh_lin = torch.nn.ModuleList(
                    torch.nn.Linear(a, b, bias=False) for a, b in itertools.pairwise(dims)
                )
                self.out = torch.nn.Linear(hidden, 1)

            def forward(self, h: Any) -> Any:
                for s_l, n_l in zip(self.self_lin, self.neigh_lin, strict=True):
                    agg = torch.zeros_like(h).index_add_(0, dst, h[src]) * inv_deg
                    h = torch.relu(s_l(h) + n_l(agg))
                return self.out(h).squeeze(-1)

        return SAGE()

    def fit_snapshots(
        self,
        frames: list[tuple[pd.DataFrame, npt.NDArray[np.int8], npt.NDArray[np.bool_]]],
        checkpoint: Callable[[], None] | None = None,
    ) -> GNNModel:
        """``frames``: (features of every asset at a cut-off, labels, training-asset mask)."""
        torch = _torch()
        torch.manual_seed(self.seed)
        raw = np.concatenate([self._raw(x)[m] for x, _, m in frames])
        self.mean = np.nanmean(raw, axis=0)
        self.std = np.nanstd(raw, axis=0)
        self.mean = np.where(np.isfinite(self.mean), self.mean, 0.0)
        self.std = np.where(np.isfinite(self.std) & (self.std > 0), self.std, 1.0)
        data = [
            (self._nodes(x), torch.tensor(y[m].astype(np.float32)), torch.tensor(np.flatnonzero(m)))
            for x, y, m in frames
        ]
        net = self._build(int(data[0][0].shape[1]))
        opt = torch.optim.Adam(net.parameters(), lr=0.01, weight_decay=1e-4)
        loss_fn = torch.nn.BCEWithLogitsLoss()
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # deterministic reductions; the machine is shared anyway
        try:
            net.train()
            for _ in range(self.epochs):
                if checkpoint is not None:
                    checkpoint()  # a cancelled job stops here
                for feats, y, idx in data:
                    opt.zero_grad()
                    loss = loss_fn(net(feats)[idx], y)
                    loss.backward()
                    opt.step()
        finally:
            torch.set_num_threads(threads)
        self.net = net.eval()
        return self

    def predict(self, x: pd.DataFrame) -> F64:
        """Probabilities of every asset (the frame must hold every asset, graph order)."""
        torch = _torch()
        with torch.no_grad():
            logits = self.net(self._nodes(x))[: self.graph.n_assets]
        out: F64 = torch.sigmoid(logits).numpy().astype(np.float64)
        return out

    def artifact(self) -> str:
        state = {k: v.tolist() for k, v in self.net.state_dict().items()}
        assert self.mean is not None and self.std is not None
        return json.dumps(
            {"kind": "gnn", "mean": self.mean.tolist(), "std": self.std.tolist(), "state": state}
        )
