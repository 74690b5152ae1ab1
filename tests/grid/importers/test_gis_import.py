"""The network from GIS files (issue 13 §1): our own GeoParquet export reads back through
`fluxops import gis` into an equal grid (ids, topology, ratings; validated; loaded whole); a foreign
schema (other field names, V and ft, no bus fields: spans snapped to buses) maps onto the same grid;
bad files are refused naming file, feature and field, and leave the stored grid as it was."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
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
from fluxops.storage.gis_network import read_network


def _sorted(grid: Grid, name: str) -> pd.DataFrame:
    return grid.table(name).sort_values(ID_COLUMNS[name]).reset_index(drop=True)


def _stored_grid(data_dir: Path) -> Grid:
    store = open_store(settings_for(data_dir))
    try:
        return store.read_grid()
    finally:
        store.close()


def test_round_trip_through_the_cli(tmp_path: Path, tiny_grid: Grid) -> None:
    src = tmp_path / "src"
    store = open_store(settings_for(src))
    store.load_grid(tiny_grid)
    store.close()
    out = tmp_path / "files"
    r = CliRunner().invoke(app, ["import", "gis-export", str(out), "--data-dir", str(src)])
    assert r.exit_code == 0, r.output
    files = sorted(str(p) for p in out.glob("*.parquet"))
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps({"name": "tiny from GIS"}))
    dst = tmp_path / "dst"
    r = CliRunner().invoke(app, ["import", "gis", *files, "--mapping", str(mapping), "--data-dir", str(dst)])
    assert r.exit_code == 0, r.output
    back = _stored_grid(dst)
    validate_grid(back)
    assert back.meta.source == "gis" and back.meta.name == "tiny from GIS"
    for name in tiny_grid.tables():
        pd.testing.assert_frame_equal(_sorted(back, name), _sorted(tiny_grid, name), obj=name)


def _geojson(path: Path, rows: list[dict[str, object]], geoms: list[shapely.Geometry]) -> None:
    feats = [
        {"type": "Feature", "properties": p, "geometry": shapely.geometry.mapping(g)}
        for p, g in zip(rows, geoms, strict=True)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))


def _foreign(tmp_path: Path, grid: Grid) -> tuple[list[Path], dict[str, object]]:
    """Our export for most tables; spans and substations as GeoJSON in another utility's schema."""
    paths = export_network_geoparquet(grid, tmp_path)
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
    _geojson(tmp_path / "spans.geojson", rows, list(shapely.from_wkb(seg.geometry_wkb.to_numpy(object))))
    subs = grid.substations
    rows = [
        {"SUBID": r.substation_id, "NAME": r.name, "HV_V": r.v_hv_kv * 1000, "LV_V": r.v_lv_kv * 1000}
        for r in subs.itertuples()
    ]
    _geojson(tmp_path / "subs.geojson", rows, list(shapely.points(subs.lon, subs.lat)))
    mapping: dict[str, object] = {
        "snap_tolerance_m": 1.0,
        "tables": {
            "line_segments": {
                "file": "spans.geojson",
                "fields": {
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
                },
                "units": {"length_km": "ft", "r_ohm_per_km": "ohm/mi", "x_ohm_per_km": "ohm/mi"},
            },
            "substations": {
                "file": "subs.geojson",
                "fields": {"substation_id": "SUBID", "name": "NAME", "v_hv_kv": "HV_V", "v_lv_kv": "LV_V"},
                "units": {"v_hv_kv": "V", "v_lv_kv": "V"},
            },
        },
    }
    files = [p for t, p in paths.items() if t not in ("line_segments", "substations")]
    return [*files, tmp_path / "spans.geojson", tmp_path / "subs.geojson"], mapping


def test_foreign_schema_with_units_and_snapped_topology(tmp_path: Path, tiny_grid: Grid) -> None:
    files, mapping = _foreign(tmp_path, tiny_grid)
    grid = read_network(files, json.dumps(mapping), "m.json")
    validate_grid(grid)
    a, b = _sorted(grid, "line_segments"), _sorted(tiny_grid, "line_segments")
    assert (a.from_bus_id == b.from_bus_id).all() and (a.to_bus_id == b.to_bus_id).all()  # snapped
    for col in ("length_km", "r_ohm_per_km", "x_ohm_per_km", "ampacity_a"):
        np.testing.assert_allclose(a[col], b[col], rtol=1e-9)
    np.testing.assert_allclose(
        _sorted(grid, "substations").v_lv_kv, _sorted(tiny_grid, "substations").v_lv_kv
    )
    assert grid.meta.params["snap_tolerance_m"] == 1.0


def test_span_end_far_from_any_bus_is_refused(tmp_path: Path, tiny_grid: Grid) -> None:
    files, mapping = _foreign(tmp_path, tiny_grid)
    doc = json.loads((tmp_path / "spans.geojson").read_text())
    doc["features"][3]["geometry"]["coordinates"][-1][0] += 0.001  # ~100 m east
    (tmp_path / "spans.geojson").write_text(json.dumps(doc))
    with pytest.raises(InvalidInputError) as exc:
        read_network(files, json.dumps(mapping), "m.json")
    msg = str(exc.value)
    assert "spans.geojson" in msg and "feature 4" in msg and "to_bus_id" in msg and "1 m" in msg
    assert exc.value.details["file"] == "spans.geojson" and exc.value.field == "to_bus_id"


def test_bad_number_names_file_feature_field(tmp_path: Path, tiny_grid: Grid) -> None:
    files, mapping = _foreign(tmp_path, tiny_grid)
    doc = json.loads((tmp_path / "spans.geojson").read_text())
    doc["features"][1]["properties"]["AMPS"] = "lots"
    (tmp_path / "spans.geojson").write_text(json.dumps(doc))
    with pytest.raises(InvalidInputError) as exc:
        read_network(files, json.dumps(mapping), "m.json")
    seg_id = tiny_grid.line_segments.segment_id.iloc[1]
    assert "spans.geojson" in str(exc.value) and "feature 2" in str(exc.value) and seg_id in str(exc.value)
    assert exc.value.field == "AMPS"


def test_unknown_projection_refused_and_store_untouched(tmp_path: Path, tiny_grid: Grid) -> None:
    data = tmp_path / "data"
    store = open_store(settings_for(data))
    store.load_grid(tiny_grid)
    before = store.get_grid_info().content_hash
    store.close()
    paths = export_network_geoparquet(tiny_grid, tmp_path / "files")
    table = pq.read_table(paths["meters"])
    meta = dict(table.schema.metadata)
    geo = json.loads(meta[b"geo"])
    geo["columns"]["geometry"]["crs"] = {"type": "EngineeringCRS", "name": "plant grid"}
    meta[b"geo"] = json.dumps(geo).encode()
    pq.write_table(table.replace_schema_metadata(meta), paths["meters"])
    args = ["import", "gis", *map(str, paths.values()), "--data-dir", str(data)]
    r = CliRunner().invoke(app, args)
    assert isinstance(r.exception, InvalidInputError), r.output
    assert "meters.parquet" in str(r.exception) and "unknown projection" in str(r.exception)
    store = open_store(settings_for(data))
    try:
        assert store.get_grid_info().content_hash == before  # nothing half-loaded
    finally:
        store.close()


def test_geopackage_in_web_mercator(tmp_path: Path, tiny_grid: Grid) -> None:
    """The spans as a GeoPackage in EPSG:3857 (written by DuckDB spatial's GDAL): transformed back to
    lon/lat on reading, then snapped to the same buses."""
    files, mapping = _foreign(tmp_path, tiny_grid)
    con = duckdb.connect()
    con.execute(f"LOAD '{spatial_extension_path()}'")
    src, dst = tmp_path / "spans.geojson", tmp_path / "spans.gpkg"
    con.execute(
        f"COPY (SELECT * EXCLUDE (geom, OGC_FID), ST_Transform(geom, 'EPSG:4326', 'EPSG:3857', true) AS geom "
        f"FROM ST_Read('{src}')) TO '{dst}' WITH (FORMAT GDAL, DRIVER 'GPKG', SRS 'EPSG:3857')"
    )
    con.close()
    mapping["tables"]["line_segments"]["file"] = "spans.gpkg"  # type: ignore[index]
    files = [dst if p == src else p for p in files]
    grid = read_network(files, json.dumps(mapping), "m.json")
    a, b = _sorted(grid, "line_segments"), _sorted(tiny_grid, "line_segments")
    assert (a.from_bus_id == b.from_bus_id).all() and (a.to_bus_id == b.to_bus_id).all()
    np.testing.assert_allclose(a.length_km, b.length_km, rtol=1e-9)
