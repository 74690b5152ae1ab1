"""``fluxops geo tile|nearest|h3`` as a user runs them: a real subprocess over a DuckDB file."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import mapbox_vector_tile

from fluxops.grid.models import Grid
from fluxops.storage.duckdb_store import DuckDBStore


def _fluxops(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLUXOPS_")}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-c", "from fluxops.cli import main; main()", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_geo_commands(tmp_path: Path, tiny_grid: Grid) -> None:
    store = DuckDBStore(tmp_path / "fluxops.duckdb")
    store.load_grid(tiny_grid)
    store.close()
    sub = tiny_grid.substations.iloc[0]
    z = 16
    x = int((sub.lon + 180) / 360 * 2**z)
    y = int((1 - math.asinh(math.tan(math.radians(sub.lat))) / math.pi) / 2 * 2**z)
    out = tmp_path / "t.mvt"
    r = _fluxops(tmp_path, "geo", "tile", "substations", str(z), str(x), str(y), "--out", str(out))
    assert r.returncode == 0, r.stderr
    feats = mapbox_vector_tile.decode(out.read_bytes())["substations"]["features"]
    assert [f["properties"]["id"] for f in feats] == [sub.substation_id]
    r = _fluxops(
        tmp_path, "geo", "nearest", "--lon", str(sub.lon), "--lat", str(sub.lat), "-k", "3", "--type", "meter"
    )
    assert r.returncode == 0 and r.stdout.count("MTR-") == 3, r.stdout + r.stderr
    r = _fluxops(tmp_path, "geo", "h3", "--resolution", "9", "--top", "3")
    assert r.returncode == 0 and f"{len(tiny_grid.meters):,} points" in r.stdout, r.stdout + r.stderr
    r = _fluxops(tmp_path, "geo", "tile", "trees", "1", "0", "0", "--out", str(out))
    assert r.returncode == 2 and "no tile layer 'trees'" in r.stderr
    r = _fluxops(tmp_path, "geo", "tile", "meters", "3", "9", "0", "--out", str(out))
    assert r.returncode == 2 and "x=9" in r.stderr


def test_vegetation_commands(tmp_path: Path, tiny_grid: Grid) -> None:
    store = DuckDBStore(tmp_path / "fluxops.duckdb")
    store.load_grid(tiny_grid)
    store.close()
    r = _fluxops(tmp_path, "geo", "vegetation", "spans")
    assert r.returncode == 2 and "no vegetation inventory" in r.stderr
    r = _fluxops(tmp_path, "geo", "vegetation", "generate", "--seed", "2", "--as-of", "2026-06-01")
    assert r.returncode == 0 and "trees along the overhead spans of tiny" in r.stdout, r.stdout + r.stderr
    r = _fluxops(tmp_path, "geo", "vegetation", "spans", "--top", "3", "--by", "exposure")
    assert r.returncode == 0 and r.stdout.count("SEG-") == 3, r.stdout + r.stderr
    r = _fluxops(tmp_path, "geo", "vegetation", "generate", "--regime", "go95_minimum")
    assert r.returncode == 0, r.stderr  # the tiny grid is 12.47 kV: inside GO 95's 18 in band


def test_geo_layer_commands(tmp_path: Path, tiny_grid: Grid) -> None:
    store = DuckDBStore(tmp_path / "fluxops.duckdb")
    store.load_grid(tiny_grid)
    store.close()
    r = _fluxops(tmp_path, "geo", "flood")
    assert r.returncode == 2 and "no flood zones stored" in r.stderr
    r = _fluxops(tmp_path, "geo", "generate", "--seed", "0")
    assert r.returncode == 0 and "flood_zones:" in r.stdout and "synthetic" in r.stdout, r.stdout + r.stderr
    r = _fluxops(tmp_path, "geo", "flood", "--top", "3")
    assert r.returncode == 0 and "sites in a flood zone" in r.stdout, r.stdout + r.stderr
    r = _fluxops(tmp_path, "geo", "layers")
    assert r.returncode == 0 and "buildings" in r.stdout
    out = tmp_path / "b.geojson"
    sub = tiny_grid.substations.iloc[0]
    box = f"{sub.lon - 0.002},{sub.lat - 0.002},{sub.lon + 0.002},{sub.lat + 0.002}"
    r = _fluxops(tmp_path, "geo", "export", "buildings", "--bbox", box, "--out", str(out))
    assert r.returncode == 0 and out.read_text().startswith('{"type": "FeatureCollection"'), r.stderr
    mapping = tmp_path / "m.json"
    mapping.write_text('{"id": "id", "use": "use", "meter_id": "meter_id"}')
    r = _fluxops(tmp_path, "geo", "import", str(out), "--layer", "buildings", "--mapping", str(mapping))
    assert r.returncode == 0 and "features imported from b.geojson" in r.stdout, r.stdout + r.stderr
    bad = tmp_path / "bad.geojson"
    bad.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"id": "B1"}, '
        '"geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}}]}'
    )
    r = _fluxops(tmp_path, "geo", "import", str(bad), "--layer", "buildings")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "bad.geojson: feature 1 (id 'B1'): invalid geometry" in r.stderr
    r = _fluxops(tmp_path, "geo", "import", str(bad), "--layer", "rivers")
    assert r.returncode == 2 and "no geo layer 'rivers'" in r.stderr
    z = 16
    x = int((sub.lon + 180) / 360 * 2**z)
    y = int((1 - math.asinh(math.tan(math.radians(sub.lat))) / math.pi) / 2 * 2**z)
    tile = tmp_path / "b.mvt"
    r = _fluxops(tmp_path, "geo", "tile", "buildings", str(z), str(x), str(y), "--out", str(tile))
    assert r.returncode == 0 and mapbox_vector_tile.decode(tile.read_bytes())["buildings"]["features"]
