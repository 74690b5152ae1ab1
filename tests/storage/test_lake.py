"""The Parquet lake: durable appends, partitioning by date, recovery and compaction without loss."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fluxops.ami.models import READING_SCHEMA
from fluxops.core.errors import StorageError
from fluxops.storage.lake import AmiLake, ParquetLake


def _batch(n: int, start: datetime, meter_offset: int = 0) -> pa.Table:
    t0 = int(start.timestamp() * 1_000_000)
    ts = t0 + 900_000_000 * (np.arange(n) % 200)
    cols = {
        "meter_id": pa.array([f"MTR-{meter_offset + i // 200:06d}" for i in range(n)]),
        "interval_start_utc": pa.array(ts).cast(pa.timestamp("us", tz="UTC")),
        "kwh_delivered": pa.array(np.full(n, 0.4)),
        "kwh_received": pa.array(np.zeros(n)),
        "voltage_v": pa.array(np.full(n, 120.0)),
        "quality": pa.array(["valid"] * n),
        "ingested_utc": pa.array(np.full(n, t0)).cast(pa.timestamp("us", tz="UTC")),
        "is_correction": pa.array(np.zeros(n, dtype=bool)),
    }
    return pa.table(cols)


def test_append_partitions_by_date_and_assigns_increasing_seq(tmp_path: Path) -> None:
    lake = ParquetLake(tmp_path, "readings", READING_SCHEMA, "interval_start_utc")
    s1 = lake.append(_batch(400, datetime(2026, 1, 1, 20, tzinfo=UTC)))  # 200 intervals span 3 days
    s2 = lake.append(_batch(200, datetime(2026, 1, 2, tzinfo=UTC), meter_offset=10))
    assert (s1, s2) == (1, 2)
    assert lake.partitions() == [date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3), date(2026, 1, 4)]
    t = lake.read()
    assert t.num_rows == 600
    assert sorted(set(t["batch_seq"].to_pylist())) == [1, 2]
    day2 = lake.read(date(2026, 1, 2), date(2026, 1, 2))
    ts = day2["interval_start_utc"].to_pylist()
    assert all(x.date() == date(2026, 1, 2) for x in ts)


def test_reopen_recovers_seq_and_drops_torn_temporaries(tmp_path: Path) -> None:
    lake = ParquetLake(tmp_path, "readings", READING_SCHEMA, "interval_start_utc")
    lake.append(_batch(50, datetime(2026, 1, 1, tzinfo=UTC)))
    part = next(p for p in (tmp_path / "readings").iterdir() if p.is_dir())
    (part / "part-000000000009-0.parquet.tmp").write_bytes(b"torn")
    again = ParquetLake(tmp_path, "readings", READING_SCHEMA, "interval_start_utc")
    assert again.last_seq == 9  # a seq seen on disk is never reused (a watermark may have seen it)
    assert again.read().num_rows == 50
    lake.close()  # the first writer goes away; the next one recovers on its first write
    assert again.append(_batch(10, datetime(2026, 1, 1, tzinfo=UTC))) == 10
    assert not list(part.glob("*.tmp"))


def test_one_writer_process_at_a_time(tmp_path: Path) -> None:
    first = ParquetLake(tmp_path, "readings", READING_SCHEMA, "interval_start_utc")
    first.append(_batch(5, datetime(2026, 1, 1, tzinfo=UTC)))
    second = ParquetLake(tmp_path, "readings", READING_SCHEMA, "interval_start_utc")
    assert second.read().num_rows == 5  # readers are never blocked
    with pytest.raises(StorageError):
        second.append(_batch(5, datetime(2026, 1, 1, tzinfo=UTC)))
    first.close()
    assert second.append(_batch(5, datetime(2026, 1, 1, tzinfo=UTC))) == 2


def test_compaction_merges_files_and_keeps_every_row_once(tmp_path: Path) -> None:
    lake = ParquetLake(tmp_path, "readings", READING_SCHEMA, "interval_start_utc")
    for k in range(10):
        lake.append(_batch(20, datetime(2026, 1, 1, tzinfo=UTC), meter_offset=k))
    before = lake.read()
    rep = lake.compact(min_files=4)
    assert rep.files_merged == 10 and rep.rows == 200
    after = lake.read()
    assert after.num_rows == before.num_rows == 200
    assert len(lake.files()) == 1
    lake.purge_retired()
    assert len(list((tmp_path / "readings").glob("*/*.parquet"))) == 1


def test_replaced_files_stay_readable_for_a_grace_period_then_go(tmp_path: Path) -> None:
    lake = ParquetLake(tmp_path, "readings", READING_SCHEMA, "interval_start_utc")
    for k in range(3):
        lake.append(_batch(20, datetime(2026, 1, 1, tzinfo=UTC), meter_offset=k))
    listed = lake.files()
    lake.compact(min_files=2)
    assert all(f.exists() for f in listed)  # a query that listed them a moment ago still reads them
    reopened = ParquetLake(tmp_path, "readings", READING_SCHEMA, "interval_start_utc")
    assert reopened.read().num_rows == 60  # another process sees one generation: the compact file
    lake.compact(min_files=99)
    assert all(f.exists() for f in listed)  # still within the grace period
    lake.retire_grace_s = 0.0
    lake.compact(min_files=99)
    files = list((tmp_path / "readings").glob("*/*.parquet"))
    assert len(files) == 1
    assert b"fluxops.replaces" in (pq.read_schema(files[0]).metadata or {})


def test_ami_lake_keys(tmp_path: Path) -> None:
    lake = AmiLake(tmp_path)
    lake.append_readings(_batch(30, datetime(2026, 1, 1, tzinfo=UTC)))
    keys = lake.reading_keys(date(2026, 1, 1))
    assert keys.column_names == ["meter_id", "interval_start_utc"]
    assert keys.num_rows == 30
    assert lake.event_keys(date(2026, 1, 1)).num_rows == 0
