"""The Layers tab in a real browser against the `tiny` grid with its generated geo layers (water, flood
zones, buildings, canopy, vegetation spans): layers are toggled and their tiles answered 200, a lasso
and a radius select assets whose totals match the spatial API, the selection exports, the H3 heat
layer's legend carries units, street and neighbourhood labels are drawn, the asset tile mode asks
tiles — with no request off the host and no console error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e_server import UiServer

from conftest import PageWatch

pytestmark = pytest.mark.browser

UI = tuple[Any, PageWatch]
GEO_LAYERS = ("water", "flood_zones", "buildings", "canopy")


def api(server: UiServer) -> httpx.Client:
    return httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {server.token}"}, timeout=120
    )


@pytest.fixture(scope="module")
def geo_ready(ui_server: UiServer, tiny_grid: Any) -> Iterator[None]:
    """The geo layers generated into the module's store before the page loads (as `fluxops geo
    generate` and `fluxops geo vegetation generate` do)."""
    from fluxops.geo import vegetation
    from fluxops.storage import vegetation_store
    from fluxops.storage.geo_generate import generate_layers, save_vegetation_layer

    store = ui_server.store
    info = store.get_grid_info()
    generate_layers(store, tiny_grid, grid_hash=info.content_hash, layers=GEO_LAYERS, seed=0)
    params = vegetation.VegetationParams(seed=0)
    trees = vegetation.generate_trees(tiny_grid, params)
    vegetation_store.save_trees(store, trees, grid_hash=info.content_hash, params=params)
    save_vegetation_layer(store, tiny_grid, grid_hash=info.content_hash)
    yield


def centre(server: UiServer) -> tuple[float, float]:
    with api(server) as c:
        subs = c.get("/api/substations").json()
    items = subs if isinstance(subs, list) else subs.get("substations") or subs.get("items")
    lon = sum(s["lon"] for s in items) / len(items)
    lat = sum(s["lat"] for s in items) / len(items)
    return lon, lat


def go_to(page: Any, lon: float, lat: float, zoom: float) -> None:
    page.evaluate(f"window.__fluxops.map.jumpTo({{center: [{lon}, {lat}], zoom: {zoom}}})")
    page.wait_for_function("() => !window.__fluxops.map.isMoving()")


def layer_length(page: Any, layer_id: str) -> int:
    n: int = page.evaluate(
        f"() => (window.__fluxops.layers.find(l => l.id === '{layer_id}') || {{length: -1}}).length"
    )
    return n


def open_layers(page: Any) -> None:
    page.click("[data-testid=tab-layers]")
    page.locator("[data-testid=layers-panel]").wait_for(timeout=15_000)


def test_geo_layers_toggle_and_their_tiles_answer(geo_ready: None, ui: UI, ui_server: UiServer) -> None:
    page, watch = ui
    tiles: list[tuple[str, int]] = []
    page.on("response", lambda r: tiles.append((r.url, r.status)) if "/api/tiles/" in r.url else None)
    open_layers(page)
    lon, lat = centre(ui_server)
    go_to(page, lon, lat, 15)
    for name in (*GEO_LAYERS, "vegetation-risk"):
        box = page.locator(f"[data-testid=layer-{name}]")
        box.wait_for(timeout=15_000)
        server_name = "vegetation" if name == "vegetation-risk" else name
        with page.expect_response(
            lambda r, n=server_name: f"/api/tiles/{n}/" in r.url and r.url.endswith(".mvt"), timeout=30_000
        ) as resp:
            box.check()
        assert resp.value.status == 200, resp.value.url
    page.locator("[data-testid=vegetation-legend]").wait_for()
    assert "encroaching now" in page.locator("[data-testid=vegetation-legend]").inner_text()
    page.wait_for_function("() => window.__fluxops.layers.some(l => l.id === 'geo-vegetation-risk')")
    mvt = [(u, s) for u, s in tiles if u.endswith(".mvt")]
    assert mvt and all(s in (200, 304) for _, s in mvt), mvt
    # every layer's tiles were asked for with the page's token (a 401 would be a status above)
    for name in ("water", "flood_zones", "buildings", "canopy", "vegetation"):
        assert any(f"/api/tiles/{name}/" in u for u, _ in mvt), name
    assert watch.external == []
    assert watch.errors == [], watch.failed


def test_lasso_selects_assets_with_totals_that_match_the_api(
    geo_ready: None, ui: UI, ui_server: UiServer
) -> None:
    page, watch = ui
    open_layers(page)
    lon, lat = centre(ui_server)
    go_to(page, lon, lat, 14)
    page.click("[data-testid=select-lasso]")
    box = page.locator("[data-testid=map]").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    r = min(box["width"], box["height"]) * 0.3
    with page.expect_request(lambda q: "/api/spatial/within-polygon" in q.url) as req:
        page.mouse.move(cx - r, cy - r)
        page.mouse.down()
        for x, y in ((cx + r, cy - r), (cx + r, cy + r), (cx - r, cy + r), (cx - r, cy - r + 5)):
            page.mouse.move(x, y, steps=8)
        page.mouse.up()
    body = json.loads(req.value.post_data)
    rows = page.locator("[data-testid=selection-table] tbody tr")
    rows.first.wait_for(timeout=30_000)
    with api(ui_server) as c:
        answer = c.post("/api/spatial/within-polygon", json=body).json()
    assert answer["count"] > 0
    totals = page.locator("[data-testid=selection-totals]").inner_text()
    assert f"{answer['count']:,} asset" in totals
    assert f"{answer['by_type'].get('meter', 0):,} customers (meters)" in totals
    assert "kVA transformers" in totals
    assert rows.count() == min(200, len(answer["items"]))
    for t, n in answer["by_type"].items():
        assert f"{n:,}" in page.locator(f"[data-testid=selection-type-{t}]").inner_text()
    # export the selection: the same POST with format=csv, a CSV with one row per listed asset
    with page.expect_download(timeout=30_000) as dl:
        page.select_option("[data-testid=selection] select[aria-label=export]", "csv")
    text = Path(dl.value.path()).read_text(encoding="utf-8")
    assert len(text.strip().splitlines()) == len(answer["items"]) + 1
    # the radius tool: press at the centre, drag to the edge
    page.click("[data-testid=select-radius]")
    with page.expect_request(lambda q: "/api/spatial/within-radius" in q.url):
        page.mouse.move(cx, cy)
        page.mouse.down()
        page.mouse.move(cx + r / 2, cy, steps=6)
        page.mouse.up()
    page.locator("[data-testid=selection-table] tbody tr").first.wait_for(timeout=30_000)
    assert "m" in page.locator("[data-testid=selection-table] tbody tr").first.inner_text()
    assert watch.external == []
    assert watch.errors == [], watch.failed


def test_h3_heat_legend_labels_and_tile_mode(geo_ready: None, ui: UI, ui_server: UiServer) -> None:
    page, watch = ui
    open_layers(page)
    page.select_option("[data-testid=h3-metric]", "customers")
    legend = page.locator("[data-testid=h3-legend]")
    legend.wait_for(timeout=30_000)
    with api(ui_server) as c:
        h3 = c.get("/api/spatial/h3", params={"metric": "customers", "resolution": 8}).json()
    page.wait_for_function("() => window.__fluxops.layers.some(l => l.id === 'geo-h3')")
    text = legend.inner_text()
    assert f"total {round(h3['value_total']):,} customers" in text
    assert "customers per cell (" in text and "km²" in text
    # street names from the generator's addresses, neighbourhoods from substation names
    # (at street zoom the streets are those of the view: the same bbox the page asked for)
    lon, lat = centre(ui_server)
    with page.expect_response(lambda r: "/api/basemap/labels?" in r.url and "bbox=" in r.url) as lab:
        go_to(page, lon, lat, 14.5)
    bbox = lab.value.url.split("bbox=")[1].split("&")[0].replace("%2C", ",")
    with api(ui_server) as c:
        labels = c.get("/api/basemap/labels", params={"bbox": bbox, "limit": 2000}).json()
        everything = c.get("/api/basemap/labels").json()
    assert labels["streets"] and everything["neighbourhoods"]
    n = len(labels["streets"])
    page.wait_for_function(
        f"() => (window.__fluxops.layers.find(l => l.id === 'basemap-streets') || {{}}).length === {n}"
    )
    assert layer_length(page, "basemap-neighbourhoods") == len(everything["neighbourhoods"])
    assert {s["name"] for s in labels["streets"]} <= {s["name"] for s in everything["streets"]}
    # forced tile mode on the demo-sized grid: the asset layers come from tiles
    go_to(page, lon, lat, 15)
    with page.expect_response(lambda r: "/api/tiles/segments/" in r.url, timeout=30_000) as resp:
        page.select_option("[data-testid=tile-mode-select]", "on")
    assert resp.value.status == 200
    page.wait_for_function("() => window.__fluxops.layers.some(l => l.id === 'geo-assets-meters')")
    assert watch.external == []
    assert watch.errors == [], watch.failed


def test_tile_only_mode_browses_without_the_payload(geo_ready: None, ui: UI, ui_server: UiServer) -> None:
    """What the houston preset gets by its size (auto), forced on `tiny` with ?tiles=on: the Arrow
    payload is never asked for, the asset layers come from tiles of the view, a click opens an asset."""
    page, watch = ui
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    lon0, lat0 = centre(ui_server)
    page.goto(f"{ui_server.ui_url}&tiles=on")
    page.wait_for_function("() => !!(window.__fluxops && window.__fluxops.renders > 0)", timeout=60_000)
    page.wait_for_function(
        "() => window.__fluxops.layers.some(l => l.id === 'geo-assets-meters')", timeout=60_000
    )
    with api(ui_server) as c:
        q = {"lon": lon0, "lat": lat0, "k": 1, "type": "transformer"}
        hit = c.get("/api/spatial/nearest", params=q).json()["items"][0]
    answered: list[tuple[str, int]] = []
    page.on("response", lambda r: answered.append((r.url, r.status)) if r.url.endswith(".mvt") else None)
    go_to(page, hit["lon"], hit["lat"], 15.5)

    def tiles_of(layer: str) -> list[int]:
        return [s for u, s in answered if f"/api/tiles/{layer}/" in u]

    for _ in range(600):  # up to a minute for the view's tiles on a busy machine
        if tiles_of("segments") and tiles_of("meters"):
            break
        page.wait_for_timeout(100)
    assert tiles_of("segments") and tiles_of("meters"), answered
    assert set(tiles_of("segments") + tiles_of("meters")) == {200}
    page.click("[data-testid=tab-layers]")
    assert "tiles only" in page.locator("[data-testid=tile-mode]").inner_text()
    assert not any("/api/map/assets" in u for u in asked), [u for u in asked if "/api/map/" in u]
    assert watch.external == []
    assert watch.errors == [], watch.failed
