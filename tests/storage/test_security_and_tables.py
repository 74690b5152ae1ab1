"""SecurityStore and generic-table conformance on both backends, plus the DDL and COPY encoders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from fluxops.core.errors import ConflictError, InvalidInputError, StorageError
from fluxops.grid.models import TABLES
from fluxops.security.ports import ApiKeyRecord, AuditEntry
from fluxops.storage import loading
from fluxops.storage.postgres_store import to_pyformat
from fluxops.storage.schema import create_table_sql, ident

T0 = datetime(2026, 11, 26, 8, 0, 0, 123456, tzinfo=UTC)


def test_api_keys_round_trip(store: Any) -> None:
    a = ApiKeyRecord("fx_aaaa", "h" * 64, "admin", "ops lead", T0)
    b = ApiKeyRecord("fx_bbbb", "g" * 64, "viewer", "wall 'screen'", T0 + timedelta(seconds=1))
    store.add_api_key(a)
    store.add_api_key(b)
    assert store.get_api_key("fx_aaaa") == a
    assert store.list_api_keys() == [a, b]
    with pytest.raises(ConflictError):
        store.add_api_key(a)
    assert store.revoke_api_key("fx_bbbb") is True
    assert store.get_api_key("fx_bbbb").revoked
    assert store.revoke_api_key("fx_nope") is False
    assert store.get_api_key("fx_nope") is None


def test_audit_round_trip_newest_first(store: Any) -> None:
    entries = [
        AuditEntry(
            T0 + timedelta(minutes=i),
            "fx_aaaa",
            "admin",
            "POST",
            f"/api/grid/{i}",
            200,
            {"i": i, "q": "it's"},
        )
        for i in range(5)
    ]
    for e in entries:
        store.append_audit(e)
    assert store.list_audit(limit=3) == entries[::-1][:3]
    assert store.list_audit() == entries[::-1]
    with pytest.raises(InvalidInputError):
        store.list_audit(limit=0)


READINGS = pa.schema(
    [
        pa.field("meter_id", pa.string(), nullable=False),
        pa.field("ts_utc", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("kwh", pa.float64(), nullable=True),
        pa.field("note", pa.string(), nullable=True),
    ]
)


def _readings(kwh: list[float | None], notes: list[str | None]) -> pa.Table:
    n = len(kwh)
    return pa.table(
        {
            "meter_id": [f"MTR-{i % 2}" for i in range(n)],
            "ts_utc": [T0 + timedelta(minutes=15 * (i // 2)) for i in range(n)],
            "kwh": kwh,
            "note": notes,
        },
        schema=READINGS,
    )


def test_generic_tables(store: Any) -> None:
    store.ensure_table("ami_readings", READINGS, ("meter_id", "ts_utc"))
    store.ensure_table("ami_readings", READINGS, ("meter_id", "ts_utc"))  # idempotent
    first = _readings([1.5, None, 0.1 + 0.2, 4.0], ["", None, "50% 'odd' ?", "x"])
    assert store.append_arrow("ami_readings", first) == 4
    sql = "SELECT meter_id, ts_utc, kwh, note FROM ami_readings WHERE meter_id = ? ORDER BY ts_utc"
    got = store.query_arrow(sql, ["MTR-0"], schema=READINGS)
    assert got.equals(first.filter(pa.compute.equal(first["meter_id"], "MTR-0")))
    update = _readings([9.0, 8.0, 7.0, 6.0, 5.0, 4.0], [None] * 6)
    assert store.upsert_arrow("ami_readings", update, ("meter_id", "ts_utc")) == 6
    everything = store.query_arrow(
        "SELECT meter_id, ts_utc, kwh, note FROM ami_readings ORDER BY ts_utc, meter_id"
    )
    assert everything.num_rows == 6
    assert everything.column("kwh").to_pylist() == [9.0, 8.0, 7.0, 6.0, 5.0, 4.0]
    assert store.execute("DELETE FROM ami_readings WHERE kwh > ? AND note IS NULL", [6.5]) == 3
    pct = store.query_arrow("SELECT COUNT(*) AS n FROM ami_readings WHERE '100%' LIKE ?", ["100%"])
    assert pct.column("n").to_pylist() == [3]
    empty = store.query_arrow(
        "SELECT meter_id, ts_utc, kwh, note FROM ami_readings WHERE 1 = 0", schema=READINGS
    )
    assert empty.num_rows == 0 and empty.schema == READINGS
    with pytest.raises(InvalidInputError):
        store.upsert_arrow("ami_readings", update, ("nope",))
    with pytest.raises(ValueError):
        store.append_arrow("ami_readings; DROP TABLE assets", first)
    # driver errors arrive as domain errors: a duplicate key conflicts, broken SQL is a storage error
    with pytest.raises(ConflictError):
        store.append_arrow("ami_readings", update.slice(3, 1))
    assert store.query_arrow("SELECT COUNT(*) AS n FROM ami_readings").column("n").to_pylist() == [3]
    with pytest.raises(StorageError):
        store.query_arrow("SELECT nope FROM ami_readings")
    assert store.health()["ok"] is True


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
def test_ddl_follows_the_declaration(dialect: Any) -> None:
    sql = create_table_sql("line_segments", TABLES["line_segments"], dialect, primary_key=("segment_id",))
    assert sql.count(" NOT NULL") == sum(not f.nullable for f in TABLES["line_segments"])
    assert "PRIMARY KEY (segment_id)" in sql
    assert ("BLOB" if dialect == "duckdb" else "BYTEA") in sql
    with pytest.raises(ValueError):
        create_table_sql("x", pa.schema([pa.field("t", pa.timestamp("us"))]), dialect)
    with pytest.raises(ValueError):
        ident('a"; DROP')


def test_placeholders_are_rewritten_outside_quotes_only() -> None:
    assert to_pyformat("SELECT '?', \"a?\" FROM t WHERE x = ? AND y LIKE '10%'") == (
        "SELECT '?', \"a?\" FROM t WHERE x = %s AND y LIKE '10%%'"
    )


def test_bytea_hex_round_trip() -> None:
    values = [b"", None, bytes(range(256)), b"\x00\xff", b"abc"]
    arr = pa.array(values, type=pa.binary())
    encoded = loading._hex_encode(arr.slice(1))
    assert encoded.to_pylist()[2] == "\\x00ff" and encoded.to_pylist()[0] is None
    assert loading.hex_decode(encoded).to_pylist() == values[1:]
