"""A Parquet lake partitioned by date: durable appends, one manifest per partition, exclusive compaction.

Why this design (issue 3 §2, issue 8 §3): an acknowledged reading must never be lost, never be seen twice
and never be hidden, and billions of readings must stay readable by any engine (DuckDB here, Spark or
Trino on a cluster). Layout::

    <root>/<dataset>/date=YYYY-MM-DD/_manifest.json                     the live files (lake_manifest)
    <root>/<dataset>/date=YYYY-MM-DD/part-<seq:012d>-<n>.parquet        one per appended batch (small)
    <root>/<dataset>/date=YYYY-MM-DD/compact-<maxseq:012d>-<uuid>.parquet   merged by `compact`
    <root>/<dataset>/.writer.lock  .compact.lock  .manifest.lock        flock files
    <root>/_quarantine/<dataset>/                                       damaged files moved aside

* **Append**: each batch becomes one part file per date (temporary name, ``fsync``, rename, directory
  ``fsync``), then the manifests name it (under the manifest lock), and only then is it acknowledged.
  ``seq`` is a lake-wide increasing batch number (also the ``batch_seq`` column): the watermark
  incremental analytics resume from. One writing process per dataset (``.writer.lock``).
* **Compaction** runs one at a time across threads and processes (``.compact.lock``). It merges exactly
  the files the manifest lists, writes the compact file, swaps the manifest (inputs become *retired*) and
  deletes retired files a grace period later, so a query that listed them a moment ago still reads them.
* **Recovery** (a process's first write, compaction excluded): deletes temporaries and the files no
  manifest names (unacknowledged parts, unswapped compact files), forgets retired names already deleted,
  quarantines entries that are missing or truncated. Each step is idempotent, so a crash anywhere, even
  in recovery, is finished by the next one.
* **Readers** (pyarrow here, DuckDB in `ami_analytics`, Spark) take their file lists from `files()`; a
  read that hits a damaged file calls `heal`, which quarantines it, and retries.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import threading
from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fluxops.core.errors import StorageError
from fluxops.storage.lake_compaction import (
    CompactionReport,
    compact_partitions,
    delete_retired,
    merge_overlap,
    recover,
)
from fluxops.storage.lake_manifest import (
    MANIFEST,
    META_KEY,
    Entry,
    Manifest,
    damage,
    fault_point,
    flocked,
    fsync_dir,
    manifest_from_disk,
    move_to_quarantine,
    quarantine_dir,
    read_manifest,
    write_manifest,
)
from fluxops.storage.lake_manifest import seq_of as _seq_of

__all__ = ["AmiLake", "CompactionReport", "ParquetLake", "_seq_of", "damage", "utc_day"]

log = logging.getLogger(__name__)
_DATE_DIR = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")
_READ_ERRORS = (OSError, ValueError, pa.ArrowException)


class ParquetLake:
    """One dataset (e.g. ``readings``) of the lake. Thread-safe; one writer process per directory."""

    retire_grace_s = 60.0  # how long replaced files stay readable for queries that already listed them

    def __init__(self, root: Path, dataset: str, schema: pa.Schema, time_column: str) -> None:
        self.root = Path(root)
        self.dataset = dataset
        self.dir = self.root / dataset
        self.schema = schema
        self.time_column = time_column
        self._lock = threading.Lock()  # appends: the seq counter and the writer claim
        self._writer_fd: int | None = None
        self._removed = 0  # files this process quarantined (see `removed_epoch`)
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._seq = max((_seq_of(f.name) for d in self.partition_dirs() for f in d.iterdir()), default=0)
        except OSError as exc:
            raise StorageError(f"cannot open lake at {self.dir}: {exc}") from exc

    def partition_dirs(self, start: date | None = None, end: date | None = None) -> list[Path]:
        """The ``date=`` directories with start <= date <= end (all when None)."""
        out = []
        for p in sorted(self.dir.iterdir()):
            if p.is_dir() and _DATE_DIR.match(p.name):
                d = date.fromisoformat(p.name[5:])
                if (start is None or d >= start) and (end is None or d <= end):
                    out.append(p)
        return out

    # --- manifests -------------------------------------------------------------------------------

    def manifest_lock(self) -> AbstractContextManager[None]:
        """Held for every read-modify-write of a manifest (brief), by any thread or process."""
        return flocked(self.dir / ".manifest.lock")

    def manifest(self, part_dir: Path) -> Manifest:
        """The partition's manifest; built from its files first for a lake written before manifests."""
        try:
            m = read_manifest(part_dir)
        except StorageError as exc:
            if not exc.details.get("torn"):
                raise
            m = None
        if m is not None:
            return m
        with self.manifest_lock():
            return self.load_manifest_locked(part_dir)

    def load_manifest_locked(self, part_dir: Path) -> Manifest:
        """Read (or rebuild and write) the manifest; the caller holds the manifest lock."""
        try:
            m = read_manifest(part_dir)
            if m is not None:
                return m
        except StorageError as exc:  # torn by the disk, not by us (atomic rename): keep it for forensics
            if not exc.details.get("torn"):
                raise
            move_to_quarantine(self.root, self.dataset, part_dir, MANIFEST, f"{exc.message}; rebuilt")
            self._removed += 1
        m, damaged, overlaps = manifest_from_disk(part_dir)
        for name, reason in damaged.items():
            move_to_quarantine(self.root, self.dataset, part_dir, name, reason)
            self._removed += 1
        for group in overlaps:
            merge_overlap(self, part_dir, m, group)
        write_manifest(part_dir, m)
        return m

    def files(self, start: date | None = None, end: date | None = None) -> list[Path]:
        """Live Parquet files of partitions with start <= date <= end (all when None), per the manifests."""
        return [p / n for p in self.partition_dirs(start, end) for n in sorted(self.manifest(p).files)]

    def partitions(self) -> list[date]:
        """Dates holding at least one live file."""
        return [date.fromisoformat(p.name[5:]) for p in self.partition_dirs() if self.manifest(p).files]

    def rows(self, start: date | None = None, end: date | None = None) -> int:
        """Live rows, from the manifests (no data read)."""
        return sum(self.manifest(p).rows for p in self.partition_dirs(start, end))

    # --- writes -------------------------------------------------------------------------------

    @property
    def last_seq(self) -> int:
        return self._seq

    def _claim_writer(self) -> None:
        """One writing process per dataset (the seq counter and the de-duplication index are per process):
        an exclusive ``flock`` taken on the first write and held until `close` or the process exits."""
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
        try:
            self._seq = max(self._seq, recover(self))  # finish what a previous writer left
        except BaseException:
            os.close(fd)
            raise
        self._writer_fd = fd

    def close(self) -> None:
        if self._writer_fd is not None:
            os.close(self._writer_fd)
            self._writer_fd = None

    def append(self, table: pa.Table, *, bulk: bool = False) -> int:
        """Durably append ``table`` (the schema without ``batch_seq``); returns the batch's seq.

        Returns only after every file, manifest and directory entry is on disk (fsync). ``bulk``: the
        caller guarantees the columns (string columns may be dictionary-encoded; written as Parquet
        strings), so the cast is skipped (backfill path)."""
        with self._lock:
            self._claim_writer()
            seq = self._seq + 1
            seq_col = pa.array(np.full(table.num_rows, seq, dtype=np.int64))
            full = table.append_column("batch_seq", seq_col).select(self.schema.names)
            if not bulk:
                full = full.cast(self.schema)
            try:
                written = self._write_partitions(full, seq)
                fault_point("append.parts_written")
                with self.manifest_lock():
                    for part_dir, name, entry in written:
                        m = self.load_manifest_locked(part_dir)
                        m.files[name] = entry
                        write_manifest(part_dir, m)
                        fault_point("append.partition_committed")
            except OSError as exc:
                raise StorageError(f"lake write failed: {exc}") from exc
            self._seq = seq
            return seq

    def _write_partitions(self, table: pa.Table, seq: int) -> list[tuple[Path, str, Entry]]:
        if table.num_rows == 0:
            return []
        days = pc.cast(table[self.time_column], pa.int64()).to_numpy()
        day_no = np.floor_divide(days, 86_400_000_000)  # µs -> days since epoch
        uniq, inverse = np.unique(day_no, return_inverse=True)
        order = np.argsort(inverse, kind="stable")
        bounds = np.searchsorted(inverse[order], np.arange(uniq.size + 1))
        out = []
        for i, d in enumerate(uniq):
            idx = order[bounds[i] : bounds[i + 1]]
            part = table.take(pa.array(idx)) if uniq.size > 1 else table
            part_dir, name = self._day_dir(int(d)), f"part-{seq:012d}-{i}.parquet"
            # No directory fsync here: the manifest written next lives in the same directory and its
            # fsync makes both entries durable (a journal commits the part's rename first): 3 fsyncs
            # per batch and date instead of 4.
            out.append((part_dir, name, self.write_file(part_dir, name, part, None, sync_dir=False)))
        return out

    def _day_dir(self, day_no: int) -> Path:
        d = date.fromordinal(date(1970, 1, 1).toordinal() + day_no)
        p = self.dir / f"date={d.isoformat()}"
        if not (p / MANIFEST).exists():
            with self.manifest_lock():  # a new partition has a manifest before its first file
                p.mkdir(parents=True, exist_ok=True)
                fsync_dir(self.dir)
                self.load_manifest_locked(p)
        return p

    def write_file(
        self, part_dir: Path, name: str, table: pa.Table, replaces: list[str] | None, *, sync_dir: bool = True
    ) -> Entry:
        tmp = part_dir / (name + ".tmp")
        if replaces is not None:  # kept for forensics and for rebuilding a lost manifest
            meta = dict(table.schema.metadata or {})
            meta[META_KEY] = json.dumps(replaces).encode()
            table = table.replace_schema_metadata(meta)
        with open(tmp, "wb") as fh:
            # Batch files: store_schema=False, so dictionary-encoded columns read back as plain strings.
            # Compact files are cast to the schema and keep it (it carries the ``replaces`` metadata).
            pq.write_table(
                table,
                fh,
                compression="zstd" if replaces is not None else "lz4",
                row_group_size=1 << 20,
                store_schema=replaces is not None,
            )
            fh.flush()
            os.fsync(fh.fileno())
            size = os.fstat(fh.fileno()).st_size
        fault_point("write.tmp_written")
        os.replace(tmp, part_dir / name)
        if sync_dir:
            fsync_dir(part_dir)
        return Entry(table.num_rows, size)

    # --- reads and healing -----------------------------------------------------------------------

    def read(
        self, start: date | None = None, end: date | None = None, columns: Iterable[str] | None = None
    ) -> pa.Table:
        """Live rows of the dates; a damaged file is quarantined and the rest is read."""
        cols = list(columns) if columns is not None else self.schema.names
        target = pa.schema([self.schema.field(c) for c in cols])
        for _ in range(8):
            tables, bad = self.read_files(self.files(start, end), cols, target)
            if bad is None:
                return pa.concat_tables(tables) if tables else self.schema.empty_table().select(cols)
            if not self.heal([bad[0]]):
                raise StorageError(f"cannot read {bad[0]}: {bad[1]}") from bad[1]
        raise StorageError(f"the {self.dataset} lake keeps changing under the reader; try again")

    @staticmethod
    def read_files(
        files: list[Path], cols: list[str] | None, target: pa.Schema
    ) -> tuple[list[pa.Table], tuple[Path, Exception] | None]:
        out = []
        for f in files:
            try:
                out.append(pq.read_table(f, columns=cols).cast(target))
            except _READ_ERRORS as exc:
                return out, (f, exc)
        return out, None

    def heal(self, files: Iterable[Path], *, deep: bool = True) -> bool:
        """After a failed read of ``files``: quarantine the damaged ones. True when the listing changed
        (a file quarantined, or retired by a compaction meanwhile), so the caller should list again.
        Size, footer and row count first; then, when those are fine and ``deep``, every data page."""
        changed = False
        suspects = []
        for f in files:
            entry = self.manifest(f.parent).files.get(f.name)
            if entry is None:
                changed = True  # compacted away since the listing
                continue
            why = damage(f, entry, deep=False)
            if why is not None:
                changed |= self.quarantine(f.parent, f.name, why)
            else:
                suspects.append((f, entry))
        if deep and not changed:  # footers fine: look at the data pages
            for f, entry in suspects:
                why = damage(f, entry, deep=True)
                if why is not None:
                    changed |= self.quarantine(f.parent, f.name, why)
        return changed

    def quarantine(self, part_dir: Path, name: str, reason: str) -> bool:
        with self.manifest_lock():
            m = read_manifest(part_dir)
            if m is None or name not in m.files:
                return False
            self.quarantine_locked(part_dir, m, name, reason)
            write_manifest(part_dir, m)
        return True

    def quarantine_locked(self, part_dir: Path, m: Manifest, name: str, reason: str) -> None:
        log.error("lake: quarantining %s/%s/%s: %s", self.dataset, part_dir.name, name, reason)
        move_to_quarantine(self.root, self.dataset, part_dir, name, reason)
        del m.files[name]
        self._removed += 1

    def removed_epoch(self) -> int:
        """Changes whenever stored rows were taken out (a file quarantined, here or by another process),
        so a de-duplication index built from this dataset must be rebuilt."""
        try:
            st = quarantine_dir(self.root, self.dataset).stat().st_mtime_ns
        except FileNotFoundError:
            st = 0
        return hash((st, self._removed))

    # --- compaction (fluxops.storage.lake_compaction) ---------------------------------------------

    def compact(self, *, min_files: int = 8, before: date | None = None) -> CompactionReport:
        """Merge each partition holding at least ``min_files`` files (optionally only dates < before).
        One compaction at a time across threads and processes; a second caller waits, then finds
        nothing left to merge."""
        return compact_partitions(self, min_files=min_files, before=before)

    def purge_retired(self) -> None:
        """Delete replaced files now (no concurrent readers, e.g. in a CLI run)."""
        with flocked(self.dir / ".compact.lock"):
            delete_retired(self, 0.0)

    def repair(self, *, deep: bool = False) -> None:
        """Offline repair (takes the writer lock, so not beside a live writer): recovery, then every live
        file verified (size, footer, row count; ``deep``: every page), damaged ones quarantined, replaced
        files deleted."""
        with self._lock:
            self._claim_writer()
        for p in self.partition_dirs():
            for name, entry in sorted(self.manifest(p).files.items()):
                why = damage(p / name, entry, deep=deep)
                if why is not None:
                    self.quarantine(p, name, why)
        self.purge_retired()


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

    def removed_epoch(self) -> int:
        return hash((self.readings.removed_epoch(), self.events.removed_epoch()))

    def close(self) -> None:
        self.readings.close()
        self.events.close()

    def compact(self, *, min_files: int = 8) -> dict[str, CompactionReport]:
        return {
            "readings": self.readings.compact(min_files=min_files),
            "events": self.events.compact(min_files=min_files),
        }
