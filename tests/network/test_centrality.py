from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from fluxops.grid.models import Grid
from fluxops.network.centrality import centrality, downstream_exposure, k_hop_reach
from fluxops.network.compiled import CompiledGrid, compile_grid


def _nx(cg: CompiledGrid, closed: np.ndarray) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(range(cg.n_bus))
    for e in np.flatnonzero(closed):
        g.add_edge(int(cg.from_bus[e]), int(cg.to_bus[e]), e=int(e))
    return g


def _closed(cg: CompiledGrid, tie: bool) -> np.ndarray:
    closed = cg.closed_state.copy()
    closed[np.flatnonzero(cg.device_type == "tie_switch")] = tie
    return closed


@pytest.mark.parametrize("tie", [False, True])  # two radial trees / one tree across substations
def test_matches_networkx(hand_cg: CompiledGrid, tie: bool) -> None:
    closed = _closed(hand_cg, tie)
    c = centrality(hand_cg, closed=closed)
    g = _nx(hand_cg, closed)
    bet = nx.betweenness_centrality(g, normalized=False)
    assert c.betweenness == pytest.approx([bet[i] for i in range(hand_cg.n_bus)])
    ebet = nx.edge_betweenness_centrality(g, normalized=False)
    for (a, b), v in ebet.items():
        assert c.edge_betweenness[g.edges[a, b]["e"]] == pytest.approx(v)
    pr = nx.pagerank(g, alpha=0.85, tol=1e-12, max_iter=5000)
    assert c.pagerank == pytest.approx([pr[i] for i in range(hand_cg.n_bus)], abs=1e-8)
    assert list(c.degree) == [g.degree[i] for i in range(hand_cg.n_bus)]
    assert c.meshed_components == 0
    reach = k_hop_reach(hand_cg, k=2, closed=closed)
    lengths = [nx.single_source_shortest_path_length(g, i, cutoff=2) for i in range(hand_cg.n_bus)]
    assert list(reach) == [len(x) - 1 for x in lengths]


def test_exposure_on_paper(hand_cg: CompiledGrid) -> None:
    ex = downstream_exposure(hand_cg)
    edge = {str(e): i for i, e in enumerate(hand_cg.edge_ids)}
    assert ex.edge_customers[edge["L2"]] == 35  # B3 (20) + B5 (15)
    assert ex.edge_customers[edge["BRK2"]] == 20
    assert ex.edge_critical[edge["BRK2"]] == 1
    assert ex.edge_p_kw[edge["FUSE1"]] == pytest.approx(150.0)
    assert ex.edge_customers[edge["TIE1"]] == 0
    assert list(ex.source_customers) == [50, 20]
    assert ex.bus_kva[hand_cg.bus_index["B2"]] == pytest.approx(4000.0)


@pytest.mark.parametrize("ties_closed", [False, True])  # closed ties and bus ties make loops → igraph
def test_generated_grid_matches_networkx(ties_closed: bool) -> None:
    from fluxops.grid.generator import generate_grid

    grid: Grid = generate_grid("tiny", seed=0)
    cg = compile_grid(grid)
    closed = cg.closed_state | (ties_closed & ~cg.normally_closed)
    c = centrality(cg, closed=closed)
    g = _nx(cg, closed)
    bet = nx.betweenness_centrality(g, normalized=False)
    assert c.betweenness == pytest.approx([bet[i] for i in range(cg.n_bus)])
    assert (c.meshed_components > 0) == (len(nx.cycle_basis(g)) > 0)
