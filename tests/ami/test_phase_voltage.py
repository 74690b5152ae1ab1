"""AMI voltages per phase (issue 11 §2): a meter reads its own phase's voltage from the three-phase
solution, so meters on a heavily loaded phase read lower than meters on a light one."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from fluxops.ami.synth import AmiSynthesizer, SynthParams
from fluxops.grid.models import Grid, grid_from_tables


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
