"""The hurricane scenario uses flood exposure: sites whose freeboard is below the storm's flood level
fail at the start (with the wind damage), on the tiny grid with generated flood zones."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from fluxops.cascade.context import build_context
from fluxops.cascade.engine import run_cascade
from fluxops.cascade.hurricane import flooded_sites
from fluxops.cascade.scenarios import PRESETS
from fluxops.core.errors import InvalidInputError
from fluxops.grid.models import Grid
from fluxops.storage import geo_generate


def test_flooded_sites_fail_first(duckdb_store: Any, tiny_grid: Grid) -> None:
    store = duckdb_store
    store.load_grid(tiny_grid)
    freeboard = geo_generate.flood_freeboard(store, tiny_grid)
    assert freeboard == {}  # no flood zones stored yet
    geo_generate.generate_layers(
        store, tiny_grid, grid_hash=store.get_grid_info().content_hash, layers=("flood_zones",), seed=0
    )
    freeboard = geo_generate.flood_freeboard(store, tiny_grid)
    assert freeboard and all(isinstance(v, float) for v in freeboard.values())
    ctx = dataclasses.replace(build_context(tiny_grid), flood_freeboard_ft=freeboard)
    calm_storm = dataclasses.replace(PRESETS["hurricane"], wind_speed_mps=0.0)
    assert PRESETS["hurricane"].flood_above_bfe_ft == 0.0
    under = flooded_sites(ctx, calm_storm)
    assert under == sorted(a for a, fb in freeboard.items() if fb < 0.0) and under
    result = run_cascade(ctx, patient_zero=[], scenario=calm_storm, seed=0)
    flood_events = [e for w in result.waves for e in w.events if e.detail.startswith("flood")]
    assert {e.element_id for e in flood_events} == set(under)
    higher = dataclasses.replace(calm_storm, flood_above_bfe_ft=5.0)
    assert set(flooded_sites(ctx, higher)) >= set(under)
    dry = dataclasses.replace(calm_storm, flood_above_bfe_ft=None)
    assert flooded_sites(ctx, dry) == []
    with pytest.raises(InvalidInputError):  # no wind, no flood, no patient zero: nothing starts it
        run_cascade(ctx, patient_zero=[], scenario=dry, seed=0)
    with pytest.raises(InvalidInputError):
        dataclasses.replace(calm_storm, flood_above_bfe_ft=float("nan")).validate()
