"""``GET /api/ami/rejections``: the dead letters on disk, newest first, for operators and admins only;
``/{id}/payload`` gives the kept bytes back exactly; ``POST /{id}/replay`` (admin) and ``fluxops ami
rejections replay`` re-validate and ingest them: stored once however often replayed, refused again with
the reason while still invalid (issue 8 §2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from live_server import LiveServer, make_settings, serve_grid
from typer.testing import CliRunner

from fluxops.ami.synth import AmiSynthesizer, DayAmi
from fluxops.cli import app as cli_app
from fluxops.grid.models import Grid
from fluxops.storage import open_store
from fluxops.storage.deadletter import DeadLetterDir, dead_letter_dir
from fluxops.storage.lake import AmiLake


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


def _arrow(t: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, t.schema) as w:
        w.write_table(t)
    return bytes(sink.getvalue().to_pybytes())


@pytest.fixture(scope="module")
def day_ami(tiny_grid: Grid) -> DayAmi:
    return AmiSynthesizer(tiny_grid).day((datetime.now(UTC) - timedelta(days=1)).date())


def _letter(store: DeadLetterDir, topic: str, payload: bytes, reason: str = "lake busy") -> str:
    error = "StorageError" if reason == "lake busy" else "InvalidInputError"
    return store.put(source="mqtt", topic=topic, reason=reason, error=error, attempts=4, payload=payload).id


def test_replay_stores_once_and_refuses_what_is_still_invalid(
    tmp_path: Path, tiny_grid: Grid, day_ami: DayAmi
) -> None:
    # a server of its own: replayed readings land in its lake, not in the session server's (whose
    # tests expect a lake without AMI, e.g. design-peak loading)
    with serve_grid(tmp_path / "replay", tiny_grid) as live:
        with live.client(live.admin_token) as c:
            key = c.post("/api/admin/keys", json={"role": "operator", "label": "replay test"})
            assert key.status_code in (200, 201), key.text
        _replay_checks(live, {"operator": key.json()["token"], "admin": live.admin_token}, day_ami)


def _replay_checks(live: LiveServer, role_tokens: dict[str, str], day_ami: DayAmi) -> None:
    store = DeadLetterDir(dead_letter_dir(live.app.state.settings))
    readings = day_ami.readings.drop_columns(["delivered_utc"]).slice(0, 40)
    good = _letter(store, "head-end/readings", _arrow(readings))
    events = _letter(store, "head-end/events", _arrow(day_ami.events.slice(0, 3)))
    bad = _letter(store, "head-end/readings", b"\x00\xffnot a batch", reason="cannot parse")
    with live.client(role_tokens["operator"]) as c:  # replay writes: admin only
        assert c.post(f"/api/ami/rejections/{good}/replay").status_code == 403
    with live.client(role_tokens["admin"]) as c:
        first = c.post(f"/api/ami/rejections/{good}/replay")
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["outcome"] == "stored" and body["status"] == "stored" and body["replays"] == 1
        assert body["report"]["accepted"] == 40 and body["report"]["duplicates"] == 0
        again = c.post(f"/api/ami/rejections/{good}/replay").json()  # idempotent: nothing stored twice
        assert again["outcome"] == "stored" and again["replays"] == 2
        assert again["report"]["accepted"] == 0 and again["report"]["duplicates"] == 40
        ev = c.post(f"/api/ami/rejections/{events}/replay").json()
        assert ev["outcome"] == "stored" and ev["report"]["accepted"] == 3

        refused = c.post(f"/api/ami/rejections/{bad}/replay")
        assert refused.status_code == 200
        assert refused.json()["outcome"] == "rejected" and refused.json()["status"] == "pending"
        assert refused.json()["reason"] and refused.json()["report"] is None

        missing = c.post("/api/ami/rejections/20000101T000000000000Z-00000000/replay")
        assert missing.status_code == 404 and missing.json()["details"]["field"] == "letter_id"
        assert c.post("/api/ami/rejections/not-a-letter/replay").status_code == 404

        rows = {r["id"]: r for r in c.get("/api/ami/rejections", params={"limit": 10_000}).json()["rows"]}
    assert rows[good]["status"] == "stored" and rows[good]["replays"] == 2 and rows[good]["replayed_utc"]
    assert rows[bad]["status"] == "pending" and rows[bad]["reason"] == refused.json()["reason"]
    assert rows[bad]["error"] == "InvalidInputError"
    assert store.get_payload(good) == _arrow(readings)  # the payload is kept, byte for byte


def test_cli_replays_pending_letters_into_the_lake(tmp_path: Path, tiny_grid: Grid, day_ami: DayAmi) -> None:
    settings = make_settings(tmp_path)
    st = open_store(settings)
    st.load_grid(tiny_grid)
    st.close()
    store = DeadLetterDir(dead_letter_dir(settings))
    readings = day_ami.readings.drop_columns(["delivered_utc"]).slice(100, 25)
    good = _letter(store, "head-end/readings", _arrow(readings))
    bad = _letter(store, "head-end/readings", b"{not json", reason="cannot parse")
    run = CliRunner()
    dd = ["--data-dir", str(tmp_path)]
    res = run.invoke(cli_app, ["ami", "rejections", "replay", "--all", *dd])
    assert res.exit_code == 0, res.output
    assert f"{good}  stored: 25 accepted" in res.output and f"{bad}  rejected" in res.output
    assert "1 of 2 replayed letters stored" in res.output
    res = run.invoke(cli_app, ["ami", "rejections", "replay", "--all", *dd])  # only the pending one
    assert res.exit_code == 0 and "0 of 1 replayed letters stored" in res.output
    res = run.invoke(cli_app, ["ami", "rejections", "replay", "--id", good, *dd])
    assert res.exit_code == 0 and "0 accepted, 25 duplicates" in res.output
    lake = AmiLake(settings.lake_dir)
    try:
        assert lake.readings.read(columns=["meter_id"]).num_rows == 25  # stored once, replayed twice
    finally:
        lake.close()
    listing = run.invoke(cli_app, ["ami", "rejections", *dd])
    assert (
        f"{good}  stored, replayed 2x" in listing.output and f"{bad}  pending, replayed 2x" in listing.output
    )
    for args in (["--id", "20000101T000000000000Z-00000000"], [], ["--all", "--id", good]):
        res = run.invoke(cli_app, ["ami", "rejections", "replay", *args, *dd])
        assert res.exit_code != 0
