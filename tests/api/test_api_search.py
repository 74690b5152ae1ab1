"""``GET /api/search`` over real HTTP: premises by address, name, account and meter; assets by id and
name; streets; ranking; kinds filter; bad input named."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from live_server import LiveServer

from fluxops.grid.models import Grid


@pytest.fixture(scope="module")
def grid(live: LiveServer) -> Grid:
    g: Grid | None = live.store.read_grid()
    assert g is not None
    return g


def _search(client: httpx.Client, q: str, **params: str | int) -> list[dict[str, Any]]:
    r = client.get("/api/search", params={"q": q, **params})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == len(body["items"])
    items: list[dict[str, Any]] = body["items"]
    return items


def test_premise_by_address_account_meter_and_name(viewer: httpx.Client, grid: Grid) -> None:
    m = grid.meters.iloc[7]
    c = grid.customers.set_index("customer_id").loc[m.customer_id]
    for q in (f"{m.address} {m.zip_code}", str(c.account_id), str(m.meter_id).lower(), str(m.customer_id)):
        top = _search(viewer, q)[0]
        assert top["kind"] == "meter" and top["id"] == m.meter_id, q
        assert top["score"] == 100
        assert top["lon"] == pytest.approx(m.lon) and top["lat"] == pytest.approx(m.lat)
        assert top["transformer_id"] == m.transformer_id and top["account_id"] == c.account_id
        assert top["customer_name"] == c["name"] and top["address"] == m.address
    by_name = _search(viewer, str(c["name"]), limit=100)
    assert m.meter_id in {h["id"] for h in by_name}
    assert all(h["score"] >= 80 for h in by_name if h["kind"] == "meter")


def test_assets_and_streets(viewer: httpx.Client, grid: Grid) -> None:
    xf = str(grid.transformers.transformer_id.iloc[3])
    assert _search(viewer, xf)[0]["id"] == xf
    sub = grid.substations.iloc[0]
    hit = _search(viewer, str(sub["name"]))[0]
    assert hit["kind"] == "substation" and hit["id"] == sub.substation_id
    address = str(grid.meters.address.iloc[0])
    street = address.split(" ", 1)[1]
    zip_code = str(grid.meters.zip_code.iloc[0])
    streets = _search(viewer, street, kind="street")
    assert streets and all(h["kind"] == "street" for h in streets)
    mine = next(h for h in streets if h["id"] == f"{street}, {zip_code}")
    on_it = grid.meters[
        grid.meters.address.str.match(rf"^\d+ {street}( (Ste|Unit) \d+)?$")
        & (grid.meters.zip_code == zip_code)
    ]
    assert mine["premises"] == len(on_it)
    bbox = mine["bbox"]
    assert isinstance(bbox, list) and bbox[0] <= mine["lon"] <= bbox[2]


def test_ranking_exact_before_prefix(viewer: httpx.Client, grid: Grid) -> None:
    fdr = str(grid.feeders.feeder_id.iloc[0])
    hits = _search(viewer, fdr, limit=50)
    assert hits[0]["id"] == fdr and hits[0]["kind"] == "feeder"
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert len(_search(viewer, "zzzz-no-such-thing")) == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "x"}, "q"),
        ({}, "q"),
        ({"q": "elm", "kind": "house"}, "kind"),
        ({"q": "elm", "limit": 0}, "limit"),
        ({"q": "elm", "type": "meter"}, "type"),
    ],
)
def test_bad_input_is_named(viewer: httpx.Client, params: dict[str, object], field: str) -> None:
    r = viewer.get("/api/search", params=params)  # type: ignore[arg-type]
    assert r.status_code == 422, r.text
    assert r.json()["details"]["field"] == field


def test_search_results_export(viewer: httpx.Client, grid: Grid) -> None:
    street = str(grid.meters.address.iloc[0]).split(" ", 1)[1]
    r = viewer.get("/api/search", params={"q": street, "kind": "meter", "limit": 10, "format": "geojson"})
    assert r.status_code == 200, r.text
    features = r.json()["features"]
    assert len(features) == 10 and features[0]["geometry"]["type"] == "Point"


def test_index_is_built_once_per_stored_grid(viewer: httpx.Client, live: LiveServer) -> None:
    """Warmed at startup and reused: operating a switch (a new live configuration) does not rebuild it."""
    deadline = time.monotonic() + 30
    while getattr(live.app.state, "search_index", None) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    held = live.app.state.search_index
    assert held is not None and held[0] == live.store.get_grid_info().content_hash
    _search(viewer, "SUB-0001")
    assert live.app.state.search_index is held
