"""`GridCache` serves the live configuration: a switching change is picked up on the next call with a
new configuration hash, without reading the stored grid again; back at the recorded states the stored
grid (and its hash and derived views) is served again."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fluxops.api.deps import GridCache
from fluxops.grid.models import Grid
from fluxops.ops.switching import SwitchState, device_states
from fluxops.storage.duckdb_store import DuckDBStore
from fluxops.storage.switching_store import SwitchingTableStore

FUSE = "FUS-0001-02-00011"
T0 = datetime(2026, 5, 1, tzinfo=UTC)


class CountingStore:
    def __init__(self, store: DuckDBStore) -> None:
        self.store, self.reads = store, 0

    def read_grid(self) -> Grid | None:
        self.reads += 1
        return self.store.read_grid()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def test_switching_changes_the_served_grid_without_rereading_it(tiny_grid: Grid, tmp_path: Path) -> None:
    raw = DuckDBStore(tmp_path / "fluxops.duckdb")
    try:
        raw.load_grid(tiny_grid)
        store = CountingStore(raw)
        cache = GridCache()
        base = cache.get(store)  # type: ignore[arg-type]
        stored_hash = base.info.content_hash
        assert cache.get(store) is base and store.reads == 1  # type: ignore[arg-type]
        tables = SwitchingTableStore(raw)
        tables.save_switch_states([SwitchState(stored_hash, FUSE, "open", "op", "r", T0)])
        live = cache.get(store)  # type: ignore[arg-type]
        assert store.reads == 1  # the overlay reuses the stored grid
        assert device_states(live.grid)[FUSE] == "open" and device_states(base.grid)[FUSE] == "closed"
        assert live.info.content_hash != stored_hash and live.stored_hash == stored_hash
        assert live.etag("x") != base.etag("x")
        tables.save_switch_states([SwitchState(stored_hash, FUSE, "closed", "op", "back", T0)])
        assert cache.get(store) is base  # recorded state again: the stored grid and its derived views
        assert store.reads == 1
    finally:
        raw.close()
