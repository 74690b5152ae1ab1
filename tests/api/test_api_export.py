"""Export of list answers as CSV, GeoJSON and Parquet (``?format=`` or ``Accept``), over real HTTP."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fluxops.api.export import (
    _accept_format,
    pick_list,
    rows_to_table,
    table_to_csv,
    table_to_geojson,
)
from fluxops.core.errors import InvalidInputError

ASSETS: dict[str, str | int] = {"type": "transformer", "limit": 25}


def test_assets_as_csv_by_format(viewer: httpx.Client) -> None:
    plain = viewer.get("/api/assets", params=ASSETS).json()["items"]
    r = viewer.get("/api/assets", params={**ASSETS, "format": "csv"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == 'attachment; filename="assets.csv"'
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["asset_id"] for row in rows] == [i["asset_id"] for i in plain]
    assert float(rows[0]["lon"]) == pytest.approx(plain[0]["lon"])


def test_assets_as_geojson_by_accept(viewer: httpx.Client) -> None:
    r = viewer.get("/api/assets", params=ASSETS, headers={"Accept": "application/geo+json"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/geo+json"
    assert r.headers["content-disposition"].endswith('filename="assets.geojson"')
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 25
    f = fc["features"][0]
    assert f["geometry"]["type"] == "Point"
    assert f["geometry"]["coordinates"] == [f["properties"]["lon"], f["properties"]["lat"]]
    assert f["properties"]["asset_type"] == "transformer"


def test_assets_as_parquet(viewer: httpx.Client) -> None:
    r = viewer.get("/api/assets", params=ASSETS, headers={"Accept": "application/vnd.apache.parquet"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.apache.parquet"
    t = pq.read_table(io.BytesIO(r.content))
    assert t.num_rows == 25 and "asset_id" in t.column_names
    assert t.schema.field("lon").type == pa.float64()


def test_other_lists_export(viewer: httpx.Client) -> None:
    """Outages, work orders, grid lists: one mechanism, whatever the list key."""
    for path in ("/api/outages", "/api/work-orders", "/api/substations", "/api/feeders"):
        r = viewer.get(path, params={"format": "csv"})
        assert r.status_code == 200, (path, r.text)
        assert r.headers["content-type"].startswith("text/csv"), path
        stem = path.removeprefix("/api/").replace("/", "-")
        assert f'filename="{stem}.csv"' in r.headers["content-disposition"]
    subs = viewer.get("/api/substations", params={"format": "geojson"})
    assert subs.status_code == 200 and subs.json()["features"][0]["geometry"]["type"] == "Point"


def test_explicit_format_that_cannot_be_honoured_is_422(viewer: httpx.Client) -> None:
    r = viewer.get("/api/assets", params={"format": "xlsx"})
    assert r.status_code == 422 and r.json()["details"]["field"] == "format"
    r = viewer.get("/api/kpis", params={"format": "csv"})  # an object, not a list
    assert r.status_code == 422 and r.json()["details"]["field"] == "format"
    assert viewer.get("/api/kpis", headers={"Accept": "text/csv"}).status_code == 200  # a preference


def test_errors_pass_through_untouched(viewer: httpx.Client) -> None:
    r = viewer.get("/api/assets/NOPE-1", params={"format": "csv"})
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_accept_negotiation() -> None:
    assert _accept_format("text/csv") == "csv"
    assert _accept_format("application/json, text/csv") is None
    assert _accept_format("text/csv;q=0.5, application/json;q=0.9") is None
    assert _accept_format("application/json;q=0.5, application/x-parquet") == "parquet"
    assert _accept_format("text/html,*/*;q=0.8") is None


def test_rows_to_table_and_encoders() -> None:
    rows = [
        {"id": "a", "n": 1, "meta": {"x": 1.5}, "tags": ["p", "q"], "lon": -95.0, "lat": 29.0},
        {"id": "b", "n": "two", "lon": -95.1, "lat": 29.1, "extra": None},
    ]
    t = rows_to_table(rows)
    assert t.column_names == ["id", "n", "meta.x", "tags", "lon", "lat", "extra"]
    assert t.column("n").to_pylist() == ["1", "two"]  # mixed types become text, never an error
    assert json.loads(t.column("tags")[0].as_py()) == ["p", "q"]
    text = table_to_csv(t).decode()
    assert text.splitlines()[0] == '"id","n","meta.x","tags","lon","lat","extra"'
    fc = json.loads(table_to_geojson(t))
    assert fc["features"][1]["geometry"] == {"type": "Point", "coordinates": [-95.1, 29.1]}
    line = rows_to_table([{"id": "s", "coordinates": [[0.0, 1.0], [2.0, 3.0]]}])
    g = json.loads(table_to_geojson(line))["features"][0]["geometry"]
    assert g == {"type": "LineString", "coordinates": [[0.0, 1.0], [2.0, 3.0]]}
    with pytest.raises(InvalidInputError) as err:
        table_to_geojson(rows_to_table([{"id": "x"}]))
    assert err.value.field == "format"


def test_pick_list() -> None:
    assert pick_list([{"a": 1}]) == [{"a": 1}]
    assert pick_list({"items": [], "total": 0}) == []
    assert pick_list({"count": 1, "rows": [{"a": 1}]}) == [{"a": 1}]
    assert pick_list({"waves": [{"a": 1}], "summary": {"n": 1}}) == [{"a": 1}]
    assert pick_list({"a": [{"x": 1}], "b": [{"y": 2}]}) is None
    assert pick_list({"n": 1}) is None


def test_pick_a_nested_list_by_path() -> None:
    body = {
        "waves": [
            {"wave": 0, "label": "fault", "lost": [{"element_id": "a"}, {"element_id": "b"}]},
            {"wave": 1, "label": "overload", "lost": [{"element_id": "c"}]},
        ],
        "totals": {"n": 3},
    }
    rows = pick_list(body, "waves.lost")
    assert rows == [
        {"waves.wave": 0, "waves.label": "fault", "element_id": "a"},
        {"waves.wave": 0, "waves.label": "fault", "element_id": "b"},
        {"waves.wave": 1, "waves.label": "overload", "element_id": "c"},
    ]
    assert pick_list(body, "waves") == [
        {"wave": 0, "label": "fault", "lost": body["waves"][0]["lost"]},  # type: ignore[index]
        {"wave": 1, "label": "overload", "lost": body["waves"][1]["lost"]},  # type: ignore[index]
    ]
    assert pick_list(body, "totals") is None and pick_list(body, "nope") is None


def test_cascade_result_export(admin: httpx.Client) -> None:
    """A POST answer exports too: every element a cascade lost, with its wave."""
    run = {"patient_zero": ["FDR-0001-01"], "scenario": "summer_peak"}
    plain = admin.post("/api/cascade/simulate", json=run)
    assert plain.status_code == 200, plain.text
    lost = [x for w in plain.json()["waves"] for x in w["lost"]]
    r = admin.post("/api/cascade/simulate", params={"format": "csv", "list": "waves.lost"}, json=run)
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"].endswith('filename="cascade-simulate.csv"')
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["element_id"] for row in rows] == [x["element_id"] for x in lost]
    assert {"waves.wave", "waves.label", "cause"} <= set(rows[0])
    unnamed = admin.post("/api/cascade/simulate", params={"format": "csv"}, json=run)
    assert unnamed.status_code == 422 and unnamed.json()["details"]["field"] == "format"
    assert "waves" in unnamed.json()["details"]["lists"]
    wrong = admin.post("/api/cascade/simulate", params={"format": "csv", "list": "nope"}, json=run)
    assert wrong.status_code == 422 and wrong.json()["details"]["field"] == "list"


def test_a_routes_own_format_is_left_to_it(viewer: httpx.Client) -> None:
    """``format=arrow`` / ``json`` on routes declaring their own ``format`` reach the route; an unknown
    one is refused by that route's own declaration, not by the export layer."""
    arrow = viewer.get("/api/grid/state", params={"format": "arrow"})
    assert arrow.status_code == 200 and arrow.headers["content-type"] == "application/vnd.apache.arrow.stream"
    assert (
        viewer.get("/api/grid/loading", params={"format": "json"})
        .headers["content-type"]
        .startswith("application/json")
    )
    bad = viewer.get("/api/grid/state", params={"format": "xlsx"})
    assert bad.status_code == 422 and bad.json()["details"]["field"] == "format"
    posted = viewer.post("/api/cascade/explain", params={"format": "xlsx"}, json={})
    assert posted.status_code == 422 and posted.json()["details"]["field"] == "format"


@pytest.mark.parametrize(
    ("tab", "path"),
    [
        ("economic-impact", "impact.by_class"),
        ("mitigation-actions", "playbook.steps"),
        ("restoration-sequence", "plan.steps"),
    ],
)
def test_cascade_tab_lists_export(admin: httpx.Client, tab: str, path: str) -> None:
    """The lists the UI's cascade tabs export (frontend CascadeTabs EXPORT_LIST) exist in the answers."""
    run = {"patient_zero": ["FDR-0001-01"], "scenario": "summer_peak"}
    plain = admin.post(f"/api/cascade/{tab}", json=run)
    assert plain.status_code == 200, plain.text
    head, key = path.split(".")
    expected = plain.json()[head][key]
    r = admin.post(f"/api/cascade/{tab}", params={"format": "parquet", "list": path}, json=run)
    assert r.status_code == 200, r.text
    assert pq.read_table(io.BytesIO(r.content)).num_rows == len(expected) > 0
