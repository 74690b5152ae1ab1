"""`Store.transaction()` on both backends: the generic-table writes of one block commit together or
not at all, a caught error still rolls everything back, nesting joins the outer transaction, and a
reader on another thread never sees a block half-written."""

from __future__ import annotations

import threading
from typing import Any

import pyarrow as pa
import pytest

from fluxops.core.errors import ConflictError, StorageError

STEP = pa.schema([pa.field("k", pa.string(), nullable=False), pa.field("v", pa.int64(), nullable=False)])
LOG = pa.schema([pa.field("seq", pa.int64(), nullable=False), pa.field("k", pa.string(), nullable=False)])


class Boom(Exception):
    pass


def _setup(store: Any) -> None:
    store.ensure_table("tx_records", STEP, ("k",))
    store.ensure_table("tx_log", LOG, ("seq",))


def _rows(store: Any, table: str, schema: pa.Schema) -> list[dict[str, Any]]:
    cols = ", ".join(schema.names)
    return store.query_arrow(f"SELECT {cols} FROM {table} ORDER BY 1", schema=schema).to_pylist()


def _step(store: Any, keys: list[str], seq0: int) -> None:
    """One 'engine step': records upserted, log rows appended, one record bumped by SQL."""
    store.upsert_arrow("tx_records", pa.table({"k": keys, "v": [1] * len(keys)}, schema=STEP), ("k",))
    store.append_arrow("tx_log", pa.table({"seq": range(seq0, seq0 + len(keys)), "k": keys}, schema=LOG))
    store.execute("UPDATE tx_records SET v = v + 1 WHERE k = ?", [keys[0]])


def test_a_block_that_exits_normally_commits_every_write(store: Any) -> None:
    _setup(store)
    with store.transaction():
        _step(store, ["a", "b"], 1)
        # the block reads its own uncommitted writes
        assert [r["v"] for r in _rows(store, "tx_records", STEP)] == [2, 1]
    assert _rows(store, "tx_records", STEP) == [{"k": "a", "v": 2}, {"k": "b", "v": 1}]
    assert [r["seq"] for r in _rows(store, "tx_log", LOG)] == [1, 2]


def test_a_block_that_raises_leaves_nothing(store: Any) -> None:
    _setup(store)
    _step(store, ["a"], 1)  # committed before: must survive the rollback untouched
    with pytest.raises(Boom), store.transaction():
        _step(store, ["b", "c"], 2)
        store.execute("DELETE FROM tx_records WHERE k = ?", ["a"])
        raise Boom
    assert _rows(store, "tx_records", STEP) == [{"k": "a", "v": 2}]
    assert [r["seq"] for r in _rows(store, "tx_log", LOG)] == [1]


def test_a_failing_second_write_undoes_the_first(store: Any) -> None:
    _setup(store)
    store.append_arrow("tx_log", pa.table({"seq": [7], "k": ["x"]}, schema=LOG))
    with pytest.raises(ConflictError), store.transaction():
        store.upsert_arrow("tx_records", pa.table({"k": ["a"], "v": [1]}, schema=STEP), ("k",))
        store.append_arrow("tx_log", pa.table({"seq": [7], "k": ["a"]}, schema=LOG))  # duplicate key
    assert _rows(store, "tx_records", STEP) == []
    assert _rows(store, "tx_log", LOG) == [{"seq": 7, "k": "x"}]


def test_a_caught_error_still_rolls_back_and_says_so(store: Any) -> None:
    """PostgreSQL would answer COMMIT of an aborted transaction with a silent ROLLBACK; the store
    refuses to report success instead."""
    _setup(store)
    with pytest.raises(StorageError, match="rolled back"), store.transaction():
        store.upsert_arrow("tx_records", pa.table({"k": ["a"], "v": [1]}, schema=STEP), ("k",))
        with pytest.raises(StorageError):
            store.execute("INSERT INTO no_such_table VALUES (1)")
    assert _rows(store, "tx_records", STEP) == []
    # the thread's connection is clean again
    with store.transaction():
        _step(store, ["z"], 1)
    assert _rows(store, "tx_records", STEP) == [{"k": "z", "v": 2}]


def test_nested_transactions_join_the_outer_one(store: Any) -> None:
    _setup(store)
    with pytest.raises(Boom), store.transaction():
        with store.transaction():
            _step(store, ["a"], 1)
        assert len(_rows(store, "tx_log", LOG)) == 1  # inner exit did not end the transaction
        raise Boom
    assert _rows(store, "tx_records", STEP) == [] and _rows(store, "tx_log", LOG) == []
    with store.transaction(), store.transaction():
        _step(store, ["b"], 1)
    assert _rows(store, "tx_records", STEP) == [{"k": "b", "v": 2}]


def test_a_concurrent_reader_never_sees_half_a_block(store: Any) -> None:
    _setup(store)
    first_written, reader_looked = threading.Event(), threading.Event()
    seen: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with store.transaction():
                store.upsert_arrow("tx_records", pa.table({"k": ["a"], "v": [1]}, schema=STEP), ("k",))
                first_written.set()
                assert reader_looked.wait(30)
                store.append_arrow("tx_log", pa.table({"seq": [1], "k": ["a"]}, schema=LOG))
        except BaseException as exc:
            errors.append(exc)
            first_written.set()

    def counts() -> tuple[int, int]:
        t = store.query_arrow(
            "SELECT (SELECT COUNT(*) FROM tx_records) AS n_rec, (SELECT COUNT(*) FROM tx_log) AS n_log"
        )
        return int(t.column(0)[0].as_py()), int(t.column(1)[0].as_py())

    th = threading.Thread(target=writer)
    th.start()
    assert first_written.wait(30)
    seen.append(counts())  # mid-block: the record is written but not committed
    reader_looked.set()
    th.join(30)
    assert not errors
    seen.append(counts())
    assert seen == [(0, 0), (1, 1)]
