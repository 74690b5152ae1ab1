"""The server's glibc malloc settings (issue 8 §5, memory flat): a multi-MB temporary gets its own mapping
(given back when freed, instead of fragmenting a heap), and the trim thread runs."""

from __future__ import annotations

import ctypes
import time
from collections.abc import Iterator

import pytest

from fluxops.api import malloc_tuning


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _mapped_bytes() -> int:
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    return int(libc.mallinfo2().hblkhd)


@pytest.fixture
def tuned() -> Iterator[malloc_tuning.MallocTuning]:
    state = malloc_tuning.install(trim_every_s=0.05)
    if not state.applied:
        pytest.skip("not glibc: the allocator is left alone")
    yield state
    malloc_tuning.uninstall()


def test_a_large_temporary_is_mapped_and_given_back(tuned: malloc_tuning.MallocTuning) -> None:
    before = _mapped_bytes()
    block = bytearray(4 << 20)  # larger than the fixed mmap threshold (1 MiB)
    assert _mapped_bytes() >= before + (4 << 20)
    del block
    assert _mapped_bytes() < before + (4 << 20)  # unmapped on free, not kept in a heap


def test_the_trim_thread_runs_and_install_is_idempotent(tuned: malloc_tuning.MallocTuning) -> None:
    assert malloc_tuning.install() is tuned
    start = tuned.trims
    deadline = time.monotonic() + 30
    while tuned.trims < start + 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert tuned.trims >= start + 2
    assert malloc_tuning.trim()
