"""``/api/geo`` and the geo tile layers over HTTP (own live server, DuckDB, the tiny grid): admin
generation, tiles + TileJSON of every geo layer, ETags that change when a layer is re-imported, flood
exposure, the trim plan, exports, imports by an admin only, and bad input as 4xx naming the problem."""

from __future__ import annotations

import io
import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import mapbox_vector_tile
import pyarrow.parquet as pq
import pytest

from fluxops.geo.layers import GEO_LAYERS
from fluxops.grid.models import Grid

sys.path.insert(0, str(Path(__file__).parent.parent / "api"))
from live_server import LiveServer, serve_grid  # type: ignore[import-not-found]

ADMIN = "test-bootstrap-token-0123456789abcdef"
SQUARE = [[-95.37, 29.76], [-95.36, 29.76], [-95.36, 29.77], [-95.37, 29.77], [-95.37, 29.76]]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, tiny_grid: Grid) -> Iterator[LiveServer]:
    with serve_grid(tmp_path_factory.mktemp("geo-api"), tiny_grid) as server:
        yield server


@pytest.fixture(scope="module")
def admin(live: LiveServer) -> Iterator[httpx.Client]:
    with live.client(ADMIN) as c:
        r = c.post("/api/admin/geo/generate", json={"seed": 0})
        assert r.status_code == 200, r.text
        assert set(r.json()["features"]) == {"water", "flood_zones", "buildings", "canopy"}
        yield c


@pytest.fixture(scope="module")
def viewer(live: LiveServer, admin: httpx.Client) -> Iterator[httpx.Client]:
    r = admin.post("/api/admin/keys", json={"role": "viewer", "label": "geo viewer"})
    with live.client(r.json()["token"]) as c:
        yield c


def _tile(lon: float, lat: float, layer: str, z: int) -> str:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return f"/api/tiles/{layer}/{z}/{x}/{y}.mvt"


def test_layers_listed_with_tilejson(viewer: httpx.Client) -> None:
    names = [layer["name"] for layer in viewer.get("/api/tiles").json()["layers"]]
    assert set(GEO_LAYERS) <= set(names)
    items = {i["name"]: i for i in viewer.get("/api/geo/layers").json()["items"]}
    assert items["flood_zones"]["features"] > 0 and items["flood_zones"]["source"] == "generated"
    assert "synthetic" in items["water"]["note"] and items["vegetation"]["features"] is None
    doc = viewer.get("/api/tiles/flood_zones.json").json()
    assert (
        doc["minzoom"] == GEO_LAYERS["flood_zones"].min_zoom and "bfe_ft" in doc["vector_layers"][0]["fields"]
    )
    assert doc["bounds"][0] < doc["bounds"][2]


def test_geo_tiles_decode_and_etag_follows_the_layer(
    viewer: httpx.Client, admin: httpx.Client, tiny_grid: Grid
) -> None:
    m = tiny_grid.meters.iloc[len(tiny_grid.meters) // 2]
    r = viewer.get(_tile(m.lon, m.lat, "buildings", 16))
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert mapbox_vector_tile.decode(r.content)["buildings"]["features"]
    assert viewer.get(_tile(m.lon, m.lat, "buildings", 16)).headers["x-tile-cache"] == "hit"
    url = _tile(-95.365, 29.765, "flood_zones", 14)
    first = viewer.get(url)
    assert viewer.get(url, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    body = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"ID": "Z1", "Z": "AE", "B": 50},
                    "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
                }
            ],
        }
    )
    mapping = json.dumps({"id": "ID", "zone": "Z", "bfe_ft": "B", "flood_elev_ft": "B"})
    imp = admin.post(
        "/api/admin/geo/import",
        params={"layer": "flood_zones", "filename": "zones.geojson", "mapping": mapping},
        content=body,
    )
    assert imp.status_code == 200 and imp.json()["features"] == 1, imp.text
    after = viewer.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != first.headers["etag"]
    feats = mapbox_vector_tile.decode(after.content)["flood_zones"]["features"]
    assert [f["properties"]["id"] for f in feats] == ["Z1"]
    exposure = viewer.get("/api/geo/flood/exposure").json()
    assert exposure["flood_zones_source"] == "zones.geojson"
    assert all(i["freeboard_ft"] is None and i["tier"] == "unknown" for i in exposure["items"])
    admin.post("/api/admin/geo/generate", json={"layers": ["flood_zones"]})


def test_flood_exposure(viewer: httpx.Client) -> None:
    r = viewer.get("/api/geo/flood/exposure", params={"types": "transformer", "limit": 5})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["count"] == sum(doc["by_tier"].values()) and doc["by_type"]["substation"] == 0
    item = doc["items"][0]
    assert item["freeboard_ft"] == pytest.approx(item["pad_elev_ft"] - item["flood_elev_ft"], abs=0.02)
    assert viewer.get("/api/geo/flood/exposure", params={"tier": "wet"}).status_code == 422


def test_trim_plan_needs_an_inventory(viewer: httpx.Client) -> None:
    r = viewer.get("/api/geo/vegetation/trim-plan", params={"budget_usd": 10000})
    assert r.status_code == 404 and "vegetation generate" in r.json()["message"]
    assert viewer.get("/api/geo/vegetation/trim-plan", params={"budget_usd": -1}).status_code == 422


def test_exports(viewer: httpx.Client, tiny_grid: Grid) -> None:
    sub = tiny_grid.substations.iloc[0]
    bbox = f"{sub.lon - 0.003},{sub.lat - 0.003},{sub.lon + 0.003},{sub.lat + 0.003}"
    r = viewer.get("/api/geo/export", params={"layer": "buildings", "bbox": bbox, "output": "geojson"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    n = int(r.headers["x-feature-count"])
    assert n == len(r.json()["features"]) > 0
    p = viewer.get("/api/geo/export", params={"layer": "meters", "bbox": bbox, "output": "geoparquet"})
    assert b"geo" in pq.read_table(io.BytesIO(p.content)).schema.metadata
    poly = viewer.post(
        "/api/geo/export",
        json={"layer": "segments", "output": "csv", "polygon": {"type": "Polygon", "coordinates": [SQUARE]}},
    )
    assert poly.status_code == 200 and poly.text.splitlines()[0].endswith("geometry_wkt")


def test_bad_input(viewer: httpx.Client, admin: httpx.Client) -> None:
    assert viewer.get("/api/tiles/rivers/10/0/0.mvt").status_code == 422
    assert viewer.get("/api/tiles/water/10/1024/0.mvt").status_code == 422
    assert viewer.get("/api/geo/export", params={"layer": "trees"}).status_code == 422
    bow = [[-95.37, 29.76], [-95.36, 29.77], [-95.36, 29.76], [-95.37, 29.77], [-95.37, 29.76]]
    r = viewer.post(
        "/api/geo/export", json={"layer": "meters", "polygon": {"type": "Polygon", "coordinates": [bow]}}
    )
    assert r.status_code == 422 and "Self-intersection" in r.json()["message"]
    huge = [[-99.0, 27.0], [-91.0, 27.0], [-91.0, 33.0], [-99.0, 33.0], [-99.0, 27.0]]
    r = viewer.post(
        "/api/geo/export", json={"layer": "meters", "polygon": {"type": "Polygon", "coordinates": [huge]}}
    )
    assert r.status_code == 422 and "larger than the 5,000 km²" in r.json()["message"]
    forbidden = viewer.post(
        "/api/admin/geo/import", params={"layer": "water", "filename": "w.geojson"}, content=b"{}"
    )
    assert forbidden.status_code == 403
    bad = admin.post(
        "/api/admin/geo/import", params={"layer": "water", "filename": "w.geojson"}, content=b"not json"
    )
    assert bad.status_code == 422 and bad.json()["message"].startswith("w.geojson:")
    before = viewer.get("/api/geo/layers").json()
    wrong = admin.post(
        "/api/admin/geo/import",
        params={"layer": "buildings", "filename": "b.geojson", "mapping": "{not json"},
        content=b'{"type": "FeatureCollection", "features": []}',
    )
    assert wrong.status_code == 422 and "mapping" in wrong.json()["message"]
    assert viewer.get("/api/geo/layers").json() == before


def test_vegetation_layer_and_trim_plan(live: LiveServer, viewer: httpx.Client, tiny_grid: Grid) -> None:
    from fluxops.geo import vegetation
    from fluxops.storage import vegetation_store
    from fluxops.storage.geo_generate import save_vegetation_layer

    store = live.store
    info = store.get_grid_info()
    params = vegetation.VegetationParams(seed=1, trees_per_km=60.0)
    vegetation_store.save_trees(
        store, vegetation.generate_trees(tiny_grid, params), grid_hash=info.content_hash, params=params
    )
    n = save_vegetation_layer(store, tiny_grid, grid_hash=info.content_hash)
    assert n > 0
    r = viewer.get("/api/geo/vegetation/trim-plan", params={"budget_usd": 5000, "limit": 50})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["cost_selected_usd"] <= 5000 and doc["spans_selected"] == sum(
        i["selected"] for i in doc["items"]
    )
    ratios = [i["reduced_per_kusd"] for i in doc["items"]]
    assert ratios == sorted(ratios, reverse=True) and all(
        i["risk_after"] <= i["risk_before"] for i in doc["items"]
    )
    span = tiny_grid.line_segments.set_index("segment_id").loc[doc["items"][0]["segment_id"]]
    import shapely

    mid = shapely.from_wkb(span.geometry_wkb).interpolate(0.5, normalized=True)
    tile = viewer.get(_tile(mid.x, mid.y, "vegetation", 16))
    assert tile.status_code == 200, tile.text
    feats = mapbox_vector_tile.decode(tile.content)["vegetation"]["features"]
    got = {f["properties"]["id"]: f["properties"] for f in feats}
    assert doc["items"][0]["segment_id"] in got
    assert got[doc["items"][0]["segment_id"]]["risk"] == pytest.approx(
        doc["items"][0]["risk_before"], abs=1e-4
    )
