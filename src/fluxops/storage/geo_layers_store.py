"""Geo feature layers (`fluxops.geo.layers`) in either store: one ``geo_features`` table (generic
columns, WKB geometry in lon/lat, bounding-box columns) and one ``geo_layer_meta`` row per layer saying
where it came from (generated / imported file), for which grid, and a version that changes with every
save (it goes into the tiles' ETags). A layer is replaced whole in one transaction: an import or a
generation lands entirely or not at all.

PostgreSQL gets a GiST index on the features' envelope (an expression index, so the table keeps the
same columns on both stores); DuckDB prunes row groups by the min/max columns (rows are written in
Z-order, `fluxops.geo.layers.feature_frame`).
"""

from __future__ import annotations

import json
import uuid
import weakref
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pyarrow as pa

from fluxops.geo.layers import FEATURE_COLUMNS

FEATURES = pa.schema(
    [
        pa.field("layer", pa.string(), nullable=False),
        pa.field("feature_id", pa.string(), nullable=False),
        pa.field("kind", pa.string()),
        pa.field("name", pa.string()),
        pa.field("ref_id", pa.string()),
        pa.field("ref2_id", pa.string()),
        pa.field("num_a", pa.float64()),
        pa.field("num_b", pa.float64()),
        pa.field("num_c", pa.float64()),
        pa.field("min_zoom", pa.int32(), nullable=False),
        pa.field("min_lon", pa.float64(), nullable=False),
        pa.field("min_lat", pa.float64(), nullable=False),
        pa.field("max_lon", pa.float64(), nullable=False),
        pa.field("max_lat", pa.float64(), nullable=False),
        pa.field("geometry_wkb", pa.binary(), nullable=False),
    ]
)
META = pa.schema(
    [
        pa.field("layer", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),  # "generated" | "imported"
        pa.field("source_name", pa.string(), nullable=False),  # the command, or the imported file's name
        pa.field("grid_hash", pa.string()),  # the grid it was made for (None: not tied to a grid)
        pa.field("features", pa.int64(), nullable=False),
        pa.field("version", pa.string(), nullable=False),
        pa.field("note", pa.string()),
        pa.field("params_json", pa.string(), nullable=False),
        pa.field("updated_utc", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)
assert tuple(FEATURES.names) == FEATURE_COLUMNS
_ENVELOPE = "ST_MakeEnvelope(min_lon, min_lat, max_lon, max_lat, 4326)"


_ensured: weakref.WeakSet[Any] = weakref.WeakSet()  # stores whose tables exist (DDL once per store)


def ensure_tables(store: Any) -> None:
    if store in _ensured:
        return
    store.ensure_table("geo_features", FEATURES, ("layer", "feature_id"))
    store.ensure_table("geo_layer_meta", META, ("layer",))
    if store.dialect == "postgres":
        store.execute(
            f"CREATE INDEX IF NOT EXISTS geo_features_envelope ON geo_features USING gist ({_ENVELOPE})"
        )
    _ensured.add(store)


def save_layer(
    store: Any,
    layer: str,
    frame: pd.DataFrame,
    *,
    source: str,
    source_name: str,
    grid_hash: str | None,
    note: str | None = None,
    params: dict[str, Any] | None = None,
) -> int:
    """Replace every feature of ``layer`` with ``frame`` (rows of `FEATURE_COLUMNS`) in one transaction."""
    ensure_tables(store)
    table = pa.Table.from_pandas(frame.loc[:, list(FEATURE_COLUMNS)], schema=FEATURES, preserve_index=False)
    meta = pa.table(
        {
            "layer": [layer],
            "source": [source],
            "source_name": [source_name],
            "grid_hash": [grid_hash],
            "features": [table.num_rows],
            "version": [uuid.uuid4().hex[:16]],
            "note": [note],
            "params_json": [json.dumps(params or {}, sort_keys=True, default=str)],
            "updated_utc": [datetime.now(UTC)],
        },
        schema=META,
    )
    with store.transaction():
        store.execute("DELETE FROM geo_features WHERE layer = ?", [layer])
        store.execute("DELETE FROM geo_layer_meta WHERE layer = ?", [layer])
        if table.num_rows:
            store.append_arrow("geo_features", table)
        store.append_arrow("geo_layer_meta", meta)
    return int(table.num_rows)


def list_meta(store: Any) -> dict[str, dict[str, Any]]:
    ensure_tables(store)
    rows = store.query_arrow(
        "SELECT layer, source, source_name, grid_hash, features, version, note, params_json, updated_utc "
        "FROM geo_layer_meta ORDER BY layer"
    ).to_pylist()
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        row["params"] = json.loads(row.pop("params_json"))
        row["updated_utc"] = row["updated_utc"].isoformat() if row["updated_utc"] else None
        out[row["layer"]] = row
    return out


def get_meta(store: Any, layer: str) -> dict[str, Any] | None:
    return list_meta(store).get(layer)


def read_layer(
    store: Any,
    layer: str,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    ids: list[str] | None = None,
) -> pd.DataFrame:
    """The stored rows of ``layer`` (all `FEATURE_COLUMNS`), optionally only those whose box meets
    ``bbox`` (lon/lat) or with these feature ids; ordered by feature id."""
    ensure_tables(store)
    where: list[str] = ["layer = ?"]
    params: list[Any] = [layer]
    if bbox is not None:
        where.append("max_lon >= ? AND min_lon <= ? AND max_lat >= ? AND min_lat <= ?")
        params += [bbox[0], bbox[2], bbox[1], bbox[3]]
    if ids is not None:
        if not ids:
            empty: pd.DataFrame = FEATURES.empty_table().to_pandas()
            return empty
        where.append(f"feature_id IN ({', '.join('?' * len(ids))})")
        params += list(ids)
    cols = ", ".join(FEATURE_COLUMNS)
    table: pa.Table = store.query_arrow(
        f"SELECT {cols} FROM geo_features WHERE {' AND '.join(where)} ORDER BY feature_id",
        params,
        schema=FEATURES,
    )
    frame: pd.DataFrame = table.to_pandas()
    return frame
