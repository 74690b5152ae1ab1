"""The console's polish in a real browser (issue 10): crews on the map, every time in the utility's
zone, a viewer sees no usable operator button, one-row tab bar at 1366×768, and every panel says
"Loading" (never "no rows") while its data is coming. Every page: no request off the host, no
console errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e_server import READY_JS, UiServer, inject_last_gasps

from conftest import ARTIFACTS, PageWatch

pytestmark = pytest.mark.browser

UI = tuple[Any, PageWatch]
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def api(server: UiServer, token: str | None = None) -> httpx.Client:
    return httpx.Client(
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {token or server.token}"},
        timeout=60,
    )


def open_page(
    browser: Any, server: UiServer, token: str, size: tuple[int, int]
) -> tuple[Any, Any, PageWatch]:
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = ctx.new_page()
    watch = PageWatch()
    page.on("console", watch.console)
    page.on("response", watch.response)
    page.on("pageerror", lambda e: watch.errors.append(str(e)))

    def on_request(r: Any) -> None:
        if not r.url.startswith((server.base_url, "data:", "blob:")):
            watch.external.append(r.url)

    page.on("request", on_request)
    page.goto(f"{server.base_url}/?token={token}")
    page.wait_for_function(READY_JS, timeout=60_000)
    return ctx, page, watch


@pytest.fixture
def viewer_token(ui_server: UiServer) -> str:
    with api(ui_server) as c:
        r = c.post("/api/admin/keys", json={"role": "viewer", "label": "e2e viewer"})
        assert r.status_code == 201, r.text
        return str(r.json()["token"])


@pytest.fixture
def shots() -> Iterator[Path]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield ARTIFACTS


def test_crews_are_on_the_map_at_base_or_at_their_work_site(
    ui: UI, ui_server: UiServer, tiny_grid: Any
) -> None:
    page, watch = ui
    ui_server.app.state.ops.service().dispatch.seed_demo_crews()
    xf = str(tiny_grid.transformers.transformer_id.iat[0])
    with api(ui_server) as c:
        wo = c.post(
            "/api/work-orders",
            json={"work_type": "inspection", "priority": "high", "asset_id": xf, "description": "e2e"},
        ).json()
        crew = c.get(f"/api/work-orders/{wo['work_order_id']}/crew-proposals").json()["proposals"][0]
        r = c.post(f"/api/work-orders/{wo['work_order_id']}/assign", json={"crew_id": crew["crew_id"]})
        assert r.status_code == 200, r.text
        assert c.post(f"/api/work-orders/{wo['work_order_id']}/start").status_code == 200
        n_crews = len(c.get("/api/crews").json())
    page.reload()
    page.wait_for_function(READY_JS, timeout=60_000)
    page.wait_for_function(
        "(n) => (window.__fluxops.layers.find(l => l.id === 'crews') || {length: 0}).length === n",
        arg=n_crews,
        timeout=20_000,
    )
    assert "crews" in page.locator("[data-testid=legend-crews]").inner_text()
    # hover the crew on site: the tooltip names crew, skill, status and work order
    lon, lat = (float(v) for v in tiny_grid.transformers.loc[0, ["lon", "lat"]])
    page.evaluate("([lon, lat]) => window.__fluxops.map.jumpTo({center: [lon, lat], zoom: 15})", [lon, lat])
    page.wait_for_timeout(800)
    xy = page.evaluate("([lon, lat]) => window.__fluxops.map.project([lon, lat])", [lon, lat])
    box = page.locator("[data-testid=map]").bounding_box()
    # the badge sits beside its position (14 px right, 14 px up: map/layers/crews.ts), not on the asset
    page.mouse.move(box["x"] + xy["x"] + 14, box["y"] + xy["y"] - 14)
    tip = page.locator(".map-tooltip", has_text=crew["crew_id"])
    tip.wait_for(timeout=10_000)
    text = tip.inner_text()
    assert "on site" in text and wo["work_order_id"] in text and "skill" in text, text
    assert watch.errors == [] and watch.external == [], (watch.errors, watch.failed, watch.external)


def test_every_time_shown_carries_the_utility_zone(ui: UI, ui_server: UiServer, tiny_grid: Any) -> None:
    from fluxops.ami.simulator import HttpSink
    from fluxops.ami.synth import AmiSynthesizer

    page, watch = ui
    day = datetime.now(UTC).date() - timedelta(days=1)
    readings = AmiSynthesizer(tiny_grid).day(day).readings.drop_columns(["delivered_utc"])
    sink = HttpSink(ui_server.base_url, ui_server.token)
    try:
        sink.send_readings(readings)
    finally:
        sink.close()
    with api(ui_server) as c:
        assert c.post("/api/ami/refresh").status_code in (200, 202)
    for tab in ("ami", "health", "alarms", "outages"):
        page.click(f"[data-testid=tab-{tab}]")
        page.wait_for_timeout(300)
        page.wait_for_function("() => !document.querySelector('[data-testid=panel-loading]')", timeout=60_000)
        text = page.locator(".panel").inner_text()
        assert not ISO_TIME.search(text), (tab, ISO_TIME.findall(text)[:5])
        assert "UTC)" not in text, tab
    page.click("[data-testid=tab-ami]")
    page.wait_for_function("() => !document.querySelector('[data-testid=panel-loading]')", timeout=60_000)
    assert re.search(r"\bC[SD]T\b", page.locator(".panel").inner_text())
    assert watch.errors == [] and watch.external == [], (watch.errors, watch.failed)


def test_a_viewer_sees_no_usable_operator_button(
    browser: Any, ui_server: UiServer, tiny_grid: Any, viewer_token: str
) -> None:
    counts = tiny_grid.meters.transformer_id.value_counts()
    xf = str(counts[counts >= 2].index[-3])
    ids = [str(m) for m in tiny_grid.meters[tiny_grid.meters.transformer_id == xf].meter_id]
    inject_last_gasps(ui_server, ids, datetime.now(UTC) - timedelta(minutes=4))
    with api(ui_server, viewer_token) as c:
        assert c.get("/api/ui/me").json()["role"] == "viewer"
    ctx, page, watch = open_page(browser, ui_server, viewer_token, (1400, 860))
    try:
        page.locator("[data-testid=outage-row]", has_text=xf).wait_for(timeout=30_000)
        page.click("[data-testid=tab-workorders]")
        page.locator("[data-testid=workorder-create]").wait_for()
        page.click("[data-testid=tab-outages]")
        page.locator("[data-testid=outage-row]", has_text=xf).click()  # its detail holds the actions
        page.locator("[data-testid=outage-cause]").wait_for(timeout=10_000)
        ops = page.evaluate(
            """() => [...document.querySelectorAll('[data-operator]')]
                 .map(b => ({id: b.dataset.testid || b.textContent, disabled: b.disabled, title: b.title}))"""
        )
        assert ops, "the outage row shows its (disabled) lifecycle actions"
        assert all(o["disabled"] and "operator role" in o["title"] for o in ops), ops
        # no plain (unmarked) button performs an operator action: the lifecycle ids are all marked
        unmarked = page.evaluate(
            """() => [...document.querySelectorAll('button:not([data-operator])')]
                 .filter(b => /^outage-(acknowledge|confirm|restore|cancel)$/.test(b.dataset.testid || ''))
                 .length"""
        )
        assert unmarked == 0
        assert watch.errors == [] and watch.external == [], (watch.errors, watch.failed)
    finally:
        ctx.close()


def test_tab_bar_is_one_row_at_1366x768(browser: Any, ui_server: UiServer, shots: Path) -> None:
    ctx, page, watch = open_page(browser, ui_server, ui_server.token, (1366, 768))
    try:
        page.wait_for_timeout(500)
        bar = page.evaluate(
            """() => {
              const tabs = [...document.querySelectorAll('[data-testid=tab-bar] > button')];
              const bar = document.querySelector('[data-testid=tab-bar]');
              return {
                n: tabs.length,
                tops: [...new Set(tabs.map(t => Math.round(t.getBoundingClientRect().top)))],
                clipped: tabs.filter(t => {
                  const l = t.querySelector('.tab-label');
                  const right = bar.getBoundingClientRect().right + 1;
                  return l.scrollWidth > l.clientWidth || t.getBoundingClientRect().right > right;
                }).map(t => t.dataset.testid),
                titled: tabs.every(t => t.title.length > 0),
                barScrolls: bar.scrollWidth > bar.clientWidth + 1,
                free: bar.clientWidth - tabs.reduce((s, t) => s + t.getBoundingClientRect().width, 0),
              };
            }"""
        )
        page.screenshot(path=str(shots / "tab-bar-1366x768.png"))
        assert bar["n"] >= 7 and len(bar["tops"]) == 1, bar
        assert bar["clipped"] == [] and not bar["barScrolls"] and bar["titled"], bar
        # room for 10: the registered tabs, padded to 10 with copies of the widest, fit the bar
        assert bar["n"] >= 10 or bar["free"] >= (10 - bar["n"]) * 42, bar
        assert watch.errors == [] and watch.external == [], (watch.errors, watch.failed)
    finally:
        ctx.close()


def test_panels_say_loading_not_no_rows_while_fetching(browser: Any, ui_server: UiServer) -> None:
    ctx, page, watch = open_page(browser, ui_server, ui_server.token, (1400, 860))
    try:
        # hold every AMI answer back so the panels are caught mid-fetch
        held: list[Any] = []
        released: list[bool] = []

        def hold(route: Any) -> None:
            if released:
                route.continue_()
            else:
                held.append(route)

        page.route("**/api/ami/**", hold)
        page.click("[data-testid=tab-ami]")
        page.locator("[data-testid=panel-loading]").first.wait_for(timeout=10_000)
        assert "no rows" not in page.locator(".panel").inner_text()
        page.click("[data-testid=tab-health]")
        page.locator("[data-testid=panel-loading]").first.wait_for(timeout=10_000)
        assert "no rows" not in page.locator(".panel").inner_text()
        released.append(True)
        for route in held:
            route.continue_()
        page.wait_for_function("() => !document.querySelector('[data-testid=panel-loading]')", timeout=60_000)
        assert watch.errors == [] and watch.external == [], (watch.errors, watch.failed)
    finally:
        ctx.close()
