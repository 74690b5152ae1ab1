"""Alarms over real HTTP: last-gasps and a Range B sag posted to the AMI API become alarms, newest first;
an operator acknowledges one (stored, audited, idempotent); a viewer cannot; unknown ids are 404."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from live_server import LiveServer, serve_grid

from fluxops.grid.models import Grid


@pytest.fixture(scope="module")
def alarm_live(tmp_path_factory: pytest.TempPathFactory, tiny_grid: Grid) -> Iterator[LiveServer]:
    """Its own server: the last-gasps posted here open an outage, which must not leak into the shared
    session server other modules assume has none."""
    with serve_grid(tmp_path_factory.mktemp("alarms-api"), tiny_grid) as live:
        yield live


@pytest.fixture(scope="module")
def alarm_tokens(alarm_live: LiveServer) -> dict[str, str]:
    tokens: dict[str, str] = {}
    with alarm_live.client(alarm_live.admin_token) as c:
        for role in ("viewer", "operator"):
            r = c.post("/api/admin/keys", json={"role": role, "label": f"alarms {role}"})
            assert r.status_code == 201, r.text
            tokens[role] = r.json()["token"]
    return tokens


def _post(live: LiveServer, rows: list[dict[str, object]]) -> None:
    body = "".join(json.dumps(r) + "\n" for r in rows)
    with live.client(live.admin_token) as c:
        r = c.post("/api/ami/events", content=body, headers={"Content-Type": "application/x-ndjson"})
    assert r.status_code == 200, r.text


def test_alarms_list_and_ack(alarm_live: LiveServer, alarm_tokens: dict[str, str]) -> None:
    live, role_tokens = alarm_live, alarm_tokens
    meters = sorted(live.store.read_grid().meters["meter_id"].tolist())[-2:]
    now = datetime.now(UTC).replace(microsecond=0)
    t1 = (now - timedelta(minutes=10)).isoformat().replace("+00:00", "Z")
    t2 = (now - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    _post(
        live,
        [
            {"meter_id": meters[0], "event_type": "last_gasp", "event_time_utc": t1},
            {"meter_id": meters[1], "event_type": "voltage_sag", "event_time_utc": t2, "value": 100.0},
        ],
    )
    with live.client(role_tokens["viewer"]) as v:
        r = v.get("/api/alarms")
        assert r.status_code == 200, r.text
        items = [a for a in r.json()["items"] if a["source_id"] in meters]
        assert [(a["kind"], a["severity"]) for a in items][:2] == [
            ("voltage_excursion", "critical"),
            ("last_gasp", "critical"),
        ]
        gasp = items[1]
        assert gasp["acknowledged"] is False
        assert v.post(f"/api/alarms/{gasp['alarm_id']}/ack").status_code == 403
    with live.client(role_tokens["operator"]) as op:
        r = op.post(f"/api/alarms/{gasp['alarm_id']}/ack", json={"note": "crew informed"})
        assert r.status_code == 200, r.text
        first = r.json()
        again = op.post(f"/api/alarms/{gasp['alarm_id']}/ack").json()
        assert again["acknowledged_utc"] == first["acknowledged_utc"]
        assert op.post("/api/alarms/last_gasp.NOPE.20260101T000000Z/ack").status_code == 404
        assert op.post("/api/alarms/not-an-alarm-id/ack").status_code == 404
        # an alarm older than the list's window is still found from its own evidence
        old = (now - timedelta(days=40)).replace(microsecond=0)
        _post(live, [{"meter_id": meters[0], "event_type": "last_gasp", "event_time_utc": old.isoformat()}])
        old_id = f"last_gasp.{meters[0]}.{old.strftime('%Y%m%dT%H%M%SZ')}"
        assert old_id not in {a["alarm_id"] for a in op.get("/api/alarms").json()["items"]}
        assert op.post(f"/api/alarms/{old_id}/ack").status_code == 200
    acks = live.store.query_arrow("SELECT * FROM alarm_acks").to_pylist()
    assert [a["note"] for a in acks if a["alarm_id"] == gasp["alarm_id"]] == ["crew informed"]
    with live.client(role_tokens["viewer"]) as v:
        got = {a["alarm_id"]: a for a in v.get("/api/alarms").json()["items"]}
        assert got[gasp["alarm_id"]]["acknowledged"] is True
        assert got[gasp["alarm_id"]]["acknowledged_by"]
        unacked = v.get("/api/alarms", params={"acknowledged": "false"}).json()["items"]
        assert gasp["alarm_id"] not in {a["alarm_id"] for a in unacked}
    with live.client(live.admin_token) as a:
        log = a.get("/api/admin/audit", params={"limit": 50}).json()
    rows = log["items"] if isinstance(log, dict) else log
    assert any(f"/api/alarms/{gasp['alarm_id']}/ack" in str(row.get("path")) for row in rows)
