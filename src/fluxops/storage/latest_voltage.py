"""`LatestVoltage`: each meter's latest measured interval voltage and its ANSI C84.1 status, kept in
memory and folded forward from the lake files written since the last look.

Why (issue 8 §5): the outage engine's live state and ``/api/ami/voltage/latest`` asked DuckDB for
``arg_max(voltage_v, interval_start_utc)`` over every raw reading of the newest stored day — under a
5,000 readings/s feed that is millions of rows re-read for a few thousand that changed. Lake files
carry a lake-wide increasing batch number (``part-<seq>``, ``compact-<max seq>``), so only files with a
number above the last one folded hold readings not yet seen; folding is a per-meter "keep the later
interval" (a correction of the same interval wins), so re-reading a file (a compaction merged it into
a new one) changes nothing.

Same answer as `AmiQueries.meter_voltage_latest`: rows of the newest stored day only (a meter whose
last voltage is older is left out), ordered by ``meter_id``, statuses by the same Range A / Range B
bounds. Rebuilt from scratch when the meter dimension changes (a new grid) or stored readings were
taken out (a file quarantined: `ParquetLake.removed_epoch`). One known difference: a correction that
replaces a reading's voltage with *no* voltage keeps the earlier value here until the next rebuild.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from fluxops.ami.analytics import RANGE_A_V, RANGE_B_V
from fluxops.core.errors import FluxOpsError
from fluxops.storage.ami_analytics import AmiAnalytics
from fluxops.storage.lake_manifest import seq_of

log = logging.getLogger(__name__)
_US_PER_DAY = 86_400 * 1_000_000
_NONE = np.iinfo(np.int64).min  # no voltage seen for the meter
_STATUSES = np.array(["normal", "warning", "critical"], dtype=object)
TS = pa.timestamp("us", tz="UTC")

_FOLD = """SELECT d.meter_idx AS meter_idx, epoch_us(max(r.interval_start_utc)) AS ts,
  arg_max(r.voltage_v, r.interval_start_utc) AS voltage_v
FROM readings r JOIN meter_dim d USING (meter_id)
WHERE r.voltage_v IS NOT NULL GROUP BY d.meter_idx"""


@dataclass
class _State:
    dims_key: tuple[int, int]  # meter_dim.parquet (mtime ns, size)
    epoch: int  # the readings lake's removed_epoch when built
    ids: np.ndarray[Any, Any]  # meter ids by meter_idx (object)
    order: np.ndarray[Any, np.dtype[np.int64]]  # meter_idx sorted by meter id
    ts: np.ndarray[Any, np.dtype[np.int64]]  # latest interval start (µs since epoch), _NONE when none
    volts: np.ndarray[Any, np.dtype[np.float64]]
    folded: int  # highest lake batch seq folded in


class LatestVoltage:
    """Per-meter latest voltage for one lake (thread-safe; `table` folds new files in first)."""

    def __init__(self, analytics: AmiAnalytics) -> None:
        self.analytics = analytics
        self._lock = threading.Lock()
        self._state: _State | None = None
        self.files_read = 0  # lake files folded in so far (the tests read it)

    def _dims_key(self) -> tuple[int, int]:
        st = (self.analytics.dim_dir / "meter_dim.parquet").stat()
        return st.st_mtime_ns, st.st_size

    def _fresh(self, dims_key: tuple[int, int], epoch: int) -> _State:
        dim = pq.read_table(self.analytics.dim_dir / "meter_dim.parquet", columns=["meter_id", "meter_idx"])
        n = dim.num_rows
        ids = np.empty(n, dtype=object)
        ids[dim["meter_idx"].to_numpy()] = dim["meter_id"].to_numpy(zero_copy_only=False)
        order = np.argsort(ids.astype(str), kind="stable").astype(np.int64)
        return _State(dims_key, epoch, ids, order, np.full(n, _NONE, np.int64), np.full(n, np.nan), 0)

    def _update(self) -> _State:
        """Fold in the files written since the last call (the caller holds the lock)."""
        lake = self.analytics.lake.readings
        key, epoch = self._dims_key(), lake.removed_epoch()
        st = self._state
        if st is None or st.dims_key != key or st.epoch != epoch:
            st = self._fresh(key, epoch)
            parts = lake.partitions()  # a fresh start needs only the newest day (the answer's scope)
            files = lake.files(parts[-1], None) if parts else []
        else:
            files = [f for f in lake.files() if seq_of(f.name) > st.folded]
        if files:
            try:
                t = self.analytics.query(_FOLD, raw_files=files)
            except FluxOpsError:  # the lake changed under the read: nothing folded, re-listed next time
                log.warning("latest voltage: folding %d lake files failed; retried next read", len(files))
                return st
            if t.num_rows:
                idx = t["meter_idx"].to_numpy().astype(np.int64)
                ts = t["ts"].to_numpy().astype(np.int64)
                later = ts >= st.ts[idx]  # the same interval again: a correction, it wins
                st.ts[idx[later]] = ts[later]
                st.volts[idx[later]] = t["voltage_v"].to_numpy(zero_copy_only=False).astype(np.float64)[later]
            st.folded = max(st.folded, *(seq_of(f.name) for f in files))
            self.files_read += len(files)
        self._state = st
        return st

    def table(self, limit: int | None = None) -> pa.Table:
        """meter_id, interval_start_utc, voltage_v, status of the newest stored day, by meter id."""
        with self._lock:
            st = self._update()
            has = st.ts != _NONE
            if not has.any():
                return _table(st.ids[:0], np.zeros(0, np.int64), np.zeros(0))
            day0 = (int(st.ts[has].max()) // _US_PER_DAY) * _US_PER_DAY
            keep = st.order[st.ts[st.order] >= day0]
            if limit is not None:
                keep = keep[:limit]
            return _table(st.ids[keep], st.ts[keep].copy(), st.volts[keep].copy())


def _table(ids: np.ndarray[Any, Any], ts: np.ndarray[Any, Any], volts: np.ndarray[Any, Any]) -> pa.Table:
    code = np.zeros(len(volts), np.int64)
    code[(volts < RANGE_A_V[0]) | (volts > RANGE_A_V[1])] = 1
    code[(volts < RANGE_B_V[0]) | (volts > RANGE_B_V[1])] = 2
    return pa.table(
        {
            "meter_id": pa.array(ids, pa.string()),
            "interval_start_utc": pa.array(ts, pa.int64()).cast(TS),
            "voltage_v": pa.array(volts, pa.float64()),
            "status": pa.array(_STATUSES[code], pa.string()),
        }
    )
