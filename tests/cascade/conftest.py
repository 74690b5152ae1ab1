from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from golden import build_golden

from fluxops.cascade.context import EngineContext, build_context
from fluxops.grid.generator import generate_grid


@pytest.fixture(scope="session")
def tiny_ctx() -> EngineContext:
    return build_context(generate_grid("tiny", seed=0))


@pytest.fixture(scope="session")
def golden_ctx() -> EngineContext:
    return build_context(build_golden())
