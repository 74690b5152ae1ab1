"""A small generated utility (8 substations, ~1,350 assets) and a history with every failure rate ×20,
so a 5-year history has a few hundred failures to learn from and the test year has positives on the
held-out substations. The demo-scale figures with the published rates are in docs/risk.md."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pandas as pd
import pytest

from fluxops.grid.generator import generate_grid
from fluxops.grid.generator.params import PRESETS
from fluxops.grid.models import Grid
from fluxops.risk.assets import risk_assets
from fluxops.risk.hazard import HazardParams
from fluxops.risk.history import History, generate_history

END = datetime(2026, 1, 1, tzinfo=UTC)
RATE_SCALE = 20.0


def scaled_params(scale: float = RATE_SCALE) -> HazardParams:
    base = HazardParams()
    rates = {k: v * scale for k, v in base.__dict__.items() if k.endswith(("_per_y", "_per_km_y"))}
    return replace(base, **rates)


@pytest.fixture(scope="session")
def small_grid() -> Grid:
    p = replace(
        PRESETS["tiny"], n_substations=8, target_meters=2400, extent_lon_deg=0.12, extent_lat_deg=0.12
    )
    return generate_grid("tiny", seed=0, params=p)


@pytest.fixture(scope="session")
def small_assets(small_grid: Grid) -> pd.DataFrame:
    return risk_assets(small_grid)


@pytest.fixture(scope="session")
def small_history(small_assets: pd.DataFrame) -> History:
    return generate_history(small_assets, end_utc=END, years=5, seed=1, params=scaled_params())
