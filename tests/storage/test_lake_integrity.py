"""Issue 8 §3: the lake never duplicates, loses or hides readings.

Concurrent compactions (threads and a second process) leave one generation; lakes written before
manifests migrate without duplicates; a damaged file is quarantined while the rest stays readable; any
stored date is queryable; `fluxops lake check|repair` report and rebuild. Real files, real processes."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from fluxops.ami.models import READING_SCHEMA
from fluxops.ami.synth import AmiSynthesizer
from fluxops.core.errors import StorageError
from fluxops.grid.models import Grid
from fluxops.storage.ami_analytics import AmiAnalytics
from fluxops.storage.lake import AmiLake, ParquetLake
from fluxops.storage.lake_check import check_lake, repair_lake
from fluxops.storage.lake_manifest import MANIFEST, lake_health, quarantine_records

DAY = date(2026, 1, 1)
US = pa.timestamp("us", tz="UTC")


def _batch(k: int, day: date = DAY, n_meters: int = 5) -> pa.Table:
    """96 intervals of ``n_meters`` meters numbered from ``k * n_meters``: keys unique per ``k``."""
    t0 = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1_000_000)
    n = 96 * n_meters
    return pa.table(
        {
            "meter_id": pa.array([f"MTR-{k * n_meters + i // 96:06d}" for i in range(n)]),
            "interval_start_utc": pa.array(t0 + 900_000_000 * (np.arange(n) % 96)).cast(US),
            "kwh_delivered": pa.array(np.full(n, 0.4)),
            "kwh_received": pa.array(np.zeros(n)),
            "voltage_v": pa.array(np.full(n, 120.0)),
            "quality": pa.array(["valid"] * n),
            "ingested_utc": pa.array(np.full(n, t0)).cast(US),
            "is_correction": pa.array(np.zeros(n, dtype=bool)),
        }
    )


def _lake(root: Path) -> ParquetLake:
    return ParquetLake(root, "readings", READING_SCHEMA, "interval_start_utc")


def _distinct_keys(t: pa.Table) -> int:
    key = pc.binary_join_element_wise(
        pc.cast(t["meter_id"], pa.string()),
        pc.cast(pc.cast(t["interval_start_utc"], pa.int64()), pa.string()),
        "|",
    )
    return int(pc.count_distinct(key).as_py())


COMPACT_IN_PROCESS = """
import sys
from pathlib import Path
from fluxops.ami.models import READING_SCHEMA
from fluxops.storage.lake import ParquetLake
lake = ParquetLake(Path(sys.argv[1]), "readings", READING_SCHEMA, "interval_start_utc")
print(lake.compact(min_files=2).files_merged)
"""


def test_concurrent_compactions_in_threads_and_processes_leave_one_generation(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    for k in range(24):
        lake.append(_batch(k, DAY + timedelta(days=k % 2)))
    want = lake.read()
    other = subprocess.Popen(
        [sys.executable, "-c", COMPACT_IN_PROCESS, str(tmp_path)], stdout=subprocess.PIPE
    )
    go = threading.Barrier(3)
    errors: list[BaseException] = []

    def compact(pl: ParquetLake) -> None:
        go.wait()
        try:
            pl.compact(min_files=2)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=compact, args=(pl,)) for pl in (lake, lake, _lake(tmp_path))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.communicate(timeout=120)
    assert other.returncode == 0 and not errors
    got = lake.read()
    assert got.num_rows == want.num_rows == 24 * 480
    assert _distinct_keys(got) == got.num_rows  # nothing twice
    assert len(lake.files()) == 2  # one compact file per partition is all readers see
    assert lake.rows() == got.num_rows  # the manifests' counts agree with the data
    # the replaced files are still on disk (grace period) and a new compaction must not pick them up
    assert len(list(tmp_path.glob("readings/*/*.parquet"))) > 2
    lake.append(_batch(99))
    lake.compact(min_files=2)
    assert lake.read().num_rows == 25 * 480 == _distinct_keys(lake.read())


def _legacy_lake(root: Path) -> None:
    """A partition as the code before manifests left it after three unlocked compactions raced: parts
    already replaced but not deleted, and three compact files over the same inputs (keys held 4x)."""
    part_dir = root / "readings" / f"date={DAY.isoformat()}"
    part_dir.mkdir(parents=True)
    parts = []
    for k in range(3):
        t = _batch(k).append_column("batch_seq", pa.array(np.full(480, k + 1, dtype=np.int64)))
        name = f"part-{k + 1:012d}-0.parquet"
        pq.write_table(t.select(READING_SCHEMA.names), part_dir / name)
        parts.append(t.select(READING_SCHEMA.names))
    merged = pa.concat_tables(parts).cast(READING_SCHEMA)
    replaces = json.dumps([f"part-{k + 1:012d}-0.parquet" for k in range(3)]).encode()
    for tag in ("aaaaaaaa", "bbbbbbbb", "cccccccc"):
        t = merged.replace_schema_metadata({b"fluxops.replaces": replaces})
        pq.write_table(t, part_dir / f"compact-000000000003-{tag}.parquet")
    # a later unacknowledged part of another day that a crash left (no manifest anywhere)
    newer = _batch(7, DAY + timedelta(days=1)).append_column(
        "batch_seq", pa.array(np.full(480, 4, dtype=np.int64))
    )
    (root / "readings" / f"date={DAY + timedelta(days=1)}").mkdir()
    pq.write_table(
        newer, root / "readings" / f"date={DAY + timedelta(days=1)}" / "part-000000000004-0.parquet"
    )


def test_lake_without_manifests_migrates_without_duplicates(tmp_path: Path) -> None:
    _legacy_lake(tmp_path)
    lake = _lake(tmp_path)
    t = lake.read(DAY, DAY)
    assert t.num_rows == 3 * 480 == _distinct_keys(t)  # not 4x
    assert (tmp_path / "readings" / f"date={DAY}" / MANIFEST).exists()
    assert [f.name for f in lake.files(DAY, DAY)] == ["compact-000000000003-aaaaaaaa.parquet"]
    assert lake.append(_batch(50)) == 5  # recovery on the first write does not trip over anything
    lake.compact(min_files=2)
    lake.purge_retired()
    assert lake.read().num_rows == 5 * 480 == _distinct_keys(lake.read())
    assert check_lake(tmp_path).ok


def _truncate(path: Path) -> None:
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size // 2)


def test_truncated_file_is_quarantined_and_the_rest_stays_readable(tmp_path: Path) -> None:
    lake = AmiLake(tmp_path)
    for k in range(3):
        lake.append_readings(_batch(k))
    lake.append_readings(_batch(9, DAY + timedelta(days=1)))
    bad = lake.readings.files(DAY, DAY)[1]
    _truncate(bad)
    assert lake.reading_keys(DAY + timedelta(days=1)).num_rows == 480  # other dates never noticed
    epoch = lake.removed_epoch()
    t = lake.reading_keys(DAY)  # the damaged file is moved aside, the rest is read
    assert t.num_rows == 2 * 480
    assert lake.removed_epoch() != epoch  # the de-duplication index learns rows went away
    assert not bad.exists()
    (rec,) = quarantine_records(tmp_path)
    assert rec["file"] == bad.name and rec["date"] == DAY.isoformat() and "truncated" in rec["reason"]
    health = lake_health(tmp_path)
    assert not health["ok"] and health["quarantined"][0]["file"] == bad.name
    assert lake.append_readings(_batch(1)) == 5  # the next ingest works (the lost keys are new again)
    lake.readings.compact(min_files=2)
    assert lake.reading_keys(DAY).num_rows == 3 * 480


def test_deleted_file_is_quarantined_on_recovery_and_check_reports_it(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    for k in range(3):
        lake.append(_batch(k))
    lake.close()
    gone = lake.files()[0]
    gone.unlink()
    chk = check_lake(tmp_path)
    assert not chk.ok and [(f.file, f.problem) for f in chk.findings] == [(gone.name, "missing")]
    again = _lake(tmp_path)
    assert again.append(_batch(5)) == 4  # recovery quarantines the missing entry instead of failing
    assert again.read().num_rows == 3 * 480
    assert quarantine_records(tmp_path)[0]["reason"] == "missing"


def test_repair_rebuilds_manifests_drops_orphans_and_refuses_beside_a_writer(tmp_path: Path) -> None:
    lake = AmiLake(tmp_path)
    for k in range(3):
        lake.append_readings(_batch(k))
    lake.append_readings(_batch(3, DAY + timedelta(days=1)))
    day1, day2 = (f.parent for f in lake.readings.files()[::3])
    orphan = day1 / "part-000000000042-0.parquet"  # as an unacknowledged batch leaves it
    orphan.write_bytes(lake.readings.files()[0].read_bytes())
    (day2 / MANIFEST).write_text("{not json")  # torn by the disk
    with pytest.raises(StorageError, match="another process"):
        repair_lake(tmp_path)  # the writer still holds the lake
    lake.close()
    before, after = repair_lake(tmp_path)
    problems = {f.file: f.problem for f in before.findings}
    assert problems[orphan.name].startswith("orphan") and "unreadable lake manifest" in problems[MANIFEST]
    assert not orphan.exists()
    assert after.files == 4 and after.rows == 4 * 480
    assert [f.file for f in after.findings] == [MANIFEST]  # the torn manifest, kept in quarantine
    assert _lake(tmp_path).read().num_rows == 4 * 480


def test_analytics_skip_a_damaged_file_and_recompute_the_date_that_lost_it(
    tmp_path: Path, tiny_grid: Grid
) -> None:
    lake = AmiLake(tmp_path)
    analytics = AmiAnalytics(lake)
    analytics.write_dims(tiny_grid)
    day_rows = AmiSynthesizer(tiny_grid).day(DAY).readings
    stored = day_rows.drop_columns(["delivered_utc"]).append_column("ingested_utc", day_rows["delivered_utc"])
    stored = stored.append_column("is_correction", pa.array(np.zeros(day_rows.num_rows, dtype=bool)))
    half = day_rows.num_rows // 2
    lake.append_readings(stored.slice(0, half))
    lake.append_readings(stored.slice(half))
    assert analytics.refresh().dates == [DAY]
    count = "SELECT sum(readings)::BIGINT AS n FROM d_completeness_day WHERE date = $d"
    assert analytics.query(count, {"d": DAY})["n"][0].as_py() == day_rows.num_rows
    _truncate(lake.readings.files()[1])
    raw = analytics.query("SELECT count(*) AS n FROM readings", raw_range=(DAY, DAY))  # DuckDB path heals
    assert raw["n"][0].as_py() == half
    assert analytics.refresh().dates == [DAY]  # the derived rows of the lost file go too
    assert analytics.query(count, {"d": DAY})["n"][0].as_py() == half
    assert analytics.refresh().dates == []
