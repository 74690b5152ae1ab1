"""The network from Shapefiles through `fluxops import gis` (issue 13 §1: "the network itself, from ...
Shapefile"): the spans and substations written by GDAL (DuckDB spatial ``COPY ... (FORMAT GDAL, DRIVER
'ESRI Shapefile')``) in UTM zone 15N metres, in another utility's field names (a DBF's 10-character
names), read back, reprojected to lon/lat and snapped onto the same buses as the generated grid. Bad
files are refused with one line naming the file, the feature and the field, and leave the stored grid as
it was: no .prj (unknown projection), a .prj naming no EPSG code, spans stored as points, a span end
moved away from every bus."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from fluxops.cli import app
from fluxops.cli.cmd_grid import settings_for
from fluxops.core.errors import InvalidInputError
from fluxops.grid.gis_export import export_network_geoparquet
from fluxops.grid.models import ID_COLUMNS, Grid
from fluxops.grid.validation import validate_grid
from fluxops.storage import open_store
from fluxops.storage.duckdb_store import spatial_extension_path

UTM15N = "EPSG:32615"
# a local engineering CRS: a valid .prj, but no authority code to transform from
LOCAL_PRJ = 'LOCAL_CS["plant grid",LOCAL_DATUM["site",0],UNIT["metre",1],AXIS["X",EAST],AXIS["Y",NORTH]]'
SPAN_FIELDS = {
    "segment_id": "SEG_ID",
    "feeder_id": "CIRCUIT",
    "substation_id": "SUB",
    "construction": "CONSTR",
    "conductor": "COND",
    "length_km": "LEN_FT",
    "r_ohm_per_km": "R_OHM_MI",
    "x_ohm_per_km": "X_OHM_MI",
    "ampacity_a": "AMPS",
    "install_year": "YEAR",
    "phases": "PH",
}


def _sorted(grid: Grid, name: str) -> pd.DataFrame:
    return grid.table(name).sort_values(ID_COLUMNS[name]).reset_index(drop=True)


def _geojson(path: Path, rows: list[dict[str, object]], geoms: list[shapely.Geometry]) -> Path:
    feats = [
        {"type": "Feature", "properties": p, "geometry": shapely.geometry.mapping(g)}
        for p, g in zip(rows, geoms, strict=True)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def _shapefile(src: Path, dst: Path, srs: str = UTM15N, *, as_points: bool = False) -> Path:
    """``src`` (GeoJSON, lon/lat) as an ESRI Shapefile in ``srs``, written by GDAL."""
    con = duckdb.connect()
    try:
        con.execute(f"LOAD '{spatial_extension_path()}'")
        geom = "ST_StartPoint(geom)" if as_points else "geom"
        con.execute(
            f"COPY (SELECT * EXCLUDE (geom), ST_Transform({geom}, 'EPSG:4326', '{srs}', true) AS geom "
            f"FROM ST_Read('{src}')) TO '{dst}' WITH (FORMAT GDAL, DRIVER 'ESRI Shapefile', SRS '{srs}')"
        )
    finally:
        con.close()
    return dst


def _network_files(tmp: Path, grid: Grid, **spans: bool) -> tuple[list[Path], Path]:
    """Spans and substations as Shapefiles in the foreign schema, the other tables our GeoParquet; the
    mapping file beside them."""
    paths = export_network_geoparquet(grid, tmp / "parquet")
    seg = grid.line_segments
    rows = [
        {
            "SEG_ID": r.segment_id,
            "CIRCUIT": r.feeder_id,
            "SUB": r.substation_id,
            "CONSTR": r.construction,
            "COND": r.conductor,
            "LEN_FT": r.length_km / 0.3048e-3,
            "R_OHM_MI": r.r_ohm_per_km * 1.609344,
            "X_OHM_MI": r.x_ohm_per_km * 1.609344,
            "AMPS": r.ampacity_a,
            "YEAR": int(r.install_year),
            "PH": r.phases,
        }
        for r in seg.itertuples()
    ]
    geoms = list(shapely.from_wkb(seg.geometry_wkb.to_numpy(object)))
    span_json = _geojson(tmp / "spans.geojson", rows, geoms)
    subs = grid.substations
    sub_rows = [
        {"SUBID": r.substation_id, "NAME": r.name, "HV_V": r.v_hv_kv * 1000, "LV_V": r.v_lv_kv * 1000}
        for r in subs.itertuples()
    ]
    sub_json = _geojson(tmp / "subs.geojson", sub_rows, list(shapely.points(subs.lon, subs.lat)))
    spans_shp = _shapefile(span_json, tmp / "spans.shp", **spans)
    subs_shp = _shapefile(sub_json, tmp / "subs.shp")
    mapping = {
        "name": "tiny from Shapefiles",
        "snap_tolerance_m": 1.0,
        "tables": {
            "line_segments": {
                "file": "spans.shp",
                "fields": SPAN_FIELDS,
                "units": {"length_km": "ft", "r_ohm_per_km": "ohm/mi", "x_ohm_per_km": "ohm/mi"},
            },
            "substations": {
                "file": "subs.shp",
                "fields": {"substation_id": "SUBID", "name": "NAME", "v_hv_kv": "HV_V", "v_lv_kv": "LV_V"},
                "units": {"v_hv_kv": "V", "v_lv_kv": "V"},
            },
        },
    }
    (tmp / "mapping.json").write_text(json.dumps(mapping))
    others = [p for t, p in paths.items() if t not in ("line_segments", "substations")]
    return [*others, spans_shp, subs_shp], tmp / "mapping.json"


def _import(files: list[Path], mapping: Path, data: Path) -> object:
    args = ["import", "gis", *map(str, files), "--mapping", str(mapping), "--data-dir", str(data)]
    return CliRunner().invoke(app, args)


def _stored(data: Path) -> Grid:
    store = open_store(settings_for(data))
    try:
        grid = store.read_grid()
        assert grid is not None
        return grid
    finally:
        store.close()


def test_shapefile_network_in_utm_imports_through_the_cli(tmp_path: Path, tiny_grid: Grid) -> None:
    files, mapping = _network_files(tmp_path, tiny_grid)
    assert (tmp_path / "spans.prj").exists() and (tmp_path / "spans.dbf").exists()
    r = _import(files, mapping, tmp_path / "data")
    assert r.exit_code == 0, r.output  # type: ignore[attr-defined]
    back = _stored(tmp_path / "data")
    validate_grid(back)
    assert back.meta.source == "gis" and back.meta.name == "tiny from Shapefiles"
    a, b = _sorted(back, "line_segments"), _sorted(tiny_grid, "line_segments")
    assert list(a.segment_id) == list(b.segment_id)
    assert (a.from_bus_id == b.from_bus_id).all() and (a.to_bus_id == b.to_bus_id).all()  # snapped
    # a DBF keeps ~15 significant digits; UTM -> lon/lat round trip within a millimetre
    for col in ("length_km", "r_ohm_per_km", "x_ohm_per_km", "ampacity_a"):
        np.testing.assert_allclose(a[col], b[col], rtol=1e-9, err_msg=col)
    assert (a.conductor == b.conductor).all() and (a.install_year == b.install_year).all()
    sa, sb = _sorted(back, "substations"), _sorted(tiny_grid, "substations")
    np.testing.assert_allclose(sa.lon, sb.lon, atol=1e-8)
    np.testing.assert_allclose(sa.lat, sb.lat, atol=1e-8)
    np.testing.assert_allclose(sa.v_lv_kv, sb.v_lv_kv)
    ga = shapely.from_wkb(a.geometry_wkb.to_numpy(object))
    gb = shapely.from_wkb(b.geometry_wkb.to_numpy(object))
    assert shapely.equals_exact(ga, gb, tolerance=1e-8).all()  # ~1 mm


@pytest.fixture
def loaded_data(tmp_path: Path, tiny_grid: Grid) -> tuple[Path, str]:
    data = tmp_path / "data"
    store = open_store(settings_for(data))
    store.load_grid(tiny_grid)
    digest = store.get_grid_info().content_hash
    store.close()
    return data, digest


def _refused(files: list[Path], mapping: Path, data: Path, digest: str) -> InvalidInputError:
    r = _import(files, mapping, data)
    exc = r.exception  # type: ignore[attr-defined]
    assert isinstance(exc, InvalidInputError), r.output  # type: ignore[attr-defined]
    assert "\n" not in str(exc)  # one line
    store = open_store(settings_for(data))
    try:
        assert store.get_grid_info().content_hash == digest  # the stored grid is untouched
    finally:
        store.close()
    return exc


def test_shapefile_without_prj_is_refused(
    tmp_path: Path, tiny_grid: Grid, loaded_data: tuple[Path, str]
) -> None:
    files, mapping = _network_files(tmp_path / "f", tiny_grid)
    (tmp_path / "f" / "spans.prj").unlink()
    exc = _refused(files, mapping, *loaded_data)
    assert "spans.shp: unknown projection" in str(exc) and exc.field == "crs"


def test_shapefile_with_a_local_crs_is_refused(
    tmp_path: Path, tiny_grid: Grid, loaded_data: tuple[Path, str]
) -> None:
    files, mapping = _network_files(tmp_path / "f", tiny_grid)
    (tmp_path / "f" / "subs.prj").write_text(LOCAL_PRJ)
    exc = _refused(files, mapping, *loaded_data)
    assert "subs.shp: unknown projection" in str(exc) and exc.field == "crs"


def test_spans_stored_as_points_name_file_feature_field(
    tmp_path: Path, tiny_grid: Grid, loaded_data: tuple[Path, str]
) -> None:
    files, mapping = _network_files(tmp_path / "f", tiny_grid, as_points=True)
    exc = _refused(files, mapping, *loaded_data)
    msg = str(exc)
    assert "spans.shp" in msg and "feature 1" in msg and "must be a LineString" in msg, msg
    assert exc.field == "geometry"


def test_span_end_moved_off_its_bus_names_file_feature_field(
    tmp_path: Path, tiny_grid: Grid, loaded_data: tuple[Path, str]
) -> None:
    files, mapping = _network_files(tmp_path / "f", tiny_grid)
    src = tmp_path / "f" / "spans.geojson"
    doc = json.loads(src.read_text())
    doc["features"][4]["geometry"]["coordinates"][-1][0] += 0.001  # ~100 m east
    src.write_text(json.dumps(doc))
    for ext in ("shp", "shx", "dbf", "prj", "cpg"):
        (tmp_path / "f" / f"spans.{ext}").unlink(missing_ok=True)
    _shapefile(src, tmp_path / "f" / "spans.shp")
    exc = _refused(files, mapping, *loaded_data)
    msg = str(exc)
    assert "spans.shp" in msg and "feature 5" in msg and "to_bus_id" in msg, msg
    assert exc.field == "to_bus_id" and exc.details["file"] == "spans.shp"
