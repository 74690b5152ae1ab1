"""`LatestVoltage` (issue 8 §5): each meter's latest voltage kept in memory answers exactly what the SQL
over the raw newest day answers (`AmiQueries.meter_voltage_latest`), after appends, a correction, a
compaction, a new day and a new grid — while reading only the lake files written since the last call."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from fluxops.ami.synth import AmiSynthesizer
from fluxops.grid.models import Grid
from fluxops.storage.ami_analytics import AmiAnalytics
from fluxops.storage.ami_queries import AmiQueries
from fluxops.storage.lake import AmiLake
from fluxops.storage.latest_voltage import LatestVoltage

DAY = date(2025, 8, 5)
ALL = 10_000_000


def _lake_rows(r: pa.Table, *, correction: bool = False) -> pa.Table:
    return (
        r.drop_columns(["delivered_utc"])
        .append_column("ingested_utc", r["delivered_utc"])
        .append_column("is_correction", pa.array(np.full(r.num_rows, correction)))
    )


def _before(r: pa.Table, t: datetime) -> pa.Table:
    ts = r["interval_start_utc"]
    return r.filter(pc.less(ts, pa.scalar(t, ts.type)))


def _from(r: pa.Table, t: datetime) -> pa.Table:
    ts = r["interval_start_utc"]
    return r.filter(pc.greater_equal(ts, pa.scalar(t, ts.type)))


def _same(lv: LatestVoltage, q: AmiQueries, limit: int = ALL) -> pa.Table:
    got, want = lv.table(limit), q.meter_voltage_latest(limit=limit)
    assert want.num_rows > 0
    assert got.select(want.column_names).to_pydict() == want.to_pydict()
    return got


@pytest.fixture
def lake(tmp_path: Path, tiny_grid: Grid) -> tuple[AmiLake, AmiAnalytics]:
    lake = AmiLake(tmp_path / "lake")
    a = AmiAnalytics(lake)
    a.write_dims(tiny_grid)
    return lake, a


def test_folds_only_new_files_and_answers_as_the_sql(
    lake: tuple[AmiLake, AmiAnalytics], tiny_grid: Grid
) -> None:
    lake_, a = lake
    q, lv = AmiQueries(a), LatestVoltage(a)
    day = AmiSynthesizer(tiny_grid).day(DAY).readings
    noon = datetime(2025, 8, 5, 12, tzinfo=UTC)
    lake_.readings.append(_lake_rows(_before(day, noon)))
    _same(lv, q)
    assert lv.files_read == 1
    _same(lv, q)
    assert lv.files_read == 1  # nothing new: nothing read
    lake_.readings.append(_lake_rows(_from(day, noon)))
    got = _same(lv, q)
    assert lv.files_read == 2  # only the new file
    assert got["interval_start_utc"][0].as_py() > noon

    # a correction of some meters' latest interval wins over the stored voltage
    last = pc.max(day["interval_start_utc"]).as_py()
    fix = _from(day, last).slice(0, 5)
    fix = fix.set_column(fix.schema.get_field_index("voltage_v"), "voltage_v", pa.array([300.0] * 5))
    lake_.readings.append(_lake_rows(fix, correction=True))
    got = _same(lv, q)
    assert got.filter(pc.equal(got["voltage_v"], 300.0))["status"].to_pylist() == ["critical"] * 5

    lake_.readings.compact(min_files=2)  # the merged file is re-read: the answer does not change
    _same(lv, q)
    _same(lv, q, limit=7)


def test_a_new_day_and_a_new_grid(lake: tuple[AmiLake, AmiAnalytics], tiny_grid: Grid) -> None:
    lake_, a = lake
    q, lv = AmiQueries(a), LatestVoltage(a)
    synth = AmiSynthesizer(tiny_grid)
    lake_.readings.append(_lake_rows(synth.day(DAY).readings))
    _same(lv, q)
    nxt = synth.day(DAY + timedelta(days=1)).readings
    some = nxt.filter(pc.is_in(nxt["meter_id"], pa.array(tiny_grid.meters["meter_id"].iloc[:10].astype(str))))
    lake_.readings.append(_lake_rows(some))
    got = _same(lv, q)  # the newest day only, as the SQL's raw view
    assert got.num_rows <= 10
    a.write_dims(tiny_grid)  # new dims (a grid load): rebuilt from the newest day
    _same(lv, q)
