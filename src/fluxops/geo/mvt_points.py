"""A vectorized Mapbox Vector Tile encoder for point layers (MVT spec 2.1, protobuf by hand).

Why: the database's ``ST_AsMVT`` costs a statement, a scan and per-feature encoding per tile; under 16
concurrent clients the DuckDB statements queued behind each other (uncached tile p95 1.2-3.3 s on
houston, docs/benchmarks/geo.md). A point tile is a few thousand (x, y, five strings): here the whole
layer message is built with NumPy (every feature's tokens in one matrix, varints encoded column-wise),
and the values table comes as one pre-encoded byte blob per tile (`PointLayerData.value_messages`).

What it writes is what DuckDB spatial's ``ST_AsMVT`` writes for the same rows: layer version 2, the
name, one POINT feature per row (no feature id; tags into the layer's keys and values, a null property
left out), the keys, string values, extent. Tile coordinates follow ``ST_AsMVTGeom``: relative to the
tile's top-left corner, y down, rounded to the nearest unit, kept when strictly inside the tile grown
by the buffer (`tile_points`; the border itself is out, as in DuckDB spatial 1.5.5).
"""

from __future__ import annotations

from typing import Any

import numpy as np

Int = np.ndarray[Any, np.dtype[np.int64]]
Float = np.ndarray[Any, np.dtype[np.float64]]
_MAX_VARINT = 10  # bytes of a 64-bit varint


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _varint_len(v: np.ndarray[Any, np.dtype[np.uint64]]) -> np.ndarray[Any, np.dtype[np.int64]]:
    n = np.ones(v.shape, dtype=np.int64)
    for k in range(1, _MAX_VARINT):
        n += v >= np.uint64(1) << np.uint64(7 * k)
    return n


def _varint_bytes(tokens: np.ndarray[Any, np.dtype[np.uint64]], lens: Int) -> bytes:
    """Every token's varint, row-major, tokens with ``lens == 0`` left out."""
    flat = tokens.reshape(-1)
    width = int(lens.max()) if lens.size else 1
    shifts = (np.arange(width, dtype=np.uint64) * np.uint64(7))[None, :]
    groups = ((flat[:, None] >> shifts) & np.uint64(0x7F)).astype(np.uint8)
    ln = lens.reshape(-1)[:, None]
    j = np.arange(width)[None, :]
    groups |= np.where(j < ln - 1, 0x80, 0).astype(np.uint8)
    return groups[j < ln].tobytes()


def _zigzag(v: Int) -> np.ndarray[Any, np.dtype[np.uint64]]:
    return ((v << 1) ^ (v >> 63)).astype(np.uint64)


def tile_points(
    x: Float, y: Float, bounds: tuple[float, float, float, float], extent: int, buffer: int
) -> tuple[Int, Int, np.ndarray[Any, np.dtype[np.bool_]]]:
    """Mercator metres -> tile units (y down, rounded), and which fall inside the buffered tile."""
    min_x, min_y, max_x, max_y = bounds
    px = np.round((x - min_x) * (extent / (max_x - min_x))).astype(np.int64)
    py = np.round((max_y - y) * (extent / (max_y - min_y))).astype(np.int64)
    keep = (px > -buffer) & (px < extent + buffer) & (py > -buffer) & (py < extent + buffer)
    return px, py, keep


def encode_point_layer(
    name: str, keys: tuple[str, ...], px: Int, py: Int, codes: Int, values: bytes, extent: int
) -> bytes:
    """One tile holding one layer of points.

    ``codes`` (features x keys): each property's index into this tile's values table (-1: null, left
    out); ``values``: the values table, already encoded as consecutive Layer.values messages."""
    n, k = codes.shape
    if n == 0:
        return b""
    cols = 4 + 2 * k + 7
    tok = np.zeros((n, cols), dtype=np.uint64)
    lens = np.ones((n, cols), dtype=np.int64)
    tok[:, 0] = 0x12  # Layer.features, length-delimited
    tok[:, 2] = 0x12  # Feature.tags, packed
    valid = codes >= 0
    tok[:, 4 : 4 + 2 * k : 2] = np.arange(k, dtype=np.uint64)
    tok[:, 5 : 4 + 2 * k : 2] = np.where(valid, codes, 0).astype(np.uint64)
    tail = 4 + 2 * k
    tok[:, tail : tail + 5] = np.array([0x18, 1, 0x22, 3, 9], dtype=np.uint64)  # type POINT; MoveTo(1)
    tok[:, tail + 5] = _zigzag(px)
    tok[:, tail + 6] = _zigzag(py)
    lens[:, 4:] = _varint_len(tok[:, 4:])
    lens[:, 4:tail] *= np.repeat(valid, 2, axis=1)
    tag_len = lens[:, 4:tail].sum(axis=1)
    tok[:, 3] = tag_len.astype(np.uint64)
    lens[:, 3] = _varint_len(tok[:, 3])
    lens[:, tail + 3] = 1  # geometry length 3 (< 128)
    tok[:, tail + 3] = _varint_len(tok[:, tail + 5 : tail + 7]).sum(axis=1).astype(np.uint64) + 1
    feat_len = lens[:, 2:].sum(axis=1)
    tok[:, 1] = feat_len.astype(np.uint64)
    lens[:, 1] = _varint_len(tok[:, 1])
    features = _varint_bytes(tok, lens)
    name_b = name.encode()
    key_b = b"".join(b"\x1a" + varint(len(kb)) + kb for kb in (key.encode() for key in keys))
    layer = (
        b"\x78\x02\x0a" + varint(len(name_b)) + name_b + features + key_b + values + b"\x28" + varint(extent)
    )
    return b"\x1a" + varint(len(layer)) + layer


def value_messages(
    data: np.ndarray[Any, np.dtype[np.uint8]], offsets: Int
) -> tuple[np.ndarray[Any, Any], Int]:
    """Many strings (UTF-8 ``data`` cut at ``offsets``) as Layer.values entries, vectorized: the
    encoded bytes and their offsets (entry i is ``out[off[i]:off[i + 1]]``), each as `value_message`."""
    n = len(offsets) - 1
    length = np.diff(offsets).astype(np.int64)
    inner = 1 + _varint_len(length.astype(np.uint64)) + length
    head = np.empty((n, 4), dtype=np.uint64)
    head[:, 0], head[:, 1], head[:, 2], head[:, 3] = 0x22, inner, 0x0A, length
    head_lens = _varint_len(head)
    head_bytes = np.frombuffer(_varint_bytes(head, head_lens), dtype=np.uint8)
    head_len = head_lens.sum(axis=1)
    size = head_len + length
    out_off = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(size, out=out_off[1:])
    out = np.empty(int(out_off[-1]), dtype=np.uint8)
    head_start = np.zeros(n, dtype=np.int64)
    np.cumsum(head_len[:-1], out=head_start[1:])
    within = np.arange(len(head_bytes)) - np.repeat(head_start, head_len)
    out[np.repeat(out_off[:-1], head_len) + within] = head_bytes
    total = int(length.sum())
    within = np.arange(total) - np.repeat(np.cumsum(length) - length, length)
    src = np.repeat(offsets[:-1].astype(np.int64), length) + within
    out[np.repeat(out_off[:-1] + head_len, length) + within] = data[src]
    return out, out_off


def value_message(text: str) -> bytes:
    """Layer.values entry (field 4) holding one string Value (field 1)."""
    s = text.encode()
    inner = b"\x0a" + varint(len(s)) + s
    return b"\x22" + varint(len(inner)) + inner
