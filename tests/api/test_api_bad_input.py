"""Hostile or malformed input anywhere in the grid/asset/admin API gets a 4xx in the one error
shape, naming the parameter — never a 500."""

from __future__ import annotations

import pytest
from live_server import LiveServer

CASES: list[tuple[str, str, dict[str, str], str | None]] = [
    ("GET", "/api/assets", {"limit": "-1"}, "limit"),
    ("GET", "/api/assets", {"limit": "1e10"}, "limit"),
    ("GET", "/api/assets", {"bbox": "inf,0,1,1"}, "bbox"),
    ("GET", "/api/assets", {"bbox": ",,,"}, "bbox"),
    ("GET", "/api/assets", {"bbox": "1;DROP TABLE assets,0,2,1"}, "bbox"),
    ("GET", "/api/assets", {"cursor": ""}, "cursor"),
    ("GET", "/api/assets", {"type": ""}, "type"),
    ("GET", "/api/assets", {"type": "meter' OR '1'='1"}, "type"),
    ("GET", "/api/assets", {"feeder": "x" * 1000}, "feeder"),
    ("GET", "/api/assets/%20", {}, "asset_id"),
    ("GET", "/api/feeders", {"substation": ""}, "substation"),
    ("GET", "/api/topology", {"bbox": "-95,29,-96,30"}, "bbox"),
    ("GET", "/api/map/meters", {"bbox": "nan,0,1,1"}, "bbox"),
    ("GET", "/health", {"detailed": "perhaps"}, "detailed"),
    ("GET", "/api/admin/audit", {"limit": "0"}, "limit"),
    ("DELETE", "/api/admin/keys/fx_nothere", {}, None),
]


@pytest.mark.parametrize(("method", "path", "params", "field"), CASES)
def test_bad_input_is_4xx_naming_the_parameter(
    live: LiveServer, method: str, path: str, params: dict[str, str], field: str | None
) -> None:
    with live.client(live.admin_token) as c:
        r = c.request(method, path, params=params)
    assert 400 <= r.status_code < 500, r.text
    body = r.json()
    assert set(body) == {"code", "message", "details"}
    if field is not None:
        assert body["details"]["field"] == field
        assert field in body["message"]


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"[]", b'{"preset": 7, "seed": "x"}', b'{"preset": "tiny", "seed": 99999999999}'],
)
def test_malformed_bodies_are_422(live: LiveServer, content: bytes) -> None:
    with live.client(live.admin_token) as c:
        r = c.post("/api/admin/grid", content=content, headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_input" and r.json()["details"]["field"]
