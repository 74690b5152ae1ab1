from __future__ import annotations

import numpy as np
import pytest

from fluxops.core.errors import InvalidInputError, NotFoundError
from fluxops.grid.models import Grid
from fluxops.network.compiled import BusLoads, CompiledGrid, compile_grid
from fluxops.network.elements import customers_out, resolve_element
from fluxops.network.energization import energize


def test_counts_and_loads_follow_meters_to_buses(hand_cg: CompiledGrid) -> None:
    cg = hand_cg
    assert cg.total_customers == 70
    b3 = cg.bus_index["B3"]
    assert cg.bus_customer_count[b3] == 20
    assert cg.bus_p_kw[b3] == pytest.approx(800.0)
    assert cg.bus_q_kvar[b3] == pytest.approx(800.0 * np.tan(np.arccos(0.95)))
    assert cg.bus_critical_count[cg.bus_index["C2"]] == 1
    assert cg.bus_critical_count.sum() == 1
    l2 = int(np.flatnonzero(cg.edge_ids == "L2")[0])
    assert cg.r_ohm[l2] == pytest.approx(0.19 * 1.5)
    assert cg.edge_kind[l2] == 0
    tie = int(np.flatnonzero(cg.edge_ids == "TIE1")[0])
    assert not cg.normally_closed[tie] and cg.device_type[tie] == "tie_switch"
    # 8 % on 10 MVA at 12.47 kV, X/R = 10
    z = 0.08 * 12.47**2 / 10
    assert np.hypot(cg.source_r_ohm[0], cg.source_x_ohm[0]) == pytest.approx(z)
    with pytest.raises(ValueError):
        cg.bus_p_kw[0] = 1.0  # read-only


def test_bus_loads_override(hand_grid: Grid) -> None:
    cg = compile_grid(hand_grid, loads=BusLoads(bus_ids=["B5"], p_kw=[100.0], q_kvar=[10.0]))
    assert cg.bus_p_kw.sum() == pytest.approx(100.0)
    with pytest.raises(InvalidInputError) as exc:
        compile_grid(hand_grid, loads=BusLoads(bus_ids=["NOPE"], p_kw=[1.0], q_kvar=[0.0]))
    assert exc.value.field == "loads.bus_ids"


@pytest.mark.parametrize(
    ("asset_id", "customers", "critical"),
    [
        ("S1", 50, 0),  # substation: all of F1
        ("T2", 20, 1),  # substation transformer: all of F2
        ("F1", 50, 0),  # feeder = head breaker
        ("L2", 35, 0),  # B3 and below
        ("REC1", 15, 0),
        ("FUSE1", 5, 0),
        ("P-L2", 35, 0),  # pole carrying L2
        ("P-B4", 15, 0),  # pole carrying bus B4
        ("X-C2", 8, 1),  # distribution transformer: only its customers
        ("M-C3-0", 1, 0),  # one meter
        ("TIE1", 0, 0),  # open tie: nothing
    ],
)
def test_failing_any_element_counts_customers_downstream(
    hand_cg: CompiledGrid, asset_id: str, customers: int, critical: int
) -> None:
    ref = resolve_element(hand_cg, asset_id)
    en = energize(hand_cg, failed_edges=ref.edges, failed_buses=ref.buses, failed_sources=ref.sources)
    out = customers_out(
        hand_cg, en.bus_energized, failed_transformers=ref.transformers, failed_meters=ref.meters
    )
    assert out == (customers, critical)


def test_unknown_asset_is_not_found(hand_cg: CompiledGrid) -> None:
    with pytest.raises(NotFoundError):
        resolve_element(hand_cg, "NOPE")
