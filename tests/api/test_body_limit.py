"""The request body limit (issue 8 §2): 413 naming the limit, decided before the body is read — from
Content-Length up front, by counting for a chunked body — and only after authentication."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_server import BOOTSTRAP_TOKEN, start_uvicorn, stop_uvicorn

from fluxops.api.app import create_app
from fluxops.core.config import IngestSettings, ServerSettings, Settings

LIMIT = 4096
ROW = b'{"meter_id": "MTR-NOPE", "interval_start_utc": "2026-03-01T00:15:00Z", "kwh_delivered": 0.5}\n'
NDJSON = {"Content-Type": "application/x-ndjson"}


@pytest.fixture(scope="module")
def base_url(tiny_store: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(
        data_dir=Path(tmp_path_factory.mktemp("body-limit")),
        server=ServerSettings(bootstrap_token=BOOTSTRAP_TOKEN),
        ingest=IngestSettings(max_body_bytes=LIMIT),
    )
    running = start_uvicorn(create_app(settings, store=tiny_store))
    yield f"http://127.0.0.1:{running.port}"
    stop_uvicorn(running)


def _client(base_url: str, token: str | None = BOOTSTRAP_TOKEN) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=60.0)


def _assert_413(r: httpx.Response) -> None:
    assert r.status_code == 413, r.text
    body = r.json()
    assert body["code"] == "payload_too_large" and body["details"]["limit_bytes"] == LIMIT
    assert f"{LIMIT:,} bytes" in body["message"]


def test_declared_length_over_the_limit_is_413(base_url: str) -> None:
    with _client(base_url) as c:
        _assert_413(c.post("/api/ami/readings", content=ROW * 60, headers=NDJSON))
        ok = c.post("/api/ami/readings", content=ROW * 10, headers=NDJSON)  # under: parsed and validated
        assert ok.status_code == 200 and ok.json()["rejected"] == 10


def test_chunked_body_is_counted_as_it_streams(base_url: str) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(60):
            yield ROW

    with _client(base_url) as c:
        r = c.post("/api/ami/events", content=chunks(), headers=NDJSON)
        assert r.request.headers.get("transfer-encoding") == "chunked"
        _assert_413(r)


def test_authentication_comes_before_the_size(base_url: str) -> None:
    with _client(base_url, token=None) as c:
        assert c.post("/api/ami/readings", content=ROW * 60, headers=NDJSON).status_code == 401


def test_a_declared_json_body_route_also_answers_413(base_url: str) -> None:
    """FastAPI reads a declared JSON body itself and would turn the limit into a 400."""
    with _client(base_url) as c:
        r = c.post("/api/admin/keys", content=b'{"role": "viewer", "label": "' + b"x" * LIMIT + b'"}')
        _assert_413(r)


def test_openapi_documents_413_on_ingestion(base_url: str) -> None:
    with _client(base_url) as c:
        paths = c.get("/openapi.json").json()["paths"]
    for path in ("/api/ami/readings", "/api/ami/readings/corrections", "/api/ami/events"):
        assert "413" in paths[path]["post"]["responses"], path
