"""`SearchIndex` over the generated grid: words anywhere, ranking tiers, kinds, importer grids."""

from __future__ import annotations

import pytest

from fluxops.core.errors import InvalidInputError
from fluxops.grid.models import Grid
from fluxops.grid.search import SearchIndex


def test_several_words_and_tiers(tiny_grid: Grid) -> None:
    ix = SearchIndex.build(tiny_grid)
    m = tiny_grid.meters.iloc[10]
    number, street = str(m.address).split(" ", 1)
    hits = ix.search(f"{street} {m.zip_code} {number}", limit=50)  # words in any order
    assert hits[0]["id"] == m.meter_id and hits[0]["score"] == 60
    exact = ix.search(f"  {m.address.upper()}   {m.zip_code} ")[0]  # case and blanks do not matter
    assert exact["id"] == m.meter_id and exact["score"] == 100
    only = ix.search(street, kinds=("street",))
    assert only and {h["kind"] for h in only} == {"street"}
    assert ix.search(street, kinds=("pole",)) == []
    with pytest.raises(InvalidInputError) as err:
        ix.search(" a ")
    assert err.value.field == "q"


def test_grid_without_premise_columns(tiny_grid: Grid) -> None:
    """An imported network has no addresses: meters are found by id, no streets are made up."""
    meters = tiny_grid.meters.assign(address=None, zip_code=None)
    grid = Grid(
        **{**{n: tiny_grid.table(n) for n in tiny_grid.tables()}, "meters": meters}, meta=tiny_grid.meta
    )
    ix = SearchIndex.build(grid)
    assert ix.search(str(meters.meter_id.iloc[0]))[0]["label"] == meters.meter_id.iloc[0]
    assert ix.search("st", kinds=("street",)) == []
