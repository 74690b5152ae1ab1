"""Spark (local mode) answers the same aggregations as DuckDB over the same lake files."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

pytest.importorskip("pyspark")

from test_lake_crash import WRITER

from fluxops.ami.synth import AmiSynthesizer
from fluxops.cli.cmd_ami import _lake_rows
from fluxops.grid.generator import generate_grid
from fluxops.storage.ami_analytics import AmiAnalytics
from fluxops.storage.ami_queries import AmiQueries
from fluxops.storage.lake import AmiLake
from fluxops.storage.spark import register_lake, run, spark_session

DAY = date(2025, 8, 5)


@pytest.mark.spark
@pytest.mark.slow
def test_spark_matches_duckdb(tmp_path: Path) -> None:
    grid = generate_grid("tiny", seed=0)
    lake = AmiLake(tmp_path / "lake")
    a = AmiAnalytics(lake)
    a.write_dims(grid)
    rows = _lake_rows(AmiSynthesizer(grid).day(DAY).readings)
    lake.readings.append(rows.slice(0, 30_000), bulk=True)
    lake.readings.append(rows.slice(30_000), bulk=True)
    a.refresh()
    duck = AmiQueries(a).transformer_hours(day=DAY, transformer_id=None, feeder_id=None, limit=1_000_000)
    spark = spark_session()
    try:
        sp = run(spark, str(tmp_path / "lake"), DAY.isoformat(), "transformer_hour")
        cls = run(spark, str(tmp_path / "lake"), DAY.isoformat(), "class_day")
        _counts_agree_after_compaction_and_crash(spark, tmp_path, lake, rows.num_rows)
    finally:
        spark.stop()
    assert sp.num_rows == duck.num_rows
    key = ["transformer_id", "hour_utc"]
    d = duck.select([*key, "kwh_net", "loading_pct"]).sort_by([(k, "ascending") for k in key])
    s = sp.select([*key, "kwh_net", "loading_pct"]).cast(d.schema).sort_by([(k, "ascending") for k in key])
    assert d["transformer_id"].to_pylist() == s["transformer_id"].to_pylist()
    assert np.allclose(d["kwh_net"].to_numpy(), s["kwh_net"].to_numpy())
    assert np.allclose(d["loading_pct"].to_numpy(), s["loading_pct"].to_numpy())
    assert np.isclose(pc.sum(cls["kwh_delivered"]).as_py(), pc.sum(rows["kwh_delivered"]).as_py())
    assert isinstance(sp, pa.Table)


def _spark_rows(spark: Any, root: str, day: str | None) -> int:
    register_lake(spark, root, day)
    return int(spark.sql("SELECT count(*) AS n FROM raw_readings").collect()[0].n)


def _duck_rows(lake: AmiLake) -> int:
    files = [str(f) for f in lake.readings.files()]
    got = duckdb.sql(f"SELECT count(*) FROM read_parquet({files})").fetchone()
    return int(got[0]) if got else -1


def _counts_agree_after_compaction_and_crash(spark: Any, tmp_path: Path, lake: AmiLake, n: int) -> None:
    """Spark and DuckDB read the same manifests: a compaction leaves its inputs on disk for a grace
    period and a crash leaves an unswapped compact file, and neither is counted (a glob counted them)."""
    lake.readings.compact(min_files=2)
    assert len(list((tmp_path / "lake" / "readings").glob("*/*.parquet"))) == 3  # compact + 2 retired
    assert _spark_rows(spark, str(tmp_path / "lake"), DAY.isoformat()) == _duck_rows(lake) == n
    crashed = tmp_path / "crashed"
    proc = subprocess.run(  # dies with its compact file written, the manifest not swapped
        [sys.executable, "-c", WRITER, str(crashed), "compact.file_written", "2", str(tmp_path / "acks")],
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 77, proc.stderr
    shutil.copytree(tmp_path / "lake" / "dim", crashed / "dim")
    reader = AmiLake(crashed)  # a reader right after the crash, before any writer recovered
    want = reader.readings.rows()
    assert _spark_rows(spark, f"file://{crashed}", None) == _duck_rows(reader) == want
    assert want == reader.readings.read().num_rows
