"""GridTopology: paths to the substation, downstream totals, protective ancestors."""

from __future__ import annotations

import pandas as pd
import pytest

from fluxops.core.errors import NotFoundError
from fluxops.grid.models import Grid
from fluxops.grid.topology import GridTopology


@pytest.fixture(scope="module")
def topo(tiny_grid: Grid) -> GridTopology:
    return GridTopology.build(tiny_grid)


def test_meter_path_reaches_its_substation(tiny_grid: Grid, topo: GridTopology) -> None:
    meter = tiny_grid.meters.iloc[100]
    path = topo.path_to_substation(meter.meter_id)
    assert path[0] == meter.meter_id
    assert path[1] == meter.transformer_id
    assert path[-1] == meter.substation_id
    assert path[-2].startswith("STX-")
    feeder = tiny_grid.feeders.set_index("feeder_id").loc[meter.feeder_id]
    assert feeder.head_device_id in path
    known = set(tiny_grid.line_segments.segment_id) | set(tiny_grid.devices.device_id)
    assert all(p in known for p in path[2:-2])


def test_paths_for_every_kind(tiny_grid: Grid, topo: GridTopology) -> None:
    sub = tiny_grid.substations.substation_id.iat[0]
    assert topo.path_to_substation(sub) == [sub]
    pole = tiny_grid.poles.iloc[0]
    assert topo.path_to_substation(pole.pole_id)[:2] == [pole.pole_id, pole.segment_id]
    tie = tiny_grid.devices[tiny_grid.devices.device_type == "tie_switch"].iloc[0]
    assert topo.path_to_substation(tie.device_id)[-1] == tie.substation_id
    seg = tiny_grid.line_segments.iloc[10]
    assert topo.path_to_substation(seg.segment_id)[0] == seg.segment_id
    fdr = tiny_grid.feeders.iloc[0]
    assert topo.path_to_substation(fdr.feeder_id)[:2] == [fdr.feeder_id, fdr.head_device_id]
    with pytest.raises(NotFoundError):
        topo.path_to_substation("NOPE-1")


def test_downstream_totals_add_up(tiny_grid: Grid, topo: GridTopology) -> None:
    cu = tiny_grid.customers.merge(
        tiny_grid.meters[["customer_id", "feeder_id", "substation_id"]], on="customer_id"
    )
    for fdr in tiny_grid.feeders.itertuples():
        d = topo.downstream(fdr.feeder_id)
        mine = cu[cu.feeder_id == fdr.feeder_id]
        assert d["meters"] == len(mine)
        assert d["critical_customers"] == mine.is_critical.sum()
        assert d["peak_kw"] == pytest.approx(mine.peak_kw.sum())
        xf = tiny_grid.transformers[tiny_grid.transformers.feeder_id == fdr.feeder_id]
        assert d["connected_kva"] == pytest.approx(xf.rating_kva.sum())
    total = sum(topo.downstream(s)["customers"] for s in tiny_grid.substations.substation_id)
    assert total == len(tiny_grid.customers)
    edge = topo.edge_totals()
    tie_ids = tiny_grid.devices.device_id[tiny_grid.devices.normal_state == "open"]
    assert (edge.loc[tie_ids].to_numpy() == 0).all()


def test_downstream_never_grows_going_down(tiny_grid: Grid, topo: GridTopology) -> None:
    """A bus never serves more customers than its parent (removing an element never adds load)."""
    cust = topo.bus_totals.customers.to_numpy()
    has = topo.parent_bus >= 0
    assert (cust[has] <= cust[topo.parent_bus[has]]).all()


def test_protective_devices(tiny_grid: Grid, topo: GridTopology) -> None:
    m = tiny_grid.meters
    xf = m.transformer_id.iat[0]
    same_xf = m.meter_id[m.transformer_id == xf]
    lcp = topo.lowest_common_protective_device(same_xf)
    assert lcp == topo.protective_device_of(same_xf.iat[0])
    assert lcp is not None and lcp.split("-")[0] in {"FUS", "SEC", "RCL", "BRK"}
    assert lcp in topo.path_to_substation(same_xf.iat[0])
    fdr = m.feeder_id.iat[0]
    whole = m.meter_id[m.feeder_id == fdr]
    head = tiny_grid.feeders.set_index("feeder_id").at[fdr, "head_device_id"]
    assert topo.lowest_common_protective_device(whole) == head
    other = m.meter_id[m.feeder_id != fdr].iat[0]
    assert topo.lowest_common_protective_device([same_xf.iat[0], other]) is None
    with pytest.raises(NotFoundError):
        topo.lowest_common_protective_device(["MTR-NOPE"])


def test_every_bus_has_a_protective_ancestor(tiny_grid: Grid, topo: GridTopology) -> None:
    feeder_bus = pd.Series(tiny_grid.buses.feeder_id.notna().to_numpy())
    assert (topo.protective[feeder_bus.to_numpy()] >= 0).all()


def test_protective_ancestors_series(tiny_grid: Grid, topo: GridTopology) -> None:
    anc = topo.protective_ancestors
    assert list(anc.index) == list(tiny_grid.buses.bus_id)
    sections = tiny_grid.buses.bus_id[tiny_grid.buses.bus_type == "substation"]
    assert anc.loc[sections].isna().all()
    head = tiny_grid.feeders.iloc[0]
    assert anc.loc[head.head_bus_id] == head.head_device_id
    protective = set(
        tiny_grid.devices.device_id[
            tiny_grid.devices.device_type.isin(["breaker", "recloser", "sectionalizer", "fuse"])
        ]
    )
    assert set(anc.dropna()) <= protective
