"""The assistant over HTTP: threads per user, answers as server-sent events with evidence, feedback,
uploaded documents, roles, audit of every tool call, and bad input as 4xx naming the field."""

from __future__ import annotations

import json
from typing import Any

import httpx
from live_server import LiveServer


def sse(r: httpx.Response) -> list[tuple[str, dict[str, Any]]]:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/event-stream")
    out = []
    for block in r.text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((lines["event"], json.loads(lines["data"])))
    return out


def new_thread(c: httpx.Client, **body: Any) -> str:
    r = c.post("/api/assistant/threads", json=body)
    assert r.status_code == 201, r.text
    tid: str = r.json()["thread_id"]
    return tid


def test_ask_in_a_thread(viewer: httpx.Client, live: LiveServer) -> None:
    tid = new_thread(viewer)
    r = viewer.post(
        f"/api/assistant/threads/{tid}/messages",
        json={"content": "How many meters are on feeder FDR-0001-01?"},
    )
    events = sse(r)
    assert [e for e, _ in events] == ["tool_call", "tool_result", "delta", "answer"]
    answer = events[-1][1]
    grid = live.store.read_grid()
    n = int((grid.meters.feeder_id == "FDR-0001-01").sum())
    assert answer["text"] == f"There are {n} meters on FDR-0001-01."
    ev = answer["evidence"]
    assert ev["tool_calls"][0]["arguments"]["feeder_id"] == "FDR-0001-01"
    assert ev["row_counts"] == {"call_0": n} and ev["ungrounded_numbers"] == []
    thread = viewer.get(f"/api/assistant/threads/{tid}").json()
    assert [m["role"] for m in thread["messages"]] == ["user", "assistant"]
    assert thread["title"] == "How many meters are on feeder FDR-0001-01?"
    assert thread["messages"][1]["evidence"]["tool_calls"][0]["name"] == "find_assets"
    listed = viewer.get("/api/assistant/threads").json()["items"]
    assert tid in [t["thread_id"] for t in listed]

    r = viewer.post(
        f"/api/assistant/threads/{tid}/feedback",
        json={"message_id": answer["message_id"], "rating": "up", "comment": "right"},
    )
    assert r.status_code == 201, r.text
    assert viewer.get(f"/api/assistant/threads/{tid}").json()["feedback"][0]["rating"] == "up"


def test_threads_are_per_user(viewer: httpx.Client, live: LiveServer, role_tokens: dict[str, str]) -> None:
    tid = new_thread(viewer, title="mine")
    with live.client(role_tokens["operator"]) as op:
        assert op.get(f"/api/assistant/threads/{tid}").status_code == 404
        r = op.post(f"/api/assistant/threads/{tid}/messages", json={"content": "hello"})
        assert r.status_code == 404
        assert tid not in [t["thread_id"] for t in op.get("/api/assistant/threads").json()["items"]]


def test_bad_input_is_a_4xx_naming_the_field(viewer: httpx.Client) -> None:
    tid = new_thread(viewer)
    url = f"/api/assistant/threads/{tid}/messages"
    for body, field in (
        ({"content": ""}, "content"),
        ({"content": "   "}, "content"),
        ({"content": "x" * 4001}, "content"),
        ({"content": "hi", "extra": 1}, "extra"),
        ({"content": 5}, "content"),
    ):
        r = viewer.post(url, json=body)
        assert r.status_code == 422, (body, r.text)
        assert field in json.dumps(r.json()["details"]), r.json()
    r = viewer.post("/api/assistant/threads/thr_nope/messages", json={"content": "hi"})
    assert r.status_code == 404 and r.json()["details"]["thread_id"] == "thr_nope"
    r = viewer.post(url, json={"content": "yes", "confirm": True})
    assert r.status_code == 409
    r = viewer.post(f"/api/assistant/threads/{tid}/feedback", json={"message_id": "msg_nope", "rating": "up"})
    assert r.status_code == 404 and r.json()["details"]["message_id"] == "msg_nope"
    r = viewer.post(f"/api/assistant/threads/{tid}/feedback", json={"message_id": "m", "rating": "meh"})
    assert r.status_code == 422


def test_sql_that_writes_is_refused_in_the_answer(viewer: httpx.Client) -> None:
    tid = new_thread(viewer)
    events = sse(
        viewer.post(f"/api/assistant/threads/{tid}/messages", json={"content": "sql: DROP TABLE meters"})
    )
    answer = events[-1][1]
    assert "only SELECT" in answer["text"]
    assert answer["evidence"]["tool_calls"][0]["result"]["error_field"] == "sql"


def test_viewer_cannot_run_cascades_and_every_tool_call_is_audited(
    viewer: httpx.Client, admin: httpx.Client
) -> None:
    tools = viewer.get("/api/assistant/tools").json()
    assert tools["role"] == "viewer" and "run_cascade" not in [t["function"]["name"] for t in tools["tools"]]
    tid = new_thread(viewer)
    answer = sse(
        viewer.post(f"/api/assistant/threads/{tid}/messages", json={"content": "What if FDR-0001-01 fails?"})
    )[-1][1]
    assert answer["evidence"]["tool_calls"] == [] and "role" in answer["text"]
    sse(viewer.post(f"/api/assistant/threads/{tid}/messages", json={"content": "How many poles are there?"}))
    audit = admin.get("/api/admin/audit", params={"limit": 200}).json()
    rows = audit if isinstance(audit, list) else audit.get("items", [])
    tool_rows = [r for r in rows if r["method"] == "TOOL" and r["detail"].get("thread_id") == tid]
    assert [r["path"] for r in tool_rows] == ["/api/assistant/tools/find_assets"]
    assert tool_rows[0]["role"] == "viewer" and tool_rows[0]["status_code"] == 200


def test_uploaded_documents_are_searched(viewer: httpx.Client, admin: httpx.Client) -> None:
    doc = {
        "title": "Vault entry",
        "content": "# Vault entry\n\n## Gas test\n\nTest the vault atmosphere for "
        "oxygen and combustible gas before anyone enters.\n",
    }
    assert viewer.post("/api/docs", json=doc).status_code == 403
    r = admin.post("/api/docs", json=doc)
    assert r.status_code == 201 and r.json()["passages"] == 1
    assert admin.post("/api/docs", json={**doc, "format": "pdf"}).status_code == 422
    assert admin.post("/api/docs", json={"title": "x", "content": ""}).status_code == 422
    listed = viewer.get("/api/docs").json()["items"]
    assert {"ieee-1366", r.json()["doc_id"]} <= {d["doc_id"] for d in listed}
    tid = new_thread(viewer)
    answer = sse(
        viewer.post(
            f"/api/assistant/threads/{tid}/messages",
            json={"content": "How do I test the vault atmosphere before entry?"},
        )
    )[-1][1]
    cite = answer["evidence"]["citations"][0]
    assert cite["doc_id"] == r.json()["doc_id"] and cite["heading"] == "Vault entry > Gas test"
