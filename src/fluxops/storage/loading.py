"""Turning a Grid into what both stores load: the content hash, the asset index, and the CSV
encoding PostgreSQL's COPY reads (and its inverse).

Why a content hash: re-loading the same grid must be a no-op (idempotent), and a cheap way to know
"same grid" is a sha256 over the canonical Arrow IPC of every table plus the grid's meta.
"""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from fluxops.grid.models import TABLES, Grid
from fluxops.storage.schema import ASSETS

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_UNHEX = np.full(256, 0, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _UNHEX[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    _UNHEX[_c] = 10 + _i


def canonical_arrow(grid: Grid, name: str) -> pa.Table:
    """One grid table as Arrow in one chunk, declared schema, no pandas metadata."""
    table = grid.to_arrow(name).combine_chunks()
    return table.replace_schema_metadata(None)


def meta_json(grid: Grid) -> str:
    return json.dumps(grid.meta.params, sort_keys=True, default=str)


def content_hash(grid: Grid) -> str:
    """sha256 over the grid's meta and the Arrow IPC stream of each table, in `TABLES` order."""
    digest = hashlib.sha256()
    digest.update(json.dumps([grid.meta.name, grid.meta.source, meta_json(grid)]).encode())
    for name in TABLES:
        sink = io.BytesIO()
        table = canonical_arrow(grid, name)
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        digest.update(name.encode())
        digest.update(sink.getvalue())
    return digest.hexdigest()


def asset_table(grid: Grid) -> pa.Table:
    """The ``assets`` rows of a grid (`fluxops.grid.assets.asset_index`), cast to `schema.ASSETS`."""
    from fluxops.grid.assets import asset_index  # the grid domain owns what an "asset" is

    frame = asset_index(grid)
    missing = [c for c in ASSETS.names if c not in frame.columns]
    if missing:
        raise ValueError(f"asset_index lacks columns {missing}")
    return pa.Table.from_pandas(frame[ASSETS.names], schema=ASSETS, preserve_index=False).combine_chunks()


# --- PostgreSQL COPY encoding (CSV) ---------------------------------------------------------------


def _hex_encode(arr: pa.Array) -> pa.Array:
    """Binary -> PostgreSQL bytea hex text (``\\x0a1b...``), vectorized over the whole column."""
    arr = pc.take(arr, pa.array(np.arange(len(arr))))  # fresh, offset 0
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[: n + 1]
    data_buf = arr.buffers()[2]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.empty(0, np.uint8)
    data = data[offsets[0] : offsets[-1]]
    lens = np.diff(offsets).astype(np.int64)
    new_offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(2 + 2 * lens, out=new_offsets[1:])
    out = np.empty(int(new_offsets[-1]), dtype=np.uint8)
    starts = new_offsets[:-1]
    out[starts] = ord("\\")
    out[starts + 1] = ord("x")
    row = np.repeat(np.arange(n), lens)
    k = np.arange(len(data)) - np.repeat(offsets[:-1].astype(np.int64) - offsets[0], lens)
    pos = new_offsets[row] + 2 + 2 * k
    out[pos] = _HEX[data >> 4]
    out[pos + 1] = _HEX[data & 0x0F]
    return pa.Array.from_buffers(
        pa.large_string(),
        n,
        [arr.buffers()[0], pa.py_buffer(new_offsets), pa.py_buffer(out)],
        null_count=arr.null_count,
    )


def hex_decode(arr: pa.Array) -> pa.Array:
    """PostgreSQL bytea hex text (``\\x...``) -> binary, vectorized (inverse of the COPY encoding)."""
    arr = pc.take(pc.cast(arr, pa.large_string()), pa.array(np.arange(len(arr))))
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[: n + 1]
    data_buf = arr.buffers()[2]
    text = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.empty(0, np.uint8)
    lens = np.diff(offsets)
    valid = lens >= 2
    out_lens = np.where(valid, (lens - 2) // 2, 0)
    new_offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(out_lens, out=new_offsets[1:])
    total = int(new_offsets[-1])
    row = np.repeat(np.arange(n), out_lens)
    k = np.arange(total) - np.repeat(new_offsets[:-1], out_lens)
    src = offsets[:-1][row] + 2 + 2 * k
    out = (_UNHEX[text[src]] << 4) | _UNHEX[text[src + 1]]
    return pa.Array.from_buffers(
        pa.large_binary(),
        n,
        [arr.buffers()[0], pa.py_buffer(new_offsets), pa.py_buffer(out.astype(np.uint8))],
        null_count=arr.null_count,
    ).cast(pa.binary())


def to_copy_csv(table: pa.Table, options: pacsv.WriteOptions | None = None) -> bytes:
    """CSV that ``COPY ... FROM STDIN (FORMAT csv, HEADER)`` reads back exactly.

    pyarrow quotes every string (so an empty string is ``""``) and leaves nulls unquoted-empty, which
    is PostgreSQL's CSV NULL. Doubles are written shortest-round-trip; binary becomes bytea hex.
    """
    columns: list[Any] = []
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type):
            columns.append(_hex_encode(column.combine_chunks()))
        else:
            columns.append(column)
    sink = io.BytesIO()
    pacsv.write_csv(pa.table(columns, names=table.column_names), sink, write_options=options)
    return sink.getvalue()


def from_copy_csv(data: bytes, schema: pa.Schema) -> pa.Table:
    """Parse ``COPY ... TO STDOUT (FORMAT csv, HEADER)`` output into ``schema`` (nulls preserved)."""
    types: dict[str, pa.DataType] = {}
    for field in schema:
        if pa.types.is_timestamp(field.type):
            raise ValueError("timestamps are read with a cursor, not through CSV")
        if pa.types.is_binary(field.type):
            types[field.name] = pa.string()
        else:
            types[field.name] = field.type
    convert = pacsv.ConvertOptions(
        column_types=types,
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
        null_values=[""],
        true_values=["t", "true"],
        false_values=["f", "false"],
    )
    read = pacsv.ReadOptions(block_size=1 << 26)
    table = pacsv.read_csv(io.BytesIO(data), read_options=read, convert_options=convert)
    out: list[pa.Array | pa.ChunkedArray] = []
    for field in schema:
        column = table.column(field.name)
        if pa.types.is_binary(field.type):
            out.append(hex_decode(column.combine_chunks()))
        else:
            out.append(column)
    return pa.table(out, schema=schema)
