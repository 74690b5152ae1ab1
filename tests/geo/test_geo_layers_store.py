"""Geo layers in both stores: generated layers stored and tiled (decoded), imports from GeoJSON,
GeoPackage, Shapefile (zipped too) and GeoParquet with a mapping, errors that name file / feature /
field, an import that fails leaves the stored layer as it was, and exports that read back."""

from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path
from typing import Any

import duckdb
import mapbox_vector_tile
import pyarrow.parquet as pq
import pytest
import shapely

from fluxops.core.errors import InvalidInputError
from fluxops.geo import tiles as gt
from fluxops.geo.layers import GEO_LAYERS
from fluxops.grid.models import Grid
from fluxops.storage import geo_export, geo_generate, geo_import, geo_layers_store
from fluxops.storage.duckdb_store import spatial_extension_path
from fluxops.storage.geo_tiles import render_geo_tile

SQUARE = [[-95.30, 29.70], [-95.29, 29.70], [-95.29, 29.71], [-95.30, 29.71], [-95.30, 29.70]]
BOWTIE = [[-95.30, 29.70], [-95.29, 29.71], [-95.29, 29.70], [-95.30, 29.71], [-95.30, 29.70]]
MAPPING = {"id": "FLD_ID", "zone": "FLD_ZONE", "bfe_ft": "STATIC_BFE"}


def tile_at(lon: float, lat: float, z: int) -> gt.Tile:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return gt.validate_tile(z, x, y)


@pytest.fixture
def loaded(store: Any, tiny_grid: Grid) -> Any:
    store.load_grid(tiny_grid)
    info = store.get_grid_info()
    geo_generate.generate_layers(
        store, tiny_grid, grid_hash=info.content_hash, layers=geo_generate.GENERATED, seed=0
    )
    return store


def _zones_geojson(path: Path, second_ring: list[list[float]] = SQUARE, bfe: str = "13") -> Path:
    feats = [
        {
            "type": "Feature",
            "properties": {"FLD_ID": f"Z{i}", "FLD_ZONE": z, "STATIC_BFE": b},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }
        for i, (z, b, ring) in enumerate((("AE", "12", SQUARE), ("X500", bfe, second_ring)), start=1)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def _gdal_copy(src: Path, dst: Path, driver: str, srs: str) -> None:
    con = duckdb.connect()
    con.execute(f"LOAD '{spatial_extension_path()}'")
    geom = "geom" if srs == "EPSG:4326" else f"ST_Transform(geom, 'EPSG:4326', '{srs}', true)"
    con.execute(
        f"COPY (SELECT FLD_ID, FLD_ZONE, STATIC_BFE, {geom} AS geom FROM ST_Read('{src}')) TO '{dst}' "
        f"WITH (FORMAT GDAL, DRIVER '{driver}', SRS '{srs}')"
    )
    con.close()


def test_generated_layers_tile_on_both_stores(loaded: Any, tiny_grid: Grid) -> None:
    meta = geo_layers_store.list_meta(loaded)
    assert set(meta) == set(geo_generate.GENERATED) and all(m["features"] > 0 for m in meta.values())
    m = tiny_grid.meters.iloc[len(tiny_grid.meters) // 2]
    body = render_geo_tile(loaded, GEO_LAYERS["buildings"], tile_at(m.lon, m.lat, 16))
    feats = mapbox_vector_tile.decode(body)["buildings"]["features"]
    assert feats and {"id", "meter_id", "use", "area_m2"} <= set(feats[0]["properties"])
    assert feats[0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert render_geo_tile(loaded, GEO_LAYERS["buildings"], tile_at(m.lon, m.lat, 12)) == b""  # below z15
    zones = geo_layers_store.read_layer(loaded, "flood_zones")
    c = shapely.point_on_surface(shapely.from_wkb(zones.geometry_wkb.iloc[0]))
    decoded = mapbox_vector_tile.decode(
        render_geo_tile(loaded, GEO_LAYERS["flood_zones"], tile_at(c.x, c.y, 12))
    )
    props = decoded["flood_zones"]["features"][0]["properties"]
    assert (
        props["zone"] in ("AE", "X500") and props["bfe_ft"] > 0 and props["annual_chance_pct"] in (1.0, 0.2)
    )
    exposed, _ = geo_generate.flood_exposure(loaded, tiny_grid)
    assert len(exposed) and exposed.freeboard_ft.notna().all()


def test_import_formats_with_mapping_and_reprojection(store: Any, tmp_path: Path) -> None:
    gj = _zones_geojson(tmp_path / "zones.geojson")
    assert geo_import.import_layer(store, gj, layer="flood_zones", mapping=MAPPING) == 2
    _gdal_copy(gj, tmp_path / "zones.gpkg", "GPKG", "EPSG:4326")
    assert geo_import.import_layer(store, tmp_path / "zones.gpkg", layer="flood_zones", mapping=MAPPING) == 2
    _gdal_copy(gj, tmp_path / "zones.shp", "ESRI Shapefile", "EPSG:32615")  # UTM 15N, metres
    assert geo_import.import_layer(store, tmp_path / "zones.shp", layer="flood_zones", mapping=MAPPING) == 2
    rows = geo_layers_store.read_layer(store, "flood_zones")
    assert rows.feature_id.tolist() == ["Z1", "Z2"] and rows.num_a.tolist() == [12.0, 13.0]
    assert rows.min_lon.iloc[0] == pytest.approx(-95.30, abs=1e-6)  # back in lon/lat
    zpath = tmp_path / "zones.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for ext in ("shp", "shx", "dbf", "prj"):
            z.write(tmp_path / f"zones.{ext}", f"zones.{ext}")
    assert geo_import.import_layer(store, zpath, layer="flood_zones", mapping=MAPPING) == 2
    # GeoParquet: our own export reads back
    props, geoms = geo_export.select(store, "flood_zones")
    pq_path = tmp_path / "zones.parquet"
    pq_path.write_bytes(geo_export.encode(props, geoms, "geoparquet"))
    assert (
        geo_import.import_layer(
            store, pq_path, layer="flood_zones", mapping={"zone": "zone", "bfe_ft": "bfe_ft"}
        )
        == 2
    )
    assert geo_layers_store.get_meta(store, "flood_zones")["source_name"] == "zones.parquet"


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_bad_files_name_the_problem_and_change_nothing(store: Any, tmp_path: Path) -> None:
    good = _zones_geojson(tmp_path / "good.geojson")
    geo_import.import_layer(store, good, layer="flood_zones", mapping=MAPPING)
    before = geo_layers_store.get_meta(store, "flood_zones")["version"]
    cases = [
        (
            _zones_geojson(tmp_path / "bow.geojson", BOWTIE),
            MAPPING,
            "feature 2 (id 'Z2'): invalid geometry (Self-intersection",
        ),
        (
            _zones_geojson(tmp_path / "num.geojson", bfe="1x3"),
            MAPPING,
            "feature 2 (id 'Z2'): field 'STATIC_BFE': '1x3' is not a number",
        ),
        (good, {**MAPPING, "bfe_ft": "NOPE"}, "no field 'NOPE' in the file"),
        (good, {**MAPPING, "colour": "FLD_ZONE"}, "no property 'colour'"),
        (tmp_path / "zones.txt", MAPPING, "unsupported file type .txt"),
        (_bytes(tmp_path / "junk.gpkg", b"not a geopackage"), MAPPING, "cannot be read as a GIS file"),
    ]
    for path, mapping, message in cases:
        with pytest.raises(InvalidInputError) as exc:
            geo_import.import_layer(store, path, layer="flood_zones", mapping=mapping)
        assert (message in exc.value.message and path.name in exc.value.message) or "colour" in message
    _gdal_copy(good, tmp_path / "noprj.shp", "ESRI Shapefile", "EPSG:32615")
    (tmp_path / "noprj.prj").unlink()
    with pytest.raises(InvalidInputError) as exc:
        geo_import.import_layer(store, tmp_path / "noprj.shp", layer="flood_zones", mapping=MAPPING)
    assert "noprj.shp: unknown projection" in exc.value.message and exc.value.field == "crs"
    assert geo_layers_store.get_meta(store, "flood_zones")["version"] == before  # nothing landed
    assert len(geo_layers_store.read_layer(store, "flood_zones")) == 2


def test_exports_of_a_selection(loaded: Any, tiny_grid: Grid) -> None:
    sub = tiny_grid.substations.iloc[0]
    box = (sub.lon - 0.003, sub.lat - 0.003, sub.lon + 0.003, sub.lat + 0.003)
    props, geoms = geo_export.select(loaded, "buildings", bbox=box)
    assert len(props) and (shapely.bounds(geoms)[:, 0] <= box[2]).all()
    doc = json.loads(geo_export.encode(props, geoms, "geojson"))
    assert len(doc["features"]) == len(props) and doc["features"][0]["properties"]["meter_id"].startswith(
        "MTR-"
    )
    table = pq.read_table(io.BytesIO(geo_export.encode(props, geoms, "geoparquet")))
    assert json.loads(table.schema.metadata[b"geo"])["primary_column"] == "geometry"
    csv = geo_export.encode(props, geoms, "csv").decode()
    assert csv.splitlines()[0].endswith("geometry_wkt") and "POLYGON" in csv
    poly = shapely.box(*box)
    meters, _ = geo_export.select(loaded, "meters", polygon=poly)
    inside = tiny_grid.meters[
        tiny_grid.meters.lon.between(box[0], box[2]) & tiny_grid.meters.lat.between(box[1], box[3])
    ]
    assert set(meters.id) == set(inside.meter_id)
    spans, sgeoms = geo_export.select(loaded, "segments", ids=list(tiny_grid.line_segments.segment_id[:3]))
    assert len(spans) == 3 and all(g.geom_type == "LineString" for g in sgeoms)
    with pytest.raises(InvalidInputError):
        geo_export.select(loaded, "trees")
