"""The ops figures over HTTP (issue 9 §1): ``/api/reliability`` says its period, annualizes and counts
synthetic outages only when asked and names its MED threshold's source; ``/api/cascade/realtime-risk``
says where its ambient comes from."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from live_server import LiveServer, serve_grid

from fluxops.core.clock import utc_now
from fluxops.grid.models import Grid
from fluxops.ops.models import MeterEvent
from fluxops.ops.trace import NODE_TRANSFORMER, ProtectionTree


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, tiny_grid: Grid) -> Iterator[LiveServer]:
    with serve_grid(tmp_path_factory.mktemp("ops-figures"), tiny_grid) as server:
        yield server


@pytest.fixture(scope="module")
def client(live: LiveServer) -> Iterator[httpx.Client]:
    with live.client(live.admin_token) as c:
        yield c


def _transformer_meters(tree: ProtectionTree, k: int) -> list[str]:
    xs = [n for n in range(len(tree.node_kind)) if tree.node_kind[n] == NODE_TRANSFORMER]
    return [str(m) for m in tree.node_ids[tree.meters_under(xs[k])]]


def test_reliability_says_what_it_covers(client: httpx.Client, live: LiveServer) -> None:
    svc: Any = live.app.state.ops.service()
    now = utc_now()
    fake, real = _transformer_meters(svc.tree, 0), _transformer_meters(svc.tree, 5)
    svc.mark_synthetic(fake, True)
    t0 = now - timedelta(days=2)
    svc.process_events([MeterEvent(m, "last_gasp", t0) for m in fake])
    svc.process_events([MeterEvent(m, "power_restore", t0 + timedelta(minutes=10)) for m in fake])
    svc.mark_synthetic(fake, False)
    t1 = now - timedelta(days=1)
    svc.process_events([MeterEvent(m, "last_gasp", t1) for m in real])
    svc.process_events([MeterEvent(m, "power_restore", t1 + timedelta(minutes=90)) for m in real])

    body = client.get("/api/reliability").json()
    period = body["period"]
    # no AMI lake here: the data start is the first (non-synthetic) interruption on record, a day ago
    assert period["basis"] == "data_coverage" and period["data_start_source"] == "first_outage_on_record"
    assert period["days_covered"] == pytest.approx(1.0, abs=0.01)
    assert body["customers_served"] == len(svc.grid.meters) and not body["annualized"]
    (row,) = body["rows"]
    assert row["customer_minutes"] == pytest.approx(len(real) * 90.0)
    assert row["saidi_min_annualized"] is None
    med = body["major_event_days"]
    assert med["med_threshold_source"] == "default" and med["customer_share"] == 0.1

    both = client.get("/api/reliability", params={"include_synthetic": True, "annualize": True}).json()
    (row2,) = both["rows"]
    assert both["include_synthetic"] and both["annualized"]
    assert row2["customer_minutes"] == pytest.approx(len(real) * 90.0 + len(fake) * 10.0)
    assert row2["saidi_min_annualized"] == pytest.approx(row2["saidi_min"] * row2["annualization_factor"])

    outs = client.get("/api/outages", params={"status": "history"}).json()["items"]
    assert sorted(o["synthetic"] for o in outs) == [False, True]


def test_realtime_risk_ambient_is_the_weather_model(client: httpx.Client) -> None:
    live = client.get("/api/cascade/realtime-risk").json()
    assert live["inputs"]["ambient_source"] == "weather_model"
    what_if = client.get("/api/cascade/realtime-risk", params={"scenario": "summer_peak"}).json()
    assert what_if["inputs"]["ambient_source"] == "scenario" and what_if["inputs"]["ambient_c"] == 42.0
