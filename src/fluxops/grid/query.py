"""Parse and validate query parameters (bbox, types, statuses, page size) into `AssetQuery`.

Every rejection is an `InvalidInputError` whose ``field`` is the parameter's public name, so the
API answers 422 naming it and the CLI prints one line naming it. Kept free of any web framework so
other front doors (CLI, assistant tools) validate the same way.
"""

from __future__ import annotations

import math

from fluxops.core.errors import InvalidInputError
from fluxops.grid.models import ASSET_TYPES
from fluxops.grid.ports import ASSET_STATUSES, MAX_PAGE_SIZE, AssetQuery, BBox

DEFAULT_PAGE_SIZE = 500
MAX_ID_CHARS = 200  # ids are short stable strings; anything longer is not one of ours


def parse_bbox(value: str, *, field: str = "bbox") -> BBox:
    """``minLon,minLat,maxLon,maxLat`` in WGS84 degrees; rejects wrong arity, non-numbers,
    out-of-range coordinates and inverted (min > max) or empty boxes."""
    parts = [p.strip() for p in value.split(",")]
    if len(parts) != 4:
        raise InvalidInputError(
            f"{field} must be 'minLon,minLat,maxLon,maxLat' (4 numbers), got {len(parts)} value(s)",
            field=field,
        )
    try:
        min_lon, min_lat, max_lon, max_lat = (float(p) for p in parts)
    except ValueError:
        raise InvalidInputError(f"{field} values must be numbers, got {value!r}", field=field) from None
    coords = (min_lon, min_lat, max_lon, max_lat)
    if not all(math.isfinite(c) for c in coords):
        raise InvalidInputError(f"{field} values must be finite numbers", field=field)
    if not (-180.0 <= min_lon <= 180.0 and -180.0 <= max_lon <= 180.0):
        raise InvalidInputError(f"{field} longitudes must lie in [-180, 180]", field=field)
    if not (-90.0 <= min_lat <= 90.0 and -90.0 <= max_lat <= 90.0):
        raise InvalidInputError(f"{field} latitudes must lie in [-90, 90]", field=field)
    if min_lon > max_lon or min_lat > max_lat:
        raise InvalidInputError(
            f"{field} is inverted: minLon <= maxLon and minLat <= maxLat are required", field=field
        )
    return BBox(min_lon=min_lon, min_lat=min_lat, max_lon=max_lon, max_lat=max_lat)


def parse_choices(value: str, *, allowed: tuple[str, ...], field: str) -> tuple[str, ...]:
    """A comma list whose every item is one of ``allowed`` (order kept, duplicates dropped)."""
    items = tuple(dict.fromkeys(p.strip() for p in value.split(",") if p.strip()))
    if not items:
        raise InvalidInputError(f"{field} must name at least one value", field=field)
    unknown = [i for i in items if i not in allowed]
    if unknown:
        raise InvalidInputError(
            f"unknown {field} {', '.join(map(repr, unknown))}; allowed: {', '.join(allowed)}",
            field=field,
            details={"allowed": list(allowed), "unknown": unknown},
        )
    return items


def parse_limit(value: int | None, *, field: str = "limit", maximum: int = MAX_PAGE_SIZE) -> int:
    if value is None:
        return min(DEFAULT_PAGE_SIZE, maximum)
    if value < 1 or value > maximum:
        raise InvalidInputError(
            f"{field} must be between 1 and {maximum} (the maximum page size), got {value}",
            field=field,
            details={"maximum": maximum},
        )
    return value


def parse_id(value: str, *, field: str) -> str:
    value = value.strip()
    if not value or len(value) > MAX_ID_CHARS:
        raise InvalidInputError(
            f"{field} must be a non-empty id of at most {MAX_ID_CHARS} characters", field=field
        )
    return value


def build_asset_query(
    *,
    types: str | None = None,
    statuses: str | None = None,
    feeder_id: str | None = None,
    substation_id: str | None = None,
    transformer_id: str | None = None,
    bbox: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> AssetQuery:
    """The validated query for `GridStore.list_assets`; parameter names are those of ``/api/assets``."""
    return AssetQuery(
        types=parse_choices(types, allowed=ASSET_TYPES, field="type") if types is not None else None,
        statuses=parse_choices(statuses, allowed=ASSET_STATUSES, field="status")
        if statuses is not None
        else None,
        feeder_id=parse_id(feeder_id, field="feeder") if feeder_id is not None else None,
        substation_id=parse_id(substation_id, field="substation") if substation_id is not None else None,
        transformer_id=parse_id(transformer_id, field="transformer_id")
        if transformer_id is not None
        else None,
        bbox=parse_bbox(bbox) if bbox is not None else None,
        cursor=parse_id(cursor, field="cursor") if cursor is not None else None,
        limit=parse_limit(limit),
    )
