"""GridStore conformance: the same tests against DuckDB and PostgreSQL (fixture `store`)."""

from __future__ import annotations

import json
import threading
from typing import Any

import numpy as np
import pandas.testing as pdt
import pytest
from hand_grids import hand_grid

from fluxops.core.errors import InvalidInputError
from fluxops.grid.assets import asset_index
from fluxops.grid.models import TABLES, Grid
from fluxops.grid.ports import MAX_PAGE_SIZE, AssetQuery, AssetRow, BBox


def all_assets(store: Any, **filters: Any) -> list[AssetRow]:
    rows: list[AssetRow] = []
    cursor = None
    while True:
        page = store.list_assets(AssetQuery(cursor=cursor, limit=filters.pop("limit", 500), **filters))
        rows.extend(page.items)
        if page.next_cursor is None:
            return rows
        cursor = page.next_cursor


def assert_same_grid(a: Grid, b: Grid) -> None:
    # params are stored as JSON: tuples come back as lists
    assert (b.meta.name, b.meta.source) == (a.meta.name, a.meta.source)
    assert json.dumps(b.meta.params, sort_keys=True) == json.dumps(a.meta.params, sort_keys=True)
    for name in TABLES:
        pdt.assert_frame_equal(b.table(name), a.table(name), check_exact=True)


@pytest.mark.parametrize("which", ["hand", "tiny"])
def test_round_trip_is_exact(store: Any, tiny_grid: Grid, which: str) -> None:
    grid = hand_grid() if which == "hand" else tiny_grid
    assert store.read_grid() is None
    report = store.load_grid(grid)
    assert report.changed
    assert report.rows["assets"] == len(asset_index(grid))
    assert_same_grid(grid, store.read_grid())
    info = store.get_grid_info()
    assert info.counts == {**grid.counts(), "assets": report.rows["assets"]}
    assert info.loaded_utc.tzinfo is not None


def test_reload_is_idempotent(store: Any) -> None:
    grid = hand_grid()
    first = store.load_grid(grid)
    again = store.load_grid(hand_grid())
    assert not again.changed
    assert again.info.content_hash == first.info.content_hash
    assert again.info.loaded_utc == store.get_grid_info().loaded_utc == first.info.loaded_utc
    # what the store gives back is the same grid, so loading it changes nothing either
    assert not store.load_grid(store.read_grid()).changed
    other = store.load_grid(hand_grid("B"))
    assert other.changed and other.info.content_hash != first.info.content_hash


def test_reader_never_sees_a_mixed_grid(store: Any) -> None:
    a, b = hand_grid("A", feeders=2, per_feeder=5), hand_grid("B", feeders=6, per_feeder=40)
    store.load_grid(a)
    expected = {tuple(store.counts().values())}
    seen: set[tuple[int, ...]] = set()
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        try:
            while not stop.is_set():
                seen.add(tuple(store.counts().values()))
                grid = store.read_grid()
                # meta and tables come from one snapshot: grid B has 6 feeders, grid A has 2
                assert len(grid.feeders) == grid.meta.params["feeders"]
                # single-statement readers keep working while tables are swapped under them
                page = store.list_assets(AssetQuery(types=("feeder",), limit=10))
                assert len(page.items) in (2, 6)
        except BaseException as exc:
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(2)]
    for t in readers:
        t.start()
    try:
        for grid in (b, a, b):
            store.load_grid(grid)
            expected.add(tuple(store.counts().values()))
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert not errors, errors
    assert len(expected) == 2
    assert seen <= expected


def test_bbox_matches_brute_force(store: Any, tiny_grid: Grid) -> None:
    store.load_grid(tiny_grid)
    frame = asset_index(tiny_grid)
    rng = np.random.default_rng(7)
    lo_lon, hi_lon = frame.min_lon.min(), frame.max_lon.max()
    lo_lat, hi_lat = frame.min_lat.min(), frame.max_lat.max()
    boxes = []
    for size in (0.002, 0.01, 0.05):
        for _ in range(4):
            x, y = rng.uniform(lo_lon, hi_lon), rng.uniform(lo_lat, hi_lat)
            boxes.append(BBox(x, y, x + size, y + size))
    # a box whose edges pass exactly through an asset's coordinates: boundaries are inclusive
    p = frame.iloc[len(frame) // 2]
    boxes.append(BBox(p.max_lon, p.max_lat, p.max_lon + 0.01, p.max_lat + 0.01))
    for box in boxes:
        mask = (
            (frame.max_lon >= box.min_lon)
            & (frame.min_lon <= box.max_lon)
            & (frame.max_lat >= box.min_lat)
            & (frame.min_lat <= box.max_lat)
        )
        got = sorted(r.asset_id for r in all_assets(store, bbox=box))
        assert got == sorted(frame.asset_id[mask]), box
        # the indexed geometry column (the asset's bbox as a geometry) gives the same answer
        srid = ", 4326" if store.dialect == "postgres" else ""
        spatial = store.query_arrow(
            f"SELECT asset_id FROM assets WHERE ST_Intersects(geom, ST_MakeEnvelope(?, ?, ?, ?{srid}))",
            [box.min_lon, box.min_lat, box.max_lon, box.max_lat],
        )
        assert sorted(spatial.column("asset_id").to_pylist()) == got, box
    assert p.asset_id in {r.asset_id for r in all_assets(store, bbox=boxes[-1])}


def test_filters_match_the_asset_index(store: Any, tiny_grid: Grid) -> None:
    store.load_grid(tiny_grid)
    frame = asset_index(tiny_grid)
    types = tuple(sorted(frame.asset_type.unique())[:2])
    assert {r.asset_id for r in all_assets(store, types=types)} == set(
        frame.asset_id[frame.asset_type.isin(types)]
    )
    feeder = frame.feeder_id.dropna().iloc[0]
    assert {r.asset_id for r in all_assets(store, feeder_id=feeder)} == set(
        frame.asset_id[frame.feeder_id == feeder]
    )
    sub = frame.substation_id.dropna().iloc[-1]
    assert {r.asset_id for r in all_assets(store, substation_id=sub)} == set(
        frame.asset_id[frame.substation_id == sub]
    )
    assert store.count_assets_by_type() == frame.asset_type.value_counts().to_dict()


def test_pagination_covers_every_asset_once_in_id_order(store: Any, tiny_grid: Grid) -> None:
    store.load_grid(tiny_grid)
    ids = [r.asset_id for r in all_assets(store, limit=97)]
    expected = sorted(asset_index(tiny_grid).asset_id, key=lambda s: s.encode())
    assert ids == expected
    last = store.list_assets(AssetQuery(cursor=expected[-2], limit=5))
    assert [r.asset_id for r in last.items] == expected[-1:] and last.next_cursor is None


@pytest.mark.parametrize("limit", [0, MAX_PAGE_SIZE + 1])
def test_page_size_is_capped(store: Any, limit: int) -> None:
    with pytest.raises(InvalidInputError) as err:
        store.list_assets(AssetQuery(limit=limit))
    assert err.value.field == "limit"


def test_unknown_type_or_status_names_the_field(store: Any) -> None:
    with pytest.raises(InvalidInputError) as err:
        store.list_assets(AssetQuery(types=("pylon",)))
    assert err.value.field == "type"
    with pytest.raises(InvalidInputError) as err:
        store.list_assets(AssetQuery(statuses=("melted",)))
    assert err.value.field == "status"


def test_status_upsert(store: Any) -> None:
    store.load_grid(hand_grid())
    sub, seg = "SUB-A'1", "SEG-A-0-1"
    assert store.get_asset(sub).status == "normal"
    assert store.set_asset_status({sub: "out", seg: "warning"}) == 2
    assert store.set_asset_status({sub: "out", seg: "critical"}) == 1
    assert store.get_asset(sub).status == "out"
    assert [r.asset_id for r in all_assets(store, statuses=("critical",))] == [seg]
    normal = all_assets(store, statuses=("normal",))
    assert (
        sub not in {r.asset_id for r in normal} and len(normal) == store.get_grid_info().counts["assets"] - 2
    )
    with pytest.raises(InvalidInputError) as err:
        store.set_asset_status({sub: "normal", "NOPE-1": "out"})
    assert err.value.field == "asset_id"
    assert store.get_asset(sub).status == "out"  # nothing written
    with pytest.raises(InvalidInputError):
        store.set_asset_status({sub: "exploded"})
    store.load_grid(hand_grid("B"))  # a new grid starts with every status normal
    assert store.set_asset_status({}) == 0
    assert {r.status for r in all_assets(store)} == {"normal"}


def test_unknown_ids_return_none(store: Any) -> None:
    store.load_grid(hand_grid())
    assert store.get_asset("NOPE") is None
    assert store.get_element("poles", "NOPE") is None
    with pytest.raises(InvalidInputError) as err:
        store.get_element("assets; DROP TABLE assets", "x")
    assert err.value.field == "table"


def test_get_element_returns_the_full_row(store: Any) -> None:
    grid = hand_grid()
    store.load_grid(grid)
    row = store.get_element("line_segments", "SEG-A-1-2")
    expected = grid.line_segments.set_index("segment_id").loc["SEG-A-1-2"]
    assert row["geometry_wkb"] == expected.geometry_wkb
    assert row["length_km"] == expected.length_km and row["conductor"] == expected.conductor
    assert store.get_element("poles", "POL-A-0-0")["bus_id"] is None


HOSTILE = ("x' OR '1'='1", "'; DROP TABLE assets; --", 'a"b', "100%", "what?", "\\x00")


def test_values_are_parameters_not_sql(store: Any) -> None:
    grid = hand_grid()
    store.load_grid(grid)
    frame = asset_index(grid)
    for hostile in HOSTILE:
        assert store.get_asset(hostile) is None
        assert store.get_element("devices", hostile) is None
        assert all_assets(store, feeder_id=hostile) == []
        assert all_assets(store, substation_id=hostile) == []
    quoted = {r.asset_id for r in all_assets(store, substation_id="SUB-A'1")}
    assert quoted == set(frame.asset_id[frame.substation_id == "SUB-A'1"]) and quoted
    assert store.get_asset("SUB-A'1") is not None
    assert len(all_assets(store)) == len(frame)


def test_health_reports_backend_and_counts(store: Any) -> None:
    assert store.health()["grid_loaded"] is False
    store.load_grid(hand_grid())
    health = store.health()
    assert health["backend"] == store.backend and health["grid_loaded"] and health["grid"] == "hand-A"
    assert health["counts"]["assets"] == store.get_grid_info().counts["assets"]


def test_feeder_bboxes_are_stored_as_boxes(store: Any) -> None:
    grid = hand_grid()
    store.load_grid(grid)
    buses = grid.buses[grid.buses.feeder_id == "FDR-A-1"]
    inside = BBox(
        buses.lon.min() + 1e-6, buses.lat.min() + 1e-6, buses.lon.min() + 2e-6, buses.lat.min() + 2e-6
    )
    frame = asset_index(grid)
    feeder = frame[frame.asset_id == "FDR-A-1"].iloc[0]
    hit = {r.asset_id for r in all_assets(store, bbox=inside)}
    expected = feeder.min_lon <= inside.max_lon and feeder.max_lon >= inside.min_lon
    assert ("FDR-A-1" in hit) == bool(expected)
