"""The generated tree inventory (`fluxops.geo.vegetation`) in either store: one table of trees and one
row saying for which grid and with which parameters it was generated. A new inventory replaces the old
one in one transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pyarrow as pa

from fluxops.geo.vegetation import TREE_COLUMNS, VegetationParams

TREES = pa.schema(
    [
        pa.field("tree_id", pa.string(), nullable=False),
        pa.field("segment_id", pa.string(), nullable=False),
        pa.field("feeder_id", pa.string(), nullable=False),
        pa.field("lon", pa.float64(), nullable=False),
        pa.field("lat", pa.float64(), nullable=False),
        pa.field("species_group", pa.string(), nullable=False),
        pa.field("height_m", pa.float64(), nullable=False),
        pa.field("crown_radius_m", pa.float64(), nullable=False),
        pa.field("growth_m_per_yr", pa.float64(), nullable=False),
        pa.field("offset_m", pa.float64(), nullable=False),
        pa.field("last_trim_date", pa.date32(), nullable=False),
    ]
)
META = pa.schema(
    [
        pa.field("meta_key", pa.string(), nullable=False),
        pa.field("grid_hash", pa.string(), nullable=False),
        pa.field("params_json", pa.string(), nullable=False),
        pa.field("trees", pa.int64(), nullable=False),
        pa.field("generated_utc", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)
assert tuple(TREES.names) == TREE_COLUMNS


def ensure_tables(store: Any) -> None:
    store.ensure_table("vegetation_trees", TREES, ("tree_id",))
    store.ensure_table("vegetation_meta", META, ("meta_key",))


def save_trees(store: Any, trees: pd.DataFrame, *, grid_hash: str, params: VegetationParams) -> int:
    ensure_tables(store)
    table = pa.Table.from_pandas(trees.loc[:, list(TREE_COLUMNS)], schema=TREES, preserve_index=False)
    meta = pa.table(
        {
            "meta_key": ["current"],
            "grid_hash": [grid_hash],
            "params_json": [json.dumps(params.to_json(), sort_keys=True)],
            "trees": [table.num_rows],
            "generated_utc": [datetime.now(UTC)],
        },
        schema=META,
    )
    with store.transaction():
        store.execute("DELETE FROM vegetation_trees")
        store.execute("DELETE FROM vegetation_meta")
        if table.num_rows:
            store.append_arrow("vegetation_trees", table)
        store.append_arrow("vegetation_meta", meta)
    return int(table.num_rows)


def get_meta(store: Any) -> dict[str, Any] | None:
    ensure_tables(store)
    rows = store.query_arrow(
        "SELECT grid_hash, params_json, trees FROM vegetation_meta WHERE meta_key = ?", ["current"]
    ).to_pylist()
    if not rows:
        return None
    row = rows[0]
    return {
        "grid_hash": row["grid_hash"],
        "params": json.loads(row["params_json"]),
        "trees": int(row["trees"]),
    }


def read_trees(store: Any, *, feeder_id: str | None = None) -> pd.DataFrame:
    ensure_tables(store)
    cols = ", ".join(TREE_COLUMNS)
    where, params = ("WHERE feeder_id = ?", [feeder_id]) if feeder_id else ("", [])
    table = store.query_arrow(f"SELECT {cols} FROM vegetation_trees {where} ORDER BY tree_id", params)
    frame: pd.DataFrame = table.to_pandas()
    if frame.empty:
        frame = TREES.empty_table().to_pandas()
    return frame
