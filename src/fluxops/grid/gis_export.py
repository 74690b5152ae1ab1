"""The whole network as GeoParquet files, one per grid table, every column kept: what `fluxops import gis`
reads back into an equal grid. The asset-layer export (`fluxops geo export`) carries a map's few
properties, not ratings and topology, so it cannot rebuild a grid; this one can.

Each row is a feature at its place: points for the tables with ``lon``/``lat``, the span's LineString
for ``line_segments`` (its ``geometry_wkb`` becomes the geometry column), and, for the tables without a
place of their own, the place of what they belong to (a feeder at its head bus, a substation transformer
at its substation, a customer at its meter). Lon/lat WGS84, GeoParquet 1.0.0 with the crs left out (=
OGC:CRS84).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from fluxops.grid.models import TABLES, Grid


def _points(lon: pd.Series, lat: pd.Series) -> list[bytes]:
    geoms = shapely.points(lon.to_numpy(np.float64), lat.to_numpy(np.float64))
    return [bytes(b) for b in shapely.to_wkb(geoms)]


def _located_at(grid: Grid, name: str) -> list[bytes]:
    """WKB geometry of every row of table ``name``."""
    df = grid.table(name)
    if name == "line_segments":
        return [bytes(b) for b in df.geometry_wkb]
    if "lon" in df.columns:
        return _points(df.lon, df.lat)
    if name == "feeders":
        at = grid.buses.set_index("bus_id").loc[df.head_bus_id]
    elif name == "substation_transformers":
        at = grid.substations.set_index("substation_id").loc[df.substation_id]
    elif name == "customers":
        at = grid.meters.set_index("meter_id").loc[df.meter_id]
    else:
        raise KeyError(name)
    return _points(at.lon, at.lat)


def export_network_geoparquet(grid: Grid, out_dir: Path) -> dict[str, Path]:
    """Write ``<table>.parquet`` for every non-empty grid table into ``out_dir``; the paths by table."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, schema in TABLES.items():
        df = grid.table(name)
        if df.empty:  # a GIS file with no features is refused on import; an absent table is empty
            continue
        table = pa.Table.from_pandas(df, schema=schema, preserve_index=False)
        if name == "line_segments":
            table = table.drop_columns(["geometry_wkb"])
        table = table.append_column("geometry", pa.array(_located_at(grid, name), pa.binary()))
        kind = "LineString" if name == "line_segments" else "Point"
        geo = {
            "version": "1.0.0",
            "primary_column": "geometry",
            "columns": {"geometry": {"encoding": "WKB", "geometry_types": [kind]}},
        }
        meta = dict(table.schema.metadata or {})
        meta[b"geo"] = json.dumps(geo).encode()
        meta[b"fluxops_grid"] = json.dumps({"name": grid.meta.name, "source": grid.meta.source}).encode()
        path = out_dir / f"{name}.parquet"
        pq.write_table(table.replace_schema_metadata(meta), path)
        paths[name] = path
    return paths
