"""The alarm list in a real browser: last-gasps and a Range B voltage sag posted to the AMI API show in
the Alarms tab newest first with severity and local time; the operator acknowledges one; no console errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from e2e_server import UiServer

from conftest import PageWatch

pytestmark = pytest.mark.browser


def test_acknowledge_an_alarm(ui: tuple[Any, PageWatch], ui_server: UiServer, tiny_grid: Any) -> None:
    page, watch = ui
    meters = [str(m) for m in tiny_grid.meters.meter_id][:2]
    now = datetime.now(UTC).replace(microsecond=0)
    rows = [
        {"meter_id": meters[0], "event_type": "last_gasp", "event_time_utc": now - timedelta(minutes=3)},
        {
            "meter_id": meters[1],
            "event_type": "voltage_sag",
            "event_time_utc": now - timedelta(minutes=1),
            "value": 101.5,
        },
    ]
    body = "".join(json.dumps({**r, "event_time_utc": r["event_time_utc"].isoformat()}) + "\n" for r in rows)  # type: ignore[attr-defined]
    with httpx.Client(
        base_url=ui_server.base_url, headers={"Authorization": f"Bearer {ui_server.token}"}, timeout=60
    ) as c:
        r = c.post("/api/ami/events", content=body, headers={"Content-Type": "application/x-ndjson"})
        assert r.status_code == 200, r.text

    page.click("[data-testid=tab-alarms]")
    panel = page.locator("[data-testid=alarms-panel]")
    panel.locator("[data-testid=alarm-row]").first.wait_for(timeout=30_000)
    texts = panel.locator("[data-testid=alarm-row]").all_inner_texts()
    mine = [t for t in texts if meters[0] in t or meters[1] in t]
    assert "Voltage excursion" in mine[0] and "critical" in mine[0] and "Range B" in mine[0], mine
    assert "Last gasp" in mine[1], mine
    assert "CST" in panel.inner_text() or "CDT" in panel.inner_text()  # times in the utility's zone, shown

    gasp = panel.locator("[data-testid=alarm-row]", has_text=meters[0]).filter(has_text="Last gasp")
    gasp.locator("[data-testid=alarm-ack]").click()
    gasp.locator("[data-testid=alarm-acked]").wait_for(timeout=10_000)
    alarm_id = gasp.get_attribute("data-alarm-id")
    with httpx.Client(
        base_url=ui_server.base_url, headers={"Authorization": f"Bearer {ui_server.token}"}, timeout=60
    ) as c:
        items = {a["alarm_id"]: a for a in c.get("/api/alarms").json()["items"]}
    assert items[str(alarm_id)]["acknowledged"] is True
    # after a reload of the list the acknowledgement still shows (it is stored, not local state)
    page.click("[data-testid=tab-outages]")
    page.click("[data-testid=tab-alarms]")
    panel.locator(f"[data-alarm-id='{alarm_id}'] [data-testid=alarm-acked]").wait_for(timeout=10_000)
    assert watch.errors == [], watch.failed
