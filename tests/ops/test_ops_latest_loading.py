"""The "latest" transformer loading the map, the risk index and simulate-realtime read
(`AmiQueries.transformer_latest`): a complete hour, never the newest hour still arriving (issue 9 §1)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from fluxops.ami.synth import AmiSynthesizer
from fluxops.grid.generator import generate_grid
from fluxops.storage.ami_analytics import AmiAnalytics
from fluxops.storage.ami_queries import AmiQueries
from fluxops.storage.lake import AmiLake

DAY = date(2025, 8, 5)
H14 = datetime(2025, 8, 5, 14, tzinfo=UTC)
H15 = datetime(2025, 8, 5, 15, tzinfo=UTC)
LAST_INTERVAL = datetime(2025, 8, 5, 15, 45, tzinfo=UTC)


def _lake_rows(r: pa.Table) -> pa.Table:
    return (
        r.drop_columns(["delivered_utc"])
        .append_column("ingested_utc", r["delivered_utc"])
        .append_column("is_correction", pa.array(np.zeros(r.num_rows, dtype=bool)))
    )


@pytest.fixture(scope="module")
def queries(tmp_path_factory: pytest.TempPathFactory) -> AmiQueries:
    """A day of synthetic readings cut at 16:00:45: hour 15:00 holds 3 intervals and a third of the
    15:45 one (the rest still in flight), hour 14:00 is complete."""
    grid = generate_grid("tiny", seed=0)
    r = AmiSynthesizer(grid).day(DAY).readings
    t = r["interval_start_utc"]
    rng = np.random.default_rng(0)
    before = pc.less(t, pa.scalar(LAST_INTERVAL, t.type)).to_numpy(zero_copy_only=False)
    last = pc.equal(t, pa.scalar(LAST_INTERVAL, t.type)).to_numpy(zero_copy_only=False)
    keep = before | (last & (rng.random(r.num_rows) < 1 / 3))
    lake = AmiLake(Path(tmp_path_factory.mktemp("lake")))
    analytics = AmiAnalytics(lake)
    analytics.write_dims(grid)
    lake.readings.append(_lake_rows(r.filter(pa.array(keep))), bulk=True)
    analytics.refresh()
    return AmiQueries(analytics)


def test_latest_is_the_complete_hour_not_the_one_still_arriving(queries: AmiQueries) -> None:
    latest = queries.transformer_latest(feeder_id=None, min_loading_pct=None, limit=1_000_000).to_pandas()
    assert set(latest["hour_utc"]) == {H14}
    assert latest["hour_complete"].all()
    hours = queries.transformer_hours(day=DAY, transformer_id=None, feeder_id=None, limit=1_000_000)
    h = hours.to_pandas()
    assert (h["hour_utc"] == H15).any()  # the newest hour exists, partial: ~(3 + 1/3) of 4 intervals
    full = h[h["hour_utc"] == H14].set_index("transformer_id")
    got = latest.set_index("transformer_id")
    measured = got[got["loading_basis"] == "measured"]
    assert len(measured) > 0.5 * len(got)
    assert np.allclose(measured["loading_pct"], full.loc[measured.index, "loading_pct"])
    assert (measured["completeness_pct"] == 100.0).all()


def test_missing_readings_are_scaled_and_said_so(queries: AmiQueries) -> None:
    latest = queries.transformer_latest(feeder_id=None, min_loading_pct=None, limit=1_000_000).to_pandas()
    scaled = latest[latest["loading_basis"] == "scaled"]
    assert len(scaled)  # the synthesizer loses ~0.4 % of readings, so some transformer-hours miss one
    share = scaled["readings"] / scaled["readings_expected"]
    assert (share < 1).all()
    assert np.allclose(scaled["completeness_pct"], 100 * share)
    assert np.allclose(scaled["kw_avg"], scaled["kw_avg_measured"] / share)
    assert (scaled["completeness_pct"] >= 50.0).all()


def test_only_a_partial_hour_is_used_scaled_and_flagged(tmp_path: Path) -> None:
    """With nothing better than the newest hour, it is used — scaled to its completeness and said so."""
    grid = generate_grid("tiny", seed=0)
    r = AmiSynthesizer(grid).day(DAY).readings
    t = r["interval_start_utc"]
    three = pc.less(t, pa.scalar(datetime(2025, 8, 5, 0, 45, tzinfo=UTC), t.type))
    lake = AmiLake(tmp_path / "lake")
    analytics = AmiAnalytics(lake)
    analytics.write_dims(grid)
    lake.readings.append(_lake_rows(r.filter(three)), bulk=True)
    analytics.refresh()
    q = AmiQueries(analytics)
    df = q.transformer_latest(feeder_id=None, min_loading_pct=None, limit=1_000_000).to_pandas()
    assert len(df) and not df["hour_complete"].any()
    assert df["hour_completeness_pct"].iloc[0] == pytest.approx(75.0, abs=1.0)
    assert (df["loading_basis"] == "scaled").all()
    share = df["readings"] / df["readings_expected"]
    assert np.allclose(
        df["loading_pct"] * share,
        q.transformer_hours(day=DAY, transformer_id=None, feeder_id=None, limit=1_000_000)
        .to_pandas()
        .set_index("transformer_id")
        .loc[df["transformer_id"], "loading_pct"]
        .to_numpy(),
    )
