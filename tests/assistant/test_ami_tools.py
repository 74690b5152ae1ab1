"""AMI tools over a real lake: a day of synthetic history for the tiny grid, written by the same
backfill `fluxops ami backfill` runs; each answer is checked against the lake's Parquet read directly
with pyarrow (not through the analytics the tools use)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from assistant_events import answer_of

from fluxops.assistant.engine import Assistant
from fluxops.assistant.offline import OfflineBrain
from fluxops.assistant.tools import ToolContext
from fluxops.core.config import Settings
from fluxops.grid.models import Grid

DAY = date(2026, 7, 15)


@pytest.fixture(scope="module")
def lake_ctx(tmp_path_factory: pytest.TempPathFactory, tiny_grid: Grid) -> Iterator[tuple[ToolContext, Path]]:
    from fluxops.cli.cmd_ami import backfill
    from fluxops.storage.ami_analytics import AmiAnalytics
    from fluxops.storage.assistant_context import build_tool_context
    from fluxops.storage.duckdb_store import DuckDBStore
    from fluxops.storage.lake import AmiLake

    data_dir = tmp_path_factory.mktemp("ami-assistant")
    settings = Settings(data_dir=data_dir)
    backfill(settings, tiny_grid, days=1, end=DAY, seed=3, refresh=True)
    store = DuckDBStore(settings.duckdb_path)
    store.load_grid(tiny_grid)
    analytics = AmiAnalytics(AmiLake(settings.lake_dir))
    ctx = build_tool_context(
        store,
        tiny_grid,
        ops=None,
        analytics=analytics,
        lake_dir=settings.lake_dir,
        cascade=None,
        docs=None,
        actor="tester",
    )
    yield ctx, settings.lake_dir
    store.close()


def _readings(lake: Path) -> Any:
    from fluxops.storage.lake import AmiLake

    return AmiLake(lake).readings.read(DAY, DAY).to_pandas()


def ask(ctx: ToolContext, q: str) -> dict[str, Any]:
    return answer_of(list(Assistant(OfflineBrain(), ctx, role="viewer").run(q)))


def test_meter_history(lake_ctx: tuple[ToolContext, Path]) -> None:
    ctx, lake = lake_ctx
    r = _readings(lake)
    mid = "MTR-00000005"
    mine = r[r.meter_id == mid]
    ans = ask(ctx, f"What was the energy usage of meter {mid} on {DAY.isoformat()}?")
    data = ans["evidence"]["tool_calls"][0]["result"]["data"]
    assert data["intervals"] == len(mine) > 90
    assert data["kwh_delivered"] == pytest.approx(round(float(mine.kwh_delivered.sum()), 3))
    assert f"{data['kwh_delivered']:,.2f} kWh" in ans["text"]
    assert ans["evidence"]["ungrounded_numbers"] == []


def test_feeder_peak_matches_the_raw_readings(lake_ctx: tuple[ToolContext, Path], tiny_grid: Grid) -> None:
    ctx, lake = lake_ctx
    r = _readings(lake).merge(tiny_grid.meters[["meter_id", "feeder_id"]], on="meter_id")
    fid = "FDR-0001-01"
    f = r[r.feeder_id == fid].copy()
    f["kw"] = (f.kwh_delivered - f.kwh_received) * 4
    per_interval = f.groupby("interval_start_utc").kw.sum()
    hourly = per_interval.groupby(per_interval.index.floor("h")).mean()
    ans = ask(ctx, f"What was the peak load of feeder {fid} on {DAY.isoformat()}?")
    item = ans["evidence"]["tool_calls"][0]["result"]["data"]["items"][0]
    assert item["feeder_id"] == fid
    assert item["peak_kw"] == pytest.approx(float(hourly.max()), abs=0.06)
    assert ans["evidence"]["ungrounded_numbers"] == []
    top = ask(ctx, f"top 2 feeders by peak load on {DAY.isoformat()}")
    assert len(top["evidence"]["tool_calls"][0]["result"]["data"]["items"]) == 2


def test_voltage_compliance_matches_the_raw_readings(lake_ctx: tuple[ToolContext, Path]) -> None:
    ctx, lake = lake_ctx
    r = _readings(lake)
    v = r.dropna(subset=["voltage_v"])
    outside_a = v[(v.voltage_v < 114.0) | (v.voltage_v > 126.0)].meter_id.nunique()
    ans = ask(ctx, f"How many meters were outside ANSI range A on {DAY.isoformat()}?")
    data = ans["evidence"]["tool_calls"][0]["result"]["data"]
    assert data["meters_outside_range_a"] == outside_a
    assert data["meters"] == r.meter_id.nunique()
    assert ans["evidence"]["ungrounded_numbers"] == []


def test_sql_over_the_lake(lake_ctx: tuple[ToolContext, Path]) -> None:
    ctx, lake = lake_ctx
    r = _readings(lake)
    ans = ask(ctx, "sql: SELECT count(*) AS n, count(DISTINCT meter_id) AS m FROM ami_readings")
    rows = ans["evidence"]["tool_calls"][0]["result"]["data"]["rows"]
    assert rows == [{"n": len(r), "m": r.meter_id.nunique()}]


def test_transformer_loading_answers(lake_ctx: tuple[ToolContext, Path]) -> None:
    ctx, _ = lake_ctx
    ans = ask(ctx, "Which are the top 3 most loaded transformers?")
    data = ans["evidence"]["tool_calls"][0]["result"]["data"]
    assert len(data["items"]) == 3
    loads = [i["loading_pct"] for i in data["items"]]
    assert loads == sorted(loads, reverse=True)
    assert ans["evidence"]["ungrounded_numbers"] == []
