"""Analytics over a generated day of the tiny grid: totals reconcile with the raw readings, incremental
refresh touches only new dates, corrections win, the seed's sample queries all answer."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from fluxops.ami.synth import AmiSynthesizer, DayAmi
from fluxops.grid.generator import generate_grid
from fluxops.grid.models import Grid
from fluxops.storage.ami_analytics import AmiAnalytics
from fluxops.storage.ami_queries import CHECKS, AmiQueries
from fluxops.storage.lake import AmiLake

DAY = date(2025, 8, 5)


@pytest.fixture(scope="module")
def grid() -> Grid:
    return generate_grid("tiny", seed=0)


@pytest.fixture(scope="module")
def day_ami(grid: Grid) -> DayAmi:
    return AmiSynthesizer(grid).day(DAY)


def _to_lake(day: DayAmi) -> pa.Table:
    r = day.readings
    return (
        r.drop_columns(["delivered_utc"])
        .append_column("ingested_utc", r["delivered_utc"])
        .append_column("is_correction", pa.array(np.zeros(r.num_rows, dtype=bool)))
    )


@pytest.fixture
def analytics(tmp_path: Path, grid: Grid, day_ami: DayAmi) -> AmiAnalytics:
    lake = AmiLake(tmp_path / "lake")
    a = AmiAnalytics(lake)
    a.write_dims(grid)
    t = _to_lake(day_ami)
    half = t.num_rows // 2
    lake.readings.append(t.slice(0, half), bulk=True)
    lake.readings.append(t.slice(half), bulk=True)
    lake.events.append(day_ami.events.append_column("ingested_utc", day_ami.events["event_time_utc"]))
    return a


def test_transformer_hours_reconcile_with_raw(analytics: AmiAnalytics, day_ami: DayAmi) -> None:
    rep = analytics.refresh()
    assert rep.dates == [DAY]
    q = AmiQueries(analytics)
    th = q.transformer_hours(day=DAY, transformer_id=None, feeder_id=None, limit=100_000)
    raw = day_ami.readings
    raw_net = pc.sum(raw["kwh_delivered"]).as_py() - pc.sum(raw["kwh_received"]).as_py()
    assert np.isclose(pc.sum(th["kwh_net"]).as_py(), raw_net, rtol=1e-9)
    assert pc.sum(th["readings"]).as_py() == raw.num_rows
    assert pc.min(th["hot_spot_c"]).as_py() > pc.min(th["ambient_c"]).as_py()
    cls = q.class_consumption(start=DAY, end=DAY)
    assert np.isclose(pc.sum(cls["kwh_delivered"]).as_py(), pc.sum(raw["kwh_delivered"]).as_py())
    feeders = q.group_summary("feeder", start=DAY, end=DAY, limit=100)
    assert feeders.num_rows == 4
    lf = feeders["load_factor"].to_numpy()
    assert ((lf > 0) & (lf <= 1)).all()
    comp = q.completeness(start=DAY, end=DAY).to_pylist()[0]
    assert comp["readings"] == raw.num_rows and comp["meters_expected"] == 633
    assert 97.0 < comp["completeness_pct"] <= 100.0


def test_voltage_compliance_counts_match_raw(analytics: AmiAnalytics, day_ami: DayAmi) -> None:
    analytics.refresh()
    q = AmiQueries(analytics)
    vm = q.voltage_meters(day=DAY, status=None, limit=100_000)
    v = day_ami.readings["voltage_v"].to_numpy(zero_copy_only=False)
    v = v[~np.isnan(v)]
    assert pc.sum(vm["intervals_outside_a"]).as_py() == int(((v < 114) | (v > 126)).sum())
    assert pc.sum(vm["intervals_measured"]).as_py() == v.size
    vt = q.voltage_transformers(day=DAY, limit=100_000)
    assert pc.sum(vt["meters"]).as_py() == vm.num_rows


def test_refresh_is_incremental_and_corrections_win(analytics: AmiAnalytics, day_ami: DayAmi) -> None:
    analytics.refresh()
    again = analytics.refresh()
    assert again.dates == []
    row = _to_lake(day_ami).slice(0, 1)
    fixed = row.set_column(row.schema.get_field_index("kwh_delivered"), "kwh_delivered", pa.array([0.0]))
    fixed = fixed.set_column(fixed.schema.get_field_index("is_correction"), "is_correction", pa.array([True]))
    before = AmiQueries(analytics).class_consumption(start=DAY, end=DAY)
    analytics.lake.readings.append(fixed.cast(fixed.schema), bulk=True)
    assert analytics.refresh().dates == [DAY]
    after = AmiQueries(analytics).class_consumption(start=DAY, end=DAY)
    delta = pc.sum(before["kwh_delivered"]).as_py() - pc.sum(after["kwh_delivered"]).as_py()
    assert np.isclose(delta, row["kwh_delivered"][0].as_py())


def test_every_sample_query_answers(analytics: AmiAnalytics) -> None:
    analytics.refresh()
    q = AmiQueries(analytics)
    for name in CHECKS:
        assert q.check(name, days=7).num_rows >= 1, name
    minutes = q.check("minute_histogram", days=7)["minute"].to_pylist()
    assert sorted(minutes) == [0, 15, 30, 45]
    latest = q.transformer_latest(feeder_id=None, min_loading_pct=None, limit=1000)
    assert latest.num_rows == 105
    assert q.meter_voltage_latest(limit=10_000).num_rows > 600


def test_refresh_writes_new_generations_readers_of_the_old_one_still_read_it(
    analytics: AmiAnalytics, day_ami: DayAmi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refresher runs while queries read (issue 8 §5): a refresh never rewrites a file in place, so
    a query that listed the previous generation reads it whole; superseded ones go after the grace."""
    import pyarrow.parquet as pq

    import fluxops.storage.ami_analytics as mod

    analytics.refresh()
    (first,) = analytics.derived_files("transformer_hour")
    listed = pq.read_table(first)
    row = _to_lake(day_ami).slice(0, 1)
    fixed = row.set_column(row.schema.get_field_index("is_correction"), "is_correction", pa.array([True]))
    analytics.lake.readings.append(fixed.cast(fixed.schema), bulk=True)
    assert analytics.refresh().dates == [DAY]
    (second,) = analytics.derived_files("transformer_hour")
    assert second != first and first.exists()  # still readable by whoever listed it
    assert pq.read_table(first).equals(listed)
    monkeypatch.setattr(mod, "DERIVED_GRACE_S", -1.0)
    analytics.refresh()
    assert not first.exists() and second.exists()
    assert sorted(second.parent.glob("data*.parquet")) == [second]
