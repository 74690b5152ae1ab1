"""The compact snapshot and the SSE delta of the live state (issue 10 §3): the zero state plus the
compact rows is the full snapshot, and the previous full snapshot plus the delta the stream carries
(status and loading of the changed assets) is the full snapshot at the new version."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
from ops_feeders import build_feeders, meters_of

from fluxops.ops.models import MeterEvent
from fluxops.ops.outages import OutageEngine
from fluxops.ops.state import STATUS_CODES, GridState
from fluxops.ops.trace import ProtectionTree

T0 = datetime(2026, 7, 1, tzinfo=UTC)


def _full(state: GridState) -> dict[str, tuple[str, Any]]:
    _, t = state.snapshot()
    return {
        r["asset_id"]: (r["status"], None if r["loading_pct"] is None else round(r["loading_pct"], 3))
        for r in t.to_pylist()
    }


def _from_compact(ids: list[str], table: pa.Table) -> dict[str, tuple[str, Any]]:
    out: dict[str, tuple[str, Any]] = {i: ("normal", None) for i in ids}  # the zero state
    for r in table.to_pylist():
        load = r["loading_pct"]
        out[r["asset_id"]] = (STATUS_CODES[r["status"]], None if load is None else round(load, 3))
    return out


def _apply(before: dict[str, tuple[str, Any]], changes: list[dict[str, Any]]) -> dict[str, tuple[str, Any]]:
    after = dict(before)
    for c in changes:
        after[c["asset_id"]] = (c["status"], c["loading_pct"])
    return after


def test_compact_snapshot_and_stream_delta_rebuild_the_full_snapshot() -> None:
    grid = build_feeders()
    tree = ProtectionTree.build(grid)
    state = GridState(grid, tree)
    eng = OutageEngine(tree)
    ids = [str(i) for i in state.asset_id]
    loading = pa.table({"transformer_id": ["T1", "T2", "T5"], "loading_pct": [85.0, 112.0, 140.0]})
    state.recompute(eng.meters_out(), np.zeros(0, np.int64), loading)
    v1, compact = state.compact()
    assert v1 == 1 and compact.num_rows == 3  # only what differs from the zero state travels
    assert compact.schema.field("status").type == pa.int8()
    # float32 in the compact form: compare at its precision
    assert {
        k: (s, None if x is None else round(x, 2)) for k, (s, x) in _from_compact(ids, compact).items()
    } == {k: (s, None if x is None else round(x, 2)) for k, (s, x) in _full(state).items()}
    before = _full(state)

    eng.process([MeterEvent(m, "last_gasp", T0) for m in meters_of("T3", "T4")], now_utc=T0)
    nodes = np.array([tree.node_of(o.device_id) for o in eng.open_outages()], dtype=np.int64)
    loading2 = pa.table({"transformer_id": ["T1", "T2"], "loading_pct": [101.5, 60.0]})
    changed = state.recompute(eng.meters_out(), nodes, loading2)
    assert state.version == v1 + 1 and len(changed) > 0
    delta = state.changes(changed)
    after = _apply(before, delta)
    assert after == _full(state)  # delta applied == the full snapshot at the new version
    assert after["T3"][0] == "out" and after["T5"] == ("normal", None) and after["T1"] == ("warning", 101.5)
    # the compact diff since v1 says the same
    v2, diff = state.compact(changed_since=v1)
    assert v2 == v1 + 1 and sorted(diff.column("asset_id").to_pylist()) == sorted(
        c["asset_id"] for c in delta
    )
