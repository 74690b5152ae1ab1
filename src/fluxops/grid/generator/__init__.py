"""A realistic, deterministic synthetic utility (see docs/grid-generator.md for every figure).

Usage: ``generate_grid("tiny", seed=0)``; presets ``tiny`` (tests), ``demo`` (default),
``houston`` (the seed's full hierarchy), ``stress`` (~2.5 M meters).
"""

from fluxops.grid.generator.build import generate_grid, resolve_params
from fluxops.grid.generator.params import PRESETS, GeneratorParams

__all__ = ["PRESETS", "GeneratorParams", "generate_grid", "resolve_params"]
