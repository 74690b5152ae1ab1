"""The protection tree agrees with the grid domain's topology on a generated grid, and a fault at any
protective device of that grid is traced back to it from 85 % of its meters' last-gasps."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from fluxops.grid.models import PROTECTIVE_DEVICE_TYPES, Grid
from fluxops.grid.topology import GridTopology
from fluxops.ops.models import MeterEvent
from fluxops.ops.outages import OutageEngine
from fluxops.ops.trace import NODE_DEVICE, ProtectionTree

T0 = datetime(2026, 7, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def tree(tiny_grid: Grid) -> ProtectionTree:
    return ProtectionTree.build(tiny_grid)


def test_lowest_common_protective_device_matches_grid_topology(tiny_grid: Grid, tree: ProtectionTree) -> None:
    topo = GridTopology.build(tiny_grid)
    rng = np.random.default_rng(7)
    meters = tiny_grid.meters
    checked = 0
    for fid, group in meters.groupby("feeder_id"):
        ids = group["meter_id"].to_numpy()
        for k in (2, 5, 20):
            if len(ids) < k:
                continue
            pick = list(rng.choice(ids, size=k, replace=False))
            ours = tree.lowest_common_protective_device(pick)
            if ours is not None and ours in set(tiny_grid.transformers["transformer_id"]):
                continue  # we also predict transformers (fuse cutouts); the grid helper does not
            assert ours == topo.lowest_common_protective_device(pick), (fid, pick)
            checked += 1
    assert checked > 5


def test_fault_at_each_protective_device_is_traced_back(tiny_grid: Grid, tree: ProtectionTree) -> None:
    rng = np.random.default_rng(3)
    devices = [
        n
        for n in range(tree.n_devices)
        if tree.node_kind[n] == NODE_DEVICE and tree.node_type[n] in PROTECTIVE_DEVICE_TYPES
    ]
    assert devices
    for n in rng.choice(devices, size=min(25, len(devices)), replace=False).tolist():
        zone = tree.meters_under(n)
        if len(zone) < 4:
            continue
        ids = tree.node_ids[zone]
        sent = rng.choice(ids, size=int(np.ceil(0.85 * len(ids))), replace=False)
        eng = OutageEngine(tree)
        delta = eng.process([MeterEvent(str(m), "last_gasp", T0) for m in sent], now_utc=T0)
        (out,) = delta.outages
        predicted = tree.node_of(out.device_id)
        assert predicted is not None
        # indistinguishable from the meters alone: a device whose zone holds exactly the same meters
        assert set(tree.meters_under(predicted).tolist()) == set(zone.tolist()), tree.node_ids[n]
        assert out.customers_affected == len(zone)
