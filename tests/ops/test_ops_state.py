"""Live asset state: out from outages (zones, segments, poles-free feeders), load statuses from AMI
loading when present (null when absent), and diffs by version."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
from ops_feeders import build_feeders, meters_of

from fluxops.ops.models import MeterEvent
from fluxops.ops.outages import OutageEngine
from fluxops.ops.state import GridState
from fluxops.ops.trace import ProtectionTree

T0 = datetime(2026, 7, 1, tzinfo=UTC)


def test_state_from_outages_and_loading() -> None:
    grid = build_feeders()
    tree = ProtectionTree.build(grid)
    state = GridState(grid, tree)
    eng = OutageEngine(tree)
    assert len(state.recompute(eng.meters_out(), np.zeros(0, np.int64))) == 0  # all normal already
    version0, snap = state.snapshot()
    assert version0 == 0 and set(snap.column("status").to_pylist()) == {"normal"}
    assert all(v is None for v in snap.column("loading_pct").to_pylist())  # unknown, not invented

    eng.process([MeterEvent(m, "last_gasp", T0) for m in meters_of("T3", "T4")], now_utc=T0)
    nodes = np.array([tree.node_of(o.device_id) for o in eng.open_outages()], dtype=np.int64)
    loading = pa.table({"transformer_id": ["T1", "T2", "T5"], "loading_pct": [85.0, 112.0, 140.0]})
    changed = state.recompute(eng.meters_out(), nodes, loading)
    version, diff = state.snapshot(changed_since=version0)
    got = dict(zip(diff.column("asset_id").to_pylist(), diff.column("status").to_pylist(), strict=True))
    assert len(changed) == diff.num_rows and version == 1
    assert got["FUS1"] == "out" and got["T3"] == "out" and got["M4-3"] == "out"
    assert got["S-B5-B6"] == "out"  # the segment behind the blown fuse
    assert got["T2"] == "warning" and got["T5"] == "critical"
    assert got["T1"] == "normal"  # 85 %: still normal, in the diff because its loading changed
    assert "T7" not in got and "M7-0" not in got
    _, full = state.snapshot()
    rows = {r["asset_id"]: r for r in full.to_pylist()}
    assert rows["T1"]["loading_pct"] == 85.0 and rows["T1"]["status"] == "normal"
    assert rows["REC1"]["status"] == "normal" and rows["F1"]["status"] == "normal"
    assert rows["S-B3-B4"]["energized"] is True and rows["T3"]["energized"] is False
    # a breaker lockout takes the feeder and (with its only other feeder live) not the substation
    eng.process([MeterEvent(m, "last_gasp", T0) for m in meters_of("T7")], now_utc=T0)
    eng.restore(next(o.outage_id for o in eng.open_outages() if o.device_id == "T7"), actor="x", now_utc=T0)
    eng.process([MeterEvent(m, "last_gasp", T0) for m in meters_of("T1", "T2", "T5", "T6")], now_utc=T0)
    nodes = np.array([tree.node_of(o.device_id) for o in eng.open_outages()], dtype=np.int64)
    state.recompute(eng.meters_out(), nodes, loading)
    _, full = state.snapshot()
    rows = {r["asset_id"]: r for r in full.to_pylist()}
    assert rows["F1"]["status"] == "out" and rows["BRK1"]["status"] == "out"
    assert rows["F2"]["status"] == "normal" and rows["SUB-1"]["status"] == "normal"
    assert state.counts()["out"] > 0
    # meter voltage (ANSI C84.1) from AMI analytics colours live meters; an out meter stays out
    volts = pa.table({"meter_id": ["M7-1", "M7-2", "M1-0"], "status": ["warning", "critical", "critical"]})
    state.recompute(eng.meters_out(), nodes, loading, volts)
    _, full = state.snapshot()
    rows = {r["asset_id"]: r for r in full.to_pylist()}
    assert (rows["M7-1"]["status"], rows["M7-2"]["status"], rows["M7-0"]["status"]) == (
        "warning",
        "critical",
        "normal",
    )
    assert rows["M1-0"]["status"] == "out"
