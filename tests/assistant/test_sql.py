"""Read-only SQL: one SELECT, parsed (not pattern-matched), in a sandbox with no way to the store or
the file system; row limit, statement timeout, nearest names for unknown ones."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fluxops.core.errors import InvalidInputError
from fluxops.grid.models import Grid
from fluxops.storage.assistant_sql import SqlSandbox, check_select, store_ops_tables


@pytest.fixture
def sandbox(tiny_grid: Grid, tmp_path: Path) -> SqlSandbox:
    lake = tmp_path / "lake"
    lake.mkdir()
    f = lake / "part.parquet"
    pq.write_table(pa.table({"meter_id": ["MTR-00000001", "MTR-00000002"], "kwh_delivered": [1.5, 2.0]}), f)
    return SqlSandbox(tiny_grid, lake_files=lambda: {"ami_readings": [f]}, lake_dir=lake, timeout_s=1.0)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "select count(*) from meters;",
        "WITH x AS (SELECT * FROM meters) SELECT count(*) FROM x",
        "-- comment\nSELECT 1",
        "FROM meters SELECT count(*)",
        "(SELECT 1) UNION ALL (SELECT 2)",
    ],
)
def test_reads_are_accepted(sql: str) -> None:
    assert check_select(sql)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("DELETE FROM meters", "only SELECT"),
        ("INSERT INTO meters VALUES (1)", "only SELECT"),
        ("DROP TABLE meters", "only SELECT"),
        ("CREATE TABLE t AS SELECT 1", "only SELECT"),
        ("COPY meters TO '/tmp/x.csv'", "only SELECT"),
        ("ATTACH 'x.db'", "only SELECT"),
        ("PRAGMA version", "only SELECT"),
        ("SET threads = 4", "only SELECT"),
        ("SELECT 1; DROP TABLE meters", "one statement"),
        ("SELECT 1; SELECT 2", "one statement"),
        ("SHOW TABLES", "only SELECT"),
        ("SELEC 1", "does not parse"),
        ("", "empty"),
        ("  ;  ", "empty"),
    ],
)
def test_everything_else_is_refused(sql: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as err:
        check_select(sql)
    assert err.value.field == "sql"


def test_query_over_grid_and_lake(sandbox: SqlSandbox, tiny_grid: Grid) -> None:
    t, more = sandbox.run("SELECT count(*) AS n FROM meters", limit=10)
    assert t.to_pylist() == [{"n": len(tiny_grid.meters)}] and not more
    t, _ = sandbox.run("SELECT sum(kwh_delivered) AS kwh FROM ami_readings", limit=10)
    assert t.to_pylist() == [{"kwh": 3.5}]
    views = sandbox.views()
    assert {"meters", "transformers", "ami_readings"} <= set(views)
    assert "geometry_wkb" not in views["line_segments"]


def test_row_limit(sandbox: SqlSandbox) -> None:
    t, more = sandbox.run("SELECT meter_id FROM meters ORDER BY meter_id", limit=5)
    assert t.num_rows == 5 and more
    assert t.column("meter_id").to_pylist()[0] == "MTR-00000001"


def test_no_file_system_or_settings(sandbox: SqlSandbox) -> None:
    with pytest.raises(InvalidInputError, match="not allowed"):
        sandbox.run("SELECT * FROM read_csv('/etc/passwd')", limit=5)
    with pytest.raises(InvalidInputError):
        sandbox.run("SELECT * FROM read_text('/etc/hostname')", limit=5)


def test_statement_timeout(sandbox: SqlSandbox) -> None:
    with pytest.raises(InvalidInputError, match="statement timeout") as err:
        sandbox.run("SELECT count(*) FROM range(1000000000000) a, range(10) b", limit=5)
    assert err.value.details["timeout_s"] == 1.0


def test_unknown_column_gets_the_nearest_names(sandbox: SqlSandbox) -> None:
    with pytest.raises(InvalidInputError) as err:
        sandbox.run("SELECT metr_id FROM meters", limit=5)
    assert err.value.details["unknown"] == "metr_id"
    assert err.value.details["nearest"][0] == "meter_id"
    assert "meters" in err.value.details["views"]
    with pytest.raises(InvalidInputError) as err:
        sandbox.run("SELECT * FROM transfomers", limit=5)
    assert err.value.details["nearest"][0] == "transformers"


def test_ops_snapshot_from_the_store(store: object, tiny_grid: Grid) -> None:
    from fluxops.storage.ops_store import OpsTableStore

    OpsTableStore(store).ensure_tables()  # type: ignore[arg-type]
    sb = SqlSandbox(tiny_grid, ops_tables=store_ops_tables(store))
    from datetime import UTC, datetime

    from fluxops.ops.models import WORK_ORDER_TYPES
    from fluxops.ops.workorders import new_work_order

    ops = OpsTableStore(store)  # type: ignore[arg-type]
    ops.save_work_order(
        new_work_order(
            work_order_id="WO-000001",
            work_type=WORK_ORDER_TYPES[0],
            priority="high",
            description="patrol",
            now_utc=datetime(2026, 12, 7, tzinfo=UTC),
        )
    )
    t, _ = sb.run("SELECT count(*) AS n FROM outages", limit=1)
    assert t.to_pylist() == [{"n": 0}]
    t, _ = sb.run("SELECT work_order_id, priority, year(created_utc) AS y FROM work_orders", limit=5)
    assert t.to_pylist() == [{"work_order_id": "WO-000001", "priority": "high", "y": 2026}]
    # the sandbox holds a snapshot: nothing it runs reaches the store
    with pytest.raises(InvalidInputError):
        sb.run("DELETE FROM outages", limit=1)
