"""What the grid domain needs from storage. Implemented by `fluxops.storage` (DuckDB, PostgreSQL).

The store keeps, besides the per-type tables of `fluxops.grid.models.TABLES`, one ``assets`` table
(every addressable element with type, location and bounding box, spatially indexed) and an
``asset_status`` table (live status per asset, written by the telemetry side; ``normal`` after a load).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from fluxops.grid.models import Grid

ASSET_STATUSES: tuple[str, ...] = ("normal", "warning", "critical", "out")
MAX_PAGE_SIZE = 5000


@dataclass(frozen=True)
class BBox:
    """A lon/lat box (WGS84). Validated by `fluxops.grid.query.parse_bbox`."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


@dataclass(frozen=True)
class AssetQuery:
    types: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None
    feeder_id: str | None = None
    substation_id: str | None = None
    transformer_id: str | None = None  # the meters on this distribution transformer
    bbox: BBox | None = None
    cursor: str | None = None  # opaque: the last asset_id of the previous page (ordering is by asset_id)
    limit: int = 500


@dataclass(frozen=True)
class AssetRow:
    asset_id: str
    asset_type: str
    name: str
    feeder_id: str | None
    substation_id: str | None
    lon: float
    lat: float
    status: str


@dataclass(frozen=True)
class AssetPage:
    items: list[AssetRow]
    next_cursor: str | None


@dataclass(frozen=True)
class GridInfo:
    name: str
    source: str
    params: dict[str, Any]
    loaded_utc: datetime
    counts: dict[str, int]
    content_hash: str  # sha256 over the tables; a re-load with the same hash changes nothing


@dataclass(frozen=True)
class LoadReport:
    info: GridInfo
    changed: bool  # False when the same grid was already loaded (idempotent re-load)
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)


class GridStore(Protocol):
    backend: str

    def load_grid(self, grid: Grid) -> LoadReport:
        """Replace the stored grid atomically (stage, then swap in one transaction)."""
        ...

    def read_grid(self) -> Grid | None: ...

    def get_grid_info(self) -> GridInfo | None: ...

    def list_assets(self, query: AssetQuery) -> AssetPage: ...

    def get_asset(self, asset_id: str) -> AssetRow | None: ...

    def get_element(self, table: str, element_id: str) -> dict[str, Any] | None:
        """The full row of one element from its per-type table (attributes for the inspector)."""
        ...

    def count_assets_by_type(self) -> dict[str, int]: ...

    def set_asset_status(self, statuses: dict[str, str]) -> int:
        """Upsert live statuses (asset_id -> one of ASSET_STATUSES); returns rows changed."""
        ...

    def health(self) -> dict[str, Any]: ...

    def close(self) -> None: ...
