import pytest

from fluxops.core.errors import InvalidInputError
from fluxops.grid.ports import MAX_PAGE_SIZE, BBox
from fluxops.grid.query import DEFAULT_PAGE_SIZE, build_asset_query, parse_bbox


def test_valid_bbox() -> None:
    assert parse_bbox(" -95.5, 29.5 ,-95.0,30") == BBox(-95.5, 29.5, -95.0, 30.0)


@pytest.mark.parametrize(
    "value",
    [
        "-95,29,-94",  # arity
        "-95,29,-94,30,1",
        "a,29,-94,30",  # not numeric
        "nan,29,-94,30",
        "-94,29,-95,30",  # inverted lon
        "-95,30,-94,29",  # inverted lat
        "-181,29,-94,30",  # out of range
        "-95,29,-94,91",
        "",
    ],
)
def test_bad_bbox_names_bbox(value: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        parse_bbox(value)
    assert err.value.field == "bbox"
    assert "bbox" in err.value.message


def test_query_defaults_and_parsing() -> None:
    q = build_asset_query()
    assert q.limit == DEFAULT_PAGE_SIZE and q.types is None and q.bbox is None
    q = build_asset_query(types="meter, transformer,meter", statuses="out", limit=MAX_PAGE_SIZE)
    assert q.types == ("meter", "transformer")
    assert q.statuses == ("out",)
    assert q.limit == MAX_PAGE_SIZE


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"types": "meter,spaceship"}, "type"),
        ({"types": " , "}, "type"),
        ({"statuses": "exploded"}, "status"),
        ({"limit": MAX_PAGE_SIZE + 1}, "limit"),
        ({"limit": 0}, "limit"),
        ({"feeder_id": "  "}, "feeder"),
        ({"cursor": "x" * 500}, "cursor"),
    ],
)
def test_bad_parameters_are_named(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        build_asset_query(**kwargs)  # type: ignore[arg-type]
    assert err.value.field == field
    assert field in err.value.message
