"""``GET /metrics`` on a real server: who may scrape it, the metric families an operator's monitoring
expects after real traffic (latency per route template, ingestion, lake, compaction, jobs, streams), and
request ids in every error body and in the request's log lines."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from live_server import LiveServer, serve_grid

from fluxops.core.logging import JsonFormatter, RequestIdFilter
from fluxops.grid.models import Grid

SCRAPE_TOKEN = "scrape-token-0123456789abcdef"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, tiny_grid: Grid) -> Iterator[LiveServer]:
    with serve_grid(tmp_path_factory.mktemp("metrics"), tiny_grid, metrics_token=SCRAPE_TOKEN) as live:
        yield live


def _series(text: str, name: str) -> dict[str, float]:
    """``{labels: value}`` of one metric's samples (labels as rendered, e.g. ``{a="b"}``)."""
    out = {}
    for m in re.finditer(rf"^{re.escape(name)}(\{{.*\}})? (\S+)$", text, re.M):
        out[m.group(1) or ""] = float(m.group(2))
    return out


def test_metrics_need_an_admin_or_the_scrape_token(server: LiveServer) -> None:
    with server.client() as anon:
        r = anon.get("/metrics")
        assert r.status_code == 401 and r.json()["details"]["request_id"] == r.headers["x-request-id"]
    with server.client(server.admin_token) as admin:
        key = admin.post("/api/admin/keys", json={"role": "operator", "label": "not a scraper"}).json()[
            "token"
        ]
        r = admin.get("/metrics")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=0.0.4")
    with server.client(SCRAPE_TOKEN) as scraper:
        assert scraper.get("/metrics").status_code == 200
        assert scraper.get("/api/jobs/x").status_code == 401  # the scrape token opens /metrics only
    with server.client(key) as operator:
        assert operator.get("/metrics").status_code == 403
    with server.client("wrong-token") as wrong:
        assert wrong.get("/metrics").status_code == 401


def test_metric_families_after_requests_an_ingest_and_a_compaction(server: LiveServer) -> None:
    at = (datetime.now(UTC) - timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    meters = server.store.read_grid().meters["meter_id"].tolist()[:3]
    rows = [
        {
            "meter_id": m,
            "interval_start_utc": (at + timedelta(minutes=15 * k)).isoformat(),
            "kwh_delivered": 0.4,
        }
        for m in meters
        for k in range(2)
    ] + [{"meter_id": "MTR-NOT-A-METER", "interval_start_utc": at.isoformat(), "kwh_delivered": 0.4}]
    body = "".join(json.dumps(r) + "\n" for r in rows)
    with server.client(server.admin_token) as c:
        for job_id in ("a1", "b2", "c3"):
            assert c.get(f"/api/jobs/{job_id}").status_code == 404
        rep = c.post(
            "/api/ami/readings", content=body, headers={"Content-Type": "application/x-ndjson"}
        ).json()
        assert (rep["accepted"], rep["rejected"]) == (6, 1), rep
        c.post("/api/ami/readings", content=body, headers={"Content-Type": "application/x-ndjson"})
        assert c.post("/api/ami/compact").status_code == 200
        text = c.get("/metrics").text

    latency = _series(text, "fluxops_http_request_duration_seconds_count")
    assert latency['{method="GET",route="/api/jobs/{job_id}",status="404"}'] >= 3
    assert not any("a1" in labels for labels in latency)  # one series per route, not per path
    rows_total = _series(text, "fluxops_ingest_rows_total")
    assert rows_total['{dataset="readings",outcome="accepted"}'] >= 6
    assert rows_total['{dataset="readings",outcome="duplicate"}'] >= 6
    assert (
        _series(text, "fluxops_ingest_rejections_total")['{dataset="readings",reason="unknown meter"}'] >= 2
    )
    day = at.date().isoformat()
    assert _series(text, "fluxops_lake_files")[f'{{dataset="readings",partition="{day}"}}'] >= 1
    assert _series(text, "fluxops_lake_bytes")[f'{{dataset="readings",partition="{day}"}}'] > 0
    assert (
        _series(text, "fluxops_lake_compaction_duration_seconds_count")['{trigger="api",outcome="ok"}'] >= 1
    )
    assert set(_series(text, "fluxops_jobs_oldest_age_seconds")) == {'{state="queued"}', '{state="running"}'}
    assert _series(text, "fluxops_sse_clients") == {"": 0.0}
    for family in ("fluxops_store_errors_total", "fluxops_jobs"):
        assert f"# TYPE {family} " in text  # declared even before the first sample


def test_error_bodies_carry_the_request_id_of_the_header(server: LiveServer) -> None:
    with server.client(server.admin_token) as c:
        for r in (
            c.get("/api/jobs/nope"),  # 404 from a domain error
            c.get("/api/cascade/precomputed", params={"limit": 0}),  # 422 from validation
            c.get("/api/no-such-route"),  # Starlette's own 404
        ):
            assert 400 <= r.status_code < 500, r.text
            assert r.json()["details"]["request_id"] == r.headers["x-request-id"]
        mine = c.get("/api/jobs/nope", headers={"X-Request-ID": "proxy-id.42"})
        assert mine.headers["x-request-id"] == "proxy-id.42" == mine.json()["details"]["request_id"]
        odd = c.get("/api/jobs/nope", headers={"X-Request-ID": 'no spaces or quotes" please'})
        assert odd.headers["x-request-id"] != 'no spaces or quotes" please'  # replaced, never echoed


def test_log_lines_of_a_request_carry_its_request_id(server: LiveServer) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    access = logging.getLogger("uvicorn.access")
    level = access.level
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        with server.client(server.admin_token) as c:
            r = c.get("/api/jobs/nope", headers={"X-Request-ID": "log-test-1"})
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
    lines = [json.loads(x) for x in stream.getvalue().splitlines()]
    mine = [x for x in lines if x["request_id"] == r.headers["x-request-id"] == "log-test-1"]
    assert [(x["method"], x["path"], x["status"]) for x in mine] == [("GET", "/api/jobs/nope", 404)]
