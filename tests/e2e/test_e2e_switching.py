"""Switching in a real browser against the `tiny` grid (seed 0; see docs/switching.md for the figures):
operating devices from the inspector with a reason (a refusal shown with its step and why, then the
make-before-break transfer), the Switching panel's off-normal list and log, and a Compare of two
cascades. The module's server is its own, so the states operated here touch no other test file."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from e2e_server import UiServer

from conftest import PageWatch

pytestmark = pytest.mark.browser

UI = tuple[Any, PageWatch]
TIE = "TIE-00002"
FUSE = "FUS-0001-02-00011"
FAULT = "SEG-0001-02-00003"


def api(server: UiServer) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {server.token}"}, timeout=120)


def inspect(page: Any, asset_id: str) -> None:
    page.fill("[data-testid=search-input]", asset_id)
    page.press("[data-testid=search-input]", "Enter")
    page.locator("[data-testid=inspector-id]", has_text=asset_id).wait_for(timeout=15_000)
    page.locator("[data-testid=device-state]").wait_for(timeout=15_000)


def operate(page: Any, action: str, reason: str) -> None:
    page.fill("[data-testid=switch-reason]", reason)
    page.click(f"[data-testid=switch-{action}]")


def test_operating_devices_from_the_inspector(ui: UI, ui_server: UiServer) -> None:
    page, watch = ui
    inspect(page, TIE)
    state = page.locator("[data-testid=device-state]")
    assert state.get_attribute("data-state") == "open"
    assert state.inner_text() == "Open (normal)"
    # the button needs a reason
    assert page.locator("[data-testid=switch-close]").is_disabled()

    # closing the tie while the lateral is still fed from its own feeder: a loop that overloads the fuse
    operate(page, "close", "e2e: transfer the lateral")
    check = page.locator("[data-testid=switching-check]")
    check.wait_for(timeout=30_000)
    assert check.get_attribute("data-ok") == "false"
    text = check.inner_text()
    assert f"Refused at step 1 (close {TIE})" in text
    assert "overloads" in text and "%" in text
    assert page.locator("[data-testid=switch-force]").is_visible()  # emergency switching offered, not done
    assert state.get_attribute("data-state") == "open"

    # break the lateral from its feeder, then make the tie: both pass and change the live state
    inspect(page, FUSE)
    assert page.locator("[data-testid=device-state]").get_attribute("data-state") == "closed"
    operate(page, "open", "e2e: isolate the lateral for the transfer")
    page.locator("[data-testid=switch-done]").wait_for(timeout=30_000)
    fuse_state = page.locator("[data-testid=device-state][data-state=open]")
    fuse_state.wait_for(timeout=15_000)
    assert fuse_state.inner_text() == "Open — operated, normally closed"

    inspect(page, TIE)
    operate(page, "close", "e2e: pick the lateral up from feeder 01")
    page.locator("[data-testid=switch-done]").wait_for(timeout=30_000)
    tie_state = page.locator("[data-testid=device-state][data-state=closed]")
    tie_state.wait_for(timeout=15_000)
    assert tie_state.inner_text() == "Closed — operated, normally open"
    assert page.locator("[data-testid=switching-check]").get_attribute("data-ok") == "true"

    with api(ui_server) as c:
        live = c.get("/api/switching/states").json()
    assert {o["device_id"]: o["state"] for o in live["off_normal"]} == {FUSE: "open", TIE: "closed"}

    # the Switching panel lists both devices off normal and both operations with their reasons
    page.click("[data-testid=tab-switching]")
    rows = page.locator("[data-testid=off-normal-row]")
    rows.first.wait_for(timeout=15_000)
    assert rows.count() == 2
    log = page.locator("[data-testid=switching-log-row]")
    assert log.count() == 2
    assert "e2e: pick the lateral up from feeder 01" in log.nth(0).inner_text()  # newest first
    assert watch.errors == [], watch.failed


def test_compare_two_configurations(ui: UI, ui_server: UiServer) -> None:
    page, watch = ui
    page.click("[data-testid=tab-switching]")
    page.click("[data-testid=switching-sub-compare]")
    # the first test left the lateral on feeder 01: A is the normal configuration, B the live one
    page.fill("[data-testid=compare-a-label]", "normal")
    page.fill("[data-testid=compare-a-pz]", FAULT)
    page.fill("[data-testid=compare-a-states]", f"closed {FUSE}\nopen {TIE}")
    page.select_option("[data-testid=compare-a-scenario]", "normal")
    page.fill("[data-testid=compare-b-label]", "lateral on feeder 01")
    page.select_option("[data-testid=compare-b-scenario]", "normal")
    page.click("[data-testid=compare-run]")
    result = page.locator("[data-testid=compare-result]")
    result.wait_for(timeout=120_000)

    body = {
        "a": {"patient_zero": [FAULT], "scenario": "normal", "switch_states": [
            {"device_id": FUSE, "state": "closed"}, {"device_id": TIE, "state": "open"}]},
        "b": {"patient_zero": [FAULT], "scenario": "normal", "switch_states": []},
    }
    with api(ui_server) as c:
        r = c.post("/api/cascade/compare", json=body)
        assert r.status_code == 200, r.text
        out = r.json()
    fa, fb, diff = out["a"]["figures"], out["b"]["figures"], out["difference_b_minus_a"]
    peak = page.locator("[data-testid=compare-row-peak_customers_out] td")
    assert peak.nth(1).inner_text() == f"{fa['peak_customers_out']:,}"
    assert peak.nth(2).inner_text() == f"{fb['peak_customers_out']:,}"
    d = diff["peak_customers_out"]
    expected = "no change" if d == 0 else f"{'+' if d > 0 else '−'}{abs(d):,} customers"
    assert peak.nth(3).inner_text() == expected
    cm = page.locator("[data-testid=compare-row-customer_minutes] td")
    assert cm.nth(1).inner_text() == f"{round(fa['customer_minutes']):,}"
    for key in ("customers_out", "critical_out", "mwh_unserved", "cost_usd"):
        assert page.locator(f"[data-testid=compare-row-{key}]").count() == 1
    assert "Overloaded only in B" in result.inner_text()
    assert watch.errors == [], watch.failed
