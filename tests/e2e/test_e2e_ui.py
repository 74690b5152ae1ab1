"""The UI in a real browser (Debian Chromium via Playwright) against a real server with the `tiny` grid."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from e2e_server import NON_BLANK_JS, UiServer, inject_last_gasps

from conftest import PageWatch

pytestmark = pytest.mark.browser

UI = tuple[Any, PageWatch]


def api(server: UiServer) -> httpx.Client:
    headers = {"Authorization": f"Bearer {server.token}"}
    return httpx.Client(base_url=server.base_url, headers=headers, timeout=60)


def layer(page: Any, layer_id: str) -> dict[str, Any] | None:
    layers: list[dict[str, Any]] = page.evaluate("() => window.__fluxops.layers")
    return next((entry for entry in layers if entry["id"] == layer_id), None)


def screen_point(page: Any, lon: float, lat: float) -> tuple[float, float]:
    """Page coordinates of a lon/lat on the map."""
    box = page.locator("[data-testid=map]").bounding_box()
    p = page.evaluate("([lon, lat]) => window.__fluxops.map.project([lon, lat])", [lon, lat])
    return box["x"] + p["x"], box["y"] + p["y"]


def jump(page: Any, lon: float, lat: float, zoom: float) -> None:
    js = "([lon, lat, z]) => window.__fluxops.map.jumpTo({center: [lon, lat], zoom: z})"
    page.evaluate(js, [lon, lat, zoom])
    # the layers follow the zoom badge's state: wait for it (a click before that render hits the previous
    # zoom's layers, e.g. street-zoom devices over a substation disc)
    page.locator("[data-testid=zoom]", has_text=f"zoom {zoom:.2f}").wait_for(timeout=10_000)
    page.wait_for_timeout(400)


def test_page_loads_with_no_console_errors_and_no_external_requests(ui: UI) -> None:
    page, watch = ui
    page.wait_for_timeout(1500)  # let the side panels' first requests settle
    assert watch.errors == [], watch.failed
    assert watch.external == []
    assert "token=" not in page.url  # the token is taken from the address bar


def test_map_canvas_has_rendered_pixels(ui: UI) -> None:
    page, _ = ui
    png = page.locator("[data-testid=map]").screenshot()
    stats = page.evaluate(NON_BLANK_JS, base64.b64encode(png).decode())
    # A blank dark canvas has one or two colours and nothing bright; the drawn grid has many.
    assert stats["colours"] > 20, stats
    assert stats["lit"] > 200, stats


def test_asset_count_shown_equals_the_api(ui: UI, ui_server: UiServer) -> None:
    page, _ = ui
    with api(ui_server) as c:
        r = c.get("/api/map/assets")
        assert r.status_code == 200
        expected = int(r.headers["X-Row-Count"])
    shown = page.locator("[data-testid=kpi-assets] .kpi-value").inner_text()
    assert int(shown.replace(",", "")) == expected


def test_line_colours_come_from_the_whole_grid_power_flow(ui: UI, ui_server: UiServer) -> None:
    page, watch = ui
    with api(ui_server) as c:
        r = c.get("/api/grid/loading")
        assert r.status_code == 200
        source = r.headers["X-Load-Source"]
    note = page.locator("[data-testid=legend-loading-source]")
    note.filter(has_text="whole-grid power flow").wait_for(timeout=15_000)
    expected = "AMI demand" if source == "ami" else "design-peak demand"
    assert expected in note.inner_text()
    assert watch.errors == [], watch.failed


def test_clicking_a_substation_opens_its_inspector(ui: UI, ui_server: UiServer) -> None:
    page, _ = ui
    with api(ui_server) as c:
        sub = c.get("/api/substations").json()[0]
    jump(page, sub["lon"], sub["lat"], 10)
    x, y = screen_point(page, sub["lon"], sub["lat"])
    page.mouse.click(x, y)
    page.wait_for_selector("[data-testid=inspector]")
    assert page.locator("[data-testid=inspector-id]").inner_text() == sub["substation_id"]
    page.wait_for_selector("[data-testid=downstream] .chip")


def test_searching_an_id_flies_to_it(ui: UI, ui_server: UiServer) -> None:
    page, _ = ui
    with api(ui_server) as c:
        xf = c.get("/api/assets", params={"type": "transformer", "limit": 1}).json()["items"][0]
    page.fill("[data-testid=search-input]", xf["asset_id"])
    page.press("[data-testid=search-input]", "Enter")
    page.wait_for_function(
        """([lon, lat]) => { const m = window.__fluxops.map; const c = m.getCenter();
             return !m.isMoving() && m.getZoom() > 15
               && Math.abs(c.lng - lon) < 1e-3 && Math.abs(c.lat - lat) < 1e-3; }""",
        arg=[xf["lon"], xf["lat"]],
        timeout=15_000,
    )
    assert page.locator("[data-testid=inspector-id]").inner_text() == xf["asset_id"]
    transformers = layer(page, "transformers")
    assert transformers is not None and transformers["visible"] and transformers["length"] > 0


def test_outage_injected_through_the_api_appears_in_the_list_and_on_the_map(
    ui: UI, ui_server: UiServer, tiny_grid: Any
) -> None:
    page, _ = ui
    meters = tiny_grid.meters
    xf = str(meters.transformer_id.value_counts().index[0])  # the transformer with the most meters
    ids = [str(m) for m in meters[meters.transformer_id == xf].meter_id]
    inject_last_gasps(ui_server, ids, datetime.now(UTC) - timedelta(minutes=2))
    row = page.locator("[data-testid=outage-row]", has_text=xf)
    row.wait_for(timeout=30_000)  # arrives through the SSE stream (or the poll), without reload
    page.wait_for_function(
        "() => (window.__fluxops.layers.find(l => l.id === 'outage-areas') || {length: 0}).length > 0",
        timeout=30_000,
    )
    row.click()
    page.wait_for_selector("[data-testid=outage-row].selected")
    with api(ui_server) as c:
        active = c.get("/api/outages", params={"status": "active", "device": xf}).json()["items"]
    assert len(active) == 1
    assert str(active[0]["customers_out"]) in row.inner_text()


def test_running_a_cascade_shows_waves_on_the_map_and_in_the_panel(ui: UI, tiny_grid: Any) -> None:
    page, _ = ui
    patient_zero = str(tiny_grid.substation_transformers.transformer_id.iloc[0])
    page.click("[data-testid=tab-cascade]")
    page.fill("[data-testid=patient-zero]", patient_zero)
    page.click("[data-testid=run-cascade]")
    page.wait_for_selector("[data-testid=wave-row]", timeout=60_000)
    assert page.locator("[data-testid=wave-row]").count() >= 1
    page.wait_for_function(
        "() => (window.__fluxops.layers.find(l => l.id === 'cascade-waves') || {length: 0}).length > 0",
        timeout=10_000,
    )
    waves = layer(page, "cascade-waves")
    assert waves is not None and waves["visible"]
    assert "elements lost" in page.locator("[data-testid=cascade-summary]").inner_text()
    page.wait_for_selector("[data-testid=cascade-tabs] .chip", timeout=60_000)  # economic impact loaded


def test_api_docs_load_with_no_external_requests(browser: Any, ui_server: UiServer) -> None:
    """/docs renders Swagger UI from files this server ships (an air-gapped control room has no CDN)."""
    context = browser.new_context()
    page = context.new_page()
    external: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(ui_server.base_url) else None)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{ui_server.base_url}/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)  # operations rendered
    assert page.locator(".swagger-ui .opblock").count() >= 10
    assert external == []
    assert errors == []
    context.close()
