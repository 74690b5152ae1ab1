"""OIDC bearer tokens over real HTTP (HS256 shared secret), and the loopback-only auth_disabled mode."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from live_server import LiveServer, make_settings, start_uvicorn, stop_uvicorn

from fluxops.api.app import create_app

ISSUER, AUDIENCE, SECRET = "https://idp.test/", "fluxops-api", "x" * 48
EVE = {"iss": ISSUER, "aud": AUDIENCE, "sub": "eve", "exp": 2**31, "roles": ["admin"]}


def _token(**claims: Any) -> str:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": now, "exp": now + 600}
    return jwt.encode({**base, **claims}, SECRET, algorithm="HS256")


@pytest.fixture(scope="module")
def oidc_base(live: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = make_settings(
        tmp_path_factory.mktemp("oidc"), oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_hs256_secret=SECRET
    )
    running = start_uvicorn(create_app(settings, store=live.store))
    yield f"http://127.0.0.1:{running.port}"
    stop_uvicorn(running)


def test_oidc_roles_are_enforced(oidc_base: str, live: LiveServer) -> None:
    viewer = {"Authorization": f"Bearer {_token(roles=['viewer'])}"}
    assert httpx.get(f"{oidc_base}/api/assets", params={"limit": 1}, headers=viewer).status_code == 200
    r = httpx.post(f"{oidc_base}/api/admin/keys", json={"role": "viewer"}, headers=viewer)
    assert r.status_code == 403
    admin = {"Authorization": f"Bearer {_token(fluxops_role='admin', sub='bob')}"}
    r = httpx.post(f"{oidc_base}/api/admin/keys", json={"role": "viewer", "label": "by bob"}, headers=admin)
    assert r.status_code == 201
    audit = httpx.get(f"{oidc_base}/api/admin/audit", headers=admin).json()
    assert any(e["actor"] == "oidc:bob" and e["status_code"] == 201 for e in audit)
    assert any(e["actor"] == "oidc:alice" and e["status_code"] == 403 for e in audit)


@pytest.mark.parametrize(
    "token",
    [
        jwt.encode({**EVE, "exp": 1}, SECRET),  # expired
        jwt.encode({**EVE, "aud": "other"}, SECRET),  # wrong audience
        jwt.encode(EVE, "y" * 48),  # wrong key
    ],
)
def test_bad_oidc_tokens_are_401(oidc_base: str, token: str) -> None:
    r = httpx.get(f"{oidc_base}/api/assets", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_auth_disabled_makes_every_caller_admin(live: LiveServer, tmp_path: Path) -> None:
    running = start_uvicorn(create_app(make_settings(tmp_path, auth_disabled=True), store=live.store))
    try:
        base = f"http://127.0.0.1:{running.port}"
        assert httpx.get(f"{base}/api/admin/keys").status_code == 200
    finally:
        stop_uvicorn(running)
