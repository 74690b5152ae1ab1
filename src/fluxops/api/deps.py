"""Request-scoped access to the store and to the loaded grid, cached once per grid content hash.

The grid is read from the store once and kept in ``app.state`` with what is derived from it (the
topology index, the Arrow map payloads). Each request compares the store's ``content_hash`` with the
cached one, so a grid loaded by ``POST /api/admin/grid`` or by ``fluxops generate`` in another
process is picked up on the next request, and never mixed with the previous one.

The grid served is the *live configuration*: the stored grid with the operated switch states laid
over ``devices.state`` (`fluxops.ops.switching`). Its ``info.content_hash`` is the configuration's
identity (`fluxops.ops.switching.configuration_hash`: the stored hash when nothing is operated away
from its recorded state), so every cache keyed on it (derived views, the loading map, ETags, stored
N-1 screenings, the ops and AMI runtimes) follows a switching operation on the next request.
"""

from __future__ import annotations

import dataclasses
import gzip
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast

import pyarrow as pa
from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool

from fluxops.core.errors import NotFoundError, StorageError
from fluxops.grid.models import Grid
from fluxops.grid.ports import GridInfo, GridStore
from fluxops.ops.switching import SwitchState, apply_switch_states, configuration_hash, differing_states
from fluxops.security.ports import SecurityStore
from fluxops.storage.asset_reads import AssetReads
from fluxops.storage.switching_store import read_switch_states

ARROW_STREAM_MEDIA_TYPE = "application/vnd.apache.arrow.stream"
T = TypeVar("T")
GZIP_LEVEL = 6  # zlib's default trade-off; level 9 saves ~2% more for ~3x the CPU on map payloads


class AppStore(GridStore, SecurityStore, Protocol):
    """What the API needs from the store: the grid and the security ports together."""


def get_store(request: Request) -> AppStore:
    store: AppStore = request.app.state.store
    return store


@dataclass(frozen=True)
class ArrowPayload:
    """One Arrow IPC stream, uncompressed and gzipped, with its ETag.

    Why not IPC buffer compression (lz4/zstd): apache-arrow JS reads compressed IPC only when the
    application registers codecs itself (arrow-js PR #14, 2025; issue #298), so the browser would
    need extra bundles. Plain IPC with HTTP ``Content-Encoding: gzip`` is decoded by every browser.
    """

    raw: bytes
    gzipped: bytes
    etag: str
    rows: int


def arrow_payload(table: pa.Table, *, etag: str) -> ArrowPayload:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    raw = sink.getvalue().to_pybytes()
    return ArrowPayload(
        raw=raw, gzipped=gzip.compress(raw, compresslevel=GZIP_LEVEL), etag=etag, rows=table.num_rows
    )


@dataclass
class LoadedGrid:
    """The grid as loaded, plus lazily derived, cached views of it (never mutated)."""

    info: GridInfo  # content_hash: the live configuration's identity (see the module docstring)
    grid: Grid  # the live configuration (operated switch states applied)
    base_hash: str = ""  # content hash of the grid as stored ("" = info.content_hash)
    switch_states: tuple[SwitchState, ...] = ()  # the operated states (incl. ones equal to the record)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _derived: dict[str, Any] = field(default_factory=dict, repr=False)

    def derived(self, key: str, build: Callable[[], T]) -> T:
        """``build()`` once per grid (thread-safe); e.g. the topology index or a map payload."""
        with self._lock:
            if key not in self._derived:
                self._derived[key] = build()
            return cast(T, self._derived[key])

    def built(self, key: str) -> bool:
        """Whether `derived` has ``key`` already (answering it then costs no build)."""
        return key in self._derived

    def etag(self, kind: str) -> str:
        return f'"{self.info.content_hash[:24]}-{kind}"'

    @property
    def stored_hash(self) -> str:
        """The content hash of the grid as stored (the key of its switch states)."""
        return self.base_hash or self.info.content_hash


class GridCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._base: LoadedGrid | None = None  # the grid as stored
        self._loaded: LoadedGrid | None = None  # the live configuration served
        self._key: tuple[str, tuple[tuple[str, str], ...]] | None = None
        self._gen: int | None = None  # the store's write generation the cached grid was checked at

    def get(self, store: GridStore) -> LoadedGrid:
        """The live configuration. On a store that counts its writes (`write_generation`: DuckDB, one
        writer) an unchanged count means an unchanged grid and switch states, so the two queries below
        run only after a write; otherwise (PostgreSQL: other processes write) on every call."""
        gen = _write_generation(store)
        if gen is not None:
            loaded = self._loaded
            if loaded is not None and self._gen == gen:
                return loaded
        loaded = self._check(store)
        if gen is not None:
            with self._lock:
                if self._loaded is loaded:
                    self._gen = gen  # read before the check: a write during it forces the next check
        return loaded

    def peek(self, store: GridStore) -> LoadedGrid | None:
        """The cached live configuration when it is known current without a query (the store's write
        generation is the one it was checked at), else None: then call `get` (in a thread)."""
        gen = _write_generation(store)
        loaded = self._loaded
        return loaded if gen is not None and loaded is not None and self._gen == gen else None

    def _check(self, store: GridStore) -> LoadedGrid:
        info = store.get_grid_info()
        if info is None:
            raise NotFoundError(
                "no grid is loaded: run `fluxops generate` or POST /api/admin/grid",
                details={"grid": None},
            )
        states = tuple(read_switch_states(store, info.content_hash))
        key = (info.content_hash, tuple((s.device_id, s.state) for s in states))
        with self._lock:
            if self._loaded is not None and self._key == key:
                return self._loaded
            base = self._read_base(store, info)
            if base.info.content_hash != info.content_hash:  # a load landed meanwhile: its own states
                states = tuple(read_switch_states(store, base.info.content_hash))
                key = (base.info.content_hash, tuple((s.device_id, s.state) for s in states))
            self._loaded, self._key = self._live(base, states), key
            return self._loaded

    def _read_base(self, store: GridStore, info: GridInfo) -> LoadedGrid:
        current = self._base
        if current is not None and current.info.content_hash == info.content_hash:
            return current
        for _ in range(3):  # a load may land between reading the info and the tables
            grid = store.read_grid()
            after = store.get_grid_info()
            if grid is not None and after is not None and after.content_hash == info.content_hash:
                self._base = LoadedGrid(info=after, grid=grid)
                return self._base
            if after is None:
                break
            info = after
        raise StorageError("the grid changed while it was being read; retry")

    @staticmethod
    def _live(base: LoadedGrid, states: tuple[SwitchState, ...]) -> LoadedGrid:
        wanted = {s.device_id: s.state for s in states}
        diff = differing_states(base.grid, wanted)
        if not diff:  # nothing away from its recorded state: the stored grid (and its derived views)
            return base
        info = dataclasses.replace(base.info, content_hash=configuration_hash(base.info.content_hash, diff))
        return LoadedGrid(
            info=info,
            grid=apply_switch_states(base.grid, diff),
            base_hash=base.info.content_hash,
            switch_states=states,
        )

    def stored(self) -> LoadedGrid | None:
        """The grid as stored (no switching applied) behind the last `get`; None before the first."""
        with self._lock:
            return self._base

    def invalidate(self) -> None:
        with self._lock:
            self._base = None
            self._loaded = None
            self._key = None
            self._gen = None


def _write_generation(store: Any) -> int | None:
    fn = getattr(store, "write_generation", None)
    gen = fn() if callable(fn) else None
    return gen if isinstance(gen, int) else None


_cache_lock = threading.Lock()


def grid_cache(app: FastAPI) -> GridCache:
    with _cache_lock:
        cache: GridCache | None = getattr(app.state, "grid_cache", None)
        if cache is None:
            cache = GridCache()
            app.state.grid_cache = cache
        return cache


async def loaded_grid(request: Request) -> LoadedGrid:
    """Async twin of `get_loaded_grid` for routes that answer from memory: on the event loop when the
    cached grid is known current (no thread hop), in the thread pool when it must be checked."""
    cache = grid_cache(request.app)
    store = get_store(request)
    hit = cache.peek(store)
    return hit if hit is not None else await run_in_threadpool(cache.get, store)


def asset_reads(app: FastAPI) -> AssetReads:
    """The app's in-memory asset columns (`fluxops.storage.asset_reads`), created on first use."""
    with _cache_lock:
        reads: AssetReads | None = getattr(app.state, "asset_reads", None)
        if reads is None:
            reads = AssetReads()
            app.state.asset_reads = reads
        return reads


def get_loaded_grid(request: Request) -> LoadedGrid:
    """Dependency: the loaded grid (404 when none is loaded)."""
    return grid_cache(request.app).get(get_store(request))
