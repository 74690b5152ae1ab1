"""``/api/assets`` over real HTTP: filters, bbox, pagination completeness, bad parameters named."""

from __future__ import annotations

import httpx
import pytest
from live_server import LiveServer

from fluxops.grid.ports import MAX_PAGE_SIZE


def _all_pages(client: httpx.Client, **params: object) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    cursor = None
    while True:
        q = {**params, **({"cursor": cursor} if cursor else {})}
        r = client.get("/api/assets", params=q)
        assert r.status_code == 200, r.text
        body = r.json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def test_pagination_is_complete_and_ordered(live: LiveServer, viewer: httpx.Client) -> None:
    counts = live.store.count_assets_by_type()
    items = _all_pages(viewer, limit=97)
    ids = [i["asset_id"] for i in items]
    assert len(ids) == sum(counts.values())
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)


def test_type_feeder_and_bbox_filters(live: LiveServer, viewer: httpx.Client) -> None:
    counts = live.store.count_assets_by_type()
    transformers = _all_pages(viewer, type="transformer", limit=MAX_PAGE_SIZE)
    assert len(transformers) == counts["transformer"]
    assert {i["asset_type"] for i in transformers} == {"transformer"}
    two = _all_pages(viewer, type="substation,feeder")
    assert len(two) == counts["substation"] + counts["feeder"]

    feeder = transformers[0]["feeder_id"]
    on_feeder = _all_pages(viewer, feeder=feeder, type="transformer")
    assert on_feeder and all(i["feeder_id"] == feeder for i in on_feeder)
    assert len(on_feeder) < len(transformers)

    lons = sorted(float(i["lon"]) for i in transformers)  # type: ignore[arg-type]
    lats = sorted(float(i["lat"]) for i in transformers)  # type: ignore[arg-type]
    box = (lons[0], lats[0], lons[len(lons) // 2], lats[-1])
    inside = _all_pages(viewer, type="transformer", bbox=",".join(map(str, box)))
    expected = [
        i
        for i in transformers
        if box[0] <= float(i["lon"]) <= box[2] and box[1] <= float(i["lat"]) <= box[3]  # type: ignore[arg-type]
    ]
    assert {i["asset_id"] for i in inside} == {i["asset_id"] for i in expected}

    out = viewer.get("/api/assets", params={"status": "out"})
    assert out.status_code == 200 and out.json()["items"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"bbox": "-95.3,29.7,-95.4,29.8"}, "bbox"),  # inverted
        ({"bbox": "-195,29.7,-95.4,29.8"}, "bbox"),  # out of range
        ({"bbox": "-95.4,29.7,-95.3"}, "bbox"),  # arity
        ({"bbox": "west,29.7,-95.3,29.8"}, "bbox"),  # not numeric
        ({"type": "transformer,flux_capacitor"}, "type"),
        ({"status": "melted"}, "status"),
        ({"limit": MAX_PAGE_SIZE + 1}, "limit"),
        ({"limit": 0}, "limit"),
        ({"limit": "many"}, "limit"),  # FastAPI validation, same body shape
    ],
)
def test_bad_parameters_get_422_naming_the_parameter(
    viewer: httpx.Client, params: dict[str, object], field: str
) -> None:
    r = viewer.get("/api/assets", params=params)
    assert r.status_code == 422, r.text
    body = r.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == "invalid_input"
    assert body["details"]["field"] == field
    assert field in body["message"]


def test_unknown_asset_is_404_naming_it(viewer: httpx.Client) -> None:
    r = viewer.get("/api/assets/XFMR-does-not-exist")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"
    assert "XFMR-does-not-exist" in r.json()["message"]
    assert r.json()["details"]["field"] == "asset_id"
