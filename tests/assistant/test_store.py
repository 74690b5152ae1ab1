"""Threads, messages, feedback and documents round-trip exactly on both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fluxops.assistant.models import Document, Feedback, Message, Thread
from fluxops.storage.assistant_store import AssistantTableStore

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_round_trip(store: Any) -> None:
    s = AssistantTableStore(store)
    s.ensure_tables()
    s.ensure_tables()  # idempotent
    a = Thread("thr_a", "alice", "first", T0, T0)
    b = Thread("thr_b", "alice", "second", T0, T0 + timedelta(minutes=1))
    c = Thread("thr_c", "bob", "bob's", T0, T0)
    for t in (a, b, c):
        s.create_thread(t)
    assert s.get_thread("thr_a") == a and s.get_thread("nope") is None
    assert [t.thread_id for t in s.list_threads("alice", limit=10)] == ["thr_b", "thr_a"]
    assert [t.thread_id for t in s.list_threads("alice", limit=1)] == ["thr_b"]
    s.touch_thread("thr_a", T0 + timedelta(hours=1))
    assert [t.thread_id for t in s.list_threads("alice", limit=10)] == ["thr_a", "thr_b"]

    ev = {"tool_calls": [{"name": "find_assets", "arguments": {"limit": 1}}], "sql": ["SELECT 1"], "n": 1.5}
    m1 = Message("m1", "thr_a", 0, "user", "how many?", {}, T0)
    m2 = Message("m2", "thr_a", 1, "assistant", "12 meters — ünïcode", ev, T0)
    s.add_message(m2)
    s.add_message(m1)
    assert s.list_messages("thr_a") == [m1, m2]
    assert s.list_messages("thr_b") == []

    fb = Feedback("fb1", "thr_a", "m2", "alice", "down", "wrong feeder", T0)
    s.add_feedback(fb)
    assert s.list_feedback("thr_a") == [fb]

    d = Document("doc_1", "Vault entry", "# Vault\n\ntext", "admin", T0)
    s.add_document(d)
    assert s.list_documents() == [d]
