"""A Parquet lake partitioned by date, with durable appends and compaction.

Why this design (issue 3 §2): an acknowledged reading must never be lost, and billions of readings must
stay readable by any engine (DuckDB here, Spark or Trino on a cluster). So every accepted batch becomes
one Parquet file per date partition, written to a temporary name, ``fsync``-ed, renamed into place and its
directory ``fsync``-ed *before* the caller acknowledges. Nothing lives only in memory.

Layout::

    <root>/<dataset>/date=YYYY-MM-DD/part-<seq:012d>-<n>.parquet      one per appended batch (small)
    <root>/<dataset>/date=YYYY-MM-DD/compact-<maxseq:012d>-<uuid>.parquet   merged by `compact`

``seq`` is a lake-wide monotonically increasing batch number, assigned under the writer lock and also
stored in the ``batch_seq`` column, so a file with seq s is visible only after all smaller ones: that is
the watermark incremental analytics resume from.

Compaction merges a partition's small files into one and records the names it replaces in the Parquet
key-value metadata (``fluxops.replaces``). It renames the merged file in first and only then deletes the
inputs; a crash in between leaves both, and `ParquetLake.__init__` (recovery) deletes the inputs that a
compact file says it replaces, so a row is never visible twice. Replaced files are hidden from readers at
once but deleted one compaction later, so a query that listed them a moment earlier can still read them.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fluxops.core.errors import StorageError

_PART = re.compile(r"^(part|compact)-(\d{12})-[0-9a-z]+\.parquet$")
_DATE_DIR = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")
_META_KEY = b"fluxops.replaces"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _seq_of(name: str) -> int:
    m = _PART.match(name)
    return int(m.group(2)) if m else -1


@dataclass(frozen=True)
class CompactionReport:
    partitions: int
    files_merged: int
    rows: int


class ParquetLake:
    """One dataset (e.g. ``readings``) of the lake. Thread-safe; one writer process per directory."""

    def __init__(self, root: Path, dataset: str, schema: pa.Schema, time_column: str) -> None:
        self.dir = Path(root) / dataset
        self.schema = schema
        self.time_column = time_column
        self._lock = threading.Lock()
        self._hidden: set[Path] = set()  # replaced by a compact file, awaiting deletion
        self._writer_fd: int | None = None
        self._replaces_cache: dict[Path, list[str]] = {}
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._seq = self._max_seq()
        except OSError as exc:
            raise StorageError(f"cannot open lake at {self.dir}: {exc}") from exc

    # --- recovery -----------------------------------------------------------------------------

    def _max_seq(self) -> int:
        return max((_seq_of(f.name) for d in self._partition_dirs() for f in d.glob("*.parquet")), default=0)

    def _replaced(self, part_dir: Path) -> set[Path]:
        """Files that a compact file in ``part_dir`` says it replaces (still on disk until deleted)."""
        out: set[Path] = set()
        for f in part_dir.glob("compact-*.parquet"):
            names = self._replaces_cache.get(f)
            if names is None:
                meta = pq.read_schema(f).metadata or {}
                names = json.loads(meta.get(_META_KEY, b"[]"))
                self._replaces_cache[f] = names
            out.update(part_dir / n for n in names)
        return out

    def _recover(self) -> int:
        """Writer only: remove torn temporaries and compacted inputs; return the highest seq."""
        max_seq = 0
        for part_dir in self._partition_dirs():
            for tmp in part_dir.glob("*.tmp"):
                tmp.unlink(missing_ok=True)
            for f in part_dir.glob("compact-*.parquet"):
                meta = pq.read_schema(f).metadata or {}
                for name in json.loads(meta.get(_META_KEY, b"[]")):
                    (part_dir / name).unlink(missing_ok=True)
                max_seq = max(max_seq, _seq_of(f.name))
            for f in part_dir.glob("part-*.parquet"):
                max_seq = max(max_seq, _seq_of(f.name))
        return max_seq

    def _partition_dirs(self) -> list[Path]:
        return sorted(p for p in self.dir.iterdir() if p.is_dir() and _DATE_DIR.match(p.name))

    # --- writes -------------------------------------------------------------------------------

    @property
    def last_seq(self) -> int:
        return self._seq

    def _claim_writer(self) -> None:
        """One writing process per dataset (the seq counter and the de-duplication index are per process):
        an exclusive ``flock`` taken on the first write and held until the process exits."""
        if self._writer_fd is not None:
            return
        fd = os.open(self.dir / ".writer.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StorageError(
                f"the lake at {self.dir} is being written by another process; stop it or send through it"
            ) from None
        self._writer_fd = fd
        self._seq = max(self._seq, self._recover())  # pick up what a previous writer left

    def close(self) -> None:
        if self._writer_fd is not None:
            os.close(self._writer_fd)
            self._writer_fd = None

    def append(self, table: pa.Table, *, bulk: bool = False) -> int:
        """Durably append ``table`` (the schema without ``batch_seq``); returns the batch's seq.

        Returns only after every file and directory entry is on disk (fsync). ``bulk``: the caller
        guarantees the columns (string columns may be dictionary-encoded; written as Parquet strings),
        so the cast is skipped (backfill path)."""
        with self._lock:
            self._claim_writer()
            seq = self._seq + 1
            seq_col = pa.array(np.full(table.num_rows, seq, dtype=np.int64))
            full = table.append_column("batch_seq", seq_col).select(self.schema.names)
            if not bulk:
                full = full.cast(self.schema)
            try:
                self._write_partitions(full, seq)
            except OSError as exc:
                raise StorageError(f"lake write failed: {exc}") from exc
            self._seq = seq
            return seq

    def _write_partitions(self, table: pa.Table, seq: int) -> None:
        if table.num_rows == 0:
            return
        days = pc.cast(pc.cast(table[self.time_column], pa.int64()), pa.int64()).to_numpy()
        day_no = np.floor_divide(days, 86_400_000_000)  # µs -> days since epoch
        uniq, inverse = np.unique(day_no, return_inverse=True)
        order = np.argsort(inverse, kind="stable")
        bounds = np.searchsorted(inverse[order], np.arange(uniq.size + 1))
        for i, d in enumerate(uniq):
            idx = order[bounds[i] : bounds[i + 1]]
            part = table.take(pa.array(idx)) if uniq.size > 1 else table
            self._write_file(self._day_dir(int(d)), f"part-{seq:012d}-{i}.parquet", part, None)

    def _day_dir(self, day_no: int) -> Path:
        d = date.fromordinal(date(1970, 1, 1).toordinal() + day_no)
        p = self.dir / f"date={d.isoformat()}"
        if not p.exists():
            p.mkdir(parents=True, exist_ok=True)
            _fsync_dir(self.dir)
        return p

    def _write_file(self, part_dir: Path, name: str, table: pa.Table, replaces: list[str] | None) -> None:
        tmp = part_dir / (name + ".tmp")
        if replaces is not None:
            meta = dict(table.schema.metadata or {})
            meta[_META_KEY] = json.dumps(replaces).encode()
            table = table.replace_schema_metadata(meta)
        compression = "zstd" if replaces is not None else "lz4"
        with open(tmp, "wb") as fh:
            # Batch files: store_schema=False, so dictionary-encoded columns read back as plain strings.
            # Compact files are cast to the schema and keep it (it carries the ``replaces`` metadata).
            pq.write_table(
                table, fh, compression=compression, row_group_size=1 << 20, store_schema=replaces is not None
            )
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, part_dir / name)
        _fsync_dir(part_dir)

    # --- reads --------------------------------------------------------------------------------

    def files(self, start: date | None = None, end: date | None = None) -> list[Path]:
        """Live Parquet files of partitions with start <= date <= end (all when None)."""
        out: list[Path] = []
        with self._lock:
            hidden = set(self._hidden)
        for part_dir in self._partition_dirs():
            d = date.fromisoformat(part_dir.name[5:])
            if (start is not None and d < start) or (end is not None and d > end):
                continue
            gone = hidden | self._replaced(part_dir)  # other processes' compactions too
            out.extend(f for f in sorted(part_dir.glob("*.parquet")) if f not in gone)
        return out

    def partitions(self) -> list[date]:
        return [date.fromisoformat(p.name[5:]) for p in self._partition_dirs()]

    def read(
        self, start: date | None = None, end: date | None = None, columns: Iterable[str] | None = None
    ) -> pa.Table:
        files = self.files(start, end)
        cols = list(columns) if columns is not None else self.schema.names
        if not files:
            return self.schema.empty_table().select(cols)
        target = pa.schema([self.schema.field(c) for c in cols])
        return pa.concat_tables([pq.read_table(f, columns=cols).cast(target) for f in files])

    # --- compaction ---------------------------------------------------------------------------

    def compact(self, *, min_files: int = 8, before: date | None = None) -> CompactionReport:
        """Merge each partition holding at least ``min_files`` files (optionally only dates < before)."""
        with self._lock:
            self._claim_writer()
            stale = list(self._hidden)
            self._hidden.clear()
        for f in stale:  # replaced one compaction ago: no reader can still be listing them
            f.unlink(missing_ok=True)
        n_parts = n_files = n_rows = 0
        for part_dir in self._partition_dirs():
            if before is not None and date.fromisoformat(part_dir.name[5:]) >= before:
                continue
            files = sorted(part_dir.glob("*.parquet"))
            if len(files) < min_files:
                continue
            table = pa.concat_tables([pq.read_table(f).cast(self.schema) for f in files])
            table = table.sort_by([(self.time_column, "ascending")])
            max_seq = max(_seq_of(f.name) for f in files)
            name = f"compact-{max_seq:012d}-{uuid.uuid4().hex[:8]}.parquet"
            try:
                self._write_file(part_dir, name, table, [f.name for f in files])
            except OSError as exc:
                raise StorageError(f"compaction failed in {part_dir}: {exc}") from exc
            with self._lock:
                self._hidden.update(files)
            n_parts += 1
            n_files += len(files)
            n_rows += table.num_rows
        return CompactionReport(partitions=n_parts, files_merged=n_files, rows=n_rows)

    def purge_hidden(self) -> None:
        """Delete replaced files now (no concurrent readers, e.g. at shutdown or in a CLI run)."""
        with self._lock:
            stale = list(self._hidden)
            self._hidden.clear()
        for f in stale:
            f.unlink(missing_ok=True)
        for part_dir in self._partition_dirs():
            _fsync_dir(part_dir)


def utc_day(ts: datetime) -> date:
    return ts.astimezone(UTC).date()


class AmiLake:
    """The AMI datasets of the lake (``readings``, ``events``); implements the AMI `ReadingLog` and
    `EventLog` ports. ``root`` is ``settings.lake_dir``."""

    def __init__(self, root: Path) -> None:
        from fluxops.ami.models import EVENT_SCHEMA, READING_SCHEMA

        self.root = Path(root)
        self.readings = ParquetLake(self.root, "readings", READING_SCHEMA, "interval_start_utc")
        self.events = ParquetLake(self.root, "events", EVENT_SCHEMA, "event_time_utc")

    def append_readings(self, table: pa.Table) -> int:
        return self.readings.append(table)

    def reading_keys(self, day: date) -> pa.Table:
        return self.readings.read(day, day, columns=["meter_id", "interval_start_utc"])

    def append_events(self, table: pa.Table) -> int:
        return self.events.append(table)

    def event_keys(self, day: date) -> pa.Table:
        return self.events.read(day, day, columns=["meter_id", "event_type", "event_time_utc"])

    def close(self) -> None:
        self.readings.close()
        self.events.close()

    def compact(self, *, min_files: int = 8) -> dict[str, CompactionReport]:
        return {
            "readings": self.readings.compact(min_files=min_files),
            "events": self.events.compact(min_files=min_files),
        }
