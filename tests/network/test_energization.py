from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix, csgraph

from fluxops.core.errors import InvalidInputError
from fluxops.network.compiled import CompiledGrid
from fluxops.network.energization import energize


def _edge(cg: CompiledGrid, eid: str) -> int:
    return int(np.flatnonzero(cg.edge_ids == eid)[0])


def test_normal_state_feeds_everything_from_its_own_source(hand_cg: CompiledGrid) -> None:
    en = energize(hand_cg)
    assert en.bus_energized.all()
    assert en.bus_source[hand_cg.bus_index["B5"]] == 0
    assert en.bus_source[hand_cg.bus_index["C3"]] == 1
    assert not en.edge_energized[_edge(hand_cg, "TIE1")]


def test_closing_the_tie_restores_a_faulted_section(hand_cg: CompiledGrid) -> None:
    cg = hand_cg
    closed = cg.closed_state.copy()
    closed[_edge(cg, "REC1")] = False
    closed[_edge(cg, "TIE1")] = True
    en = energize(cg, closed=closed)
    assert en.bus_energized.all()
    assert en.bus_source[cg.bus_index["B5"]] == 1  # now fed from S2
    assert en.bus_source[cg.bus_index["B3"]] == 0


def test_failed_source_and_bad_masks(hand_cg: CompiledGrid) -> None:
    en = energize(hand_cg, failed_sources=[0])
    assert not en.bus_energized[hand_cg.bus_index["B1"]]
    with pytest.raises(InvalidInputError):
        energize(hand_cg, failed_edges=[999])
    with pytest.raises(InvalidInputError):
        energize(hand_cg, closed=np.ones(3, bool))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.booleans(), min_size=11, max_size=11), st.lists(st.booleans(), min_size=12, max_size=12))
def test_energized_set_equals_reachability_and_failing_never_helps(
    hand_cg: CompiledGrid, closed_bits: list[bool], failed_bits: list[bool]
) -> None:
    cg = hand_cg
    closed = np.array(closed_bits)
    failed_bus = np.array(failed_bits)
    en = energize(cg, closed=closed, failed_buses=failed_bus)
    # reference: BFS from each live source bus over live edges
    live = closed & ~failed_bus[cg.from_bus] & ~failed_bus[cg.to_bus]
    g = coo_matrix((np.ones(live.sum()), (cg.from_bus[live], cg.to_bus[live])), shape=(cg.n_bus, cg.n_bus))
    expected = np.zeros(cg.n_bus, bool)
    for s in range(cg.n_source):
        b = cg.source_bus[s]
        if not failed_bus[b]:
            expected[csgraph.breadth_first_order(g, b, directed=False, return_predecessors=False)] = True
    assert (en.bus_energized == expected).all()
    # failing one more bus never energizes anything new
    more = failed_bus.copy()
    more[0] = True
    en2 = energize(cg, closed=closed, failed_buses=more)
    assert not (en2.bus_energized & ~en.bus_energized).any()
