"""glibc malloc settings for the server process, and a periodic trim: the server's memory stays flat
under load instead of ratcheting up (issue 8 §5).

Why: measured under 64 clients with the AMI feed on `demo` (mallinfo2 of the server), the live heap stayed
at ~0.3–0.5 GB while glibc kept 0.25 → 0.77 GB of *freed* memory in its arenas within three minutes —
RSS grew by what was freed, not by what was held. Three glibc behaviours cause it, each set here:

* one arena per thread that ever contended (up to 8 × cores): the API's thread pool, the outage engine,
  the AMI refresher and compactor each grew their own heap, and memory freed in one is never reused by
  another. ``M_ARENA_MAX`` = 2: Python code mostly allocates under the GIL, so more arenas buy little
  (DuckDB and Arrow have their own allocators).
* the mmap threshold rises by itself (up to 32 MB) after large blocks are freed, so later multi-MB
  temporaries (Arrow → pandas frames, JSON bodies, NumPy masks over 237K assets) are carved from the
  heap and fragment it. A fixed ``M_MMAP_THRESHOLD`` keeps them in their own mappings, returned on free.
* freed memory inside a heap (not at its top) is returned only by ``malloc_trim``: run every
  ``TRIM_EVERY_S`` on a daemon thread (a few ms over a GB heap).

Other platforms and C libraries: nothing is changed (`install` answers False).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
from dataclasses import dataclass

log = logging.getLogger(__name__)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
ARENA_MAX = 2
MMAP_THRESHOLD_BYTES = 1 << 20  # 1 MiB: blocks this large get their own mapping
TRIM_THRESHOLD_BYTES = 8 << 20  # the heap top is given back past 8 MiB free (fixed, not adaptive)
TRIM_EVERY_S = 30.0


@dataclass
class MallocTuning:
    """What `install` applied (the tests read it) and the trims run since."""

    applied: bool
    trims: int = 0


_state = MallocTuning(applied=False)
_lock = threading.Lock()
_thread: threading.Thread | None = None
_stop = threading.Event()


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    if not all(hasattr(libc, f) for f in ("mallopt", "malloc_trim", "gnu_get_libc_version")):
        return None  # not glibc (musl, macOS): leave its allocator alone
    return libc


def trim() -> bool:
    """Give freed heap pages back to the OS now (glibc); False where there is nothing to call."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    with _lock:
        _state.trims += 1
    return True


def _trim_loop(every_s: float) -> None:
    while not _stop.wait(every_s):
        try:
            trim()
        except Exception:  # never take the server down for a memory hint
            log.exception("malloc_trim failed")


def install(*, trim_every_s: float = TRIM_EVERY_S) -> MallocTuning:
    """Apply the settings (once per process; call before the server starts its threads) and start the
    trim thread unless it runs; returns what was applied."""
    global _thread
    with _lock:
        libc = _libc()
        if libc is None:
            return _state
        if not _state.applied:
            settings = (
                (M_ARENA_MAX, ARENA_MAX),
                (M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES),
                (M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES),
            )
            _state.applied = all(libc.mallopt(param, value) == 1 for param, value in settings)
        if _thread is None and trim_every_s > 0:
            _stop.clear()
            _thread = threading.Thread(
                target=_trim_loop, args=(trim_every_s,), name="malloc-trim", daemon=True
            )
            _thread.start()
        return _state


def uninstall() -> None:
    """Stop the trim thread (the settings stay: glibc has no way back; harmless)."""
    global _thread
    _stop.set()
    th, _thread = _thread, None
    if th is not None:
        th.join(timeout=5)
