"""`ElementRows`: one element's row of a per-type grid table, from the grid already in memory.

Why: the asset detail route read each element's row with a DuckDB statement per request; the loaded grid
(`fluxops.api.deps.LoadedGrid`) holds the same tables, and the store holds exactly ``grid.to_arrow(name)``
of the grid it loaded (`fluxops.storage.loading.canonical_arrow`), so the row comes from the Arrow table
with an id → position map built once per grid and table. Build it on the grid *as stored* (not the live
configuration) so a device's ``state`` is the recorded one, as the store answers.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from fluxops.grid.models import ID_COLUMNS, TABLES, Grid


class ElementRows:
    """Rows of one grid table by element id (read-only after construction; thread-safe)."""

    def __init__(self, grid: Grid, table: str) -> None:
        if table not in TABLES:
            raise ValueError(f"unknown element table {table!r}")
        self.table = table
        self._data: pa.Table = grid.to_arrow(table).combine_chunks()
        ids = self._data[ID_COLUMNS[table]].to_pylist()
        self._pos: dict[Any, int] = {k: i for i, k in enumerate(ids)}

    def get(self, element_id: str) -> dict[str, Any] | None:
        """The row as column → value (None for null), or None when no element has this id."""
        i = self._pos.get(element_id)
        if i is None:
            return None
        row: dict[str, Any] = self._data.slice(i, 1).to_pylist()[0]
        return row
