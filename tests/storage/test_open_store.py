"""`open_store` picks the backend from settings; a DuckDB file survives close and reopen."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from hand_grids import hand_grid

from fluxops.core.config import Settings, StoreSettings
from fluxops.storage import open_store


def test_duckdb_default_creates_the_data_dir_and_persists(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "nested" / "data")
    store = open_store(settings)
    try:
        assert store.backend == "duckdb" and settings.duckdb_path.exists()
        report = store.load_grid(hand_grid())
    finally:
        store.close()
    again = open_store(settings)  # migrations already applied; grid still there
    try:
        assert again.get_grid_info() == report.info
        assert not again.load_grid(hand_grid()).changed
    finally:
        again.close()


@pytest.mark.postgres
def test_postgres_backend_from_settings(postgres_dsn: str) -> None:
    schema = f"fluxops_test_open_{uuid.uuid4().hex[:8]}"
    store = open_store(
        Settings(store=StoreSettings(backend="postgres", postgres_dsn=postgres_dsn, postgres_schema=schema))
    )
    try:
        assert store.backend == "postgres" and store.health()["grid_loaded"] is False
    finally:
        from fluxops.storage.postgres_store import PostgresStore

        assert isinstance(store, PostgresStore)
        store.drop_schema()
        store.close()
