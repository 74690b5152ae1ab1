"""The assistant's chat panel in a real browser, offline engine (no model configured): a question answered
with a number and its unit while the tool calls stream, the tool call unfolded with its arguments, an
asset id in the answer clicked (the inspector opens on it), a series shown as a table, a cited document
opened at the quoted passage, thumbs up stored, the thread reopened; no console errors, nothing off the host."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from e2e_server import UiServer

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

    # a cited document opens at the quoted passage
    doc_answer = _ask(page, "What does IEEE 1366 say about Major Event Days?", 3)
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
    page.locator("[data-testid=assistant-answer]").nth(2).wait_for(timeout=10_000)
    assert page.locator("[data-testid=feedback-saved]").count() == 1

    assert watch.errors == [], watch.errors
    assert watch.external == [], watch.external
