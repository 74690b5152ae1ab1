"""Per-partition manifests, locks and quarantine of the Parquet lake (issue 8 §3).

Why a manifest: a directory listing cannot tell a live file from one a compaction has already replaced,
from an unacknowledged part a crash left behind, or from a second compact file a concurrent compaction
wrote; globbing it counted rows up to four times (DuckDB and Spark alike). So each partition holds
``_manifest.json``, the one list of live files with their row counts and byte sizes, replaced atomically
(temporary name, ``fsync``, ``rename``, directory ``fsync``). Every reader takes its file list from it;
a file that is not in it does not exist for readers.

``retired`` lists files a compaction replaced, with the time it did: they stay on disk for a grace period
so a query that listed them a moment earlier can still read them, and are then deleted.

A damaged file (missing, truncated, unreadable footer, wrong row count) is *quarantined*: moved to
``<lake>/_quarantine/<dataset>/`` next to a ``.reason.json``, and dropped from the manifest, so every other
file stays readable and ``/health?detailed=true`` names it until an operator clears it.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from fluxops.core.errors import StorageError

META_KEY = b"fluxops.replaces"  # Parquet key-value metadata of a compact file: the names it replaced
_PART = re.compile(r"^(part|compact)-(\d{12})-[0-9a-z]+\.parquet$")
MANIFEST = "_manifest.json"
QUARANTINE = "_quarantine"
_VERSION = 1

# Fault injection for the crash tests (tests/storage/test_lake_crash.py): a subprocess sets this to a
# function that ends the process at a named step. Production code leaves it None.
FAULT_HOOK: Callable[[str], None] | None = None


def seq_of(name: str) -> int:
    """The batch seq in a lake file name (``part-<seq>-…``, ``compact-<max seq>-…``, ``….tmp``); -1."""
    found = _PART.match(name.removesuffix(".tmp"))
    return int(found.group(2)) if found else -1


def fault_point(step: str) -> None:
    """A step at which a crash test may kill the process (``append.part_written``, ...)."""
    if FAULT_HOOK is not None:
        FAULT_HOOK(step)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def flocked(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` for the block. A fresh open file description per call, so it
    excludes other threads of this process as well as other processes."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


@dataclass(frozen=True)
class Entry:
    rows: int
    bytes: int


@dataclass
class Manifest:
    """The live files of one partition (name -> rows, bytes) and the retired ones (name -> unix time)."""

    files: dict[str, Entry] = field(default_factory=dict)
    retired: dict[str, float] = field(default_factory=dict)

    def copy(self) -> Manifest:
        return Manifest(dict(self.files), dict(self.retired))

    @property
    def rows(self) -> int:
        return sum(e.rows for e in self.files.values())


def read_manifest(part_dir: Path) -> Manifest | None:
    """The partition's manifest, or None when it has none (a lake written before manifests)."""
    path = part_dir / MANIFEST
    try:
        doc = orjson.loads(path.read_bytes())  # orjson: a manifest may list thousands of parts
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StorageError(f"cannot read lake manifest {path}: {exc}") from exc
    except ValueError as exc:  # orjson.JSONDecodeError is a ValueError
        raise _torn(path, exc) from exc
    try:
        files = {n: Entry(int(e["rows"]), int(e["bytes"])) for n, e in doc["files"].items()}
        retired = {n: float(t) for n, t in doc.get("retired", {}).items()}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _torn(path, exc) from exc
    return Manifest(files, retired)


def _torn(path: Path, exc: Exception) -> StorageError:
    """A manifest whose bytes are not a manifest (the disk's doing: ours are renamed into place whole);
    ``details['torn']`` tells it from an I/O error, which must not trigger a rebuild."""
    return StorageError(
        f"unreadable lake manifest {path}: {exc!r}; run `fluxops lake repair`", details={"torn": True}
    )


def write_manifest(part_dir: Path, m: Manifest) -> None:
    """Replace the manifest atomically and durably (callers hold the dataset's manifest lock)."""
    doc = {
        "version": _VERSION,
        "files": {n: {"rows": e.rows, "bytes": e.bytes} for n, e in sorted(m.files.items())},
        "retired": dict(sorted(m.retired.items())),
    }
    tmp = part_dir / (MANIFEST + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(orjson.dumps(doc))
        fh.flush()
        os.fsync(fh.fileno())
    fault_point("manifest.tmp_written")
    os.replace(tmp, part_dir / MANIFEST)
    fsync_dir(part_dir)


def manifest_from_disk(part_dir: Path) -> tuple[Manifest, dict[str, str], list[list[str]]]:
    """Rebuild a partition's manifest from its files: lakes written before manifests, or a lost manifest.

    Honours each compact file's ``fluxops.replaces`` (its inputs are retired, not live). Compact files
    that the old unlocked compaction wrote side by side over the same inputs hold the same rows: one whose
    replaced set is contained in another's is retired too. Returns the manifest, the damaged files (name
    -> reason; the caller quarantines them) and groups of compact files that overlap only partly (the
    caller merges each group into one de-duplicated file)."""
    entries: dict[str, Entry] = {}
    damaged: dict[str, str] = {}
    replaces: dict[str, set[str]] = {}
    for p in sorted(part_dir.glob("*.parquet")):
        try:
            md = pq.read_metadata(p)
            entries[p.name] = Entry(md.num_rows, p.stat().st_size)
            if p.name.startswith("compact-"):
                replaces[p.name] = set(json.loads((md.metadata or {}).get(META_KEY, b"[]")))
        except (OSError, ValueError, pa.ArrowException) as exc:
            damaged[p.name] = f"footer unreadable: {exc}"
    replaced: set[str] = set().union(*replaces.values()) if replaces else set()
    compacts = sorted(n for n in replaces if n not in replaced)
    drop = {
        a
        for a in compacts
        for b in compacts
        if a != b
        and replaces[a] & replaces[b]
        and (replaces[a] < replaces[b] or (replaces[a] == replaces[b] and a > b))
    }
    kept = [c for c in compacts if c not in drop]
    groups: list[set[str]] = []
    for c in kept:  # partial overlaps, joined transitively
        hit = [g for g in groups if any(replaces[c] & replaces[o] for o in g)]
        merged = {c}.union(*hit) if hit else {c}
        groups = [g for g in groups if g not in hit] + [merged]
    gone = replaced | drop
    m = Manifest(
        files={n: e for n, e in entries.items() if n not in gone},
        retired={n: 0.0 for n in sorted(gone) if n in entries or n in damaged},
    )
    return m, {n: r for n, r in damaged.items() if n not in gone}, [sorted(g) for g in groups if len(g) > 1]


def damage(path: Path, entry: Entry, *, deep: bool) -> str | None:
    """Why ``path`` cannot serve its manifest entry, or None. Shallow: exists, size, footer, row count;
    deep: every data page decodes."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return "missing"
    if size != entry.bytes:
        return f"truncated: {size} of {entry.bytes} bytes"
    try:
        rows = pq.read_metadata(path).num_rows if not deep else pq.read_table(path).num_rows
    except (OSError, ValueError, pa.ArrowException) as exc:
        return f"{'data' if deep else 'footer'} unreadable: {exc}"
    return None if rows == entry.rows else f"{rows} rows, manifest says {entry.rows}"


# --- quarantine ------------------------------------------------------------------------------------


def quarantine_dir(lake_root: Path, dataset: str) -> Path:
    return Path(lake_root) / QUARANTINE / dataset


def move_to_quarantine(
    lake_root: Path, dataset: str, part_dir: Path, name: str, reason: str
) -> dict[str, Any]:
    """Move ``part_dir/name`` (if still there) aside and write why; returns the record."""
    qdir = quarantine_dir(lake_root, dataset)
    qdir.mkdir(parents=True, exist_ok=True)
    stem = f"{part_dir.name}__{name}"
    if (qdir / (stem + ".reason.json")).exists():
        stem = f"{stem}__{uuid.uuid4().hex[:6]}"
    src = part_dir / name
    moved = src.exists()
    if moved:
        os.replace(src, qdir / stem)
    record = {
        "dataset": dataset,
        "date": part_dir.name.removeprefix("date="),
        "file": name,
        "reason": reason,
        "moved_to": str(qdir / stem) if moved else None,
        "at_unix": time.time(),
    }
    tmp = qdir / (stem + ".reason.json.tmp")
    tmp.write_text(json.dumps(record))
    os.replace(tmp, qdir / (stem + ".reason.json"))
    fsync_dir(qdir)
    if moved:
        fsync_dir(part_dir)
    return record


def quarantine_records(lake_root: Path) -> list[dict[str, Any]]:
    """Every quarantine record under the lake, oldest first."""
    out: list[dict[str, Any]] = []
    for p in sorted((Path(lake_root) / QUARANTINE).glob("*/*.reason.json")):
        try:
            out.append(json.loads(p.read_text()))
        except (OSError, ValueError):
            out.append({"file": p.name, "reason": "unreadable quarantine record"})
    return sorted(out, key=lambda r: float(r.get("at_unix", 0.0)))


def clear_quarantine(lake_root: Path) -> int:
    """Delete quarantined files and their records (the operator re-sent or gave up on the data)."""
    n = 0
    for p in (Path(lake_root) / QUARANTINE).glob("*/*"):
        if p.name.endswith(".reason.json"):
            n += 1
        p.unlink(missing_ok=True)
    return n


def damaged_entries(lake_root: Path) -> list[dict[str, Any]]:
    """Manifest entries whose file is missing or has another size than written: a ``stat`` per live
    file, no data read, nothing changed (readers quarantine what they trip over)."""
    out: list[dict[str, Any]] = []
    for part_dir in sorted(Path(lake_root).glob("*/date=*")):
        if not part_dir.is_dir():
            continue
        try:
            m = read_manifest(part_dir)
        except StorageError as exc:
            out.append(_where(part_dir, MANIFEST, exc.message))
            continue
        for name, e in sorted((m.files if m else {}).items()):
            try:
                size: int | None = (part_dir / name).stat().st_size
            except FileNotFoundError:
                size = None
            if size != e.bytes:
                why = "missing" if size is None else f"truncated: {size} of {e.bytes} bytes"
                out.append(_where(part_dir, name, why))
    return out


def _where(part_dir: Path, name: str, reason: str) -> dict[str, Any]:
    return {
        "dataset": part_dir.parent.name,
        "date": part_dir.name.removeprefix("date="),
        "file": name,
        "reason": reason,
    }


def lake_health(lake_root: Path, *, limit: int = 20) -> dict[str, Any]:
    """The lake part of ``/health?detailed=true``: not ok while a live file is damaged or any file is
    quarantined (until `clear_quarantine`)."""
    records = quarantine_records(lake_root)
    damaged = damaged_entries(lake_root)
    return {
        "ok": not records and not damaged,
        "damaged": damaged[:limit],
        "quarantined_count": len(records),
        "quarantined": [
            {k: r.get(k) for k in ("dataset", "date", "file", "reason")} for r in records[-limit:]
        ],
    }
