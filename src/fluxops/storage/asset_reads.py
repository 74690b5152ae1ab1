"""`AssetReads`: the asset listing (bbox pages) and one asset's row answered from columns in memory.

Why (issue 8 §5): under 64 clients the bbox and asset-detail routes spent most of their time in DuckDB
statements (per-statement overhead, one writer's lock and two cores shared with ingestion), not in the
work itself: a 0.5–2 km box over 237K assets is four comparisons of float columns. The ``assets`` table
never changes while a grid is loaded (a new grid is a new content hash), so it is read once per grid into
NumPy columns sorted by ``asset_id``; only the statuses change (``asset_status``, written by the outage
engine), and they are re-read when the store's write generation moves (`DuckDBStore.write_generation`).

Same answers as `SqlStore.list_assets` / `get_asset`: the same filters on the same columns (the bbox test
on the min/max columns), ordered by ``asset_id`` (byte order, as the SQL ``ORDER BY``), the same cursor.
The caller uses it only with stores that count their writes (PostgreSQL does not: other processes
write); filters kept in SQL (``transformer_id``) answer None, and the caller asks the store.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from fluxops.grid.models import ASSET_TYPES
from fluxops.grid.ports import ASSET_STATUSES, AssetPage, AssetQuery, AssetRow

_COLS = (
    "asset_id",
    "asset_type",
    "name",
    "feeder_id",
    "substation_id",
    "lon",
    "lat",
    "min_lon",
    "max_lon",
    "min_lat",
    "max_lat",
)
NORMAL = "normal"


class _Store(Protocol):
    def query_arrow(self, sql: str, params: Any = (), *, schema: pa.Schema | None = None) -> pa.Table: ...


@dataclass
class _Columns:
    ids: np.ndarray[Any, Any]  # str (NumPy unicode), sorted
    types: np.ndarray[Any, Any]
    names: list[str]
    feeders: np.ndarray[Any, Any]  # object (None allowed)
    substations: np.ndarray[Any, Any]
    lon: np.ndarray[Any, np.dtype[np.float64]]
    lat: np.ndarray[Any, np.dtype[np.float64]]
    box: tuple[np.ndarray[Any, Any], ...]  # min_lon, max_lon, min_lat, max_lat


def _read_columns(store: _Store) -> _Columns:
    t = store.query_arrow(f"SELECT {', '.join(_COLS)} FROM assets ORDER BY asset_id")
    ids = np.asarray(t["asset_id"].to_numpy(zero_copy_only=False).astype(str))

    def floats(name: str) -> np.ndarray[Any, np.dtype[np.float64]]:
        return np.asarray(t[name].to_numpy(zero_copy_only=False), dtype=np.float64)

    return _Columns(
        ids=ids,
        types=np.asarray(t["asset_type"].to_numpy(zero_copy_only=False).astype(str)),
        names=t["name"].to_pylist(),
        feeders=np.asarray(t["feeder_id"].to_pylist(), dtype=object),
        substations=np.asarray(t["substation_id"].to_pylist(), dtype=object),
        lon=floats("lon"),
        lat=floats("lat"),
        box=(floats("min_lon"), floats("max_lon"), floats("min_lat"), floats("max_lat")),
    )


class NotReady(Exception):
    """Answering needs a store read (``read=False``: the caller runs on the event loop)."""


class AssetReads:
    """The in-memory answers for one store (thread-safe; rebuilt per grid, statuses per write)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # (grid hash, write generation, columns, statuses), replaced whole: read without the lock
        self._snap: tuple[str, int, _Columns, np.ndarray[Any, Any]] | None = None

    def _current(
        self, store: _Store, gen: int, grid_hash: str, *, read: bool = True
    ) -> tuple[_Columns, np.ndarray[Any, Any]]:
        """The columns of grid ``grid_hash`` and the statuses as of the store's write generation ``gen``
        (read before calling: a write landing meanwhile makes the next call read again). With
        ``read=False`` (the caller is the event loop) `NotReady` instead of a store read."""
        snap = self._snap
        if snap is not None and snap[0] == grid_hash and snap[1] == gen:
            return snap[2], snap[3]
        if not read:
            raise NotReady("asset columns or statuses must be read from the store first")
        with self._lock:
            snap = self._snap
            if snap is not None and snap[0] == grid_hash and snap[1] == gen:
                return snap[2], snap[3]
            cols = snap[2] if snap is not None and snap[0] == grid_hash else _read_columns(store)
            status = self._read_status(store, cols)
            self._snap = (grid_hash, gen, cols, status)
            return cols, status

    @staticmethod
    def _read_status(store: _Store, cols: _Columns) -> np.ndarray[Any, Any]:
        t = store.query_arrow("SELECT asset_id, status FROM asset_status WHERE status <> ?", [NORMAL])
        status = np.full(len(cols.ids), NORMAL, dtype=object)
        if t.num_rows:
            ids = np.asarray(t["asset_id"].to_numpy(zero_copy_only=False).astype(str))
            pos = np.searchsorted(cols.ids, ids)
            pos = np.minimum(pos, len(cols.ids) - 1)
            hit = cols.ids[pos] == ids  # statuses of assets no longer loaded are dropped, as the join does
            status[pos[hit]] = np.asarray(t["status"].to_pylist(), dtype=object)[hit]
        return status

    def get_asset(
        self, store: _Store, gen: int, grid_hash: str, asset_id: str, *, read: bool = True
    ) -> AssetRow | None:
        """The asset's row, None when there is none."""
        cols, status = self._current(store, gen, grid_hash, read=read)
        i = int(np.searchsorted(cols.ids, asset_id))
        if i >= len(cols.ids) or cols.ids[i] != asset_id:
            return None
        return _row(cols, status, i)

    def list_assets(
        self, store: _Store, gen: int, grid_hash: str, query: AssetQuery, *, read: bool = True
    ) -> AssetPage | None:
        """A page as `SqlStore.list_assets` answers it; None when the store must answer."""
        if query.transformer_id is not None:
            return None
        if query.types and set(query.types) - set(ASSET_TYPES):
            return None  # the store's error for unknown types
        if query.statuses and set(query.statuses) - set(ASSET_STATUSES):
            return None
        cols, status = self._current(store, gen, grid_hash, read=read)
        start = 0 if query.cursor is None else int(np.searchsorted(cols.ids, query.cursor, side="right"))
        sl = slice(start, None)
        mask = np.ones(len(cols.ids) - start, dtype=bool)
        if query.bbox is not None:
            b = query.bbox
            min_lon, max_lon, min_lat, max_lat = (c[sl] for c in cols.box)
            mask &= (max_lon >= b.min_lon) & (min_lon <= b.max_lon)
            mask &= (max_lat >= b.min_lat) & (min_lat <= b.max_lat)
        if query.types:
            mask &= np.isin(cols.types[sl], list(query.types))
        if query.statuses:
            mask &= np.isin(status[sl], list(query.statuses))
        if query.feeder_id is not None:
            mask &= cols.feeders[sl] == query.feeder_id
        if query.substation_id is not None:
            mask &= cols.substations[sl] == query.substation_id
        hits = np.flatnonzero(mask)[: query.limit + 1] + start
        items = _rows(cols, status, hits[: query.limit])
        next_cursor = items[-1].asset_id if len(hits) > query.limit else None
        return AssetPage(items=items, next_cursor=next_cursor)


def _rows(cols: _Columns, status: np.ndarray[Any, Any], sel: np.ndarray[Any, Any]) -> list[AssetRow]:
    """Rows at positions ``sel``: each column sliced once and converted by ``tolist`` (a page of 500
    rows built field by field cost 6 % of the server's CPU under the load benchmark)."""
    names = cols.names
    return [
        AssetRow(*fields)
        for fields in zip(
            cols.ids[sel].tolist(),
            cols.types[sel].tolist(),
            [names[i] for i in sel.tolist()],
            [_opt(v) for v in cols.feeders[sel].tolist()],
            [_opt(v) for v in cols.substations[sel].tolist()],
            cols.lon[sel].tolist(),
            cols.lat[sel].tolist(),
            status[sel].tolist(),
            strict=True,
        )
    ]


def _opt(v: Any) -> str | None:
    return None if v is None else str(v)


def _row(cols: _Columns, status: np.ndarray[Any, Any], i: int) -> AssetRow:
    return AssetRow(
        asset_id=str(cols.ids[i]),
        asset_type=str(cols.types[i]),
        name=cols.names[i],
        feeder_id=_opt(cols.feeders[i]),
        substation_id=_opt(cols.substations[i]),
        lon=float(cols.lon[i]),
        lat=float(cols.lat[i]),
        status=str(status[i]),
    )
