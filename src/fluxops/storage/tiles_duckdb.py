"""Mapbox Vector Tiles from the embedded store with DuckDB spatial's ``ST_AsMVT`` (spatial >= 1.4;
checked on the pip-packaged 1.5.5: ``ST_TileEnvelope``, ``ST_AsMVTGeom`` and ``ST_AsMVT`` all present).

Rows come from ``assets`` (Hilbert-ordered, so the min/max predicate prunes row groups by their zone
maps) and, for spans, their WKB geometry from ``line_segments``. Points are projected to Web Mercator
with the closed-form formula (no PROJ call per point); spans with ``ST_Transform`` (``always_xy``).
"""

from __future__ import annotations

from typing import Any

from fluxops.geo.tiles import BUFFER, EXTENT, MAINLINE_MIN_AMPACITY_A, SEGMENTS_ALL_ZOOM, Tile, TileLayer
from fluxops.storage.schema import ident

MERC_X = "a.lon * 111319.49079327357"  # pi * 6378137 / 180
MERC_Y = "ln(tan(radians(90 + a.lat) / 2)) * 6378137"
_BBOX = "a.max_lon >= ? AND a.min_lon <= ? AND a.max_lat >= ? AND a.min_lat <= ?"


def tile_sql(
    layer: TileLayer, tile: Tile, types: tuple[str, ...], box: tuple[float, float, float, float], tol: float
) -> tuple[str, list[Any]]:
    """The one statement that encodes ``layer``'s tile (one BLOB row; NULL when it holds nothing)."""
    name = ident(layer.name)
    env = f"ST_Extent(ST_TileEnvelope({tile.z}, {tile.x}, {tile.y}))"  # ints from a validated Tile
    in_types = ", ".join("?" * len(types))
    bbox_params = [box[0], box[2], box[1], box[3]]
    if layer.geometry == "point":
        sql = (
            f"SELECT ST_AsMVT({{'geometry': g, 'id': id, 'type': type, 'name': name, "
            f"'feeder_id': feeder_id, 'substation_id': substation_id}}, '{name}', {EXTENT}, 'geometry') "
            f"FROM (SELECT ST_AsMVTGeom(ST_Point({MERC_X}, {MERC_Y}), {env}, {EXTENT}, {BUFFER}, true) AS g, "
            "a.asset_id AS id, a.asset_type AS type, a.name AS name, a.feeder_id AS feeder_id, "
            "a.substation_id AS substation_id "
            f"FROM assets a WHERE a.asset_type IN ({in_types}) AND {_BBOX}) f "
            "WHERE g IS NOT NULL HAVING COUNT(*) > 0"
        )
        return sql, [*types, *bbox_params]
    geom = "ST_Transform(ST_GeomFromWKB(s.geometry_wkb), 'EPSG:4326', 'EPSG:3857', true)"
    if tol > 0:
        geom = f"ST_Simplify({geom}, ?)"
    mainline = "" if tile.z >= SEGMENTS_ALL_ZOOM else " AND s.ampacity_a >= ?"
    sql = (
        f"SELECT ST_AsMVT({{'geometry': g, 'id': id, 'feeder_id': feeder_id, 'substation_id': substation_id, "
        f"'construction': construction, 'conductor': conductor, 'ampacity_a': ampacity_a}}, '{name}', "
        f"{EXTENT}, 'geometry') "
        f"FROM (SELECT ST_AsMVTGeom({geom}, {env}, {EXTENT}, {BUFFER}, true) AS g, "
        "s.segment_id AS id, s.feeder_id AS feeder_id, s.substation_id AS substation_id, "
        "s.construction AS construction, s.conductor AS conductor, s.ampacity_a AS ampacity_a "
        "FROM assets a JOIN line_segments s ON s.segment_id = a.asset_id "
        f"WHERE a.asset_type = 'line_segment' AND {_BBOX}{mainline}) f "
        "WHERE g IS NOT NULL AND NOT ST_IsEmpty(g) HAVING COUNT(*) > 0"
    )
    params: list[Any] = [tol] if tol > 0 else []
    params.extend(bbox_params)
    if mainline:
        params.append(MAINLINE_MIN_AMPACITY_A)
    return sql, params
