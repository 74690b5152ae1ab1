"""Vector tiles of the geo feature layers (water, flood zones, buildings, canopy, vegetation spans) on
either store: DuckDB spatial or PostGIS ``ST_AsMVT``, the same statement shape as the asset tiles.

Zoom rules (why: a low-zoom tile must stay small and fast, geo-anchors.md §3.4): nothing below the
layer's minimum zoom; features whose box is under one tile unit wide and high are dropped (sub-pixel,
invisible); below z14 geometry is simplified to one tile unit before quantization. Properties carry the
layer's public names (`fluxops.geo.layers.GeoLayer.props`).
"""

from __future__ import annotations

from typing import Any

from fluxops.geo import tiles as geo_tiles
from fluxops.geo.layers import GeoLayer
from fluxops.storage.schema import ident


def tile_sql(store: Any, layer: GeoLayer, tile: geo_tiles.Tile) -> tuple[str, list[Any]]:
    name = ident(layer.name)
    duck = store.dialect == "duckdb"
    box = geo_tiles.query_bounds_lonlat(tile)
    unit_deg = 360.0 / (1 << tile.z) / geo_tiles.EXTENT  # one tile unit in longitude degrees
    tol = geo_tiles.simplify_tolerance_m(tile.z)
    if duck:
        geom = "ST_Transform(ST_GeomFromWKB(f.geometry_wkb), 'EPSG:4326', 'EPSG:3857', true)"
        env = f"ST_Extent(ST_TileEnvelope({tile.z}, {tile.x}, {tile.y}))"
    else:
        geom = "ST_Transform(ST_SetSRID(ST_GeomFromWKB(f.geometry_wkb), 4326), 3857)"
        env = f"ST_TileEnvelope({tile.z}, {tile.x}, {tile.y})"
    params: list[Any] = []
    if tol > 0:  # polygons keep their topology (a plain simplify can leave a hole outside its shell)
        simplify = "ST_Simplify" if layer.geometry == "line" else "ST_SimplifyPreserveTopology"
        geom = f"{simplify}({geom}, ?)"
        params.append(tol)
    props = [("id", "f.feature_id")] + [(p, f"f.{col}") for p, col, _ in layer.props]
    select_props = ", ".join(f"{expr} AS {ident(p)}" for p, expr in props)
    where = (
        "f.layer = ? AND f.min_zoom <= ? AND f.max_lon >= ? AND f.min_lon <= ? AND f.max_lat >= ? "
        "AND f.min_lat <= ? AND (f.max_lon - f.min_lon >= ? OR f.max_lat - f.min_lat >= ?)"
    )
    where_params = [layer.name, tile.z, box[0], box[2], box[1], box[3], unit_deg, unit_deg]
    if not duck:
        where = (
            "ST_MakeEnvelope(f.min_lon, f.min_lat, f.max_lon, f.max_lat, 4326) "
            "&& ST_MakeEnvelope(?, ?, ?, ?, 4326) AND " + where
        )
        where_params = [box[0], box[1], box[2], box[3], *where_params]
    inner = (
        f"SELECT ST_AsMVTGeom({geom}, {env}, {geo_tiles.EXTENT}, {geo_tiles.BUFFER}, true) AS geometry, "
        f"{select_props} FROM geo_features f WHERE {where}"
    )
    params.extend(where_params)
    if duck:
        struct = ", ".join(f"'{p}': q.{ident(p)}" for p, _ in props)
        sql = (
            f"SELECT ST_AsMVT({{'geometry': q.geometry, {struct}}}, '{name}', {geo_tiles.EXTENT}, "
            f"'geometry') FROM ({inner}) q "
            "WHERE q.geometry IS NOT NULL AND NOT ST_IsEmpty(q.geometry) HAVING COUNT(*) > 0"
        )
    else:
        sql = (
            f"SELECT ST_AsMVT(q, '{name}', {geo_tiles.EXTENT}, 'geometry') FROM ({inner}) q "
            "WHERE q.geometry IS NOT NULL AND NOT ST_IsEmpty(q.geometry) HAVING COUNT(*) > 0"
        )
    return sql, params


def render_geo_tile(store: Any, layer: GeoLayer, tile: geo_tiles.Tile) -> bytes:
    """The layer's tile (empty bytes below its minimum zoom or where it holds nothing)."""
    if tile.z < layer.min_zoom:
        return b""
    sql, params = tile_sql(store, layer, tile)
    table = store.query_arrow(sql, params)
    value = table.column(0)[0].as_py() if table.num_rows else None
    return bytes(value) if value else b""


def layer_bounds(store: Any, layer: str) -> tuple[float, float, float, float] | None:
    row = store.query_arrow(
        "SELECT MIN(min_lon) AS a, MIN(min_lat) AS b, MAX(max_lon) AS c, MAX(max_lat) AS d "
        "FROM geo_features WHERE layer = ?",
        [layer],
    ).to_pylist()[0]
    if row["a"] is None:
        return None
    return (float(row["a"]), float(row["b"]), float(row["c"]), float(row["d"]))
