"""Scenario presets: normal, summer peak, winter storm (Uri-like), hurricane, and custom.

Why presets carry only physical quantities: the seed's four inconsistent preset sets mixed a made-up
"failure threshold" into the physics (seed-inventory §3.3). Ours are temperatures, load multipliers on
the customers' design peak, cold-load pickup and wind speed — the inputs of the thermal, protection and
fragility models. Sources per value are in ``docs/cascade.md`` §Scenarios.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fluxops.cascade.config import ScenarioConfig, config_from_dict
from fluxops.core.errors import InvalidInputError

PRESETS: dict[str, ScenarioConfig] = {
    # Average operating point: feeders run at ~50–70 % of design peak most hours (typical distribution
    # load factor; assumption 0.7), mild ambient.
    "normal": ScenarioConfig(
        name="normal",
        kind="normal",
        description="Typical afternoon: 70 % of design peak, 25 °C ambient.",
        ambient_temp_c=25.0,
        load_multiplier=0.7,
        cold_load_pickup_factor=1.3,
    ),
    # Houston summer design day at ~42 °C (the seed's summer preset; record Houston afternoons, IAH 2023:
    # 109 °F = 42.8 °C). The load multiplier is derived from the AMI load model (issue 9 §1,
    # benchmarks/bench_calibration.py, docs/ami.md §Calibration): the demo feeders' 15-min AMI peak on a
    # weekday whose maximum is lifted to 42 °C is 1.00 × their design peak (0.97-1.03), against 0.84 on
    # an ordinary August weekday (35 °C) and 0.96 on the model year's hottest weekday (39.6 °C): about
    # +2.4 % of design peak per °C of daily maximum. So this preset is the hottest plausible afternoon,
    # more severe than any ordinary August day. (Before the calibration the AMI ran 1.24 × design on an
    # ordinary day, which made the 1.0 here milder than ordinary.)
    "summer_peak": ScenarioConfig(
        name="summer_peak",
        kind="summer_peak",
        description="Summer design peak at 42 °C ambient; air-conditioning load at its maximum.",
        ambient_temp_c=42.0,
        load_multiplier=1.0,
        cold_load_pickup_factor=1.5,
    ),
    # Uri, Feb 2021: IAH minimum −10.6 °C (13 °F) on 16 Feb; ERCOT estimated unconstrained demand
    # ~76.8 GW vs the 74.8 GW summer record (≈1.03× summer peak). Residential resistance heating
    # concentrates the rise on residential feeders (×1.25, assumption); cold-load pickup after long
    # outages 2× (upper end of domain-facts §4.2, heating thermostats all on).
    "winter_storm": ScenarioConfig(
        name="winter_storm",
        kind="winter_storm",
        description="Uri-like freeze: −10 °C, heating load on residential feeders, 2× cold-load pickup.",
        ambient_temp_c=-10.0,
        load_multiplier=1.03,
        residential_heating_factor=1.25,
        cold_load_pickup_factor=2.0,
        cold_load_min_outage_min=15.0,
    ),
    # Hurricane Ike (2008) over Houston: sustained winds ~35–40 m/s; partial evacuation and closed
    # businesses lower the load (0.8, assumption). Overhead spans fail by the wind fragility model.
    "hurricane": ScenarioConfig(
        name="hurricane",
        kind="hurricane",
        description="Ike-like landfall: 40 m/s sustained wind, overhead spans fail by exposure and age.",
        ambient_temp_c=28.0,
        load_multiplier=0.8,
        cold_load_pickup_factor=1.5,
        wind_speed_mps=40.0,
        flood_above_bfe_ft=0.0,  # the 1 % / 0.2 % flood itself (Harvey and Allison exceeded it)
    ),
}


def list_scenarios() -> list[ScenarioConfig]:
    return list(PRESETS.values())


def get_scenario(name: str) -> ScenarioConfig:
    """A preset by name; raises `InvalidInputError` (field ``scenario``) for an unknown name."""
    key = name.strip().lower()
    if key not in PRESETS:
        raise InvalidInputError(
            f"unknown scenario {name!r}; choose one of {sorted(PRESETS)} or 'custom'",
            field="scenario",
        )
    return PRESETS[key]


def resolve_scenario(name: str, overrides: dict[str, Any] | None = None) -> ScenarioConfig:
    """A preset (or ``custom`` starting from ``normal``) with field overrides applied and validated."""
    overrides = dict(overrides or {})
    if name.strip().lower() == "custom":
        base = dataclasses.replace(PRESETS["normal"], name="custom", kind="custom", description="Custom.")
    else:
        base = get_scenario(name)
    if not overrides:
        return base.validate()
    merged = {**dataclasses.asdict(base), **overrides}
    if overrides and base.kind != "custom":
        merged["name"] = f"{base.name}+custom"
    return config_from_dict(ScenarioConfig, merged, prefix="scenario").validate()
