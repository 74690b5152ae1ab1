"""validate_grid catches hand-broken grids and names the offending ids."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from fluxops.core.errors import TopologyError
from fluxops.grid.models import Grid
from fluxops.grid.validation import validate_grid


def _broken(grid: Grid, **tables: pd.DataFrame) -> TopologyError:
    with pytest.raises(TopologyError) as err:
        validate_grid(dataclasses.replace(grid, **tables))
    return err.value


def test_generated_grid_is_valid(tiny_grid: Grid) -> None:
    validate_grid(tiny_grid)


def test_closing_a_tie_makes_a_cycle(tiny_grid: Grid) -> None:
    dev = tiny_grid.devices.copy()
    tie = dev.index[dev.device_type == "tie_switch"][0]
    tie_id = dev.at[tie, "device_id"]
    dev.at[tie, "normal_state"] = "closed"
    err = _broken(tiny_grid, devices=dev)
    assert tie_id in err.ids
    assert "normally open" in err.message


def test_extra_segment_closing_a_loop_is_named(tiny_grid: Grid) -> None:
    seg = tiny_grid.line_segments
    # A new line between two buses of the same feeder that are already connected.
    f = seg[seg.feeder_id == seg.feeder_id.iat[0]]
    extra = f.iloc[[3]].assign(
        segment_id="SEG-LOOP", from_bus_id=f.from_bus_id.iat[1], to_bus_id=f.to_bus_id.iat[6]
    )
    err = _broken(tiny_grid, line_segments=pd.concat([seg, extra], ignore_index=True))
    assert "cycle" in err.message
    assert any(i in err.ids for i in ("SEG-LOOP", *f.segment_id))


def test_dangling_reference_is_named(tiny_grid: Grid) -> None:
    meters = tiny_grid.meters.copy()
    meters.at[5, "transformer_id"] = "XFMR-NOPE"
    err = _broken(tiny_grid, meters=meters)
    assert meters.at[5, "meter_id"] in err.ids
    assert "meters.transformer_id references a missing transformers row" in err.message


def test_negative_rating_is_named(tiny_grid: Grid) -> None:
    xf = tiny_grid.transformers.copy()
    xf.at[2, "rating_kva"] = -25.0
    seg = tiny_grid.line_segments.copy()
    seg.at[0, "ampacity_a"] = 0.0
    err = _broken(tiny_grid, transformers=xf, line_segments=seg)
    assert xf.at[2, "transformer_id"] in err.ids
    assert seg.at[0, "segment_id"] in err.ids
    assert set(err.details["problems"]) >= {
        "transformers.rating_kva must be positive",
        "line_segments.ampacity_a must be positive",
    }


def test_duplicate_id_and_bad_enum(tiny_grid: Grid) -> None:
    poles = tiny_grid.poles.copy()
    poles.at[1, "pole_id"] = poles.at[0, "pole_id"]
    cu = tiny_grid.customers.copy()
    cu.at[0, "customer_class"] = "martian"
    err = _broken(tiny_grid, poles=poles, customers=cu)
    assert poles.at[0, "pole_id"] in err.ids
    assert cu.at[0, "customer_id"] in err.ids


def test_removed_segment_orphans_downstream(tiny_grid: Grid) -> None:
    seg = tiny_grid.line_segments
    cut = seg.index[seg.segment_id.str.endswith("-00003")][0]
    orphan_bus = seg.at[cut, "to_bus_id"]
    err = _broken(tiny_grid, line_segments=seg.drop(index=cut).reset_index(drop=True))
    assert orphan_bus in err.ids
    assert "meter not traced to a substation" in err.details["problems"]


def test_meter_traced_to_wrong_substation(tiny_grid: Grid) -> None:
    meters = tiny_grid.meters.copy()
    other = tiny_grid.substations.substation_id[
        tiny_grid.substations.substation_id != meters.at[0, "substation_id"]
    ].iat[0]
    meters.at[0, "substation_id"] = other
    err = _broken(tiny_grid, meters=meters)
    assert meters.at[0, "meter_id"] in err.ids
