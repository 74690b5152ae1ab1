"""Bracket nesting depth of a JSON body, measured with NumPy before any parser sees the body.

Why: a 40 KB NDJSON line of nested brackets overflows the native stack of the Arrow JSON reader and
kills the whole server (issue 8 §2); readings and events are flat records, so a depth bound is cheap
to enforce and lets every parser after it assume shallow input. The scan is vectorized (no Python
loop per byte): only the structural bytes (quotes, backslashes, brackets, newlines) are looked at,
brackets inside string literals are ignored (a quote preceded by an odd run of backslashes is
escaped), and string state restarts at each newline (JSON strings cannot hold a raw newline, so a
malformed line cannot hide the brackets of the lines after it). The body is scanned in chunks cut at
newlines so memory stays bounded whatever its size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

CHUNK_BYTES = 4 * 1024 * 1024
_QUOTE, _BACKSLASH, _NEWLINE = ord('"'), ord("\\"), ord("\n")
_LUT = np.zeros(256, dtype=bool)
_LUT[[_QUOTE, _BACKSLASH, _NEWLINE, ord("{"), ord("["), ord("}"), ord("]")]] = True
_DELTA = np.zeros(256, dtype=np.int64)
_DELTA[[ord("{"), ord("[")]] = 1
_DELTA[[ord("}"), ord("]")]] = -1


@dataclass(frozen=True)
class Nesting:
    """The deepest point of a body: its depth, and where (1-based line, 1-based column, byte offset)."""

    depth: int
    line: int
    column: int
    offset: int


def json_nesting(body: bytes, *, per_line: bool) -> Nesting:
    """Deepest bracket nesting in ``body``; ``per_line`` measures each line from zero (NDJSON), otherwise
    depth carries across lines (one JSON document such as a top-level array)."""
    best = Nesting(0, 1, 1, 0)
    view = memoryview(body)
    start, carry, lines_before = 0, 0, 0
    while start < len(body):
        end = min(start + CHUNK_BYTES, len(body))
        if end < len(body):
            cut = body.rfind(b"\n", start, end)
            end = cut + 1 if cut >= start else body.find(b"\n", end) + 1 or len(body)
        chunk = np.frombuffer(view[start:end], dtype=np.uint8)
        depth, pos, line, final = _scan(chunk, carry, per_line=per_line)
        if depth > best.depth:
            last_nl = body.rfind(b"\n", 0, start + pos)
            best = Nesting(depth, lines_before + line, start + pos - last_nl, start + pos)
        carry = final
        lines_before += int(np.count_nonzero(chunk == _NEWLINE))
        start = end
    return best


def _scan(b: npt.NDArray[np.uint8], carry: int, *, per_line: bool) -> tuple[int, int, int, int]:
    """(max depth, its byte position, its 1-based line in the chunk, depth at the chunk's end)."""
    pos = np.flatnonzero(_LUT[b])
    if pos.size == 0:
        return carry, 0, 1, carry
    ch = b[pos]
    k = np.arange(pos.size)
    is_bs = ch == _BACKSLASH
    # a backslash directly before this byte continues a run; an odd run escapes the quote after it
    cont = np.zeros(pos.size, dtype=bool)
    cont[1:] = is_bs[:-1] & (pos[:-1] == pos[1:] - 1)
    run_start = np.maximum.accumulate(np.where(is_bs & ~cont, k, 0))
    run_len = np.zeros(pos.size, dtype=np.int64)
    run_len[1:] = k[1:] - run_start[:-1]
    quote = (ch == _QUOTE) & ~(cont & (run_len % 2 == 1))
    is_nl = ch == _NEWLINE
    last_nl = np.maximum.accumulate(np.where(is_nl, k, -1))
    at_nl = np.maximum(last_nl, 0)
    qcount = np.cumsum(quote)
    inside = (qcount - np.where(last_nl >= 0, qcount[at_nl], 0) - quote) % 2 == 1
    depth = np.cumsum(np.where(inside, 0, _DELTA[ch])) + carry
    rel = depth - np.where(last_nl >= 0, depth[at_nl], 0) if per_line else depth
    i = int(np.argmax(rel))
    line = int(np.count_nonzero(is_nl[:i])) + 1
    return int(rel[i]), int(pos[i]), line, 0 if per_line else int(depth[-1])
