"""Mapbox Vector Tiles from PostgreSQL with PostGIS ``ST_AsMVT`` / ``ST_AsMVTGeom`` / ``ST_TileEnvelope``
(PostGIS >= 3.0; wagyu clipping where built with it).

Rows come from ``assets``: the GiST index on its ``geom`` finds the candidates (``&&``), the min/max
columns make the box exact; spans join ``line_segments`` on its primary key for their WKB geometry.
"""

from __future__ import annotations

from typing import Any

from fluxops.geo.tiles import BUFFER, EXTENT, MAINLINE_MIN_AMPACITY_A, SEGMENTS_ALL_ZOOM, Tile, TileLayer
from fluxops.storage.schema import ident

MERC_X = "a.lon * 111319.49079327357"  # pi * 6378137 / 180
MERC_Y = "ln(tan(radians(90 + a.lat) / 2)) * 6378137"
_BBOX = (
    "a.geom && ST_MakeEnvelope(?, ?, ?, ?, 4326) "
    "AND a.max_lon >= ? AND a.min_lon <= ? AND a.max_lat >= ? AND a.min_lat <= ?"
)


def tile_sql(
    layer: TileLayer, tile: Tile, types: tuple[str, ...], box: tuple[float, float, float, float], tol: float
) -> tuple[str, list[Any]]:
    """The one statement that encodes ``layer``'s tile (one bytea row)."""
    name = ident(layer.name)
    env = f"ST_TileEnvelope({tile.z}, {tile.x}, {tile.y})"  # ints from a validated Tile
    in_types = ", ".join("?" * len(types))
    bbox_params = [box[0], box[1], box[2], box[3], box[0], box[2], box[1], box[3]]
    if layer.geometry == "point":
        sql = (
            f"SELECT ST_AsMVT(f, '{name}', {EXTENT}, 'geometry') FROM ("
            f"SELECT ST_AsMVTGeom(ST_SetSRID(ST_MakePoint({MERC_X}, {MERC_Y}), 3857), {env}, {EXTENT}, "
            f"{BUFFER}, true) AS geometry, a.asset_id AS id, a.asset_type AS type, a.name AS name, "
            "a.feeder_id AS feeder_id, a.substation_id AS substation_id "
            f"FROM assets a WHERE a.asset_type IN ({in_types}) AND {_BBOX}) f "
            "WHERE f.geometry IS NOT NULL HAVING COUNT(*) > 0"
        )
        return sql, [*types, *bbox_params]
    geom = "ST_Transform(ST_SetSRID(ST_GeomFromWKB(s.geometry_wkb), 4326), 3857)"
    if tol > 0:
        geom = f"ST_Simplify({geom}, ?)"
    mainline = "" if tile.z >= SEGMENTS_ALL_ZOOM else " AND s.ampacity_a >= ?"
    sql = (
        f"SELECT ST_AsMVT(f, '{name}', {EXTENT}, 'geometry') FROM ("
        f"SELECT ST_AsMVTGeom({geom}, {env}, {EXTENT}, {BUFFER}, true) AS geometry, "
        "s.segment_id AS id, s.feeder_id AS feeder_id, s.substation_id AS substation_id, "
        "s.construction AS construction, s.conductor AS conductor, s.ampacity_a AS ampacity_a "
        "FROM assets a JOIN line_segments s ON s.segment_id = a.asset_id "
        f"WHERE a.asset_type = 'line_segment' AND {_BBOX}{mainline}) f "
        "WHERE f.geometry IS NOT NULL AND NOT ST_IsEmpty(f.geometry) HAVING COUNT(*) > 0"
    )
    params: list[Any] = [tol] if tol > 0 else []
    params.extend(bbox_params)
    if mainline:
        params.append(MAINLINE_MIN_AMPACITY_A)
    return sql, params
