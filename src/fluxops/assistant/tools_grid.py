"""Tools over the asset model: find assets, an asset's detail and path to its substation, the meters on
a transformer, the grid's summary."""

from __future__ import annotations

from typing import Any, cast

import pandas as pd

from fluxops.assistant.models import ToolResult
from fluxops.assistant.tool_base import (
    MAX_ROWS_SHOWN,
    ToolContext,
    _frame_rows,
    _limit,
    plain,
)
from fluxops.core.errors import InvalidInputError, NotFoundError
from fluxops.grid.models import ID_COLUMNS, Grid


def find_assets(ctx: ToolContext, a: dict[str, Any]) -> ToolResult:
    df = ctx.assets()
    if a["asset_type"] is not None:
        df = df[df.asset_type == a["asset_type"]]
    if a["feeder_id"] is not None:
        df = df[df.feeder_id == a["feeder_id"]]
    if a["substation_id"] is not None:
        df = df[df.substation_id == a["substation_id"]]
    if a["bbox"] is not None:
        b = a["bbox"]
        if len(b) != 4 or not (b[0] <= b[2] and b[1] <= b[3]):
            raise InvalidInputError("bbox must be [min_lon, min_lat, max_lon, max_lat]", field="bbox")
        df = df[(df.max_lon >= b[0]) & (df.min_lon <= b[2]) & (df.max_lat >= b[1]) & (df.min_lat <= b[3])]
    if a["query"] is not None:
        q = a["query"].strip().lower()
        if not q:
            raise InvalidInputError("query must not be empty", field="query")
        ids = df.asset_id.str.lower()
        exact = df[ids == q]
        df = (
            exact
            if len(exact)
            else df[ids.str.contains(q, regex=False) | df.name.str.lower().str.contains(q, regex=False)]
        )
    limit = _limit(a["limit"], 20)
    by_type = {str(k): int(v) for k, v in df.asset_type.value_counts().sort_index().items()}
    cols = ["asset_id", "asset_type", "name", "feeder_id", "substation_id", "lon", "lat"]
    return ToolResult(
        data={"total": len(df), "by_type": by_type, "items": _frame_rows(df[cols], limit)},
        row_count=len(df),
    )


_TYPE_TABLE: dict[str, str] = {
    "substation": "substations",
    "substation_transformer": "substation_transformers",
    "feeder": "feeders",
    "line_segment": "line_segments",
    "pole": "poles",
    "transformer": "transformers",
    "meter": "meters",
}


def _record(grid: Grid, asset_type: str, asset_id: str) -> dict[str, Any]:
    table = _TYPE_TABLE.get(asset_type, "devices")
    df: pd.DataFrame = getattr(grid, table)
    row = df[df[ID_COLUMNS[table]] == asset_id]
    if not len(row):
        return {}
    rec = {k: v for k, v in row.iloc[0].to_dict().items() if k != "geometry_wkb"}
    return cast(dict[str, Any], plain(rec))


def asset_detail(ctx: ToolContext, a: dict[str, Any]) -> ToolResult:
    asset_id = a["asset_id"]
    idx = ctx.assets()
    hit = idx[idx.asset_id == asset_id]
    if not len(hit):
        raise NotFoundError(f"no asset {asset_id!r}", details={"asset_id": asset_id})
    row = hit.iloc[0]
    topo = ctx.topology()
    try:
        path = topo.path_to_substation(asset_id)
    except (KeyError, ValueError):
        path = []
    try:
        downstream = topo.downstream(asset_id)
    except (KeyError, ValueError):
        downstream = {}
    data = {
        "asset_id": asset_id,
        "asset_type": row.asset_type,
        "name": row["name"],
        "feeder_id": row.feeder_id,
        "substation_id": row.substation_id,
        "lon": float(row.lon),
        "lat": float(row.lat),
        "attributes": _record(ctx.grid, str(row.asset_type), asset_id),
        "path_to_substation": path,
        "path_length": len(path),
        "downstream": plain(downstream),
    }
    return ToolResult(data=cast(dict[str, Any], plain(data)), row_count=1)


def transformer_meters(ctx: ToolContext, a: dict[str, Any]) -> ToolResult:
    xid = a["transformer_id"]
    xf = ctx.grid.transformers
    if not (xf.transformer_id == xid).any():
        raise NotFoundError(f"no distribution transformer {xid!r}", details={"transformer_id": xid})
    m = ctx.grid.meters[ctx.grid.meters.transformer_id == xid]
    c = ctx.grid.customers.set_index("meter_id")
    joined = m[["meter_id", "customer_id", "address"]].copy()
    joined["customer_class"] = c.reindex(m.meter_id)["customer_class"].to_numpy()
    joined["is_critical"] = c.reindex(m.meter_id)["is_critical"].to_numpy()
    rating = float(xf.loc[xf.transformer_id == xid, "rating_kva"].iloc[0])
    by_class = {str(k): int(v) for k, v in joined.customer_class.value_counts().sort_index().items()}
    return ToolResult(
        data={
            "transformer_id": xid,
            "rating_kva": rating,
            "meters": len(joined),
            "by_class": by_class,
            "critical_customers": int(joined.is_critical.eq(True).sum()),
            "items": _frame_rows(joined, MAX_ROWS_SHOWN),
        },
        row_count=len(joined),
    )


def grid_summary(ctx: ToolContext, a: dict[str, Any]) -> ToolResult:
    g = ctx.grid
    counts = {n: len(getattr(g, n)) for n in ID_COLUMNS}
    classes = {str(k): int(v) for k, v in g.customers.customer_class.value_counts().sort_index().items()}
    devices = {str(k): int(v) for k, v in g.devices.device_type.value_counts().sort_index().items()}
    data = {
        "name": g.meta.name,
        "counts": counts,
        "customers_by_class": classes,
        "devices_by_type": devices,
        "critical_customers": int(g.customers.is_critical.astype(bool).sum()),
        "line_km": round(float(g.line_segments.length_km.sum()), 3),
    }
    return ToolResult(data=data, row_count=sum(counts.values()))
