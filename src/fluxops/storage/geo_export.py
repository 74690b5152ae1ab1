"""Export a selection of a geo layer or of the network's asset layers (a box, a polygon, ids) to
GeoJSON, GeoParquet or CSV.

GeoParquet: WKB ``geometry`` column with the GeoParquet 1.1 ``geo`` file metadata (crs absent = OGC:CRS84,
lon/lat), so DuckDB, GDAL/QGIS and GeoPandas read it as geometry; GeoJSON: a FeatureCollection (RFC
7946, lon/lat); CSV: the properties plus the geometry as WKT. The same selection rules as the spatial
queries: a feature is in a box when its own box meets it, in a polygon when its geometry intersects it.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from shapely.geometry import Polygon

from fluxops.core.errors import InvalidInputError
from fluxops.geo import tiles as geo_tiles
from fluxops.geo.layers import GEO_LAYERS
from fluxops.storage import geo_layers_store

ExportFormat = Literal["geojson", "geoparquet", "csv"]
MEDIA_TYPES = {
    "geojson": "application/geo+json",
    "geoparquet": "application/vnd.apache.parquet",
    "csv": "text/csv; charset=utf-8",
}
EXTENSIONS = {"geojson": "geojson", "geoparquet": "parquet", "csv": "csv"}
MAX_EXPORT = 1_000_000
EXPORT_LAYERS = (*geo_tiles.LAYERS, *GEO_LAYERS)


def select(
    store: Any,
    layer: str,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    polygon: Polygon | None = None,
    ids: list[str] | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """(properties, shapely geometries in lon/lat) of the selected features of ``layer``."""
    if layer not in EXPORT_LAYERS:
        raise InvalidInputError(f"no layer {layer!r}; layers: {', '.join(EXPORT_LAYERS)}", field="layer")
    box = polygon.bounds if polygon is not None else bbox
    if layer in GEO_LAYERS:
        rows = geo_layers_store.read_layer(store, layer, bbox=box, ids=ids)  # type: ignore[arg-type]
        spec = GEO_LAYERS[layer]
        props = pd.DataFrame({"id": rows.feature_id, **{p: rows[c] for p, c, _ in spec.props}})
        geoms = shapely.from_wkb(rows.geometry_wkb.to_numpy()) if len(rows) else np.zeros(0, dtype=object)
    else:
        props, geoms = _assets(store, geo_tiles.LAYERS[layer], box, ids)
    if polygon is not None and len(props):
        keep = shapely.intersects(geoms, polygon)
        props, geoms = props[keep].reset_index(drop=True), geoms[keep]
    if len(props) > MAX_EXPORT:
        raise InvalidInputError(
            f"{len(props):,} features: more than {MAX_EXPORT:,}; narrow the selection", field="layer"
        )
    return props.reset_index(drop=True), np.asarray(geoms, dtype=object)


def _assets(
    store: Any,
    spec: geo_tiles.TileLayer,
    box: tuple[float, float, float, float] | None,
    ids: list[str] | None,
) -> tuple[pd.DataFrame, np.ndarray]:
    where = [f"a.asset_type IN ({', '.join('?' * len(spec.asset_types))})"]
    params: list[Any] = list(spec.asset_types)
    if box is not None:
        where.append("a.max_lon >= ? AND a.min_lon <= ? AND a.max_lat >= ? AND a.min_lat <= ?")
        params += [box[0], box[2], box[1], box[3]]
    if ids is not None:
        where.append(f"a.asset_id IN ({', '.join('?' * len(ids))})" if ids else "FALSE")
        params += ids
    line = spec.geometry == "line"
    join = " LEFT JOIN line_segments s ON s.segment_id = a.asset_id" if line else ""
    wkb = ", s.geometry_wkb" if line else ""
    frame: pd.DataFrame = store.query_arrow(
        "SELECT a.asset_id AS id, a.asset_type AS type, a.name, a.feeder_id, a.substation_id, a.lon, a.lat"
        f"{wkb} FROM assets a{join} WHERE {' AND '.join(where)} ORDER BY a.asset_id",
        params,
    ).to_pandas()
    if line:
        geoms = shapely.from_wkb(frame.pop("geometry_wkb").to_numpy())
    else:
        geoms = (
            shapely.points(frame.lon.to_numpy(), frame.lat.to_numpy())
            if len(frame)
            else np.zeros(0, dtype=object)
        )
    return frame, np.asarray(geoms, dtype=object)


def encode(props: pd.DataFrame, geoms: np.ndarray, fmt: str) -> bytes:
    if fmt == "geojson":
        features = [
            {"type": "Feature", "geometry": json.loads(g), "properties": p}
            for g, p in zip(
                shapely.to_geojson(geoms).tolist() if len(geoms) else [], _records(props), strict=True
            )
        ]
        return json.dumps({"type": "FeatureCollection", "features": features}, allow_nan=False).encode()
    if fmt == "csv":
        out = props.assign(geometry_wkt=shapely.to_wkt(geoms, rounding_precision=7) if len(geoms) else [])
        return out.to_csv(index=False).encode()
    if fmt == "geoparquet":
        table = pa.Table.from_pandas(props, preserve_index=False).append_column(
            "geometry", pa.array(shapely.to_wkb(geoms).tolist() if len(geoms) else [], type=pa.binary())
        )
        types = sorted({g.geom_type for g in geoms}) if len(geoms) else []
        geo = {
            "version": "1.1.0",
            "primary_column": "geometry",
            "columns": {"geometry": {"encoding": "WKB", "geometry_types": types}},
        }
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), b"geo": json.dumps(geo).encode()}
        )
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd")
        return bytes(sink.getvalue().to_pybytes())
    raise InvalidInputError(f"output must be one of {', '.join(MEDIA_TYPES)}", field="output")


def _records(props: pd.DataFrame) -> list[dict[str, Any]]:
    clean = props.astype(object).where(props.notna(), None)
    return [
        {str(k): (v.item() if isinstance(v, np.generic) else v) for k, v in r.items()}
        for r in clean.to_dict("records")
    ]
