"""Asset health index: IEEE C57.91 remaining insulation life for distribution transformers (service
hours aged at a per-transformer factor — estimated from its customers' load cycle, measured from AMI,
or an explicit flat one — plus measured AMI equivalent aging), service age against an expected life
for segments, poles and substation transformers, null where the install year is unknown. Expected
values are worked out by hand in the comments or from the formula with explicit numbers."""

from __future__ import annotations

import math
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
from fluxops.ops.health import (
    HealthParams,
    asset_health,
    estimated_cycle_aging_factor,
    transformer_insulation_health,
    transformer_load_ratios,
)
from fluxops.ops.outages import OutageEngine
from fluxops.ops.state import GridState
from fluxops.ops.trace import ProtectionTree
from fluxops.storage.ami_analytics import AmiAnalytics
from fluxops.storage.ami_queries import AmiQueries
from fluxops.storage.lake import AmiLake

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)  # decimal year 2026.0
FLAT = HealthParams(pre_telemetry_aging_factor=1.0)  # the explicit rated-aging option


def _f_aa_by_hand(k: float, ambient_c: float) -> float:
    """C57.91 steady state, ONAN 65 °C rise: Δθ_TO,R 55 °C, R 4.5, n 0.8; Δθ_H,R 25 °C, m 0.8."""
    top_oil = 55.0 * ((k * k * 4.5 + 1.0) / 5.5) ** 0.8
    gradient = 25.0 * k ** (2 * 0.8)
    return math.exp(15000 / 383 - 15000 / (ambient_c + top_oil + gradient + 273))


def _cycle_by_hand(k_avg: float, k_peak: float) -> float:
    """4 h at K_peak, 20 h at the level keeping the daily mean; 12 monthly ambients 21 ± 8.8 °C."""
    k_low = (24 * k_avg - 4 * k_peak) / 20
    ambients = [21 + 8.8 * math.cos(2 * math.pi * (j + 0.5) / 12) for j in range(12)]
    return sum(4 * _f_aa_by_hand(k_peak, a) + 20 * _f_aa_by_hand(k_low, a) for a in ambients) / (12 * 24)


def _grid(
    xf_years: dict[str, int],
    *,
    poles: list[dict[str, object]] | None = None,
    ratings: dict[str, float] | None = None,
) -> Grid:
    base = build_feeders()
    tables = base.tables()
    xf = tables["transformers"].copy()
    xf["install_year"] = xf["transformer_id"].map(xf_years).fillna(2016).astype(int)
    if ratings:
        xf["rating_kva"] = xf["transformer_id"].map(ratings).fillna(xf["rating_kva"])
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


def test_transformer_without_telemetry_ages_at_the_flat_factor_when_asked() -> None:
    # installed 2016 (mid-year) → 9.5 y at 2026.0 = 9.5 × 8766 h = 83,277 h at F_AA = 1
    # health = 100 × (1 − 83,277 / 180,000) = 53.735 %
    table = asset_health(_grid({"T1": 2016}), AS_OF, params=FLAT)
    assert _health(table)["T1"] == pytest.approx(53.735, abs=1e-9)
    assert set(table.column("health_basis").to_pylist()) == {"flat", None}
    # installed 1990 → 35.5 y ≫ 20.55 y normal life: nothing left, never negative
    assert _health(asset_health(_grid({"T1": 1990}), AS_OF, params=FLAT))["T1"] == 0.0


def test_estimated_cycle_by_hand() -> None:
    # T1: 4 customers × 15,000 kWh/y, 5 kW peak, pf 0.95 on 50 kVA:
    # K_avg = 60,000 / 8760 / 0.95 / 50 = 0.144196, K_peak = 20 / 0.95 / 50 = 0.421053
    k_avg, k_peak = 60_000 / 8760 / 0.95 / 50, 20 / 0.95 / 50
    grid = _grid({"T1": 2016})
    got_avg, got_peak = transformer_load_ratios(grid)
    assert got_avg[0] == pytest.approx(k_avg, rel=1e-12) and got_peak[0] == pytest.approx(k_peak, rel=1e-12)
    # load factor 0.342 > 4/24: a full 4 h peak, the rest at (24 × 0.144196 − 4 × 0.421053) / 20
    f_pre = _cycle_by_hand(k_avg, k_peak)
    assert 0 < f_pre < 0.01  # a lightly loaded unit ages far slower than at the rated hot spot
    table = asset_health(grid, AS_OF)
    # 83,277 service hours at F_pre
    assert _health(table)["T1"] == pytest.approx(100 * (1 - f_pre * 83_277 / 180_000), rel=1e-12)
    basis = dict(
        zip(table.column("asset_id").to_pylist(), table.column("health_basis").to_pylist(), strict=True)
    )
    assert basis["T1"] == "estimated_cycle" and basis["SUB-1"] is None
    # F_AA is convex: the cycle's mean exceeds F_AA at the average load and the mean ambient
    assert f_pre > 1.5 * _f_aa_by_hand(k_avg, 21.0)


def test_heavily_loaded_transformer_ages_faster() -> None:
    # same customers and install year; T2 on a 15 kVA unit (K_peak 1.40) instead of 50 kVA (0.42)
    grid = _grid({"T1": 2000, "T2": 2000}, ratings={"T2": 15.0})
    h = _health(asset_health(grid, AS_OF))
    assert h["T2"] < h["T1"] < 100  # type: ignore[operator]
    light, heavy = estimated_cycle_aging_factor(np.array([0.3, 0.6]), np.array([0.6, 1.2]), HealthParams())
    assert heavy > 4 * light  # aging grows much faster than load
    # a hotter climate ages the same load faster
    (hot,) = estimated_cycle_aging_factor(
        np.array([0.3]), np.array([0.6]), HealthParams(ambient_annual_mean_c=27.0)
    )
    assert hot > light


def test_measured_aging_replaces_rated_aging_for_the_telemetry_hours() -> None:
    # flat option: 1,000 h of AMI history at F_AA = 2 (two rows, summed): 2,000 equivalent hours
    # consumed = 83,277 − 1,000 + 2,000 = 84,277 h → 100 × (1 − 84,277 / 180,000) = 53.179444 %
    aging = pa.table(
        {
            "transformer_id": ["T1", "T1", "T2"],
            "telemetry_h": [600.0, 400.0, 1000.0],
            "aging_equivalent_h": [1200.0, 800.0, 100.0],  # T2: F_AA = 0.1, a lightly loaded unit
        }
    )
    h = _health(asset_health(_grid({}), AS_OF, aging, FLAT))
    assert h["T1"] == pytest.approx(100 * (1 - 84_277 / 180_000), abs=1e-9)
    # T2: 83,277 − 1,000 + 100 = 82,377 h → 54.235 %
    assert h["T2"] == pytest.approx(100 * (1 - 82_377 / 180_000), abs=1e-9)
    # a transformer with no telemetry is unchanged by others' history
    assert h["T3"] == pytest.approx(53.735, abs=1e-9)


def test_measured_mean_aging_once_the_telemetry_spans_the_minimum() -> None:
    # default params: 1,000 h ≥ 720 h → the measured mean F_AA ages the whole service time
    # T1: F = 2,000 / 1,000 = 2 → consumed = 2 × (83,277 − 1,000) + 2,000 = 166,554 h → 7.47 %
    # T2: F = 0.1 → 0.1 × 82,277 + 100 = 8,327.7 h; T3: 500 h < 720 h → estimated cycle
    aging = pa.table(
        {
            "transformer_id": ["T1", "T2", "T3"],
            "telemetry_h": [1000.0, 1000.0, 500.0],
            "aging_equivalent_h": [2000.0, 100.0, 1.0],
        }
    )
    table = asset_health(_grid({}), AS_OF, aging)
    h = _health(table)
    assert h["T1"] == pytest.approx(100 * (1 - 166_554 / 180_000), abs=1e-9)
    assert h["T2"] == pytest.approx(100 * (1 - 8_327.7 / 180_000), abs=1e-9)
    f_est = _cycle_by_hand(60_000 / 8760 / 0.95 / 50, 20 / 0.95 / 50)
    assert h["T3"] == pytest.approx(100 * (1 - (f_est * 82_777 + 1.0) / 180_000), rel=1e-12)
    basis = dict(
        zip(table.column("asset_id").to_pylist(), table.column("health_basis").to_pylist(), strict=True)
    )
    assert (basis["T1"], basis["T2"], basis["T3"]) == ("measured", "measured", "estimated_cycle")


def test_other_assets_by_service_age_and_unknown_is_null() -> None:
    poles = [
        {"material": "wood", "install_year": 1990},  # 35.5 / 50 y → 29 %
        {"material": "fiberglass", "install_year": 2010},  # no stated life → null
        {"material": "wood", "install_year": 0},  # unknown year → null
    ]
    table = asset_health(_grid({"T1": 0}, poles=poles), AS_OF)
    h = _health(table)
    assert h["T1"] is None  # install year 0: unknown, not a guess
    xf_basis = table.filter(pa.compute.equal(table["asset_id"], "T1")).column("health_basis")
    assert xf_basis.to_pylist() == [None]
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
    # a heavily loaded unit (K_avg 0.8, K_peak 1.4: F_pre ≈ 8.5), so the oldest have nothing left
    f_pre = estimated_cycle_aging_factor(np.full(years.size, 0.8), np.full(years.size, 1.4), HealthParams())
    assert f_pre[0] > 1
    health = transformer_insulation_health(years, no_data, no_data, AS_OF, HealthParams(), f_pre)
    assert np.all(np.diff(health) >= 0)  # newer install → at least as healthy
    assert health[0] == 0.0 and 0 < health[-2] < 100 and health[-1] == 100.0  # 2026 install: not yet
    later = transformer_insulation_health(
        years, no_data, no_data, datetime(2030, 1, 1, tzinfo=UTC), HealthParams(), f_pre
    )
    assert np.all(later <= health)  # and time only consumes life
    grid = _grid({"T1": 2000, "T2": 2010, "T3": 2020})
    h = _health(asset_health(grid, AS_OF))
    assert h["T1"] < h["T2"] < h["T3"]  # type: ignore[operator]


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
    with pytest.raises(InvalidInputError) as e:
        HealthParams(cycle_peak_hours=24.0)
    assert e.value.field == "cycle_peak_hours"


def test_grid_state_carries_health_rounded() -> None:
    grid = _grid({"T1": 2016, "T2": 0})
    tree = ProtectionTree.build(grid)
    state = GridState(grid, tree)
    eng = OutageEngine(tree)
    health = asset_health(grid, AS_OF, params=FLAT)
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
    # a day of telemetry (< 720 h): the other hours age at the unit's estimated cycle
    k_avg, k_peak = transformer_load_ratios(grid)
    f_est = pd.Series(
        estimated_cycle_aging_factor(k_avg, k_peak, HealthParams()), grid.transformers["transformer_id"]
    )
    consumed = f_est[x] * max(service_h - per_xf.loc[x, "count"], 0.0) + per_xf.loc[x, "sum"]
    assert 0 < h[x] == pytest.approx(100 * (1 - consumed / 180_000), abs=1e-6)  # type: ignore[operator]
