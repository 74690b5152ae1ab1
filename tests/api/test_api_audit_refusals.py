"""Anonymous refused calls are counted, not written one row each: a scanner cannot flood the audit log,
and the log still says how many calls were refused, where, and why."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from live_server import LiveServer

from fluxops.api.audit import RefusalAggregator
from fluxops.security.ports import AuditEntry

CALLS = 1000


def _all_rows(live: LiveServer) -> int:
    return len(live.store.list_audit(limit=1_000_000))


def test_a_thousand_anonymous_refusals_add_a_few_audit_rows(live: LiveServer) -> None:
    before = _all_rows(live)
    paths = [f"/api/work-orders/WO-{i:04d}/start" for i in range(CALLS // 2)]  # one route, many ids
    with httpx.Client(base_url=live.base_url, timeout=60.0) as anon:
        for path in paths:
            assert anon.post(path).status_code == 401
        with_bad_key = {"Authorization": "Bearer fx_000000000000_nope"}
        for path in paths:
            assert anon.post(path, headers=with_bad_key).status_code == 401
    written_during_burst = _all_rows(live) - before
    # per reason: the first refusal of a new window, and the count of an expired earlier window
    assert written_during_burst <= 4

    with live.client(live.admin_token) as admin:  # reading the log writes the pending counts
        entries = admin.get("/api/admin/audit", params={"limit": 20}).json()
    added = _all_rows(live) - before
    assert added <= 6, added
    route = "/api/work-orders/{work_order_id}/{action}"
    mine = [e for e in entries[:added] if e["status_code"] == 401 and e["actor"] == "anonymous"]
    counted = {
        reason: sum(
            e["detail"].get("refused_count", 1) for e in mine if e["detail"].get("refusal_reason") == reason
        )
        for reason in ("no_credentials", "invalid_credentials")
    }
    # every refusal is accounted for (earlier tests may have opened the window: never fewer)
    assert counted["no_credentials"] >= CALLS // 2 - 1
    assert counted["invalid_credentials"] >= CALLS // 2 - 1
    summaries = [e for e in mine if e["detail"].get("aggregated")]
    assert summaries and all(e["path"] == route for e in summaries)


def test_authenticated_refusals_and_other_calls_are_still_one_row_each(live: LiveServer) -> None:
    before = _all_rows(live)
    with live.client(live.admin_token) as admin:
        for _ in range(3):
            r = admin.post("/api/work-orders", json={"work_type": "inspection"})
            assert r.status_code == 422
    assert _all_rows(live) - before == 3


def _entry(path: str) -> AuditEntry:
    return AuditEntry(datetime.now(UTC), "anonymous", "", "POST", path, 401, {"request_id": "r"})


def test_aggregator_windows_and_summaries() -> None:
    agg = RefusalAggregator(window_s=3600)
    first = agg.admit(_entry("/api/x/1"), "no_credentials", route="/api/x/{id}")
    assert len(first) == 1 and first[0].detail["refusal_reason"] == "no_credentials"
    assert first[0].path == "/api/x/1"  # the first refusal keeps its real path
    for i in range(50):
        assert agg.admit(_entry(f"/api/x/{i}"), "no_credentials", route="/api/x/{id}") == []
    other = agg.admit(_entry("/api/x/1"), "invalid_credentials", route="/api/x/{id}")
    assert len(other) == 1  # another reason opens its own window
    (summary,) = agg.drain()
    assert summary.detail["refused_count"] == 50 and summary.path == "/api/x/{id}"
    assert agg.drain() == []  # counted once

    expired = RefusalAggregator(window_s=0.0)
    expired.admit(_entry("/a"), "no_credentials", route="/a")
    rows = expired.admit(_entry("/a"), "no_credentials", route="/a")
    assert len(rows) == 1  # a new window: nothing was suppressed in the old one, no summary
