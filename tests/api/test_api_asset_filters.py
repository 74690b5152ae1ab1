"""``/api/assets`` lookups an engineer needs: the meters on a transformer, and feeder / substation
filters under their ``*_id`` names (the older ``feeder`` / ``substation`` still work)."""

from __future__ import annotations

import httpx
from live_server import LiveServer


def test_meters_on_a_transformer(live: LiveServer, viewer: httpx.Client) -> None:
    meters = live.store.read_grid().meters
    xf = str(meters.transformer_id.value_counts().index[0])
    expected = set(meters.loc[meters.transformer_id == xf, "meter_id"])
    r = viewer.get("/api/assets", params={"transformer_id": xf, "limit": 5000})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert {i["asset_id"] for i in items} == expected
    assert {i["asset_type"] for i in items} == {"meter"}
    # and back up: a meter's detail names its transformer, feeder and substation
    one = viewer.get(f"/api/assets/{items[0]['asset_id']}").json()
    assert one["attributes"]["transformer_id"] == xf
    assert one["path_to_substation"][1] == xf
    assert one["path_to_substation"][-1] == one["substation_id"]
    none = viewer.get("/api/assets", params={"transformer_id": "XFMR-nope"})
    assert none.status_code == 200 and none.json()["items"] == []


def test_feeder_and_substation_id_filters(live: LiveServer, viewer: httpx.Client) -> None:
    grid = live.store.read_grid()
    fdr = str(grid.feeders.feeder_id.iloc[0])
    sub = str(grid.feeders.substation_id.iloc[0])
    new = viewer.get("/api/assets", params={"feeder_id": fdr, "type": "transformer", "limit": 5000}).json()
    old = viewer.get("/api/assets", params={"feeder": fdr, "type": "transformer", "limit": 5000}).json()
    assert new["items"] == old["items"] and new["items"]
    assert len(new["items"]) == int((grid.transformers.feeder_id == fdr).sum())
    on_sub = viewer.get("/api/assets", params={"substation_id": sub, "type": "feeder"}).json()["items"]
    assert {i["asset_id"] for i in on_sub} == set(
        grid.feeders.loc[grid.feeders.substation_id == sub, "feeder_id"]
    )
    both = viewer.get(
        "/api/assets",
        params={"transformer_id": str(grid.meters.transformer_id.iloc[0]), "feeder_id": "FDR-nope"},
    )
    assert both.status_code == 200 and both.json()["items"] == []
    clash = viewer.get("/api/assets", params={"feeder_id": fdr, "feeder": "FDR-other"})
    assert clash.status_code == 422 and clash.json()["details"]["field"] == "feeder"
