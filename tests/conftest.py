"""Shared fixtures: a tiny generated grid and real stores (DuckDB file in tmp_path; the machine's
PostgreSQL, one throw-away schema per test). PostgreSQL tests skip when the server or PostGIS is
missing, unless FLUXOPS_REQUIRE_POSTGRES=1 (CI), where they fail instead."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fluxops.grid.models import Grid

PG_DSN = os.environ.get("FLUXOPS_TEST_POSTGRES_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
_SESSION_TAG = uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def tiny_grid() -> Grid:
    from fluxops.grid.generator import generate_grid

    return generate_grid("tiny", seed=0)


@pytest.fixture
def duckdb_store(tmp_path: Path) -> Iterator[Any]:
    from fluxops.storage.duckdb_store import DuckDBStore

    store = DuckDBStore(tmp_path / "fluxops.duckdb")
    yield store
    store.close()


@pytest.fixture(scope="session")
def postgres_available() -> None:
    """Skip (or fail under FLUXOPS_REQUIRE_POSTGRES=1) when PostgreSQL with PostGIS is not reachable."""
    reason = None
    try:
        import psycopg

        with psycopg.connect(PG_DSN, connect_timeout=3) as conn:
            row = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").fetchone()
            if row is None:
                reason = "PostGIS is not installed on the PostgreSQL server"
    except Exception as exc:  # psycopg missing or server down: either way no PostgreSQL
        reason = f"PostgreSQL not reachable at {PG_DSN!r}: {exc}"
    if reason is not None:
        if os.environ.get("FLUXOPS_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_dsn(postgres_available: None) -> str:
    """libpq DSN of the test server (env FLUXOPS_TEST_POSTGRES_DSN); skips/fails like the stores."""
    return PG_DSN


@pytest.fixture
def postgres_store(postgres_available: None) -> Iterator[Any]:
    from fluxops.storage.postgres_store import PostgresStore

    store = PostgresStore(PG_DSN, schema=f"fluxops_test_{_SESSION_TAG}_{uuid.uuid4().hex[:8]}")
    yield store
    store.drop_schema()
    store.close()


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(f"{request.param}_store")
