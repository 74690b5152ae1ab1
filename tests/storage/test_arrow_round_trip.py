"""Property: any Arrow table of the declared column types survives append -> query exactly, on both
backends and through both read paths (cursor rows; PostgreSQL's COPY-to-CSV bulk read)."""

from __future__ import annotations

import math
from typing import Any

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SCHEMA = pa.schema(
    [
        pa.field("row_id", pa.int64(), nullable=False),
        pa.field("text", pa.string(), nullable=True),
        pa.field("value", pa.float64(), nullable=True),
        pa.field("count", pa.int32(), nullable=True),
        pa.field("flag", pa.bool_(), nullable=True),
        pa.field("blob", pa.binary(), nullable=True),
    ]
)
# Text as utilities write it, plus what breaks CSV and SQL: quotes, commas, newlines, backslashes, %, ?.
TEXT = st.one_of(
    st.none(),
    st.sampled_from(["", "'", '"', ",", "\n", "\\", "\\x00", "%s", "?", "NULL", "\\N", " a "]),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12),
)
FLOAT = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=True, width=64))
ROW = st.tuples(
    TEXT,
    FLOAT,
    st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1)),
    st.one_of(st.none(), st.booleans()),
    st.one_of(st.none(), st.binary(max_size=20)),
)


def _table(rows: list[tuple[Any, ...]]) -> pa.Table:
    cols = list(zip(*rows, strict=True)) if rows else [()] * 5
    return pa.table(
        [pa.array(range(len(rows)), pa.int64())]
        + [pa.array(list(c), type=f.type) for c, f in zip(cols, list(SCHEMA)[1:], strict=True)],
        schema=SCHEMA,
    )


def _same(a: pa.Table, b: pa.Table) -> bool:
    for x, y in zip(a.to_pylist(), b.to_pylist(), strict=True):
        for k in x:
            if isinstance(x[k], float) and isinstance(y[k], float):
                if not (x[k] == y[k] and math.copysign(1, x[k]) == math.copysign(1, y[k])):
                    return False
            elif x[k] != y[k]:
                return False
    return a.num_rows == b.num_rows


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, max_size=8))
def test_append_then_query_is_exact(store: Any, rows: list[tuple[Any, ...]]) -> None:
    store.ensure_table("round_trip", SCHEMA, ("row_id",))
    store.execute("DELETE FROM round_trip WHERE row_id >= ?", [0])
    data = _table(rows)
    assert store.append_arrow("round_trip", data) == len(rows)
    sql = "SELECT row_id, text, value, count, flag, blob FROM round_trip ORDER BY row_id"
    bulk = store.query_arrow(sql, schema=SCHEMA)  # PostgreSQL: COPY TO STDOUT, parsed by Arrow
    by_rows = store.query_arrow(sql + " LIMIT ?", [1000], schema=SCHEMA)  # cursor rows
    assert _same(bulk, data), (bulk.to_pylist(), data.to_pylist())
    assert _same(by_rows, data), (by_rows.to_pylist(), data.to_pylist())
