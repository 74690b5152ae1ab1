"""Phases on both stores (issue 11 §2): segments, devices and meters round-trip their ``phases``;
migration 4 adds the columns to a store created before them (read as unknown until the next load)."""

from __future__ import annotations

from typing import Any

from test_premises_store import _reopen

from fluxops.grid.models import Grid
from fluxops.storage.migrations import PHASE_COLUMNS


def test_phases_round_trip(store: Any, tiny_grid: Grid) -> None:
    store.load_grid(tiny_grid)
    back = store.read_grid()
    for table in ("line_segments", "devices", "meters"):
        assert back.table(table)["phases"].tolist() == tiny_grid.table(table)["phases"].tolist(), table
    assert back.transformers["phase"].tolist() == tiny_grid.transformers["phase"].tolist()
    assert set(back.line_segments["phases"]) >= {"ABC", "A", "B", "C"}
    assert back.meters["phases"].notna().all()


def test_migration_adds_phase_columns_to_an_older_store(store: Any, tiny_grid: Grid) -> None:
    store.load_grid(tiny_grid)
    for table, column in PHASE_COLUMNS:  # the store as it was before migration 4
        store.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    store.execute("DELETE FROM schema_migrations WHERE version = 4")
    store.execute("UPDATE grid_meta SET content_hash = 'a grid without phases'")
    again = _reopen(store)
    try:
        old = again.read_grid()
        assert old is not None and old.line_segments["phases"].isna().all()
        assert old.devices["phases"].isna().all()
        # a meter's phases follow its transformer's when not stored
        assert old.meters["phases"].tolist() == tiny_grid.meters["phases"].tolist()
        again.load_grid(tiny_grid)
        assert (
            again.read_grid().line_segments["phases"].tolist() == tiny_grid.line_segments["phases"].tolist()
        )
    finally:
        if again is not store:
            again.close()
