"""Substations, feeders, topology, KPIs and the Arrow map payloads over real HTTP."""

from __future__ import annotations

import httpx
import pytest
from live_server import LiveServer


def test_substations_and_feeders(live: LiveServer, viewer: httpx.Client) -> None:
    grid = live.store.read_grid()
    subs = viewer.get("/api/substations").json()
    assert {s["substation_id"] for s in subs} == set(grid.substations["substation_id"])
    feeders = viewer.get("/api/feeders").json()
    assert {f["feeder_id"] for f in feeders} == set(grid.feeders["feeder_id"])
    total_customers = sum(f["customers"] for f in feeders)
    assert total_customers == len(grid.customers)
    one = grid.substations["substation_id"].iloc[0]
    mine = viewer.get("/api/feeders", params={"substation": one}).json()
    assert mine and all(f["substation_id"] == one for f in mine)
    r = viewer.get("/api/feeders", params={"substation": "SUB-nope"})
    assert r.status_code == 404 and r.json()["details"]["field"] == "substation"


def test_topology_by_feeder_and_bbox(live: LiveServer, viewer: httpx.Client) -> None:
    grid = live.store.read_grid()
    feeder = grid.feeders["feeder_id"].iloc[0]
    body = viewer.get("/api/topology", params={"feeder": feeder}).json()
    n_segments = int((grid.line_segments["feeder_id"] == feeder).sum())
    assert body["count"] == len(body["edges"]) >= n_segments
    lon0, lat0 = grid.substations[["lon", "lat"]].iloc[0]
    box = f"{lon0 - 0.01},{lat0 - 0.01},{lon0 + 0.01},{lat0 + 0.01}"
    assert viewer.get("/api/topology", params={"bbox": box}).json()["count"] > 0


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({}, 422, "feeder"),
        ({"bbox": "1,2,3"}, 422, "bbox"),
        ({"feeder": "FDR-nope"}, 404, "feeder"),
    ],
)
def test_topology_bad_parameters(
    viewer: httpx.Client, params: dict[str, str], status: int, field: str
) -> None:
    r = viewer.get("/api/topology", params=params)
    assert r.status_code == status
    assert r.json()["details"]["field"] == field


def test_kpis_are_computed_from_the_data(live: LiveServer, viewer: httpx.Client) -> None:
    grid = live.store.read_grid()
    k = viewer.get("/api/kpis").json()
    assert k["customers"] == len(grid.customers)
    assert k["connected_kva"] == pytest.approx(float(grid.transformers["rating_kva"].sum()))
