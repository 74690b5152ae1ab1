"""The operator's console in a real browser: the outage lifecycle from the UI, honest substation discs,
the inspector's related records, simulation mode, layouts at control-room sizes, quiet empty search."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e_server import READY_JS, UiServer, inject_last_gasps

from conftest import PageWatch

pytestmark = pytest.mark.browser

UI = tuple[Any, PageWatch]


def api(server: UiServer) -> httpx.Client:
    return httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {server.token}"}, timeout=60
    )


def layer(page: Any, layer_id: str) -> dict[str, Any] | None:
    layers: list[dict[str, Any]] = page.evaluate("() => window.__fluxops.layers")
    return next((entry for entry in layers if entry["id"] == layer_id), None)


def jump(page: Any, lon: float, lat: float, zoom: float) -> None:
    js = "([lon, lat, z]) => window.__fluxops.map.jumpTo({center: [lon, lat], zoom: z})"
    page.evaluate(js, [lon, lat, zoom])
    page.wait_for_timeout(400)


def smallest_transformer_outage(server: UiServer, grid: Any, k: int) -> tuple[str, list[str]]:
    """Last-gasps from every meter of the k-th transformer with 2+ meters: a small outage."""
    counts = grid.meters.transformer_id.value_counts()
    xf = str(counts[counts >= 2].index[-1 - k])
    ids = [str(m) for m in grid.meters[grid.meters.transformer_id == xf].meter_id]
    inject_last_gasps(server, ids, datetime.now(UTC) - timedelta(minutes=4))
    return xf, ids


def test_acknowledge_confirm_restore_an_outage_from_the_ui(
    ui: UI, ui_server: UiServer, tiny_grid: Any
) -> None:
    page, watch = ui
    page.on("dialog", lambda d: d.accept())  # "Restore …?" asks first
    xf, _ = smallest_transformer_outage(ui_server, tiny_grid, 0)
    row = page.locator("[data-testid=outage-row]", has_text=xf)
    row.wait_for(timeout=30_000)
    with api(ui_server) as c:
        (o,) = c.get("/api/outages", params={"status": "active", "device": xf}).json()["items"]
    oid = o["outage_id"]

    def status() -> dict[str, Any]:
        with api(ui_server) as c:
            return dict(c.get(f"/api/outages/{oid}").json())

    row.click()
    detail = page.locator("[data-testid=outage-detail]")
    detail.wait_for()
    assert "ETR" in page.locator("[data-testid=outage-etr]").inner_text()
    detail.locator("[data-testid=outage-cause]").select_option("vegetation")
    for _ in range(50):  # the PUT lands, then the list reloads
        if status()["cause_code"] == "vegetation":
            break
        page.wait_for_timeout(100)
    assert status()["cause_code"] == "vegetation"
    detail.locator("[data-testid=outage-acknowledge]").click()
    detail.locator("[data-testid=outage-confirm]").wait_for()
    page.wait_for_function("() => !document.querySelector('[data-testid=outage-acknowledge]')")
    assert status()["acknowledged_by"]
    detail.locator("[data-testid=outage-confirm]").click()
    page.wait_for_function("() => !document.querySelector('[data-testid=outage-confirm]')")
    assert status()["status"] == "confirmed"
    detail.locator("[data-testid=outage-restore]").click()
    row.wait_for(state="detached", timeout=15_000)
    assert status()["status"] == "restored"
    assert status()["cause_code"] == "vegetation"
    # … and it is in the restored history
    page.click("[data-testid=outages-view-history]")
    page.locator("[data-testid=history-row]", has_text=oid).wait_for(timeout=15_000)
    page.click("[data-testid=outages-view-reliability]")
    page.locator("[data-testid=reliability-row]").first.wait_for(timeout=15_000)
    assert watch.errors == [], watch.failed


def test_cancel_a_false_outage_from_the_ui(ui: UI, ui_server: UiServer, tiny_grid: Any) -> None:
    page, watch = ui
    page.on("dialog", lambda d: d.accept())
    xf, _ = smallest_transformer_outage(ui_server, tiny_grid, 2)
    row = page.locator("[data-testid=outage-row]", has_text=xf)
    row.wait_for(timeout=30_000)
    row.click()
    page.locator("[data-testid=outage-detail] [data-testid=outage-cancel]").click()
    row.wait_for(state="detached", timeout=15_000)
    with api(ui_server) as c:
        (o,) = c.get("/api/outages", params={"status": "cancelled", "device": xf}).json()["items"]
        assert o["customers_out"] == 0
        assert c.get("/api/outages", params={"status": "active", "device": xf}).json()["items"] == []
    assert watch.errors == [], watch.failed


def test_a_substation_disc_shows_its_share_out_and_its_inspector_the_outage(
    ui: UI, ui_server: UiServer, tiny_grid: Any
) -> None:
    page, watch = ui
    xf, _ = smallest_transformer_outage(ui_server, tiny_grid, 1)
    page.locator("[data-testid=outage-row]", has_text=xf).wait_for(timeout=30_000)
    sub_id = str(tiny_grid.transformers.set_index("transformer_id").loc[xf, "substation_id"])
    sub = tiny_grid.substations.set_index("substation_id").loc[sub_id]
    jump(page, float(sub.lon), float(sub.lat), 9)
    page.wait_for_function(
        "() => (window.__fluxops.layers.find(l => l.id === 'substation-outage-badges')"
        " || {length: 0}).length > 0",
        timeout=15_000,
    )
    assert page.locator("[data-testid=legend-disc]").inner_text().startswith("Substation disc")
    # the inspector of the substation lists the outage on its feeder (from the outage's members)
    page.fill("[data-testid=search-input]", sub_id)
    page.press("[data-testid=search-input]", "Enter")
    page.wait_for_selector("[data-testid=inspector]")
    page.locator("[data-testid=related-outage]").first.wait_for(timeout=15_000)
    assert "downstream of this asset" in page.locator("[data-testid=related-outage]").first.inner_text()
    assert watch.errors == [], watch.failed


def test_a_cascade_is_a_simulation_mode_with_a_banner_and_an_exit(ui: UI, tiny_grid: Any) -> None:
    page, watch = ui
    patient_zero = str(tiny_grid.substation_transformers.transformer_id.iloc[0])
    page.click("[data-testid=tab-cascade]")
    page.fill("[data-testid=patient-zero]", patient_zero)
    page.click("[data-testid=run-cascade]")
    page.wait_for_selector("[data-testid=simulation-banner]", timeout=60_000)
    assert "SIMULATION" in page.locator("[data-testid=simulation-banner]").inner_text()
    page.wait_for_selector("[data-testid=legend-simulation]")
    waves = layer(page, "cascade-waves")
    assert waves is not None and waves["visible"]
    page.click("[data-testid=exit-simulation]")
    page.wait_for_selector("[data-testid=simulation-banner]", state="detached")
    page.wait_for_function("() => !window.__fluxops.layers.some(l => l.id === 'cascade-waves')")
    assert page.locator("[data-testid=tab-outages]").get_attribute("class") == "active"
    # back in the workspace, the result is still there and so is the simulation
    page.click("[data-testid=tab-cascade]")
    page.wait_for_selector("[data-testid=simulation-banner]")
    assert watch.errors == [], watch.failed


def test_enter_on_an_empty_search_box_does_nothing(ui: UI) -> None:
    page, watch = ui
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/assets/" in r.url else None)
    page.fill("[data-testid=search-input]", "   ")
    page.press("[data-testid=search-input]", "Enter")
    page.wait_for_timeout(500)
    assert asked == []
    assert page.locator(".search-note").count() == 0
    assert watch.errors == [], watch.failed


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    out = tmp_path / "screenshots"
    out.mkdir()
    return out


@pytest.fixture
def sized_page(browser: Any, ui_server: UiServer) -> Iterator[Any]:
    contexts: list[Any] = []

    def open_at(width: int, height: int) -> tuple[Any, PageWatch]:
        ctx = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(ctx)
        page = ctx.new_page()
        watch = PageWatch()
        page.on("console", watch.console)
        page.on("pageerror", lambda e: watch.errors.append(str(e)))
        page.on(
            "request",
            lambda r: (
                watch.external.append(r.url)
                if not r.url.startswith((ui_server.base_url, "data:", "blob:"))
                else None
            ),
        )
        page.goto(ui_server.ui_url)
        page.wait_for_function(READY_JS, timeout=60_000)
        return page, watch

    yield open_at
    for ctx in contexts:
        ctx.close()


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1920, 1080)])
def test_layout_fits_control_room_screens(sized_page: Any, shots: Path, width: int, height: int) -> None:
    page, watch = sized_page(width, height)
    page.wait_for_timeout(1000)
    fits = page.evaluate(
        """() => {
          const r = (s) => document.querySelector(s).getBoundingClientRect();
          const doc = document.documentElement;
          const kpis = [...document.querySelectorAll('[data-testid=kpi-header] .kpi')]
            .map(e => e.getBoundingClientRect());
          return {
            noScroll: doc.scrollWidth <= window.innerWidth && doc.scrollHeight <= window.innerHeight,
            header: r('header.top').height,
            map: r('[data-testid=map]').width,
            side: r('aside.side').width,
            legendBottom: r('[data-testid=legend]').bottom,
            kpisVisible: kpis.every(b => b.right <= window.innerWidth && b.width > 0),
          };
        }"""
    )
    path = shots / f"console-{width}x{height}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    assert fits["noScroll"], fits
    assert fits["kpisVisible"], fits
    assert fits["header"] <= 90, fits
    assert fits["map"] >= width * 0.5 and fits["side"] >= 320, fits
    assert fits["legendBottom"] <= height, fits
    assert watch.errors == [] and watch.external == []


def test_a_work_order_gets_the_proposed_crew_and_shows_in_the_inspector(
    ui: UI, ui_server: UiServer, tiny_grid: Any
) -> None:
    page, watch = ui
    ui_server.app.state.ops.service().dispatch.seed_demo_crews()  # the roster `fluxops demo` seeds
    seg = tiny_grid.line_segments
    segment = str(seg[seg.construction == "underground"].segment_id.iat[0])
    with api(ui_server) as c:
        page.fill("[data-testid=search-input]", segment)
        page.press("[data-testid=search-input]", "Enter")
        page.wait_for_selector("[data-testid=inspector]")
        page.click("[data-testid=tab-workorders]")
        page.locator(".wo-form button[type=submit]").click()
        row = page.locator("[data-testid=workorder-row]", has_text=segment)
        row.wait_for(timeout=15_000)
        wo = row.locator("td").first.inner_text()
        best = c.get(f"/api/work-orders/{wo}/crew-proposals").json()["proposals"][0]
        row.locator("[data-testid=propose-crew]").click()
        choice = row.locator("[data-testid=crew-choice]")
        choice.wait_for()
        assert choice.input_value() == best["crew_id"]  # the nearest qualified crew, preselected
        row.locator("[data-testid=assign-crew]").click()
        page.wait_for_function(
            "(wo) => [...document.querySelectorAll('[data-testid=workorder-row]')]"
            ".some(r => r.innerText.includes(wo) && r.innerText.includes('assigned'))",
            arg=wo,
            timeout=15_000,
        )
        assert c.get(f"/api/work-orders/{wo}").json()["crew_id"] == best["crew_id"]
    # the inspector of the segment lists the order (no reload)
    page.locator("[data-testid=related-workorder]", has_text=wo).wait_for(timeout=15_000)
    assert watch.errors == [], watch.failed
