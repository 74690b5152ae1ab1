"""Hurricane damage: which overhead spans the wind brings down, weighted by exposure (length, age).

Why this form: storm damage on distribution grids is dominated by overhead spans and poles; fragility
curves give the failure probability as a function of wind speed (Panteli, Pickering, Wilkinson, Dawson &
Mancarella, "Power System Resilience to Extreme Weather: Fragility Modeling...", IEEE TPWRS 32(5), 2017,
use a curve rising from a "safe" wind speed to certain failure). We take the linear ramp shape per km of
overhead line, ``λ(v) = rate_full · clip((v − v_start)/(v_full − v_start), 0, 1)``, and an age factor
``clip(age/30 y, 0.5, 2)`` (older poles and conductors fail more; *assumption*); a span of length L fails
with probability ``1 − exp(−λ(v) · L · age_factor)``. Underground segments are not wind-exposed. The
ramp end points and the rate are *assumptions* (``ScenarioConfig.fragility_*``), documented in
``docs/cascade.md``; the draw is seeded, so a run is reproducible.

Flood: with ``flood_above_bfe_ft`` set, substations and pad-mounted transformers whose freeboard is
below that level (`flooded_sites`) fail at the start as well (the context carries the freeboards from
the geo layers' flood zones, docs/geo.md).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from fluxops.cascade.config import ScenarioConfig
from fluxops.cascade.context import EngineContext


def failure_probability(ctx: EngineContext, scenario: ScenarioConfig) -> npt.NDArray[np.float64]:
    """Per edge: probability that the storm brings it down (0 for devices and underground segments)."""
    v = scenario.wind_speed_mps
    span = max(scenario.fragility_v_full_mps - scenario.fragility_v_start_mps, 1e-9)
    rate = scenario.fragility_rate_per_km_full * float(
        np.clip((v - scenario.fragility_v_start_mps) / span, 0, 1)
    )
    age = np.nan_to_num(scenario.age_reference_year - ctx.edge_install_year, nan=30.0)
    age_factor = np.clip(age / 30.0, 0.5, 2.0)
    lam = rate * ctx.edge_length_km * age_factor
    return np.asarray(np.where(ctx.edge_overhead, 1.0 - np.exp(-lam), 0.0), np.float64)


def flooded_sites(ctx: EngineContext, scenario: ScenarioConfig) -> list[str]:
    """Substations and pad-mounted transformers the storm's flood puts under water: their freeboard
    (pad minus the zone's flood elevation, `fluxops.geo.flood`) is below ``flood_above_bfe_ft``. Sites of
    unknown freeboard are not in the context, so they never count."""
    level = scenario.flood_above_bfe_ft
    if level is None:
        return []
    return sorted(a for a, fb in ctx.flood_freeboard_ft.items() if fb < level)


def sample_storm_failures(
    ctx: EngineContext, scenario: ScenarioConfig, rng: np.random.Generator
) -> npt.NDArray[np.int64]:
    """Edge positions of the spans that fail in this draw."""
    p = failure_probability(ctx, scenario)
    return np.flatnonzero(rng.random(len(p)) < p).astype(np.int64)
