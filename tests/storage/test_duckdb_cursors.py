"""A DuckDB store opens one cursor per thread and closes it when the thread ends (issue 8 §5): the API's
thread pool replaces idle workers, and every replaced worker's cursor stayed open before — open
connections grew with the server's uptime."""

from __future__ import annotations

import gc
import threading
from typing import Any

from fluxops.grid.models import Grid


def test_a_thread_that_ends_leaves_no_open_cursor(duckdb_store: Any, tiny_grid: Grid) -> None:
    duckdb_store.load_grid(tiny_grid)
    duckdb_store.get_grid_info()
    before = duckdb_store.open_cursors()
    assert before >= 1  # this thread's

    def read() -> None:
        assert duckdb_store.get_grid_info() is not None

    for _ in range(3):
        threads = [threading.Thread(target=read) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        gc.collect()
        assert duckdb_store.open_cursors() == before  # 24 threads came and went

    hold, go = threading.Event(), threading.Event()

    def read_and_wait() -> None:
        read()
        hold.set()
        go.wait()

    t = threading.Thread(target=read_and_wait)
    t.start()
    hold.wait()
    assert duckdb_store.open_cursors() == before + 1  # a live thread keeps its cursor
    go.set()
    t.join()
    gc.collect()
    assert duckdb_store.open_cursors() == before
