"""Frozen parameter objects for the cascade model, stored with every result so a run can be reproduced.

Why frozen dataclasses and not settings: a result is only meaningful with the exact parameters that
produced it (CONVENTIONS "Algorithm parameters are frozen config objects"). Each constant carries its
source here or in ``docs/cascade.md``; values marked *assumption* are engineering judgement, configurable,
and called out as such in the docs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fluxops.core.errors import InvalidInputError
from fluxops.grid.models import PHASE_MASK

SCENARIO_KINDS: tuple[str, ...] = ("normal", "summer_peak", "winter_storm", "hurricane", "custom")


@dataclass(frozen=True)
class ScenarioConfig:
    """The operating conditions a cascade runs under.

    Loads are ``customer peak_kw × load_multiplier`` (residential customers additionally ×
    ``residential_heating_factor``: electric resistance heat during a winter storm). Sections re-energized
    after an outage longer than ``cold_load_min_outage_min`` draw ``cold_load_pickup_factor ×`` their
    load (loss of diversity; domain-facts §4.2: 1.5–2× for long outages). ``wind_speed_mps > 0`` enables
    the hurricane fragility model (see `fluxops.cascade.hurricane`).
    """

    name: str = "normal"
    kind: str = "normal"
    description: str = ""
    ambient_temp_c: float = 25.0
    load_multiplier: float = 0.7
    residential_heating_factor: float = 1.0
    cold_load_pickup_factor: float = 1.3
    cold_load_min_outage_min: float = 20.0
    wind_speed_mps: float = 0.0
    # Wind fragility of overhead spans (see `fluxops.cascade.hurricane`): failure rate per km ramps
    # linearly from ``fragility_v_start_mps`` to ``fragility_rate_per_km_full`` at ``fragility_v_full_mps``.
    fragility_v_start_mps: float = 20.0
    fragility_v_full_mps: float = 60.0
    fragility_rate_per_km_full: float = 0.5
    # Storm flood (see `fluxops.cascade.hurricane.flooded_sites`): the flood stands this many feet over
    # each flood zone's own flood elevation (0: the 1 % / 0.2 % flood itself); substations and pad-mounted
    # transformers whose freeboard is below it fail at the start. None: no flooding.
    flood_above_bfe_ft: float | None = None
    age_reference_year: int = 2024

    def validate(self) -> ScenarioConfig:
        if self.kind not in SCENARIO_KINDS:
            raise InvalidInputError(f"unknown scenario kind {self.kind!r}", field="scenario.kind")
        _range("scenario.ambient_temp_c", self.ambient_temp_c, -50.0, 60.0)
        _range("scenario.load_multiplier", self.load_multiplier, 0.0, 5.0)
        _range("scenario.residential_heating_factor", self.residential_heating_factor, 0.1, 5.0)
        _range("scenario.cold_load_pickup_factor", self.cold_load_pickup_factor, 1.0, 5.0)
        _range("scenario.cold_load_min_outage_min", self.cold_load_min_outage_min, 0.0, 10_000.0)
        _range("scenario.wind_speed_mps", self.wind_speed_mps, 0.0, 100.0)
        flood = self.flood_above_bfe_ft
        if flood is not None:
            if isinstance(flood, bool) or not isinstance(flood, int | float):
                raise InvalidInputError(
                    "scenario.flood_above_bfe_ft must be a number (ft) or null",
                    field="scenario.flood_above_bfe_ft",
                )
            _range("scenario.flood_above_bfe_ft", float(flood), -20.0, 40.0)
        return self


@dataclass(frozen=True)
class ThermalConfig:
    """IEEE C57.91 clause 7 transformer thermal model (domain-facts §6.2).

    Rated rises for 65 °C-rise units: top oil 55 °C, hot-spot gradient 25 °C (110 °C reference at 30 °C
    ambient); ONAN exponents n = m = 0.8; loss ratio R typically 3–8 (we take 4.5); top-oil time constant
    ONAN ≈ 3 h, winding ≈ 7 min. Distribution transformers fail at the short-time emergency hot spot
    (180 °C); substation transformers are tripped by their hot-spot relay at the long-time emergency limit
    (140 °C) — both C57.91 loading limits quoted in domain-facts §6.2. Heating is followed for
    ``horizon_min`` (beyond it the operator is assumed to shed load manually; *assumption*).
    """

    top_oil_rise_rated_c: float = 55.0
    hot_spot_gradient_rated_c: float = 25.0
    loss_ratio: float = 4.5
    n_exp: float = 0.8
    m_exp: float = 0.8
    tau_top_oil_min: float = 180.0
    tau_winding_min: float = 7.0
    dist_xfmr_fail_hot_spot_c: float = 180.0
    sub_xfmr_trip_hot_spot_c: float = 140.0
    horizon_min: float = 240.0


@dataclass(frozen=True)
class CascadeConfig:
    """How the engine models protection, FLISR and overload trips.

    * Conductors above ``conductor_trip_loading_pct`` of ampacity make the nearest upstream protective
      device operate on time-overcurrent (short-time emergency ratings are typically 110–130 % of normal;
      we take 125 %, *assumption*).
    * FLISR accepts a tie pick-up only if every loading stays ≤ ``flisr_max_loading_pct`` (normal rating)
      and every energized bus stays ≥ ``flisr_min_v_pu`` (ANSI C84.1 Range A, domain-facts §6.3).
    * Automated switching completes in ``flisr_switch_time_min``; devices without automation need a crew
      (``manual_switch_time_min``; RBTS switching time 1 h, Allan et al. 1991).
    * Reclosers and feeder breakers try ``reclose_shots`` reclosings before lockout (domain-facts §4.2:
      2–3 shots); each is a momentary interruption (IEEE 1366: ≤ 5 min).
    * Bounded run time: at most ``max_waves`` waves and ``max_compute_s`` seconds of computation; a run
      that reaches either stops after the wave in progress and returns a partial result flagged in
      ``extras["stopped_by"]`` (``max_waves`` / ``time_limit``; ``stable`` when it ended by itself,
      ``cancelled`` when the caller's stop flag was raised). 60 s is a service policy (an interactive
      request must answer; measured: a full-grid hurricane on ``demo`` takes ≈ 3 s, one cascade on
      ``demo`` ≤ 0.2 s — docs/benchmarks.md), configurable up to an hour for batch use.
    """

    max_waves: int = 10
    max_compute_s: float = 60.0
    flisr_enabled: bool = True
    flisr_max_loading_pct: float = 100.0
    flisr_min_v_pu: float = 0.95
    flisr_switch_time_min: float = 1.0
    manual_switch_time_min: float = 60.0
    conductor_trip_loading_pct: float = 125.0
    reclose_shots: int = 3
    max_flisr_candidates: int = 20
    max_split_candidates: int = 8  # power flows to bisect the split of a region too big for one tie
    flisr_plans_with_cold_load: bool = True
    overload_trip_delay_min: float = 0.5
    # phases of the initiating fault ("A", "BC", ...; "" = all of the faulted element's phases): an
    # A-to-ground fault on a fused two- or three-phase tap blows only the A fuse (`fluxops.cascade.phases`)
    fault_phases: str = ""
    thermal: ThermalConfig = field(default_factory=ThermalConfig)

    def validate(self) -> CascadeConfig:
        _range("config.max_waves", self.max_waves, 1, 100)
        _range("config.max_compute_s", self.max_compute_s, 0.001, 3600.0)
        _range("config.flisr_max_loading_pct", self.flisr_max_loading_pct, 10.0, 300.0)
        _range("config.flisr_min_v_pu", self.flisr_min_v_pu, 0.5, 1.05)
        _range("config.conductor_trip_loading_pct", self.conductor_trip_loading_pct, 50.0, 1000.0)
        _range("config.reclose_shots", self.reclose_shots, 0, 5)
        if self.fault_phases and "".join(sorted(self.fault_phases.upper())) not in PHASE_MASK:
            raise InvalidInputError(
                f"config.fault_phases must be one of {sorted(PHASE_MASK)} or empty, "
                f"got {self.fault_phases!r}",
                field="config.fault_phases",
            )
        return self


def _range(name: str, value: float, lo: float, hi: float) -> None:
    if not (lo <= value <= hi):
        raise InvalidInputError(f"{name} must be within [{lo}, {hi}], got {value}", field=name)


T = TypeVar("T")


def config_to_dict(obj: Any) -> dict[str, Any]:
    """A frozen config as plain JSON-ready data (nested dataclasses become dicts)."""
    out: dict[str, Any] = dataclasses.asdict(obj)
    return out


def config_from_dict(cls: type[T], data: dict[str, Any] | None, *, prefix: str) -> T:
    """Build ``cls`` from ``data``; unknown keys or wrong types raise `InvalidInputError` naming the field."""
    data = dict(data or {})
    assert dataclasses.is_dataclass(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise InvalidInputError(f"unknown field {unknown[0]!r}", field=f"{prefix}.{unknown[0]}")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        f = fields[name]
        default = getattr(cls(), name)
        if dataclasses.is_dataclass(default) and not isinstance(default, type):
            if not isinstance(value, dict):
                raise InvalidInputError(f"{prefix}.{name} must be an object", field=f"{prefix}.{name}")
            kwargs[name] = config_from_dict(type(default), value, prefix=f"{prefix}.{name}")
            continue
        kwargs[name] = _coerce(value, default, f"{prefix}.{f.name}")
    return cls(**kwargs)


def _coerce(value: Any, default: Any, name: str) -> Any:
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        raise InvalidInputError(f"{name} must be a boolean", field=name)
    if isinstance(default, int | float) and not isinstance(default, bool):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInputError(f"{name} must be a number", field=name)
        if isinstance(default, int) and not isinstance(default, bool):
            if float(value) != int(value):
                raise InvalidInputError(f"{name} must be an integer", field=name)
            return int(value)
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise InvalidInputError(f"{name} must be a string", field=name)
        return value
    if isinstance(default, tuple):
        if not isinstance(value, list | tuple):
            raise InvalidInputError(f"{name} must be a list", field=name)
        return tuple(value)
    return value
