"""Premise columns on both stores: addresses, ZIP codes and account numbers round-trip; migration 3
adds them to a store created before them; the meters-on-a-transformer filter."""

from __future__ import annotations

from typing import Any

from test_grid_store import all_assets

from fluxops.grid.models import Grid
from fluxops.storage.migrations import PREMISE_COLUMNS


def _reopen(store: Any) -> Any:
    if store.dialect == "duckdb":
        from fluxops.storage.duckdb_store import DuckDBStore

        store.close()
        return DuckDBStore(store.path)
    from fluxops.storage.postgres_store import PostgresStore

    return PostgresStore(store.dsn, schema=store.schema)


def test_premise_columns_round_trip(store: Any, tiny_grid: Grid) -> None:
    store.load_grid(tiny_grid)
    back = store.read_grid()
    assert back.meters.address.tolist() == tiny_grid.meters.address.tolist()
    assert back.meters.zip_code.tolist() == tiny_grid.meters.zip_code.tolist()
    assert back.customers.account_id.tolist() == tiny_grid.customers.account_id.tolist()
    assert back.meters.address.notna().all()


def test_migration_adds_premise_columns_to_an_older_store(store: Any, tiny_grid: Grid) -> None:
    store.load_grid(tiny_grid)
    for table, column in PREMISE_COLUMNS:  # the store as it was before migration 3
        store.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    store.execute("DELETE FROM schema_migrations WHERE version = 3")
    store.execute("UPDATE grid_meta SET content_hash = 'a grid of the older generator'")
    again = _reopen(store)
    try:
        old = again.read_grid()  # readable at once: the added columns are null until the next load
        assert old is not None and old.meters.address.isna().all()
        assert old.customers.account_id.isna().all()
        assert len(old.meters) == len(tiny_grid.meters)
        again.load_grid(tiny_grid)
        assert again.read_grid().meters.address.tolist() == tiny_grid.meters.address.tolist()
    finally:
        if again is not store:
            again.close()


def test_meters_on_a_transformer(store: Any, tiny_grid: Grid) -> None:
    store.load_grid(tiny_grid)
    m = tiny_grid.meters
    xf = str(m.transformer_id.iloc[-1])
    rows = all_assets(store, transformer_id=xf, limit=7)
    assert [r.asset_id for r in rows] == sorted(m.loc[m.transformer_id == xf, "meter_id"])
    assert all_assets(store, transformer_id=xf, types=("transformer",)) == []
