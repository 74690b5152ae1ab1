"""Compaction and crash recovery of a `ParquetLake`: one compactor at a time, exactly the manifest's
files; recovery that finishes whatever a crash interrupted.

Why (issue 8 §3): three concurrent ``POST /api/ami/compact`` (or one beside the background compactor)
each globbed the partition, files already replaced by an earlier compact file included, and left three
live compact files (keys held four times). Here a compaction holds ``.compact.lock`` (an ``flock``: other
threads and processes wait), merges exactly the files the manifest lists, writes the compact file and
swaps the manifest under the manifest lock; the inputs become *retired* and are deleted a grace period
later, so a query that listed them a moment earlier still reads them. A crash at any step leaves either
the old manifest (the compact file is an orphan recovery deletes) or the new one (retired files are
deleted later): never both generations live.

Recovery (a writer's first write) deletes temporaries and the files no manifest names (unacknowledged
parts, compact files never swapped in), forgets retired names already deleted and quarantines entries
that are missing or truncated. Every step is idempotent, so a crash during recovery is finished by the
next one (`tests/storage/test_lake_crash.py` kills a writer at every step).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from fluxops.core.errors import StorageError
from fluxops.storage.lake_manifest import Manifest, fault_point, flocked, fsync_dir, seq_of, write_manifest

if TYPE_CHECKING:
    from fluxops.storage.lake import ParquetLake


@dataclass(frozen=True)
class CompactionReport:
    partitions: int
    files_merged: int
    rows: int


def compact_partitions(lake: ParquetLake, *, min_files: int, before: date | None) -> CompactionReport:
    """Merge each partition holding at least ``min_files`` files (optionally only dates < before).
    One compaction at a time across threads and processes; a second caller waits, then finds
    nothing left to merge."""
    n_parts = n_files = n_rows = 0
    end = None if before is None else before - timedelta(days=1)
    with flocked(lake.dir / ".compact.lock"):
        delete_retired(lake, lake.retire_grace_s)
        for part_dir in lake.partition_dirs(None, end):
            names = sorted(lake.manifest(part_dir).files)
            if len(names) < min_files:
                continue
            tables, bad = lake.read_files([part_dir / n for n in names], None, lake.schema)
            if bad is not None:
                if not lake.heal([bad[0]]):
                    raise StorageError(f"compaction cannot read {bad[0]}: {bad[1]}") from bad[1]
                continue  # damaged input quarantined; the next compaction merges the rest
            table = pa.concat_tables(tables)
            table = table.sort_by([(lake.time_column, "ascending")])
            name = f"compact-{max(seq_of(n) for n in names):012d}-{uuid.uuid4().hex[:8]}.parquet"
            try:
                entry = lake.write_file(part_dir, name, table, names)
                fault_point("compact.file_written")
                with lake.manifest_lock():
                    m = lake.load_manifest_locked(part_dir)
                    if not set(names) <= set(m.files):  # an input was quarantined meanwhile
                        (part_dir / name).unlink()
                        continue
                    now = time.time()
                    for n in names:
                        del m.files[n]
                        m.retired[n] = now
                    m.files[name] = entry
                    write_manifest(part_dir, m)
                fault_point("compact.manifest_swapped")
            except OSError as exc:
                raise StorageError(f"compaction failed in {part_dir}: {exc}") from exc
            n_parts += 1
            n_files += len(names)
            n_rows += table.num_rows
    return CompactionReport(partitions=n_parts, files_merged=n_files, rows=n_rows)


def delete_retired(lake: ParquetLake, grace_s: float) -> None:
    """Delete files retired at least ``grace_s`` ago (the caller holds the compaction lock)."""
    cutoff = time.time() - grace_s
    for part_dir in lake.partition_dirs():
        old = [n for n, t in lake.manifest(part_dir).retired.items() if t <= cutoff]
        if not old:
            continue
        for n in old:
            (part_dir / n).unlink(missing_ok=True)
            fault_point("compact.retired_unlinked")
        with lake.manifest_lock():
            m = lake.load_manifest_locked(part_dir)
            for n in old:
                m.retired.pop(n, None)
            write_manifest(part_dir, m)


def merge_overlap(lake: ParquetLake, part_dir: Path, m: Manifest, group: list[str]) -> None:
    """Compact files of the old unlocked compaction that share some rows: one file of distinct rows."""
    t = pa.concat_tables([pq.read_table(part_dir / n).cast(lake.schema) for n in group])
    t = t.group_by(t.column_names).aggregate([]).select(lake.schema.names)
    name = f"compact-{max(seq_of(n) for n in group):012d}-{uuid.uuid4().hex[:8]}.parquet"
    m.files[name] = lake.write_file(part_dir, name, t.sort_by(lake.time_column), group)
    for n in group:
        m.files.pop(n, None)
        m.retired[n] = 0.0


def recover(lake: ParquetLake) -> int:
    """A writer's first act (it holds the writer lock; compaction is excluded here): make disk and
    manifests agree (see the module docstring); returns the highest seq ever seen,
        so a seq an unacknowledged batch used is never reused (analytics watermarks may have seen it)."""
    max_seq = 0
    with flocked(lake.dir / ".compact.lock"), lake.manifest_lock():
        for part_dir in lake.partition_dirs():
            for p in list(part_dir.iterdir()):
                max_seq = max(max_seq, seq_of(p.name))
                if p.name.endswith(".tmp"):
                    p.unlink(missing_ok=True)
                    fault_point("recover.tmp_deleted")
            m = lake.load_manifest_locked(part_dir)
            disk = {p.name for p in part_dir.glob("*.parquet")}
            for name in sorted(disk - set(m.files) - set(m.retired)):
                (part_dir / name).unlink()  # unacknowledged, or a compact file never swapped in
                fault_point("recover.orphan_deleted")
            changed = False
            for name in set(m.retired) - disk:
                del m.retired[name]
                changed = True
            for name, e in sorted(m.files.items()):
                size = (part_dir / name).stat().st_size if name in disk else None
                if size != e.bytes:
                    why = "missing" if size is None else f"truncated: {size} of {e.bytes} bytes"
                    lake.quarantine_locked(part_dir, m, name, why)
                    changed = True
            if changed:
                write_manifest(part_dir, m)
            fsync_dir(part_dir)
    return max_seq
