"""The assistant's chat panel in a real browser, offline engine (no model configured): a question answered
with a number and its unit while the tool calls stream, the tool call unfolded with its arguments, an
asset id in the answer clicked (the inspector opens on it), a series shown as a table, a cited document
opened at the quoted passage, thumbs up stored, the thread reopened; a change (acknowledging an outage)
run only after the operator confirms it, never offered to a viewer; no console errors, nothing off host."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from e2e_server import READY_JS, UiServer, inject_last_gasps

from conftest import PageWatch

pytestmark = pytest.mark.browser


def _ask(page: Any, question: str, n: int) -> Any:
    """Type and send; wait for the n-th stored answer (the streamed one is replaced by it)."""
    page.fill("[data-testid=assistant-input]", question)
    page.click("[data-testid=assistant-send]")
    answers = page.locator("[data-testid=assistant-answer]")
    answers.nth(n - 1).wait_for(timeout=60_000)
    return answers.nth(n - 1)


def test_chat_panel(ui: tuple[Any, PageWatch], ui_server: UiServer, tiny_grid: Any) -> None:
    page, watch = ui
    xf = tiny_grid.transformers.iloc[0]
    xf_id = str(xf.transformer_id)
    page.click("[data-testid=tab-assistant]")
    panel = page.locator("[data-testid=assistant-panel]")
    panel.wait_for(timeout=10_000)

    first = _ask(page, f"What is the rating of transformer {xf_id}?", 1)
    text = first.locator("[data-testid=answer-text]").inner_text()
    assert xf_id in text
    assert re.search(r"\b\d+(\.\d+)? kVA\b", text) and re.search(r"\b\d+(\.\d+)? kW\b", text), text

    # the evidence, unfolded on demand
    assert first.locator("[data-testid=tool-call]").count() == 0
    first.locator("[data-testid=answer-tools-toggle]").click()
    call = first.locator("[data-testid=tool-call][data-tool=asset_detail]")
    call.wait_for(timeout=5_000)
    assert xf_id in call.locator("[data-testid=tool-args]").inner_text()
    assert "ok" in call.inner_text()

    # an asset id in the answer: the map flies there and the inspector opens on it
    first.locator(f"[data-testid=answer-asset][data-asset-id='{xf_id}']").first.click()
    page.locator("[data-testid=inspector-id]").filter(has_text=xf_id).wait_for(timeout=20_000)

    # a list answer comes with its table
    feeder = str(tiny_grid.feeders.feeder_id.iloc[0])
    listing = _ask(page, f"list the fuses on feeder {feeder}", 2)
    listing.locator("[data-testid=assistant-table]").wait_for(timeout=5_000)
    assert listing.locator("[data-testid=assistant-table] tbody tr").count() >= 2

    # a series: a table and an inline-SVG chart; the SQL run unfolds with the tool call
    counts = _ask(
        page, "sql: SELECT feeder_id, count(*) AS transformers FROM transformers GROUP BY 1 ORDER BY 1", 3
    )
    counts.locator("[data-testid=assistant-chart]").first.wait_for(timeout=5_000)
    assert (
        counts.locator("[data-testid=assistant-table] tbody tr").count()
        == tiny_grid.transformers.feeder_id.nunique()
    )
    counts.locator("[data-testid=answer-tools-toggle]").click()
    assert "GROUP BY" in counts.locator("[data-testid=tool-sql]").inner_text()

    # a cited document opens at the quoted passage
    doc_answer = _ask(page, "What does IEEE 1366 say about Major Event Days?", 4)
    cite = doc_answer.locator("[data-testid=citation]").first
    cite.wait_for(timeout=5_000)
    doc_id = cite.get_attribute("data-doc-id")
    cite.click()
    viewer = page.locator("[data-testid=doc-viewer]")
    viewer.wait_for(timeout=10_000)
    viewer.locator("[data-testid=doc-line-hit]").first.wait_for(timeout=10_000)
    assert "IEEE 1366" in viewer.locator("[data-testid=doc-title]").inner_text()
    assert viewer.locator("[data-testid=doc-line-hit]").first.is_visible()
    viewer.locator("[data-testid=doc-close]").click()

    # thumbs up, with a comment, stored with the thread
    first.locator("[data-testid=feedback-up]").click()
    first.locator("[data-testid=feedback-comment]").fill("right figure")
    first.locator("[data-testid=feedback-send]").click()
    first.locator("[data-testid=feedback-saved]").wait_for(timeout=10_000)
    message_id = first.get_attribute("data-message-id")
    with httpx.Client(
        base_url=ui_server.base_url, headers={"Authorization": f"Bearer {ui_server.token}"}, timeout=60
    ) as c:
        threads = c.get("/api/assistant/threads").json()["items"]
        thread = c.get(f"/api/assistant/threads/{threads[0]['thread_id']}").json()
        docs = c.get(f"/api/docs/{doc_id}")
    assert docs.status_code == 200
    fb = [f for f in thread["feedback"] if f["message_id"] == message_id]
    assert fb and fb[0]["rating"] == "up" and fb[0]["comment"] == "right figure"

    # a new thread, then the first one reopened from the list
    page.click("[data-testid=assistant-new-thread]")
    assert page.locator("[data-testid=assistant-answer]").count() == 0
    page.select_option("[data-testid=assistant-threads]", threads[0]["thread_id"])
    page.locator("[data-testid=assistant-answer]").nth(3).wait_for(timeout=10_000)
    assert page.locator("[data-testid=feedback-saved]").count() == 1

    # the inspector's risk section (another panel) may answer 409 while no risk model is trained
    errors = [e for e in watch.errors if "/api/risk/" not in e]
    assert errors == [], errors
    assert watch.external == [], watch.external


def test_a_change_runs_only_after_the_operator_confirms(
    ui: tuple[Any, PageWatch], ui_server: UiServer, tiny_grid: Any, browser: Any
) -> None:
    page, watch = ui
    meters = tiny_grid.meters
    xf = str(meters.transformer_id.value_counts().index[0])  # the transformer with the most meters
    inject_last_gasps(
        ui_server, [str(m) for m in meters[meters.transformer_id == xf].meter_id], datetime.now(UTC)
    )
    headers = {"Authorization": f"Bearer {ui_server.token}"}
    with httpx.Client(base_url=ui_server.base_url, headers=headers, timeout=60) as c:
        deadline = time.monotonic() + 60
        active: list[dict[str, Any]] = []
        while not active and time.monotonic() < deadline:
            active = c.get("/api/outages", params={"status": "active", "device": xf}).json()["items"]
            time.sleep(0.5)
        assert active, f"no outage on {xf}"
        oid = active[0]["outage_id"]
        viewer_token = c.post("/api/admin/keys", json={"role": "viewer", "label": "e2e viewer"}).json()[
            "token"
        ]

    page.click("[data-testid=tab-assistant]")
    page.click("[data-testid=assistant-new-thread]")
    proposal = _ask(page, f"Acknowledge outage {oid}", 1)
    proposal.locator("[data-testid=pending-confirmation]").wait_for(timeout=5_000)
    with httpx.Client(base_url=ui_server.base_url, headers=headers, timeout=60) as c:
        out = c.get(f"/api/outages/{oid}").json()
        assert out.get("acknowledged_utc") is None  # nothing changed before the confirmation
    proposal.locator("[data-testid=confirm-tool]").click()
    done = page.locator("[data-testid=assistant-answer]").nth(1)
    done.wait_for(timeout=60_000)
    assert f"Outage {oid} is acknowledged" in done.locator("[data-testid=answer-text]").inner_text()
    with httpx.Client(base_url=ui_server.base_url, headers=headers, timeout=60) as c:
        assert c.get(f"/api/outages/{oid}").json()["acknowledged_utc"] is not None

    # a viewer's assistant never offers the change
    ctx = browser.new_context(viewport={"width": 1400, "height": 860})
    vpage = ctx.new_page()
    vpage.goto(f"{ui_server.base_url}/?token={viewer_token}")
    vpage.wait_for_function(READY_JS, timeout=60_000)
    vpage.click("[data-testid=tab-assistant]")
    refused = _ask(vpage, f"Acknowledge outage {oid}", 1)
    assert "your role may not call" in refused.locator("[data-testid=answer-text]").inner_text()
    assert vpage.locator("[data-testid=confirm-tool]").count() == 0
    ctx.close()
    assert [e for e in watch.errors if "/api/risk/" not in e] == [], watch.errors
