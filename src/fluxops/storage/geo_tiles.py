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
from fluxops.storage import geo_polygon_tiles, tiles_projected
from fluxops.storage.geo_polygon_tiles import MEMORY_LAYERS
from fluxops.storage.schema import ident

# DuckDB reads these layers' pre-projected copy (`fluxops.storage.tiles_projected`; measured on houston
# z10-z16, p50: canopy 46 -> 20 ms, water 13 -> 6, flood zones 10 -> 7). Not buildings: 596 K
# rectangles whose z15 tile cost is DuckDB's polygon clipping in ``ST_AsMVTGeom`` (261 vs 278 ms p50,
# the same either way), so a copy would only add an 8 s first tile and 60 MB: they are encoded from
# memory instead (`fluxops.storage.geo_polygon_tiles`, on both stores).
PROJECTED_LAYERS = ("canopy", "water", "flood_zones", "vegetation")


def tile_sql(
    store: Any, layer: GeoLayer, tile: geo_tiles.Tile, *, projected: bool = False
) -> tuple[str, list[Any]]:
    """The layer's tile statement; ``projected`` (DuckDB): from ``geo_features_3857``, geometry
    already in Web Mercator (`fluxops.storage.tiles_projected`), else projected per feature."""
    name = ident(layer.name)
    duck = store.dialect == "duckdb"
    table = "geo_features_3857" if duck and projected else "geo_features"
    box = geo_tiles.query_bounds_lonlat(tile)
    unit_deg = 360.0 / (1 << tile.z) / geo_tiles.EXTENT  # one tile unit in longitude degrees
    tol = geo_tiles.simplify_tolerance_m(tile.z)
    if duck and projected:
        geom = "ST_GeomFromWKB(f.geometry_wkb)"
        env = f"ST_Extent(ST_TileEnvelope({tile.z}, {tile.x}, {tile.y}))"
    elif duck:
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
        f"{select_props} FROM {table} f WHERE {where}"
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


def render_geo_tile(store: Any, layer: GeoLayer, tile: geo_tiles.Tile, version: str | None = None) -> bytes:
    """The layer's tile (empty bytes below its minimum zoom or where it holds nothing). With the
    layer's stored ``version`` DuckDB reads the pre-projected copy of that version."""
    if tile.z < layer.min_zoom:
        return b""
    if version is not None and layer.name in MEMORY_LAYERS and tile.z >= geo_tiles.SIMPLIFY_BELOW_ZOOM:
        return geo_polygon_tiles.render(store, layer, tile, version)  # never simplified: from memory
    projected = store.dialect == "duckdb" and version is not None and layer.name in PROJECTED_LAYERS
    if projected:
        tiles_projected.ensure_geo_layer(store, layer.name, str(version))
    sql, params = tile_sql(store, layer, tile, projected=projected)
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
