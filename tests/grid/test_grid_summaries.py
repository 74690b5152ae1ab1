"""Summaries and KPIs are computed from the data and agree with the tables."""

from __future__ import annotations

import pytest

from fluxops.core.errors import NotFoundError
from fluxops.grid.models import Grid
from fluxops.grid.ports import BBox
from fluxops.grid.summaries import EDGE_COLUMNS, feeder_summaries, kpis, substation_summaries, topology_edges
from fluxops.grid.topology import GridTopology


@pytest.fixture(scope="module")
def topo(tiny_grid: Grid) -> GridTopology:
    return GridTopology.build(tiny_grid)


def test_feeder_summaries(tiny_grid: Grid, topo: GridTopology) -> None:
    fs = feeder_summaries(tiny_grid, topo)
    assert list(fs.feeder_id) == list(tiny_grid.feeders.feeder_id)
    assert fs.customers.sum() == len(tiny_grid.customers)
    seg = tiny_grid.line_segments
    assert fs.length_km.sum() == pytest.approx(seg.length_km.sum())
    assert fs.length_km_overhead.sum() == pytest.approx(seg.length_km[seg.construction == "overhead"].sum())
    assert ((fs.min_lon <= fs.max_lon) & (fs.min_lat <= fs.max_lat)).all()
    # tie points appear on both feeders, pointing at each other
    ties = tiny_grid.devices[tiny_grid.devices.device_type == "tie_switch"]
    points = {
        (f, t["device_id"], t["other_feeder_id"])
        for f, tp in zip(fs.feeder_id, fs.tie_points, strict=True)
        for t in tp
    }
    for tie in ties.itertuples():
        assert (tie.feeder_id, tie.device_id, tie.tie_feeder_id) in points
        assert (tie.tie_feeder_id, tie.device_id, tie.feeder_id) in points
    assert (fs.max_segment_loading_pct < 100).all()


def test_substation_summaries(tiny_grid: Grid, topo: GridTopology) -> None:
    ss = substation_summaries(tiny_grid, topo)
    assert ss.customers.sum() == len(tiny_grid.customers)
    assert ss.feeders.sum() == len(tiny_grid.feeders)
    assert ss.capacity_mva.sum() == pytest.approx(tiny_grid.substation_transformers.rating_mva.sum())
    assert (ss.peak_loading_pct > 0).all()


def test_kpis_count_the_tables(tiny_grid: Grid) -> None:
    k = kpis(tiny_grid)
    c = k["counts_by_type"]
    assert c["meter"] == len(tiny_grid.meters)
    assert c["pole"] == len(tiny_grid.poles)
    assert sum(
        c[t] for t in ("breaker", "recloser", "sectionalizer", "fuse", "switch", "tie_switch", "bus_tie")
    ) == len(tiny_grid.devices)
    assert sum(k["customers_by_class"].values()) == k["customers"] == len(tiny_grid.customers)
    assert k["peak_mw"] == pytest.approx(tiny_grid.customers.peak_kw.sum() / 1000)
    assert k["connected_kva"] == pytest.approx(tiny_grid.transformers.rating_kva.sum())


def test_topology_edges_filters(tiny_grid: Grid) -> None:
    every = topology_edges(tiny_grid)
    assert list(every.columns) == list(EDGE_COLUMNS)
    assert len(every) == len(tiny_grid.line_segments) + len(tiny_grid.devices)
    fdr = tiny_grid.feeders.feeder_id.iat[0]
    one = topology_edges(tiny_grid, feeder_id=fdr)
    assert 0 < len(one) < len(every)
    assert set(one.feeder_id) <= set(tiny_grid.feeders.feeder_id)
    assert (one.kind == "tie_switch").sum() >= 1 or tiny_grid.devices.tie_feeder_id.isna().all()
    sub = tiny_grid.substations.iloc[0]
    box = BBox(sub.lon - 0.002, sub.lat - 0.002, sub.lon + 0.002, sub.lat + 0.002)
    near = topology_edges(tiny_grid, bbox=box)
    assert 0 < len(near) < len(every)
    assert (
        (near[["from_lon", "to_lon"]].max(axis=1) >= box.min_lon)
        & (near[["from_lon", "to_lon"]].min(axis=1) <= box.max_lon)
    ).all()
    with pytest.raises(NotFoundError):
        topology_edges(tiny_grid, feeder_id="FDR-9999-99")
