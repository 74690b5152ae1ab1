"""`AssistantTableStore`: the assistant's threads, messages, feedback and uploaded documents, through the
store's generic Arrow tables, so one adapter serves DuckDB and PostgreSQL alike.

Evidence (tool calls, SQL, citations) is JSON text (portable across both dialects; nobody queries
inside it). Writes are keyed upserts; a message's ``seq`` orders a thread.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import pyarrow as pa

from fluxops.assistant.models import Document, Feedback, Message, Thread

_s = pa.string()
_ts = pa.timestamp("us", tz="UTC")

THREADS = pa.schema(
    [
        pa.field("thread_id", _s, nullable=False),
        pa.field("owner", _s, nullable=False),
        pa.field("title", _s, nullable=False),
        pa.field("created_utc", _ts, nullable=False),
        pa.field("updated_utc", _ts, nullable=False),
    ]
)
MESSAGES = pa.schema(
    [
        pa.field("message_id", _s, nullable=False),
        pa.field("thread_id", _s, nullable=False),
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("role", _s, nullable=False),
        pa.field("content", _s, nullable=False),
        pa.field("evidence_json", _s, nullable=False),
        pa.field("created_utc", _ts, nullable=False),
    ]
)
FEEDBACK = pa.schema(
    [
        pa.field("feedback_id", _s, nullable=False),
        pa.field("thread_id", _s, nullable=False),
        pa.field("message_id", _s, nullable=False),
        pa.field("owner", _s, nullable=False),
        pa.field("rating", _s, nullable=False),
        pa.field("comment", _s, nullable=False),
        pa.field("created_utc", _ts, nullable=False),
    ]
)
DOCUMENTS = pa.schema(
    [
        pa.field("doc_id", _s, nullable=False),
        pa.field("title", _s, nullable=False),
        pa.field("content", _s, nullable=False),
        pa.field("uploaded_by", _s, nullable=False),
        pa.field("uploaded_utc", _ts, nullable=False),
    ]
)
TABLES: dict[str, tuple[pa.Schema, tuple[str, ...]]] = {
    "assistant_threads": (THREADS, ("thread_id",)),
    "assistant_messages": (MESSAGES, ("message_id",)),
    "assistant_feedback": (FEEDBACK, ("feedback_id",)),
    "assistant_documents": (DOCUMENTS, ("doc_id",)),
}


class GenericTables(Protocol):
    def query_arrow(
        self, sql: str, params: Sequence[Any] = (), *, schema: pa.Schema | None = None
    ) -> pa.Table: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...

    def ensure_table(self, name: str, schema: pa.Schema, primary_key: tuple[str, ...] = ()) -> None: ...

    def upsert_arrow(self, name: str, table: pa.Table, key: tuple[str, ...]) -> int: ...


def _utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).astimezone(UTC)


class AssistantTableStore:
    """Implements `fluxops.assistant.ports.ThreadStore`."""

    def __init__(self, store: GenericTables) -> None:
        self.store = store

    def ensure_tables(self) -> None:
        for name, (schema, key) in TABLES.items():
            self.store.ensure_table(name, schema, key)

    def _put(self, name: str, row: dict[str, Any]) -> None:
        schema, key = TABLES[name]
        self.store.upsert_arrow(name, pa.Table.from_pylist([row], schema=schema), key)

    # --- threads ---------------------------------------------------------------------------------

    def create_thread(self, thread: Thread) -> None:
        self._put("assistant_threads", vars(thread).copy())

    @staticmethod
    def _thread(r: dict[str, Any]) -> Thread:
        return Thread(r["thread_id"], r["owner"], r["title"], _utc(r["created_utc"]), _utc(r["updated_utc"]))

    def get_thread(self, thread_id: str) -> Thread | None:
        t = self.store.query_arrow(
            "SELECT * FROM assistant_threads WHERE thread_id = ?", [thread_id], schema=THREADS
        )
        return self._thread(t.to_pylist()[0]) if t.num_rows else None

    def list_threads(self, owner: str, *, limit: int) -> list[Thread]:
        t = self.store.query_arrow(
            "SELECT * FROM assistant_threads WHERE owner = ? ORDER BY updated_utc DESC, thread_id LIMIT ?",
            [owner, limit],
            schema=THREADS,
        )
        return [self._thread(r) for r in t.to_pylist()]

    def touch_thread(self, thread_id: str, updated_utc: datetime) -> None:
        self.store.execute(
            "UPDATE assistant_threads SET updated_utc = ? WHERE thread_id = ?", [updated_utc, thread_id]
        )

    # --- messages and feedback -------------------------------------------------------------------

    def add_message(self, message: Message) -> None:
        row = {k: v for k, v in vars(message).items() if k != "evidence"}
        row["evidence_json"] = json.dumps(message.evidence, sort_keys=True, default=str)
        self._put("assistant_messages", row)

    def list_messages(self, thread_id: str) -> list[Message]:
        t = self.store.query_arrow(
            "SELECT * FROM assistant_messages WHERE thread_id = ? ORDER BY seq, message_id",
            [thread_id],
            schema=MESSAGES,
        )
        return [
            Message(
                r["message_id"],
                r["thread_id"],
                int(r["seq"]),
                r["role"],
                r["content"],
                json.loads(r["evidence_json"]),
                _utc(r["created_utc"]),
            )
            for r in t.to_pylist()
        ]

    def add_feedback(self, feedback: Feedback) -> None:
        self._put("assistant_feedback", vars(feedback).copy())

    def list_feedback(self, thread_id: str) -> list[Feedback]:
        t = self.store.query_arrow(
            "SELECT * FROM assistant_feedback WHERE thread_id = ? ORDER BY created_utc, feedback_id",
            [thread_id],
            schema=FEEDBACK,
        )
        return [
            Feedback(
                r["feedback_id"],
                r["thread_id"],
                r["message_id"],
                r["owner"],
                r["rating"],
                r["comment"],
                _utc(r["created_utc"]),
            )
            for r in t.to_pylist()
        ]

    # --- uploaded documents ----------------------------------------------------------------------

    def add_document(self, doc: Document) -> None:
        self._put("assistant_documents", vars(doc).copy())

    def list_documents(self) -> list[Document]:
        t = self.store.query_arrow("SELECT * FROM assistant_documents ORDER BY doc_id", schema=DOCUMENTS)
        return [
            Document(r["doc_id"], r["title"], r["content"], r["uploaded_by"], _utc(r["uploaded_utc"]))
            for r in t.to_pylist()
        ]
