"""Spark (local mode) answers the same aggregations as DuckDB over the same lake files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

pytest.importorskip("pyspark")

from fluxops.ami.synth import AmiSynthesizer
from fluxops.cli.cmd_ami import _lake_rows
from fluxops.grid.generator import generate_grid
from fluxops.storage.ami_analytics import AmiAnalytics
from fluxops.storage.ami_queries import AmiQueries
from fluxops.storage.lake import AmiLake
from fluxops.storage.spark import run, spark_session

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
