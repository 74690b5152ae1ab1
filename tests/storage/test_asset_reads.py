"""`AssetReads` and `ElementRows` answer exactly as the store does (issue 8 §5: the asset and bbox routes
answer from memory on DuckDB), and a status written through the store is in the next answer."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from fluxops.grid.element_rows import ElementRows
from fluxops.grid.models import ID_COLUMNS, TABLES, Grid
from fluxops.grid.ports import AssetQuery, BBox
from fluxops.storage.asset_reads import AssetReads


def _queries(grid: Grid, store: Any) -> list[AssetQuery]:
    everything = store.list_assets(AssetQuery(limit=5000)).items
    rng = np.random.default_rng(5)
    out = [AssetQuery(limit=7), AssetQuery(limit=5000), AssetQuery(types=("meter", "pole"), limit=50)]
    for a in rng.choice(len(everything), size=12, replace=False):
        row = everything[int(a)]
        d = float(rng.uniform(0.001, 0.02))
        box = BBox(row.lon - d, row.lat - d, row.lon + d, row.lat + d)
        out += [
            AssetQuery(bbox=box, limit=500),
            AssetQuery(bbox=box, limit=3, cursor=row.asset_id),
            AssetQuery(bbox=box, types=("transformer",), statuses=("out", "normal"), limit=20),
        ]
        if row.feeder_id:
            out.append(AssetQuery(feeder_id=row.feeder_id, limit=40))
        if row.substation_id:
            out.append(AssetQuery(substation_id=row.substation_id, statuses=("out",), limit=40))
    return out


def test_pages_and_rows_are_the_stores(duckdb_store: Any, tiny_grid: Grid) -> None:
    store = duckdb_store
    store.load_grid(tiny_grid)
    digest = store.get_grid_info().content_hash
    reads = AssetReads()
    some = store.list_assets(AssetQuery(types=("transformer",), limit=5)).items
    store.set_asset_status({some[0].asset_id: "out", some[1].asset_id: "warning"})
    for q in _queries(tiny_grid, store):
        mine = reads.list_assets(store, store.write_generation(), digest, q)
        assert mine == store.list_assets(q), q
    for row in some:
        assert reads.get_asset(store, store.write_generation(), digest, row.asset_id) == store.get_asset(
            row.asset_id
        )
    assert reads.get_asset(store, store.write_generation(), digest, "NO-SUCH-ASSET") is None
    # a filter kept in SQL: the caller asks the store
    q = AssetQuery(transformer_id=some[0].asset_id)
    assert reads.list_assets(store, store.write_generation(), digest, q) is None


def test_a_status_written_is_in_the_next_answer(duckdb_store: Any, tiny_grid: Grid) -> None:
    store = duckdb_store
    store.load_grid(tiny_grid)
    digest = store.get_grid_info().content_hash
    reads = AssetReads()
    row = store.list_assets(AssetQuery(types=("meter",), limit=1)).items[0]
    gen = store.write_generation()
    assert reads.get_asset(store, gen, digest, row.asset_id).status == "normal"
    store.set_asset_status({row.asset_id: "out"})
    assert store.write_generation() > gen  # a committed write moves the generation
    got = reads.get_asset(store, store.write_generation(), digest, row.asset_id)
    assert got is not None and got.status == "out"
    page = reads.list_assets(store, store.write_generation(), digest, AssetQuery(statuses=("out",)))
    assert page is not None and [r.asset_id for r in page.items] == [row.asset_id]
    store.set_asset_status({row.asset_id: "normal"})
    assert reads.get_asset(store, store.write_generation(), digest, row.asset_id).status == "normal"


@pytest.mark.parametrize("table", list(TABLES))
def test_element_rows_are_the_stores(duckdb_store: Any, tiny_grid: Grid, table: str) -> None:
    store = duckdb_store
    store.load_grid(tiny_grid)
    rows = ElementRows(tiny_grid, table)
    ids = tiny_grid.table(table)[ID_COLUMNS[table]].tolist()
    for element_id in ids[:: max(1, len(ids) // 25)]:
        assert rows.get(str(element_id)) == store.get_element(table, str(element_id)), element_id
    assert rows.get("NO-SUCH-ELEMENT") is None
