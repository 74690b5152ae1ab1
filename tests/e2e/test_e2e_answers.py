"""Getting answers out, in a real browser: an address typed in the search box finds the premise; a
table's Export menu downloads the whole list from the server."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e_server import UiServer

from conftest import PageWatch

pytestmark = pytest.mark.browser

UI = tuple[Any, PageWatch]


def test_searching_an_address_opens_the_premise(ui: UI, tiny_grid: Any) -> None:
    page, watch = ui
    m = tiny_grid.meters.iloc[20]
    page.fill("[data-testid=search-input]", f"{m.address} {m.zip_code}")
    hit = page.locator("[data-testid=search-hits] li", has_text="premise").first
    hit.wait_for(timeout=15_000)
    assert m.address in hit.inner_text()
    page.press("[data-testid=search-input]", "Enter")
    page.wait_for_function(
        "(id) => document.querySelector('[data-testid=inspector-id]')?.textContent === id",
        arg=str(m.meter_id),
        timeout=15_000,
    )
    assert watch.errors == [], watch.failed


def test_export_menu_downloads_the_list(ui: UI, ui_server: UiServer, tiny_grid: Any, tmp_path: Path) -> None:
    page, watch = ui
    xf = str(tiny_grid.transformers.transformer_id.iloc[0])
    order = {"work_type": "inspection", "priority": "low", "description": "export check", "asset_id": xf}
    with httpx.Client(
        base_url=ui_server.base_url, headers={"Authorization": f"Bearer {ui_server.token}"}
    ) as c:
        r = c.post("/api/work-orders", json=order)
        assert r.status_code in (200, 201), r.text
        wo_id = r.json()["work_order_id"]
    page.click("[data-testid=tab-workorders]")
    page.wait_for_selector("[data-testid=workorders-panel] [data-testid=export] select")
    with page.expect_download(timeout=15_000) as info:
        page.select_option("[data-testid=workorders-panel] [data-testid=export] select", "csv")
    download = info.value
    assert download.suggested_filename == "work-orders.csv"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    mine = [row for row in rows if row["work_order_id"] == wo_id]
    assert len(mine) == 1 and mine[0]["asset_id"] == xf
    assert watch.errors == [], watch.failed
