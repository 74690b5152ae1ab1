from __future__ import annotations

import pytest

from fluxops.grid.models import Grid
from fluxops.network.compiled import CompiledGrid, compile_grid
from fluxops.network.reference_grid import build_reference_grid


@pytest.fixture(scope="session")
def hand_grid() -> Grid:
    return build_reference_grid()


@pytest.fixture(scope="session")
def hand_cg(hand_grid: Grid) -> CompiledGrid:
    return compile_grid(hand_grid)
