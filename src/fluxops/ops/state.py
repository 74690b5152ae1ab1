"""The live state of every asset: energized, load %, status (normal / warning / critical / out), health.

Derived, not stored as truth: *out* comes from the open outages (an element is de-energized when every
meter below it has lost supply, or, with no meters below, when it lies inside an outage's device zone);
*loading* and the warning/critical statuses come from AMI analytics when a `LoadingSource` is wired in,
otherwise load is null (unknown), never invented. Health is the remaining-life index of
`fluxops.ops.health` (IEEE C57.91 insulation aging for distribution transformers, service age against
an expected life for segments, poles and substations), passed in by the caller; null where it has no basis.

`GridState` keeps the previous snapshot and a per-asset change sequence so that
``GET /api/grid/state?changed_since=N`` returns only what changed and the stream can push diffs. The
full snapshot is built once per version and kept (`full_snapshot`), so 64 readers of an unchanged state
share one table; ``epoch`` (new for every `GridState`, i.e. every loaded grid and process) and the version
name a snapshot, which is what the API's ETag says.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from fluxops.grid.models import Grid
from fluxops.ops.trace import NODE_DEVICE, NODE_METER, IntArray, ProtectionTree

STATUS_CODES: tuple[str, ...] = ("normal", "warning", "critical", "out")


@dataclass(frozen=True)
class StateConfig:
    """Loading thresholds, % of nameplate, the same as the AMI analytics' transformer status
    (`fluxops.ami.analytics`): warning above nameplate (the IEEE C57.91 normal-life rating), critical
    above 130 %, the planned-beyond-nameplate ceiling of C57.91 loading guidance."""

    warning_loading_pct: float = 100.0
    critical_loading_pct: float = 130.0


def _asset_frame(grid: Grid) -> pd.DataFrame:
    parts = [
        pd.DataFrame({"asset_id": grid.substations["substation_id"], "asset_type": "substation"}),
        pd.DataFrame({"asset_id": grid.feeders["feeder_id"], "asset_type": "feeder"}),
        pd.DataFrame({"asset_id": grid.line_segments["segment_id"], "asset_type": "line_segment"}),
        pd.DataFrame({"asset_id": grid.devices["device_id"], "asset_type": grid.devices["device_type"]}),
        pd.DataFrame({"asset_id": grid.poles["pole_id"], "asset_type": "pole"}),
        pd.DataFrame({"asset_id": grid.transformers["transformer_id"], "asset_type": "transformer"}),
        pd.DataFrame({"asset_id": grid.meters["meter_id"], "asset_type": "meter"}),
    ]
    return pd.concat(parts, ignore_index=True).astype({"asset_id": object, "asset_type": object})


@dataclass(frozen=True)
class StateSnapshot:
    """Every asset's state at one version, with the status counts of that same version."""

    epoch: str
    version: int
    table: pa.Table
    counts: dict[str, int]


class GridState:
    """Snapshot of per-asset state with change tracking (thread-safe)."""

    def __init__(self, grid: Grid, tree: ProtectionTree, config: StateConfig | None = None) -> None:
        self.grid = grid
        self.tree = tree
        self.config = config or StateConfig()
        assets = _asset_frame(grid)
        self.asset_id = assets["asset_id"].to_numpy()
        self.asset_type = assets["asset_type"].to_numpy()
        n = len(assets)
        self.status = np.zeros(n, dtype=np.int8)  # index into STATUS_CODES
        self.loading_pct = np.full(n, np.nan)
        self.health_pct = np.full(n, np.nan)
        self.changed_seq = np.zeros(n, dtype=np.int64)
        self.version = 0
        self.epoch = uuid.uuid4().hex[:12]
        self._full: StateSnapshot | None = None  # the full snapshot of the current version, once built
        # the columns that never change, as Arrow once (a snapshot then costs vector operations only)
        self._ids = pa.array(self.asset_id, pa.string())
        self._types = pa.array(self.asset_type, pa.string())
        self._codes = pa.array(STATUS_CODES, pa.string())
        self._lock = threading.Lock()
        pos = pd.Series(np.arange(n), index=pd.Index(self.asset_id))
        self._pos = pos
        # per asset, the tree node / bus deciding whether it is energized
        self._node = tree.positions(self.asset_id)
        bus_gate = pd.Series(tree.bus_gate, index=pd.Index(tree.bus_ids))
        seg = grid.line_segments
        seg_gate = bus_gate.reindex(seg["to_bus_id"]).fillna(-1).to_numpy(np.int64)
        seg_pos = pos.reindex(seg["segment_id"]).to_numpy(np.int64)
        self._gate = np.full(n, -1, dtype=np.int64)
        self._gate[seg_pos] = seg_gate
        poles = grid.poles
        if len(poles):
            seg_gate_by_id = pd.Series(seg_gate, index=pd.Index(seg["segment_id"]))
            pg = seg_gate_by_id.reindex(poles["segment_id"]).to_numpy()
            pg2 = bus_gate.reindex(poles["bus_id"]).to_numpy()
            pole_gate = np.where(~np.isnan(pg), pg, np.where(~np.isnan(pg2), pg2, -1)).astype(np.int64)
            self._gate[pos.reindex(poles["pole_id"]).to_numpy(np.int64)] = pole_gate
        fdr = grid.feeders
        head = tree.positions(fdr["head_device_id"].to_numpy())
        self._gate[pos.reindex(fdr["feeder_id"]).to_numpy(np.int64)] = head
        self._feeder_sub = fdr["substation_id"].to_numpy()
        self._feeder_pos = pos.reindex(fdr["feeder_id"]).to_numpy(np.int64)
        self._sub_pos = pos.reindex(grid.substations["substation_id"]).to_numpy(np.int64)
        self._sub_ids = grid.substations["substation_id"].to_numpy()
        self._xfmr_pos = pos.reindex(grid.transformers["transformer_id"]).to_numpy(np.int64)
        self._xfmr_index = pd.Series(
            np.arange(len(grid.transformers)), index=grid.transformers["transformer_id"]
        )
        self._meter_pos = pos.reindex(grid.meters["meter_id"]).to_numpy(np.int64)
        self._meter_index = pd.Series(np.arange(len(grid.meters)), index=grid.meters["meter_id"])

    def recompute(
        self,
        meters_out: IntArray,
        outage_device_nodes: IntArray,
        loading: pa.Table | None = None,
        voltage: pa.Table | None = None,
        health: pa.Table | None = None,
    ) -> IntArray:
        """New snapshot from the meters out now (positions), the device nodes of open device outages,
        optional transformer loading, optional meter voltage status and optional asset health
        (`fluxops.ops.health.asset_health`: asset_id, health_pct); returns the positions of assets
        whose state changed."""
        tree, cfg = self.tree, self.config
        n_nodes = len(tree.parent)
        off = tree.meter_offset
        out_count = tree.count_under(meters_out + off) if len(meters_out) else np.zeros(n_nodes, np.int64)
        under = np.zeros(n_nodes, dtype=bool)
        for d in outage_device_nodes.tolist():
            if d >= 0 and tree.node_kind[d] == NODE_DEVICE:
                under[tree.subtree(d)] = True
        node_out = np.where(tree.meter_count > 0, out_count == tree.meter_count, under)
        node_out[tree.node_kind == NODE_METER] = out_count[tree.node_kind == NODE_METER] > 0
        out = np.zeros(len(self.asset_id), dtype=bool)
        has_node = self._node >= 0
        out[has_node] = node_out[self._node[has_node]]
        has_gate = (self._gate >= 0) & ~has_node
        out[has_gate] = node_out[self._gate[has_gate]]
        # a substation is out when all its feeders are
        if len(self._feeder_pos):
            f_out = pd.Series(out[self._feeder_pos]).groupby(self._feeder_sub).all()
            out[self._sub_pos] = f_out.reindex(self._sub_ids).fillna(False).to_numpy(bool)
        load = np.full(len(self.asset_id), np.nan)
        health_pct = np.full(len(self.asset_id), np.nan)
        if loading is not None and loading.num_rows:
            df = loading.to_pandas()
            idx = self._xfmr_index.reindex(df["transformer_id"]).to_numpy()
            ok = ~np.isnan(idx)
            load[self._xfmr_pos[idx[ok].astype(np.int64)]] = df["loading_pct"].to_numpy(float)[ok]
        if health is not None and health.num_rows:
            ids = health.column("asset_id").to_numpy(zero_copy_only=False)
            hpos = self._pos.reindex(ids).to_numpy()
            ok = ~np.isnan(hpos)
            if "asset_kind" in health.column_names:  # substation transformers are not state assets
                kind = health.column("asset_kind").to_numpy(zero_copy_only=False)
                ok &= kind != "substation_transformer"
            values = health.column("health_pct").to_numpy(zero_copy_only=False).astype(np.float64)
            # 0.1 %: the install year is known only to the year, and a finer figure would churn the
            # diffs as health drifts (a transformer aging at rated F_AA = 1 loses 0.1 % in 18 h)
            health_pct[hpos[ok].astype(np.int64)] = np.round(values[ok], 1)
        status = np.zeros(len(self.asset_id), dtype=np.int8)
        status[load >= cfg.warning_loading_pct] = 1
        status[load >= cfg.critical_loading_pct] = 2
        if voltage is not None and voltage.num_rows:
            vdf = voltage.to_pandas()
            vpos = self._meter_index.reindex(vdf["meter_id"]).to_numpy()
            code = vdf["status"].map({"normal": 0, "warning": 1, "critical": 2}).to_numpy()
            ok = ~np.isnan(vpos) & ~pd.isna(code)
            idx = self._meter_pos[vpos[ok].astype(np.int64)]
            status[idx] = np.maximum(status[idx], code[ok].astype(np.int8))
        status[out] = 3
        with self._lock:
            changed = (
                (status != self.status)
                | ~np.isclose(load, self.loading_pct, equal_nan=True)
                | ~np.isclose(health_pct, self.health_pct, equal_nan=True)
            )
            idx_changed = np.flatnonzero(changed)
            if len(idx_changed):
                self.version += 1
                self.changed_seq[idx_changed] = self.version
            self.status, self.loading_pct, self.health_pct = status, load, health_pct
        return idx_changed

    def snapshot(self, changed_since: int | None = None) -> tuple[int, pa.Table]:
        """(version, table) of every asset, or of those changed after ``changed_since``."""
        if changed_since is None:
            full = self.full_snapshot()
            return full.version, full.table
        with self._lock:
            return self.version, self._table(np.flatnonzero(self.changed_seq > changed_since))

    def full_snapshot(self) -> StateSnapshot:
        """Every asset at the current version; built once per version and shared by every reader."""
        with self._lock:
            if self._full is None or self._full.version != self.version:
                self._full = StateSnapshot(self.epoch, self.version, self._table(None), self._counts())
            return self._full

    def _table(self, sel: npt.NDArray[np.int64] | None) -> pa.Table:
        """The rows at positions ``sel``, or every row (caller holds the lock)."""
        status = self.status if sel is None else self.status[sel]
        loading = self.loading_pct if sel is None else self.loading_pct[sel]
        health = self.health_pct if sel is None else self.health_pct[sel]
        ids, types = (self._ids, self._types) if sel is None else (self._ids.take(sel), self._types.take(sel))
        return pa.table(
            {
                "asset_id": ids,
                "asset_type": types,
                "status": self._codes.take(pa.array(status)),
                "energized": pa.array(status != 3, pa.bool_()),
                "loading_pct": pa.array(loading, pa.float64(), from_pandas=True),
                "health_pct": pa.array(health, pa.float64(), from_pandas=True),
            }
        )

    def compact(self, changed_since: int | None = None) -> tuple[int, pa.Table]:
        """(version, table) in the compact form the map needs: ``asset_id``, ``status`` (int8 index
        into `STATUS_CODES`) and ``loading_pct`` (float32, null unknown). With ``changed_since`` the
        rows changed after it; without, every row that differs from the zero state (normal, loading
        unknown) — every other asset *is* in the zero state, so the client starts from it and applies
        these rows. On `demo` that is ~30K of 237K rows and a few hundred kB instead of 12.8 MB."""
        with self._lock:
            if changed_since is None:
                sel = np.flatnonzero((self.status != 0) | ~np.isnan(self.loading_pct))
            else:
                sel = np.flatnonzero(self.changed_seq > changed_since)
            return self.version, self._compact_table(sel)

    def _compact_table(self, sel: npt.NDArray[np.int64]) -> pa.Table:
        return pa.table(
            {
                "asset_id": self._ids.take(pa.array(sel)),
                "status": pa.array(self.status[sel], pa.int8()),
                "loading_pct": pa.array(
                    self.loading_pct[sel].astype(np.float32), pa.float32(), from_pandas=True
                ),
            }
        )

    def changes(self, positions: npt.NDArray[np.int64]) -> list[dict[str, object]]:
        """The current status and loading of ``positions``, as the SSE ``asset_status`` delta carries
        them (enough for a client to apply the delta instead of fetching the diff)."""
        with self._lock:
            load = self.loading_pct[positions]
            return [
                {
                    "asset_id": str(self.asset_id[i]),
                    "status": STATUS_CODES[int(self.status[i])],
                    "loading_pct": None if np.isnan(v) else round(float(v), 3),
                }
                for i, v in zip(positions.tolist(), load.tolist(), strict=True)
            ]

    def statuses(self, positions: npt.NDArray[np.int64]) -> dict[str, str]:
        with self._lock:
            return {str(self.asset_id[i]): STATUS_CODES[int(self.status[i])] for i in positions.tolist()}

    def counts(self) -> dict[str, int]:
        with self._lock:
            return self._counts()

    def _counts(self) -> dict[str, int]:
        c = np.bincount(self.status, minlength=len(STATUS_CODES))
        return {s: int(c[i]) for i, s in enumerate(STATUS_CODES)}
