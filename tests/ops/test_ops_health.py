"""Asset health index: IEEE C57.91 remaining insulation life for distribution transformers (service
hours at rated aging plus measured AMI equivalent aging), service age against an expected life for
segments, poles and substation transformers, null where the install year is unknown. Expected values
are worked out by hand in the comments."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from ops_feeders import build_feeders

from fluxops.ami.synth import AmiSynthesizer
from fluxops.core.errors import InvalidInputError
from fluxops.grid.generator import generate_grid
from fluxops.grid.models import Grid, grid_from_tables
from fluxops.ops.health import HealthParams, asset_health, transformer_insulation_health
from fluxops.ops.outages import OutageEngine
from fluxops.ops.state import GridState
from fluxops.ops.trace import ProtectionTree
from fluxops.storage.ami_analytics import AmiAnalytics
from fluxops.storage.ami_queries import AmiQueries
from fluxops.storage.lake import AmiLake

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)  # decimal year 2026.0


def _grid(xf_years: dict[str, int], *, poles: list[dict[str, object]] | None = None) -> Grid:
    base = build_feeders()
    tables = base.tables()
    xf = tables["transformers"].copy()
    xf["install_year"] = xf["transformer_id"].map(xf_years).fillna(2016).astype(int)
    tables["transformers"] = xf
    st = tables["substation_transformers"]
    second = st.assign(transformer_id="STX2", install_year=2016)  # 1998 and 2016 on one substation
    tables["substation_transformers"] = pd.concat([st, second], ignore_index=True)
    seg = tables["line_segments"].copy()
    seg.loc[0, "construction"] = "underground"
    seg.loc[1, "install_year"] = 0  # unknown
    tables["line_segments"] = seg
    if poles is not None:
        rows = [
            {
                "pole_id": f"P{i}",
                "feeder_id": "F1",
                "substation_id": "SUB-1",
                "bus_id": "B1",
                "segment_id": None,
                "lon": -95.37,
                "lat": 29.76,
                "height_m": 12.0,
            }
            | p
            for i, p in enumerate(poles)
        ]
        tables["poles"] = pd.DataFrame(rows)
    return grid_from_tables(base.meta, tables)


def _health(table: pa.Table) -> dict[str, float | None]:
    return dict(
        zip(table.column("asset_id").to_pylist(), table.column("health_pct").to_pylist(), strict=True)
    )


def test_transformer_without_telemetry_ages_at_rated_rate() -> None:
    # installed 2016 (mid-year) → 9.5 y at 2026.0 = 9.5 × 8766 h = 83,277 h at F_AA = 1
    # health = 100 × (1 − 83,277 / 180,000) = 53.735 %
    h = _health(asset_health(_grid({"T1": 2016}), AS_OF))
    assert h["T1"] == pytest.approx(53.735, abs=1e-9)
    # installed 1990 → 35.5 y ≫ 20.55 y normal life: nothing left, never negative
    assert _health(asset_health(_grid({"T1": 1990}), AS_OF))["T1"] == 0.0


def test_measured_aging_replaces_rated_aging_for_the_telemetry_hours() -> None:
    # 1,000 h of AMI history at F_AA = 2 (two rows, summed): 2,000 equivalent hours instead of 1,000
    # consumed = 83,277 − 1,000 + 2,000 = 84,277 h → 100 × (1 − 84,277 / 180,000) = 53.179444 %
    aging = pa.table(
        {
            "transformer_id": ["T1", "T1", "T2"],
            "telemetry_h": [600.0, 400.0, 1000.0],
            "aging_equivalent_h": [1200.0, 800.0, 100.0],  # T2: F_AA = 0.1, a lightly loaded unit
        }
    )
    h = _health(asset_health(_grid({}), AS_OF, aging))
    assert h["T1"] == pytest.approx(100 * (1 - 84_277 / 180_000), abs=1e-9)
    # T2: 83,277 − 1,000 + 100 = 82,377 h → 54.235 %
    assert h["T2"] == pytest.approx(100 * (1 - 82_377 / 180_000), abs=1e-9)
    # a transformer with no telemetry is unchanged by others' history
    assert h["T3"] == pytest.approx(53.735, abs=1e-9)


def test_other_assets_by_service_age_and_unknown_is_null() -> None:
    poles = [
        {"material": "wood", "install_year": 1990},  # 35.5 / 50 y → 29 %
        {"material": "fiberglass", "install_year": 2010},  # no stated life → null
        {"material": "wood", "install_year": 0},  # unknown year → null
    ]
    table = asset_health(_grid({"T1": 0}, poles=poles), AS_OF)
    h = _health(table)
    assert h["T1"] is None  # install year 0: unknown, not a guess
    assert h["P0"] == pytest.approx(100 * (1 - 35.5 / 50), abs=1e-9)
    assert h["P1"] is None and h["P2"] is None
    # segments: S-B1-B2 underground 2001 → 24.5 / 35 y = 30 %; S-B3-B4 unknown; the rest overhead
    # 2001 → 24.5 / 60 y = 59.1667 %
    assert h["S-B1-B2"] == pytest.approx(30.0, abs=1e-9)
    assert h["S-B3-B4"] is None
    assert h["S-B5-B6"] == pytest.approx(100 * (1 - 24.5 / 60), abs=1e-9)
    # substation transformers 1998 (27.5 / 40 y = 31.25 %) and 2016 (9.5 / 40 = 76.25 %);
    # the substation is its weakest
    assert h["STX1"] == pytest.approx(31.25) and h["STX2"] == pytest.approx(76.25)
    assert h["SUB-1"] == pytest.approx(31.25)
    kinds = dict(zip(table.column("asset_id").to_pylist(), table.column("basis").to_pylist(), strict=True))
    assert kinds["T2"] == "insulation_aging" and kinds["P0"] == "age"


def test_health_is_monotone_in_age() -> None:
    years = np.arange(1950, 2027, dtype=np.float64)
    no_data = np.full(years.size, np.nan)
    health = transformer_insulation_health(years, no_data, no_data, AS_OF, HealthParams())
    assert np.all(np.diff(health) >= 0)  # newer install → at least as healthy
    assert health[0] == 0.0 and 0 < health[-2] < 100 and health[-1] == 100.0  # 2026 install: not yet
    later = transformer_insulation_health(
        years, no_data, no_data, datetime(2030, 1, 1, tzinfo=UTC), HealthParams()
    )
    assert np.all(later <= health)  # and time only consumes life
    grid = _grid({"T1": 2000, "T2": 2010, "T3": 2020})
    h = _health(asset_health(grid, AS_OF))
    assert h["T1"] <= h["T2"] <= h["T3"]  # type: ignore[operator]


def test_bad_input_names_the_field() -> None:
    grid = _grid({})
    with pytest.raises(InvalidInputError) as e:
        asset_health(grid, datetime(2026, 1, 1))
    assert e.value.field == "as_of_utc"
    with pytest.raises(InvalidInputError) as e:
        asset_health(grid, AS_OF, pa.table({"transformer_id": ["T1"]}))
    assert e.value.field == "aging"
    with pytest.raises(InvalidInputError):
        HealthParams(normal_insulation_life_h=0.0)


def test_grid_state_carries_health_rounded() -> None:
    grid = _grid({"T1": 2016, "T2": 0})
    tree = ProtectionTree.build(grid)
    state = GridState(grid, tree)
    eng = OutageEngine(tree)
    health = asset_health(grid, AS_OF)
    changed = state.recompute(eng.meters_out(), np.zeros(0, np.int64), health=health)
    _, snap = state.snapshot()
    h = _health(snap)
    assert h["T1"] == 53.7 and h["T2"] is None and h["SUB-1"] == pytest.approx(31.2)
    assert h["M1-0"] is None and h["FUS1"] is None  # meters, devices: no basis, null
    assert len(changed) == sum(v is not None for v in h.values())
    assert snap.schema.field("health_pct").type == pa.float64()


def test_measured_aging_from_ami_analytics(tmp_path: Path) -> None:
    """A generated AMI day through the real analytics: the aging query's totals are the per-hour
    aging factors summed, and they enter the transformer health as measured equivalent hours."""
    grid = generate_grid("tiny", seed=0)
    day = AmiSynthesizer(grid).day(date(2025, 8, 5))
    lake = AmiLake(tmp_path / "lake")
    analytics = AmiAnalytics(lake)
    analytics.write_dims(grid)
    r = day.readings
    lake.readings.append(
        r.drop_columns(["delivered_utc"])
        .append_column("ingested_utc", r["delivered_utc"])
        .append_column("is_correction", pa.array(np.zeros(r.num_rows, dtype=bool))),
        bulk=True,
    )
    q = AmiQueries(analytics)
    assert q.transformer_aging().num_rows == 0  # nothing refreshed yet: an empty answer
    analytics.refresh()
    aging = q.transformer_aging()
    hours = q.transformer_hours(day=None, transformer_id=None, feeder_id=None, limit=1_000_000).to_pandas()
    per_xf = hours.groupby("transformer_id")["aging_factor"].agg(["count", "sum"])
    got = aging.to_pandas().set_index("transformer_id").reindex(per_xf.index)
    assert np.allclose(got["telemetry_h"], per_xf["count"])
    assert np.allclose(got["aging_equivalent_h"], per_xf["sum"])
    as_of = datetime(2025, 8, 6, tzinfo=UTC)  # day 217 of 2025
    h = _health(asset_health(grid, as_of, aging))
    years = grid.transformers.set_index("transformer_id")["install_year"].reindex(per_xf.index)
    x = str(years.idxmax())  # the newest unit: life left to see
    service_h = (2025 + 217 / 365 - years[x] - 0.5) * 8766
    consumed = max(service_h - per_xf.loc[x, "count"], 0.0) + per_xf.loc[x, "sum"]
    assert 0 < h[x] == pytest.approx(100 * (1 - consumed / 180_000), abs=1e-6)  # type: ignore[operator]
