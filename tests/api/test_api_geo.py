"""``/api/tiles`` and ``/api/spatial`` over HTTP (live server, DuckDB, the tiny grid): tiles decode,
ETag revalidation answers 304, bad input is a 4xx naming the problem, H3 sums match the grid."""

from __future__ import annotations

import math

import httpx
import mapbox_vector_tile
import numpy as np
import pytest

from fluxops.geo import tiles as gt
from fluxops.geo.layers import GEO_LAYERS


def _tile_url(live_grid_lonlat: tuple[float, float], layer: str, z: int) -> str:
    lon, lat = live_grid_lonlat
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return f"/api/tiles/{layer}/{z}/{x}/{y}.mvt"


def _centre(viewer: httpx.Client) -> tuple[float, float]:
    sub = viewer.get("/api/substations").json()[0]
    return float(sub["lon"]), float(sub["lat"])


def test_tile_etag_304_and_cache(viewer: httpx.Client) -> None:
    url = _tile_url(_centre(viewer), "meters", 16)
    r = viewer.get(url)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert r.headers["cache-control"].startswith("private")
    features = mapbox_vector_tile.decode(r.content)["meters"]["features"]
    assert features and all(f["properties"]["id"].startswith("MTR-") for f in features)
    again = viewer.get(url)
    assert again.headers["x-tile-cache"] == "hit" and again.content == r.content
    assert again.headers["etag"] == r.headers["etag"]
    cond = viewer.get(url, headers={"If-None-Match": r.headers["etag"]})
    assert cond.status_code == 304 and cond.content == b""
    other = viewer.get(_tile_url(_centre(viewer), "poles", 16))
    assert other.headers["etag"] != r.headers["etag"]


def test_low_zoom_meter_tile_is_empty(viewer: httpx.Client) -> None:
    r = viewer.get(_tile_url(_centre(viewer), "meters", 12))
    assert r.status_code == 200 and r.content == b""


def test_tilejson_and_layer_list(viewer: httpx.Client) -> None:
    doc = viewer.get("/api/tiles/segments.json").json()
    assert doc["tilejson"] == "3.0.0" and doc["minzoom"] == gt.LAYERS["segments"].min_zoom
    assert doc["tiles"][0].endswith("/api/tiles/segments/{z}/{x}/{y}.mvt")
    lon, lat = _centre(viewer)
    b = doc["bounds"]
    assert b[0] <= lon <= b[2] and b[1] <= lat <= b[3]
    names = [layer["name"] for layer in viewer.get("/api/tiles").json()["layers"]]
    assert names == [*gt.LAYERS, *GEO_LAYERS]


def test_tile_bad_input(viewer: httpx.Client) -> None:
    for url, field in (
        ("/api/tiles/meters/23/0/0.mvt", "z"),
        ("/api/tiles/meters/3/8/0.mvt", "x"),
        ("/api/tiles/meters/3/0/9.mvt", "y"),
        ("/api/tiles/meters/a/0/0.mvt", "z"),
        ("/api/tiles/trees/3/0/0.mvt", "layer"),
        ("/api/tiles/trees.json", "layer"),
    ):
        r = viewer.get(url)
        assert r.status_code == 422, (url, r.text)
        assert field in r.text, (url, r.text)


def test_spatial_routes(viewer: httpx.Client) -> None:
    lon, lat = _centre(viewer)
    near = viewer.get("/api/spatial/nearest", params={"lon": lon, "lat": lat, "k": 5, "type": "meter"}).json()
    assert near["count"] == 5 and all(i["asset_type"] == "meter" for i in near["items"])
    radius = viewer.get("/api/spatial/within-radius", params={"lon": lon, "lat": lat, "radius_m": 400}).json()
    assert radius["count"] == sum(radius["by_type"].values()) > 0
    d = 0.003
    ring = [
        [lon - d, lat - d],
        [lon + d, lat - d],
        [lon + d, lat + d],
        [lon - d, lat + d],
        [lon - d, lat - d],
    ]
    poly = viewer.post(
        "/api/spatial/within-polygon", json={"polygon": {"type": "Polygon", "coordinates": [ring]}}
    )
    assert poly.status_code == 200 and poly.json()["count"] > 0
    line = viewer.post(
        "/api/spatial/along-line",
        json={
            "line": {"type": "LineString", "coordinates": [ring[0], ring[2]]},
            "buffer_m": 50,
            "types": ["meter"],
        },
    )
    assert line.status_code == 200 and set(line.json()["by_type"]) <= {"meter"}
    csv = viewer.get(
        "/api/spatial/within-radius", params={"lon": lon, "lat": lat, "radius_m": 400, "format": "csv"}
    )
    assert csv.status_code == 200 and csv.text.startswith('"asset_id",')


def test_spatial_bad_input(viewer: httpx.Client) -> None:
    lon, lat = _centre(viewer)
    bowtie = [[lon, lat], [lon + 0.01, lat + 0.01], [lon + 0.01, lat], [lon, lat + 0.01], [lon, lat]]
    r = viewer.post(
        "/api/spatial/within-polygon", json={"polygon": {"type": "Polygon", "coordinates": [bowtie]}}
    )
    assert r.status_code == 422 and "Self-intersection" in r.json()["message"]
    huge = [[-100, 25], [-90, 25], [-90, 35], [-100, 35], [-100, 25]]
    r = viewer.post(
        "/api/spatial/within-polygon", json={"polygon": {"type": "Polygon", "coordinates": [huge]}}
    )
    assert r.status_code == 422 and "km²" in r.json()["message"]
    r = viewer.get("/api/spatial/within-radius", params={"lon": lon, "lat": lat, "radius_m": 1e9})
    assert r.status_code == 422 and "radius_m" in r.text
    r = viewer.get("/api/spatial/nearest", params={"lon": 200, "lat": lat})
    assert r.status_code == 422 and "lon" in r.text
    r = viewer.get("/api/spatial/nearest", params={"lon": lon, "lat": lat, "type": "tree"})
    assert r.status_code == 422 and "type" in r.text
    r = viewer.get("/api/spatial/h3", params={"resolution": 11})
    assert r.status_code == 422 and "resolution" in r.text
    r = viewer.post(
        "/api/spatial/along-line",
        json={"line": {"type": "LineString", "coordinates": [[1, 1], [1, 1]]}, "buffer_m": 5},
    )
    assert r.status_code == 422 and "distinct" in r.json()["message"]


def test_h3_sums_match_the_grid(viewer: httpx.Client, live: object) -> None:
    grid = live.store.read_grid()  # type: ignore[attr-defined]
    for res in (6, 8, 10):
        doc = viewer.get(
            "/api/spatial/h3", params={"resolution": res, "metric": "customers", "limit": 50000}
        ).json()
        assert doc["value_total"] == len(grid.customers) == doc["points"]
        assert sum(c["value"] for c in doc["items"]) == len(grid.customers)
    load = viewer.get(
        "/api/spatial/h3", params={"resolution": 8, "metric": "load_kw", "boundaries": "true"}
    ).json()
    assert abs(load["value_total"] - grid.customers.peak_kw.sum()) < 1e-3
    assert len(load["items"][0]["boundary"]) >= 7


def test_vegetation_spans(viewer: httpx.Client, live: object) -> None:
    from fluxops.geo import vegetation as veg
    from fluxops.storage import vegetation_store

    store = live.store  # type: ignore[attr-defined]
    r = viewer.get("/api/spatial/vegetation")
    if vegetation_store.get_meta(store) is None:
        assert r.status_code == 404 and "fluxops geo vegetation generate" in r.json()["message"]
    grid = store.read_grid()
    params = veg.VegetationParams(seed=5)
    trees = veg.generate_trees(grid, params)
    vegetation_store.save_trees(store, trees, grid_hash=store.get_grid_info().content_hash, params=params)
    doc = viewer.get("/api/spatial/vegetation", params={"limit": 5}).json()
    assert doc["trees"] == len(trees) and len(doc["items"]) == 5 and doc["params"]["seed"] == 5
    months = [i["months_to_encroachment"] for i in doc["items"]]
    assert months == sorted(m for m in months if m is not None) + [m for m in months if m is None]
    by_fall = viewer.get("/api/spatial/vegetation", params={"sort": "fall_in_exposure", "limit": 5000}).json()
    exposure = [i["fall_in_exposure"] for i in by_fall["items"]]
    assert exposure == sorted(exposure, reverse=True) and by_fall["count"] == len(by_fall["items"])
    by_risk = viewer.get("/api/spatial/vegetation", params={"sort": "risk", "limit": 5000}).json()["items"]
    risks = [i["risk"] for i in by_risk]
    assert risks == sorted(risks, reverse=True)
    expect = veg.span_risk(
        np.array(
            [np.nan if i["months_to_encroachment"] is None else i["months_to_encroachment"] for i in by_risk]
        ),
        np.array([i["fall_in_exposure"] for i in by_risk]),
    )
    assert risks == pytest.approx(np.round(expect, 4).tolist(), abs=1e-3)  # the one definition
    feeder = trees.feeder_id.iloc[0]
    one = viewer.get("/api/spatial/vegetation", params={"feeder": feeder, "limit": 5000}).json()
    assert {i["feeder_id"] for i in one["items"]} == {feeder}
