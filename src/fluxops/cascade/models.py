"""Result shapes of the cascade model. Plain frozen dataclasses, JSON-ready through `to_dict`.

Why results are separate from configs: a stored run keeps its inputs (scenario, engine config, seed,
grid hash) next to its outputs, so anyone can re-run it and get the same numbers.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

CAUSES: tuple[str, ...] = ("fault", "protection", "overload", "thermal", "isolated", "restored")


@dataclass(frozen=True)
class Event:
    """One thing that happened to one element in a wave (the "why" of the wave)."""

    element_id: str
    element_type: str
    cause: str  # CAUSES
    detail: str
    time_min: float
    value: float | None = None  # thermal: per-unit load K; overload: loading %


@dataclass(slots=True)  # not frozen: thousands per wave, frozen __init__ is ~3x slower
class LostElement:
    element_id: str
    element_type: str  # line_segment | <device_type> | transformer
    cause: str  # CAUSES; "restored" for elements re-energized in the wave


@dataclass(frozen=True)
class SwitchingAction:
    device_id: str
    action: str  # open | close
    purpose: str  # isolate | restore | transfer | relieve
    time_min: float
    automated: bool
    p_kw_transferred: float = 0.0


@dataclass(frozen=True)
class MomentaryEvent:
    """A reclosing device's attempts before lockout: ``shots`` momentary interruptions per customer."""

    device_id: str
    shots: int
    customers: int


@dataclass(frozen=True)
class WaveResult:
    wave: int
    time_min: float
    label: str  # fault | flisr | overload | thermal
    events: list[Event]
    lost: list[LostElement]
    restored: list[LostElement]
    switching: list[SwitchingAction]
    customers_out: int  # sustained, after the wave
    customers_out_new: int
    customers_restored: int
    critical_out: int
    p_kw_out: float
    mwh_unserved: float  # energy not served attributable to the elements lost in this wave
    max_loading_pct: float
    min_v_pu: float
    powerflow_converged: bool
    notes: list[str] = field(default_factory=list)  # FLISR pick-ups accepted/rejected and why


@dataclass(frozen=True)
class OutageGroup:
    """Customers that come back together: behind one repair (and the repairs upstream of it)."""

    group_id: str
    repair_element_id: str  # the element to repair or re-close
    repair_element_type: str
    repair_kind: str  # repair | replace | reclose
    lon: float
    lat: float
    customers: int
    critical: int
    p_kw: float
    customers_by_class: dict[str, int]
    p_kw_by_class: dict[str, float]
    depends_on: list[str]  # group ids that must be restored first (upstream)
    # overhead | underground for a line-segment repair, "" otherwise: fixed here once so that every
    # caller prices the same repair (`fluxops.cascade.repair`)
    construction: str = ""
    # the customers' summed annual energy per ICE class (kWh/yr): scales their ICE cost
    annual_kwh_by_class: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class CascadeTotals:
    customers_out: int  # sustained at the end of the cascade
    peak_customers_out: int
    critical_out: int
    p_mw_out: float
    mwh_unserved: float
    customer_minutes: float
    momentary_customers: int
    elements_lost: int
    waves: int
    stable: bool  # True when the cascade stopped before the wave limit
    customers_total: int
    customers_by_class_out: dict[str, int]
    # served from a transformer on that phase (a three-phase customer counts on each of its phases)
    customers_out_by_phase: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CascadeResult:
    patient_zero: list[str]
    patient_zero_types: list[str]
    scenario: dict[str, Any]
    config: dict[str, Any]
    seed: int
    grid_name: str
    load_source: str  # generated_peak | ami_live
    waves: list[WaveResult]
    totals: CascadeTotals
    momentary: list[MomentaryEvent]
    outage_groups: list[OutageGroup]
    base_case: dict[str, Any]
    compute_ms: float
    restoration_crews: int
    extras: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dataclasses.asdict(self)
        return out


def jsonable(value: Any) -> Any:
    """``value`` with non-finite floats replaced by None (JSON has no NaN/inf) and tuples as lists."""
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return jsonable(value.item())
    return value
