"""``GET /api/ami/rejections``: the dead letters on disk, newest first, for operators and admins only;
``/{id}/payload`` gives the kept bytes back exactly."""

from __future__ import annotations

from live_server import LiveServer
from typer.testing import CliRunner

from fluxops.cli import app as cli_app
from fluxops.storage.deadletter import DeadLetterDir, dead_letter_dir


def test_rejections_listed_with_reason_and_payload(live: LiveServer, role_tokens: dict[str, str]) -> None:
    store = DeadLetterDir(dead_letter_dir(live.app.state.settings))
    first = store.put(
        source="mqtt",
        topic="t/readings",
        reason="cannot parse",
        error="InvalidInputError",
        attempts=0,
        payload=b"\x00\xffnot a batch",
    )
    second = store.put(
        source="mqtt",
        topic="t/events",
        reason="lake write failed",
        error="StorageError",
        attempts=4,
        payload=b"{}",
    )
    with live.client(role_tokens["operator"]) as c:
        body = c.get("/api/ami/rejections").json()
        assert body["total"] >= 2
        rows = {r["id"]: r for r in body["rows"]}
        assert [r["id"] for r in body["rows"]][:2] == [second.id, first.id]  # newest first
        assert rows[second.id]["reason"] == "lake write failed" and rows[second.id]["attempts"] == 4
        assert rows[first.id]["payload_bytes"] == len(b"\x00\xffnot a batch")
        assert c.get(f"/api/ami/rejections/{first.id}/payload").content == b"\x00\xffnot a batch"
        assert c.get("/api/ami/rejections/..%2f..%2fetc%2fpasswd/payload").status_code == 404
        assert c.get("/api/ami/rejections", params={"limit": 1}).json()["count"] == 1
    with live.client(role_tokens["viewer"]) as c:
        assert c.get("/api/ami/rejections").status_code == 403
    with live.client(role_tokens["admin"]) as c:
        assert c.get("/api/ami/rejections").status_code == 200

    res = CliRunner().invoke(
        cli_app, ["ami", "rejections", "--data-dir", str(live.app.state.settings.data_dir)]
    )
    assert res.exit_code == 0, res.output
    assert second.id in res.output and "lake write failed" in res.output
