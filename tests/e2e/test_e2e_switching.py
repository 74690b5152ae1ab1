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
    return httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {server.token}"}, timeout=120
    )


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
    # nothing carried over from the fuse: no result, an empty reason
    assert page.locator("[data-testid=switch-done]").count() == 0
    assert page.locator("[data-testid=switching-check]").count() == 0
    assert page.locator("[data-testid=switch-reason]").input_value() == ""
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


def test_switching_orders_from_draft_to_executed_and_cancelled(ui: UI, ui_server: UiServer) -> None:
    """Runs after the inspector test, which left the lateral on feeder 01 (fuse open, tie closed)."""
    page, watch = ui
    page.on("dialog", lambda d: d.accept())  # execute and cancel ask first
    with api(ui_server) as c:
        live = c.get("/api/switching/states").json()
    assert {o["device_id"]: o["state"] for o in live["off_normal"]} == {FUSE: "open", TIE: "closed"}
    page.click("[data-testid=tab-switching]")
    page.click("[data-testid=switching-sub-orders]")

    # closing the fuse under the closed tie makes the overloading loop: refused, no order stored
    page.fill("[data-testid=order-title]", "e2e loop")
    page.fill("[data-testid=order-reason]", "e2e: should be refused")
    page.fill("[data-testid=order-steps]", f"close {FUSE}")
    page.click("[data-testid=order-create]")
    refused = page.locator("[data-testid=order-check-result][data-ok=false]")
    refused.wait_for(timeout=30_000)
    assert f"Refused at step 1 (close {FUSE})" in refused.inner_text()
    assert page.locator("[data-testid=order-row]").count() == 0

    # back to normal, break before make (the lateral's customers are interrupted, no critical one)
    page.fill("[data-testid=order-title]", "e2e return to normal")
    page.fill("[data-testid=order-reason]", "e2e: crew work done")
    page.fill("[data-testid=order-steps]", f"open {TIE}\nclose {FUSE}")
    page.click("[data-testid=order-create]")
    row = page.locator("[data-testid=order-row]", has_text="e2e return to normal")
    row.wait_for(timeout=30_000)
    assert row.locator("[data-testid=order-status]").inner_text() == "Draft"
    row.locator("[data-testid=order-validate]").click()
    row.locator("[data-testid=order-row-check][data-ok=true]").wait_for(timeout=30_000)
    row.locator("[data-testid=order-approve]").click()
    page.locator("[data-testid=order-row][data-status=approved]").wait_for(timeout=30_000)
    assert row.locator("[data-testid=order-status]").inner_text() == "Approved"
    row.locator("[data-testid=order-execute]").click()
    page.locator("[data-testid=order-row][data-status=executed]").wait_for(timeout=30_000)
    assert row.locator("[data-testid=order-status]").inner_text() == "Executed"
    assert row.locator("button").count() == 0  # final
    with api(ui_server) as c:
        assert c.get("/api/switching/states").json()["off_normal"] == []

    # a draft that is cancelled
    page.fill("[data-testid=order-title]", "e2e cancelled")
    page.fill("[data-testid=order-reason]", "e2e: not needed")
    page.fill("[data-testid=order-steps]", f"open {FUSE}")
    page.click("[data-testid=order-create]")
    other = page.locator("[data-testid=order-row]", has_text="e2e cancelled")
    other.wait_for(timeout=30_000)
    other.locator("[data-testid=order-cancel]").click()
    page.locator("[data-testid=order-row][data-status=cancelled]").wait_for(timeout=30_000)
    assert other.locator("[data-testid=order-status]").inner_text() == "Cancelled"
    with api(ui_server) as c:
        assert c.get("/api/switching/states").json()["off_normal"] == []

    page.click("[data-testid=switching-sub-devices]")
    page.locator("[data-testid=off-normal-empty]").wait_for(timeout=15_000)
    assert watch.errors == [], watch.failed


def test_compare_two_configurations(ui: UI, ui_server: UiServer) -> None:
    page, watch = ui
    page.click("[data-testid=tab-switching]")
    page.click("[data-testid=switching-sub-compare]")
    # A: the live configuration (normal again after the orders); B: the lateral moved to feeder 01
    page.fill("[data-testid=compare-a-label]", "normal")
    page.fill("[data-testid=compare-a-pz]", FAULT)
    page.select_option("[data-testid=compare-a-scenario]", "normal")
    page.fill("[data-testid=compare-b-label]", "lateral on feeder 01")
    page.fill("[data-testid=compare-b-states]", f"open {FUSE}\nclosed {TIE}")
    page.select_option("[data-testid=compare-b-scenario]", "normal")
    page.click("[data-testid=compare-run]")
    result = page.locator("[data-testid=compare-result]")
    result.wait_for(timeout=120_000)

    body = {
        "a": {"patient_zero": [FAULT], "scenario": "normal", "switch_states": []},
        "b": {
            "patient_zero": [FAULT],
            "scenario": "normal",
            "switch_states": [{"device_id": FUSE, "state": "open"}, {"device_id": TIE, "state": "closed"}],
        },
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
    # docs/switching.md: the lateral is never interrupted in B (21 fewer at the peak)
    assert fb["peak_customers_out"] - fa["peak_customers_out"] == -21
    assert "Overloaded only in B" in result.inner_text()

    # the same configuration without a fault: power flow next to the live one, and N-1 on it
    page.click("[data-testid=whatif-flow]")
    page.locator("[data-testid=whatif-flow-result]").wait_for(timeout=60_000)
    with api(ui_server) as c:
        states = body["b"]["switch_states"]
        flow = c.post("/api/whatif/powerflow", json={"switch_states": states, "scenario": "normal"}).json()
    cells = page.locator("[data-testid=whatif-row-customers_without_supply] td")
    assert cells.nth(1).inner_text() == f"{flow['live']['customers_without_supply']:,}"
    assert cells.nth(2).inner_text() == f"{flow['proposed']['customers_without_supply']:,}"
    page.click("[data-testid=whatif-n1]")
    n1 = page.locator("[data-testid=whatif-n1-result]")
    n1.wait_for(timeout=120_000)
    assert "line segments out one at a time" in n1.inner_text()
    assert watch.errors == [], watch.failed
