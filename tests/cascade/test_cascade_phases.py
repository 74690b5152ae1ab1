"""Phase-aware protection in the cascade (issue 11 §2): a single-phase fault on a fused lateral takes out
only its phase's customers, a single-pole fuse on a two-phase tap opens only the faulted phase, a
gang-operated device takes every phase; customers out are counted per phase."""

from __future__ import annotations

import dataclasses
from functools import cache

import pytest

from fluxops.cascade.config import CascadeConfig
from fluxops.cascade.context import EngineContext, build_context
from fluxops.cascade.engine import run_cascade
from fluxops.cascade.scenarios import resolve_scenario
from fluxops.core.errors import InvalidInputError
from fluxops.grid.generator import generate_grid
from fluxops.grid.generator.params import PRESETS


@cache
def _ctx() -> EngineContext:
    params = dataclasses.replace(PRESETS["demo"], n_substations=3, target_meters=12_000)
    return build_context(generate_grid(params=params, seed=5))


def _segment_behind(fuse_phases: str) -> str:
    """A segment just downstream of a fuse carrying ``fuse_phases``."""
    g = _ctx().grid
    dev = g.devices
    fuse = dev[(dev.device_type == "fuse") & (dev.phases == fuse_phases)].iloc[0]
    seg = g.line_segments
    return str(seg.loc[seg.from_bus_id == fuse.to_bus_id, "segment_id"].iloc[0])


def _run(segment: str, fault_phases: str = "") -> dict[str, int]:
    r = run_cascade(
        _ctx(),
        patient_zero=[segment],
        scenario=resolve_scenario("normal"),
        config=CascadeConfig(fault_phases=fault_phases, flisr_enabled=False),
    )
    assert r.totals.customers_out > 0
    return r.totals.customers_out_by_phase


def test_single_phase_lateral_fault_takes_only_its_phase() -> None:
    by_phase = _run(_segment_behind("B"))
    assert by_phase["B"] > 0 and by_phase["A"] == 0 and by_phase["C"] == 0


def test_single_pole_fuse_opens_only_the_faulted_phase() -> None:
    seg = _segment_behind("AB") if (_ctx().grid.devices.phases == "AB").any() else _segment_behind("AC")
    two = str(_ctx().grid.line_segments.set_index("segment_id").loc[seg, "phases"])
    first, second = two[0], two[1]
    both = _run(seg)  # a two-phase fault blows both fuses
    assert both[first] > 0 and both[second] > 0
    one = _run(seg, fault_phases=first)  # first-phase-to-ground: only that fuse
    assert one[first] == both[first] and one[second] == 0
    r = run_cascade(
        _ctx(),
        patient_zero=[seg],
        scenario=resolve_scenario("normal"),
        config=CascadeConfig(fault_phases=first, flisr_enabled=False),
    )
    assert any("single-pole" in e.detail for e in r.waves[0].events)


def test_gang_operated_device_takes_every_phase() -> None:
    g = _ctx().grid
    trunk = g.line_segments[g.line_segments.phases == "ABC"]
    # a trunk segment past the recloser: the recloser (three-phase) clears an A-to-ground fault on all phases
    by_phase = _run(str(trunk.segment_id.iloc[len(trunk) // 2]), fault_phases="A")
    assert by_phase["A"] > 0 and by_phase["B"] > 0 and by_phase["C"] > 0


def test_bad_fault_phases_is_refused() -> None:
    with pytest.raises(InvalidInputError) as err:
        CascadeConfig(fault_phases="AD").validate()
    assert err.value.field == "config.fault_phases"
