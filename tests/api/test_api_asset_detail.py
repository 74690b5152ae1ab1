"""``/api/assets/{id}``: attributes, path to the substation, downstream counts."""

from __future__ import annotations

import httpx
from live_server import LiveServer


def test_asset_detail(live: LiveServer, viewer: httpx.Client) -> None:
    meter = viewer.get("/api/assets", params={"type": "meter", "limit": 1}).json()["items"][0]
    r = viewer.get(f"/api/assets/{meter['asset_id']}")
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["asset_type"] == "meter"
    assert d["attributes"]["meter_id"] == meter["asset_id"]
    assert d["customer"]["customer_id"] == d["attributes"]["customer_id"]
    path = d["path_to_substation"]
    assert path[0] == meter["asset_id"] and path[-1] == meter["substation_id"]
    assert d["attributes"]["transformer_id"] in path

    feeder_id = meter["feeder_id"]
    f = viewer.get(f"/api/assets/{feeder_id}").json()
    grid = live.store.read_grid()
    meters_on_feeder = int((grid.meters["feeder_id"] == feeder_id).sum())
    assert f["downstream"]["meters"] == meters_on_feeder
    xfmrs = int((grid.transformers["feeder_id"] == feeder_id).sum())
    assert f["downstream"]["transformers"] == xfmrs

    seg = viewer.get("/api/assets", params={"type": "line_segment", "limit": 1}).json()["items"][0]
    s = viewer.get(f"/api/assets/{seg['asset_id']}").json()
    assert len(s["attributes"]["coordinates"]) >= 2 and "geometry_wkb" not in s["attributes"]
