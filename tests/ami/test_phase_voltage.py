"""AMI voltages per phase (issue 11 §2): a meter reads its own phase's voltage from the three-phase
solution, so meters on a heavily loaded phase read lower than meters on a light one."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from fluxops.ami.phase_voltage import phase_deviation
from fluxops.ami.synth import AmiSynthesizer, SynthParams
from fluxops.grid.models import Grid, grid_from_tables
from fluxops.network.compiled import EDGE_DEVICE, CompiledGrid, compile_grid
from fluxops.network.energization import EnergizationResult, energize
from fluxops.network.threephase.from_grid import (
    build_threephase,
    bus_phase_share,
    bus_phase_voltages,
    edge_phases,
    merged_buses,
    node_positions,
)
from fluxops.network.threephase.from_grid_batched import compile_islands
from fluxops.network.threephase.solver import solve_compiled
from fluxops.network.threephase.ybus import compile_threephase


def _pile_onto_a(grid: Grid) -> tuple[Grid, str]:
    """The grid with every phase-C lateral of its largest feeder moved to phase A (A heavy, C empty)."""
    xf = grid.transformers
    feeder = str(xf.loc[xf.phase.isin(["A", "B", "C"])].feeder_id.value_counts().idxmax())
    tables = grid.tables()

    def move(df: pd.DataFrame, col: str) -> pd.DataFrame:
        out = df.copy()
        hit = (out["feeder_id"] == feeder) & (out[col] == "C")
        out.loc[hit, col] = "A"
        return out

    tables["line_segments"] = move(tables["line_segments"], "phases")
    tables["devices"] = move(
        tables["devices"].assign(feeder_id=tables["devices"].feeder_id.fillna("")), "phases"
    )
    tables["devices"]["feeder_id"] = tables["devices"]["feeder_id"].replace("", None)
    tables["transformers"] = move(tables["transformers"], "phase")
    tables["meters"] = tables["meters"].assign(phases=None)  # refilled from the transformers
    return grid_from_tables(grid.meta, tables), feeder


def _mean_v(grid: Grid, feeder: str, per_phase: bool) -> dict[str, float]:
    day = AmiSynthesizer(grid, SynthParams(per_phase_voltage=per_phase)).day(date(2025, 8, 5))
    r = day.readings.select(["meter_id", "voltage_v"]).to_pandas()
    r["meter_id"] = r["meter_id"].astype(str)
    m = grid.meters.set_index("meter_id")
    r = r[r["meter_id"].map(m["feeder_id"]) == feeder]
    out: dict[str, float] = r.groupby(r["meter_id"].map(m["phases"]))["voltage_v"].mean().to_dict()
    return out


def test_meters_on_the_loaded_phase_read_lower(tiny: Grid) -> None:
    grid, feeder = _pile_onto_a(tiny)
    assert "C" not in set(grid.transformers.loc[grid.transformers.feeder_id == feeder, "phase"])
    with_phases = _mean_v(grid, feeder, per_phase=True)
    balanced = _mean_v(grid, feeder, per_phase=False)
    # same loads, noise and positions: only the phase model differs
    assert with_phases["A"] < balanced["A"] - 0.1  # the heavy phase sags below the balanced answer
    assert with_phases["A"] - with_phases["B"] < balanced["A"] - balanced["B"] - 0.05


def test_phase_deviation_is_zero_mean_on_balanced_phases(tiny: Grid) -> None:
    """With every element three-phase there is nothing to deviate: the per-phase model adds nothing."""
    tables = tiny.tables()
    for name, col in (("line_segments", "phases"), ("devices", "phases"), ("transformers", "phase")):
        tables[name] = tables[name].assign(**{col: "ABC"})
    tables["meters"] = tables["meters"].assign(phases=None)
    grid = grid_from_tables(tiny.meta, tables)
    s = AmiSynthesizer(grid)
    assert s.phase_dev is not None and s.phase_dev.converged
    assert np.abs(s.phase_dev.delta_pu).max() < 1e-6


def _per_island_reference(grid: Grid, cg: CompiledGrid, en: EnergizationResult) -> np.ndarray:
    """|V| per compiled bus and phase as the AMI computed them before the islands were batched: one
    `FeederModel` per source island, compiled and solved on its own (kept here as the reference)."""
    p, q = np.asarray(cg.bus_p_kw, np.float64), np.asarray(cg.bus_q_kvar, np.float64)
    share, phases, merged = bus_phase_share(cg, grid), edge_phases(grid, cg), merged_buses(cg, en)
    v3 = np.full((cg.n_bus, 3), np.nan)
    for s in np.unique(en.bus_source[en.bus_source >= 0]).tolist():
        g3 = build_threephase(
            cg, en, int(s), phases, p[:, None] * share, q[:, None] * share, v_source_pu=1.025, merged=merged
        )
        c = compile_threephase(g3.model)
        res = solve_compiled(c, tol_pu=1e-8)
        assert res.converged
        vm = np.abs(bus_phase_voltages(node_positions(g3, c.index), res.v_pu))
        v3[g3.bus_rep >= 0] = vm[g3.bus_rep >= 0]
    return v3


@pytest.mark.parametrize("variant", ["as_generated", "piled_onto_a", "one_feeder_open"])
def test_all_islands_at_once_equal_one_model_per_island(tiny: Grid, variant: str) -> None:
    """Start-up speed-up without a result change: the per-phase voltages of every bus (and so each
    transformer's δ) from the one batched system equal those of one solve per island."""
    grid = _pile_onto_a(tiny)[0] if variant == "piled_onto_a" else tiny
    cg = compile_grid(grid)
    closed = np.asarray(cg.closed_state).copy()
    if variant == "one_feeder_open":  # a dark island: its buses stay unknown (nan), δ = 0 there
        closed[int(np.flatnonzero(cg.edge_kind == EDGE_DEVICE)[0])] = False
    en = energize(cg, closed=closed)
    ref = _per_island_reference(grid, cg, en)
    p, q = np.asarray(cg.bus_p_kw, np.float64), np.asarray(cg.bus_q_kvar, np.float64)
    share = bus_phase_share(cg, grid)
    isl = compile_islands(
        cg, en, edge_phases(grid, cg), p[:, None] * share, q[:, None] * share, v_source_pu=1.025
    )
    res = solve_compiled(isl.compiled, tol_pu=1e-8)
    assert res.converged
    got = np.abs(bus_phase_voltages(isl.bus_node, res.v_pu))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    assert np.nanmax(np.abs(got - ref)) < 1e-9  # same fixed point; only the LU's rounding differs
    if variant == "one_feeder_open":
        assert np.isnan(ref).all(axis=1).any()
    dev = phase_deviation(grid, cg, en, 1.025)
    xbus = np.asarray(cg.xfmr_bus)
    assert np.all(dev.delta_pu[np.isnan(ref[xbus]).all(axis=1)] == 0.0)
