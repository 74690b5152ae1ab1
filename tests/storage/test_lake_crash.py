"""Recovery is idempotent from every crash point of ingest, compaction and recovery itself (issue 8 §3).

A subprocess appends batches (each spanning two date partitions), compacts in between, and records a
batch as acknowledged only after `append` returned; a fault hook ends the process (``os._exit``, no
cleanup, like SIGKILL) at the n-th time it reaches a named step. Then a new writer recovers, writes,
compacts and is checked: 0 acknowledged readings missing, 0 duplicated keys, manifests agree with the
files. Regression: the next write after a crash used to fail with ``FileNotFoundError`` in recovery and
leave files a later compaction duplicated."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from fluxops.storage.lake import AmiLake
from fluxops.storage.lake_check import check_lake

BATCH = """
from datetime import UTC, datetime
import numpy as np
import pyarrow as pa

def batch(k):
    # 4 meters x 96 intervals from 12:00 UTC: half on one date, half on the next; keys unique per k
    t0 = int(datetime(2026, 1, 1, 12, tzinfo=UTC).timestamp() * 1_000_000)
    n = 4 * 96
    us = pa.timestamp("us", tz="UTC")
    return pa.table({
        "meter_id": pa.array([f"MTR-{k:03d}-{i // 96}" for i in range(n)]),
        "interval_start_utc": pa.array(t0 + 900_000_000 * (np.arange(n) % 96)).cast(us),
        "kwh_delivered": pa.array(np.full(n, 0.4)), "kwh_received": pa.array(np.zeros(n)),
        "voltage_v": pa.array(np.full(n, 120.0)), "quality": pa.array(["valid"] * n),
        "ingested_utc": pa.array(np.full(n, t0)).cast(us),
        "is_correction": pa.array(np.zeros(n, dtype=bool)),
    })
"""

WRITER = (
    BATCH
    + """
import os, sys
import fluxops.storage.lake_manifest as lm
from fluxops.storage.lake import AmiLake

root, step, nth, acks = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
seen = {"n": 0}

def hook(s):
    if step == "trace":
        print(s, flush=True)
    elif s == step:
        seen["n"] += 1
        if seen["n"] == nth:
            os._exit(77)

lm.FAULT_HOOK = hook
lake = AmiLake(root)
lake.readings.retire_grace_s = 0.0  # delete replaced files at the next compaction: that step too
with open(acks, "a") as fh:
    for k in range(8):
        lake.readings.append(batch(k))
        fh.write(f"{k}\\n")
        fh.flush()
        os.fsync(fh.fileno())
        if k in (3, 5, 7):
            lake.readings.compact(min_files=2)
os._exit(0)
"""
)

# The next writer: its first append runs recovery (which may itself be killed at a fault point).
RECOVERING_WRITER = (
    BATCH
    + """
import os, sys
import fluxops.storage.lake_manifest as lm
from fluxops.storage.lake import AmiLake

root, step, nth = sys.argv[1], sys.argv[2], int(sys.argv[3])
seen = {"n": 0}

def hook(s):
    if step == "trace":
        print(s, flush=True)
    elif s == step:
        seen["n"] += 1
        if seen["n"] == nth:
            os._exit(77)

lm.FAULT_HOOK = hook
AmiLake(root).readings.append(batch(100))
os._exit(0)
"""
)

NS: dict[str, object] = {}
exec(BATCH, NS)  # the same batches the writer process appends


def _keys(t: pa.Table) -> pa.Array:
    return pc.binary_join_element_wise(
        pc.cast(t["meter_id"], pa.string()),
        pc.cast(pc.cast(t["interval_start_utc"], pa.int64()), pa.string()),
        "|",
    )


def _trace(tmp_path: Path) -> list[str]:
    """Every fault point the writer passes, in order (a run without a crash)."""
    acks = tmp_path / "trace-acks"
    lake = tmp_path / "trace-lake"
    args = [sys.executable, "-c", WRITER, str(lake), "trace", "0", str(acks)]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120, check=True)
    return proc.stdout.split()


def _crash_writer(tmp_path: Path, step: str, nth: int) -> list[int]:
    """Run the writer until it dies at ``step``'s ``nth`` pass; returns the acknowledged batches."""
    tmp_path.mkdir()
    acks = tmp_path / "acks"
    acks.touch()
    proc = subprocess.run(
        [sys.executable, "-c", WRITER, str(tmp_path / "lake"), step, str(nth), str(acks)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 77, f"{step}#{nth} not reached: {proc.stderr[-2000:]}"
    return [int(x) for x in acks.read_text().split()]


def _crash_and_check(tmp_path: Path, step: str, nth: int) -> None:
    acked = _crash_writer(tmp_path, step, nth)
    _check(tmp_path, acked, f"{step}#{nth}")


def _check(tmp_path: Path, acked: list[int], label: str) -> None:
    """A new writer recovers, writes, compacts: every acknowledged batch there once, the manifests right."""
    lake = AmiLake(tmp_path / "lake")  # the next writer: recovers on its first write
    lake.readings.append(NS["batch"](100))  # type: ignore[operator]
    lake.readings.compact(min_files=2)
    lake.readings.purge_retired()
    stored = lake.readings.read()
    keys = _keys(stored)
    assert pc.count_distinct(keys).as_py() == stored.num_rows, f"{label}: a key is stored twice"
    want = pa.concat_tables([NS["batch"](k) for k in [*acked, 100]])  # type: ignore[operator]
    missing = pc.sum(pc.invert(pc.is_in(_keys(want), keys))).as_py()
    assert missing == 0, f"{label}: {missing} acknowledged readings lost"
    assert lake.readings.rows() == stored.num_rows
    lake.close()
    chk = check_lake(tmp_path / "lake")
    assert chk.ok, (label, chk.findings)


def _occurrences(trace: list[str]) -> list[tuple[str, int]]:
    return [(s, trace[: i + 1].count(s)) for i, s in enumerate(trace)]


def test_crash_at_first_and_last_pass_of_every_step(tmp_path: Path) -> None:
    """Each distinct step (ingest: part temporary, parts written, manifest temporary, each date
    committed; compaction: compact temporary, file written, manifest swapped, replaced file deleted),
    at its first and its last pass."""
    occ = _occurrences(_trace(tmp_path))
    steps = {s for s, _ in occ}
    assert {"append.parts_written", "compact.manifest_swapped", "compact.retired_unlinked"} <= steps
    cases = sorted({(s, 1) for s in steps} | {(s, max(n for t, n in occ if t == s)) for s in steps})
    for i, (step, nth) in enumerate(cases):
        _crash_and_check(tmp_path / f"case{i}", step, nth)


@pytest.mark.slow
def test_crash_at_every_pass_of_every_step(tmp_path: Path) -> None:
    for i, (step, nth) in enumerate(_occurrences(_trace(tmp_path))):
        _crash_and_check(tmp_path / f"case{i}", step, nth)


def test_a_crash_during_recovery_is_finished_by_the_next_writer(tmp_path: Path) -> None:
    """Recovery itself killed at each of its steps (temporaries and orphans deleted, manifests
    rewritten) after crashes that leave it work: the writer after that still loses and doubles nothing."""
    for i, (step, nth) in enumerate(
        [("write.tmp_written", 3), ("append.parts_written", 2), ("compact.file_written", 2)]
    ):
        case = tmp_path / f"first{i}"
        acked = _crash_writer(case, step, nth)
        pristine = tmp_path / f"pristine{i}"
        shutil.copytree(case / "lake", pristine)
        trace_copy = tmp_path / f"trace{i}"
        shutil.copytree(pristine, trace_copy)
        args = [sys.executable, "-c", RECOVERING_WRITER, str(trace_copy), "trace", "0"]
        trace = subprocess.run(args, capture_output=True, text=True, timeout=120, check=True).stdout.split()
        in_recovery = [(s, n) for s, n in _occurrences(trace) if s.startswith("recover.")]
        assert in_recovery, f"{step}#{nth} left recovery nothing to do"
        for j, (rstep, rnth) in enumerate(in_recovery):
            again = tmp_path / f"again{i}-{j}"
            shutil.copytree(pristine, again / "lake")
            args = [sys.executable, "-c", RECOVERING_WRITER, str(again / "lake"), rstep, str(rnth)]
            assert subprocess.run(args, capture_output=True, timeout=120).returncode == 77
            _check(again, acked, f"{step}#{nth} then {rstep}#{rnth}")
