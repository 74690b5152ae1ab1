"""Per-record validation of incoming readings and events, vectorized, with reasons.

Why per record: one bad row from a head-end must not reject the 49,999 good ones around it, and the
sender needs to know exactly which rows failed and why (issue 3 §2). A batch is rejected as a whole only
when its *shape* is wrong (a required column missing), which raises `InvalidInputError` naming the column.

Checks, in order (a row reports its first failure): unparseable or missing values, unknown meter,
timestamp not on a 15-minute boundary (readings), timestamp in the future, timestamp outside the
accepted window (`TimeWindow`: before 2000-01-01 or more than a day ahead by default — one reading
stamped 0001-01-01 used to be stored and then broke every analytics query, issue 8 §3), negative or
implausible energy, voltage outside physical limits (0-300 V: a measurement outside it is a broken
meter, not a power-quality event), unknown quality / event type, duplicate key inside the batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fluxops.ami.models import (
    EVENT_TYPES,
    INTERVAL_S,
    KWH_MAX_PER_INTERVAL,
    READING_QUALITIES,
    TS,
    VOLTAGE_MAX_V,
    VOLTAGE_MIN_V,
)
from fluxops.core.config import IngestSettings
from fluxops.core.errors import InvalidInputError

# A reading may arrive this much before its interval's end by the receiver's clock (head-end clock skew).
CLOCK_SKEW_S = 300
MAX_REJECTIONS_LISTED = 1000
_I64_MAX = np.iinfo(np.int64).max
_US_PER_UNIT = {"s": 1_000_000, "ms": 1_000, "us": 1}


@dataclass(frozen=True)
class TimeWindow:
    """Record times accepted: ``earliest_utc`` to ``max_ahead_s`` after the receiver's clock.

    Deployment settings (``FLUXOPS_INGEST__EARLIEST_UTC``, ``__MAX_AHEAD_S``) build it; the default is
    2000-01-01 to now + 1 day. The finer future checks (clock skew) still apply inside it."""

    earliest_utc: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    max_ahead_s: int = 86_400

    @classmethod
    def from_settings(cls, s: IngestSettings) -> TimeWindow:
        return cls(earliest_utc=s.earliest_utc, max_ahead_s=s.max_ahead_s)

    def flag(
        self, r: _Reasons, ts_us: npt.NDArray[np.int64], ok: npt.NDArray[np.bool_], column: str, now: datetime
    ) -> None:
        lo = int(self.earliest_utc.timestamp() * 1_000_000)
        hi = int(now.timestamp() * 1_000_000) + self.max_ahead_s * 1_000_000
        since = self.earliest_utc.isoformat().replace("+00:00", "Z")
        r.flag(ok & (ts_us < lo), f"{column} before {since} (outside the accepted window)")
        r.flag(
            ok & (ts_us > hi), f"{column} more than {self.max_ahead_s} s ahead (outside the accepted window)"
        )


class MeterRegistry:
    """Known meters: id -> dense index, plus the ids of the transformer/feeder/substation serving each."""

    def __init__(
        self,
        meter_ids: npt.ArrayLike,
        transformer_ids: npt.ArrayLike | None = None,
        feeder_ids: npt.ArrayLike | None = None,
        substation_ids: npt.ArrayLike | None = None,
    ) -> None:
        ids = np.asarray(meter_ids, dtype=object)
        self.index = pd.Index(ids)
        if not self.index.is_unique:
            raise InvalidInputError("meter ids are not unique", field="meter_id")
        n = ids.size
        self.meter_ids = ids
        self.transformer_ids = np.asarray(
            transformer_ids if transformer_ids is not None else [""] * n, dtype=object
        )
        self.feeder_ids = np.asarray(feeder_ids if feeder_ids is not None else [""] * n, dtype=object)
        self.substation_ids = np.asarray(
            substation_ids if substation_ids is not None else [""] * n, dtype=object
        )

        # Sorted fixed-width byte keys for lookups without Python objects (see `lookup_arrow`).
        arr = pa.array(ids, type=pa.string())
        lens = pc.binary_length(arr).to_numpy(zero_copy_only=False) if n else np.zeros(0, np.int32)
        self._width = max(int(lens.max()) if n else 1, 1)
        keys = _fixed_width(arr, self._width)
        self._order = np.argsort(keys, kind="stable").astype(np.int64)
        self._sorted = keys[self._order]
        self._sorted_len = np.asarray(lens, dtype=np.int64)[self._order]

    @property
    def size(self) -> int:
        return int(self.meter_ids.size)

    def lookup(self, meter_ids: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Dense index per id, -1 for unknown (hash join, vectorized)."""
        out: npt.NDArray[np.int64] = self.index.get_indexer(np.asarray(meter_ids, dtype=object)).astype(
            np.int64
        )
        return out

    def lookup_arrow(self, ids: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.int64]:
        """Dense index per id (-1 unknown or null) without creating Python strings: binary search of
        fixed-width byte keys (50K lookups in a 600K-meter registry: ~10 ms). Dictionary arrays look up
        their dictionary once."""
        arr = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
        if pa.types.is_dictionary(arr.type):
            d = self.lookup_arrow(arr.dictionary)
            codes = arr.indices.to_numpy(zero_copy_only=False)
            valid = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
            return np.where(valid, d[np.where(valid, codes, 0).astype(np.int64)], -1).astype(np.int64)
        arr = arr.cast(pa.string())
        n = len(arr)
        if n == 0 or self.size == 0:
            return np.full(n, -1, dtype=np.int64)
        lens = pc.binary_length(arr).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        ascii_ok = np.asarray(
            pc.string_is_ascii(arr).fill_null(False).to_numpy(zero_copy_only=False), dtype=bool
        )
        usable = (lens >= 0) & (lens <= self._width) & ascii_ok
        keys = _fixed_width(pc.if_else(pa.array(usable), arr, pa.scalar("", pa.string())), self._width)
        pos = np.minimum(np.searchsorted(self._sorted, keys), self.size - 1)
        hit = usable & (self._sorted[pos] == keys) & (self._sorted_len[pos] == lens)
        out = np.where(hit, self._order[pos], -1).astype(np.int64)
        odd = np.flatnonzero(~ascii_ok & (lens >= 0))  # non-ASCII ids: the hash path (rare)
        if odd.size:
            out[odd] = self.lookup(np.asarray(arr.take(pa.array(odd)).to_pylist(), dtype=object))
        return out


def _fixed_width(arr: pa.Array, width: int) -> npt.NDArray[np.bytes_]:
    """ASCII strings as a NumPy ``S<width>`` array (space-padded, truncated; compare lengths separately)."""
    filled = pc.fill_null(arr, "")
    padded = pc.utf8_rpad(pc.utf8_slice_codeunits(filled, 0, width), width=width, padding=" ")
    b = padded.cast(pa.binary())
    if len(b) == 0:
        return np.zeros(0, dtype=f"S{width}")
    offsets = np.frombuffer(b.buffers()[1], dtype=np.int32)
    start = int(offsets[b.offset])
    out: npt.NDArray[np.bytes_] = np.frombuffer(b.buffers()[2], dtype=f"S{width}", count=len(b), offset=start)
    return out


@dataclass(frozen=True)
class Rejection:
    row: int
    meter_id: str | None
    reason: str


@dataclass
class Validated:
    """Rows that passed (in input order) and what was rejected."""

    table: pa.Table  # input columns normalized + ``meter_idx`` (int64)
    row_numbers: npt.NDArray[np.int64]  # position of each valid row in the input
    rejected_count: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)


def _col(table: pa.Table, name: str, required: bool) -> pa.ChunkedArray | None:
    if name in table.column_names:
        return table[name]
    if required:
        raise InvalidInputError(f"required column {name!r} is missing", field=name)
    return None


def _ts_us(col: pa.ChunkedArray) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Epoch microseconds and a validity mask; strings parsed as ISO 8601 (naive taken as UTC), integers
    as epoch seconds, timestamps of any unit (ns floored to µs). A value whose microseconds do not fit in
    an int64 is invalid (unparseable), never wrapped around."""
    ok = np.asarray(col.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    if pa.types.is_timestamp(col.type) or pa.types.is_integer(col.type):
        raw = np.asarray(
            col.cast(pa.int64(), safe=False).fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64
        )
        if pa.types.is_timestamp(col.type) and col.type.unit == "ns":
            return raw // 1000, ok
        per = _US_PER_UNIT[col.type.unit] if pa.types.is_timestamp(col.type) else 1_000_000
        if pa.types.is_unsigned_integer(col.type):  # above int64: wrapped by the cast, invalid
            big = pc.greater(col.cast(pa.uint64()), pa.scalar(_I64_MAX, pa.uint64())).fill_null(False)
            big = np.asarray(big.to_numpy(zero_copy_only=False), dtype=bool)
            ok &= ~big
        ok &= np.abs(raw) <= _I64_MAX // per
        return np.where(ok, raw, 0) * per, ok
    if not (
        pa.types.is_string(col.type) or pa.types.is_large_string(col.type) or pa.types.is_dictionary(col.type)
    ):
        return np.zeros(len(col), dtype=np.int64), np.zeros(len(col), dtype=bool)
    s = pd.Series(col.to_pandas(), dtype=object)
    parsed = pd.to_datetime(s, errors="coerce", utc=True, format="ISO8601")
    ok = np.asarray(parsed.notna().to_numpy(), dtype=bool)
    ns = np.asarray(parsed.astype("int64").to_numpy(), dtype=np.int64)
    return np.where(ok, ns // 1000, 0).astype(np.int64), ok  # ns -> µs (NaT rows masked by ok)


def _float(table: pa.Table, name: str, required: bool, default: float | None) -> npt.NDArray[np.float64]:
    c = _col(table, name, required)
    if c is None:
        return np.full(table.num_rows, np.nan if default is None else default)
    if pa.types.is_floating(c.type) or pa.types.is_integer(c.type):
        fast: npt.NDArray[np.float64] = np.asarray(
            c.cast(pa.float64(), safe=False).to_numpy(zero_copy_only=False), dtype=np.float64
        )
        return fast
    out: npt.NDArray[np.float64] = pd.to_numeric(pd.Series(c.to_pandas()), errors="coerce").to_numpy(
        np.float64
    )
    return out


def _str_arrow(table: pa.Table, name: str, required: bool, default: str | None) -> pa.Array:
    """A string column as one Arrow array (dictionary decoded), nulls filled with ``default``."""
    c = _col(table, name, required)
    if c is None:
        codes = pa.array(np.zeros(table.num_rows, dtype=np.int8))
        return pa.DictionaryArray.from_arrays(codes, pa.array([default], pa.string())).cast(pa.string())
    arr = c.combine_chunks().cast(pa.string())
    return pc.fill_null(arr, default) if default is not None else arr


def _null_mask(arr: pa.Array) -> npt.NDArray[np.bool_]:
    return np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)


class _Reasons:
    def __init__(self, n: int) -> None:
        self.code = np.zeros(n, dtype=np.int16)
        self.names: list[str] = [""]

    def flag(self, mask: npt.NDArray[np.bool_], reason: str) -> None:
        self.names.append(reason)
        self.code[(self.code == 0) & mask] = len(self.names) - 1


def _finish(reasons: _Reasons, ids: pa.Array, valid_cols: dict[str, pa.Array]) -> Validated:
    good = reasons.code == 0
    rows = np.flatnonzero(good).astype(np.int64)
    bad = np.flatnonzero(~good)
    counts = np.bincount(reasons.code[bad], minlength=len(reasons.names))
    by_reason = {reasons.names[i]: int(c) for i, c in enumerate(counts) if i > 0 and c > 0}
    listed = bad[:MAX_REJECTIONS_LISTED]
    listed_ids = ids.take(pa.array(listed, type=pa.int64())).to_pylist()
    rejections = [
        Rejection(row=int(r), meter_id=m, reason=reasons.names[reasons.code[r]])
        for r, m in zip(listed, listed_ids, strict=True)
    ]
    take = pa.array(rows)
    table = pa.table({k: v.take(take) for k, v in valid_cols.items()})
    return Validated(table, rows, int(bad.size), by_reason, rejections)


def _dup_in_batch(key_a: npt.NDArray[np.int64], key_b: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """True for the second and later occurrences of a (a, b) pair."""
    df = pd.DataFrame({"a": key_a, "b": key_b})
    out: npt.NDArray[np.bool_] = df.duplicated(keep="first").to_numpy()
    return out


def validate_readings(
    table: pa.Table, registry: MeterRegistry, now_utc: datetime, window: TimeWindow | None = None
) -> Validated:
    """Normalize and check a batch of readings (any of NDJSON/CSV/Arrow once parsed to a table)."""
    n = table.num_rows
    ids = _str_arrow(table, "meter_id", True, None)
    ts, ts_ok = _ts_us(_col(table, "interval_start_utc", True))  # type: ignore[arg-type]
    kwh = _float(table, "kwh_delivered", True, None)
    rec = _float(table, "kwh_received", False, 0.0)
    volt = _float(table, "voltage_v", False, None)
    volt_given = _col(table, "voltage_v", False)
    volt_null = (
        np.ones(n, dtype=bool)
        if volt_given is None
        else np.asarray(volt_given.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    )
    quality = _str_arrow(table, "quality", False, "valid")
    idx = registry.lookup_arrow(_col(table, "meter_id", True))  # type: ignore[arg-type]
    r = _Reasons(n)
    r.flag(_null_mask(ids), "missing meter_id")
    r.flag(~ts_ok, "unparseable interval_start_utc")
    r.flag(np.isnan(kwh), "missing or non-numeric kwh_delivered")
    r.flag(np.isnan(rec), "non-numeric kwh_received")
    r.flag(np.isnan(volt) & ~volt_null, "non-numeric voltage_v")
    r.flag(idx < 0, "unknown meter")
    r.flag(ts % (INTERVAL_S * 1_000_000) != 0, "interval_start_utc not on a 15-minute boundary")
    now_us = int(now_utc.timestamp() * 1_000_000)
    r.flag(ts + INTERVAL_S * 1_000_000 > now_us + CLOCK_SKEW_S * 1_000_000, "interval in the future")
    (window or TimeWindow()).flag(r, ts, ts_ok, "interval_start_utc", now_utc)
    r.flag((kwh < 0) | (rec < 0), "negative energy")
    r.flag((kwh > KWH_MAX_PER_INTERVAL) | (rec > KWH_MAX_PER_INTERVAL), "energy above physical limit")
    r.flag(~volt_null & ((volt < VOLTAGE_MIN_V) | (volt > VOLTAGE_MAX_V)), "voltage outside physical limits")
    known_q = pc.is_in(quality, value_set=pa.array(READING_QUALITIES)).to_numpy(zero_copy_only=False)
    r.flag(~np.asarray(known_q, dtype=bool), "unknown quality")
    r.flag(_dup_in_batch(np.where(idx >= 0, idx, -1 - np.arange(n)), ts), "duplicate key in batch")
    cols: dict[str, pa.Array] = {
        "meter_id": ids,
        "interval_start_utc": pa.array(ts, type=pa.int64()).cast(TS),
        "kwh_delivered": pa.array(kwh),
        "kwh_received": pa.array(np.nan_to_num(rec)),
        "voltage_v": pa.array(volt, mask=volt_null | np.isnan(volt)),
        "quality": quality,
        "meter_idx": pa.array(idx),
    }
    return _finish(r, ids, cols)


def validate_events(
    table: pa.Table, registry: MeterRegistry, now_utc: datetime, window: TimeWindow | None = None
) -> Validated:
    n = table.num_rows
    ids = _str_arrow(table, "meter_id", True, None)
    etype_arr = _str_arrow(table, "event_type", True, None)
    etype = np.asarray(etype_arr.to_pandas(), dtype=object)  # events are few
    ts, ts_ok = _ts_us(_col(table, "event_time_utc", True))  # type: ignore[arg-type]
    value = _float(table, "value", False, None)
    idx = registry.lookup_arrow(_col(table, "meter_id", True))  # type: ignore[arg-type]
    r = _Reasons(n)
    r.flag(_null_mask(ids), "missing meter_id")
    r.flag(~ts_ok, "unparseable event_time_utc")
    r.flag(idx < 0, "unknown meter")
    r.flag(~np.isin(etype.astype(str), EVENT_TYPES), "unknown event_type")
    now_us = int(now_utc.timestamp() * 1_000_000)
    r.flag(ts > now_us + CLOCK_SKEW_S * 1_000_000, "event in the future")
    (window or TimeWindow()).flag(r, ts, ts_ok, "event_time_utc", now_utc)
    type_code = pd.Index(EVENT_TYPES).get_indexer(pd.Index(etype.astype(str))).astype(np.int64)
    r.flag(
        _dup_in_batch(np.where(idx >= 0, idx * 8 + type_code, -1 - np.arange(n)), ts),
        "duplicate key in batch",
    )
    cols: dict[str, pa.Array] = {
        "meter_id": ids,
        "event_type": etype_arr,
        "event_time_utc": pa.array(ts, type=pa.int64()).cast(TS),
        "value": pa.array(value, mask=np.isnan(value)),
        "meter_idx": pa.array(idx),
    }
    return _finish(r, ids, cols)
