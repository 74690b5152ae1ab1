"""Tools: strict JSON schemas, argument validation naming the field, results equal to pandas over the
grid, role filtering."""

from __future__ import annotations

from typing import Any

import pytest

from fluxops.assistant.tools import ROLE_ORDER, TOOLS, ToolContext, tool_specs, validate_arguments
from fluxops.core.errors import InvalidInputError, NotFoundError


def _strict(schema: dict[str, Any]) -> None:
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert sorted(schema["required"]) == sorted(schema["properties"])


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_every_tool_schema_is_openai_strict(name: str) -> None:
    spec = TOOLS[name].spec()
    assert spec["type"] == "function" and spec["function"]["strict"] is True
    params = spec["function"]["parameters"]
    _strict(params)
    for prop in params["properties"].values():
        assert "description" in prop
        if "enum" in prop and isinstance(prop["type"], list) and "null" in prop["type"]:
            assert None in prop["enum"]  # nullable enum lists null (strict mode)


def test_specs_follow_the_role() -> None:
    viewer = {s["function"]["name"] for s in tool_specs("viewer")}
    operator = {s["function"]["name"] for s in tool_specs("operator")}
    assert "run_cascade" not in viewer and "acknowledge_outage" not in viewer
    assert {"run_cascade", "acknowledge_outage"} <= operator
    assert viewer < operator
    assert all(ROLE_ORDER[t.role] <= ROLE_ORDER["operator"] for t in TOOLS.values())
    assert tool_specs("nobody") == []


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (
            {
                "query": 3,
                "asset_type": None,
                "feeder_id": None,
                "substation_id": None,
                "bbox": None,
                "limit": None,
            },
            "query",
        ),
        ({"asset_type": "spaceship"}, "asset_type"),
        ({"bogus": 1}, "bogus"),
        ({"bbox": [1, "a", 2, 3]}, "bbox[1]"),
        ({"limit": 2.5}, "limit"),
        ({"limit": True}, "limit"),
    ],
)
def test_invalid_arguments_name_the_field(args: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        validate_arguments(TOOLS["find_assets"], args)
    assert err.value.field == field


def test_missing_required_argument_is_refused() -> None:
    with pytest.raises(InvalidInputError) as err:
        validate_arguments(TOOLS["asset_detail"], {})
    assert err.value.field == "asset_id"


def test_find_assets_counts_match_the_grid(ctx: ToolContext) -> None:
    g = ctx.grid
    fid = str(g.feeders.feeder_id.iloc[0])
    args = validate_arguments(TOOLS["find_assets"], {"asset_type": "transformer", "feeder_id": fid})
    res = TOOLS["find_assets"].handler(ctx, args)
    assert res.data["total"] == int((g.transformers.feeder_id == fid).sum()) == res.row_count
    assert res.data["by_type"] == {"transformer": res.data["total"]}
    res = TOOLS["find_assets"].handler(ctx, validate_arguments(TOOLS["find_assets"], {"asset_type": "fuse"}))
    assert res.data["total"] == int((g.devices.device_type == "fuse").sum())


def test_find_assets_bbox_and_limit(ctx: ToolContext) -> None:
    m = ctx.grid.meters
    box = [float(m.lon.min()), float(m.lat.min()), float(m.lon.max()), float(m.lat.max())]
    args = validate_arguments(TOOLS["find_assets"], {"asset_type": "meter", "bbox": box, "limit": 3})
    res = TOOLS["find_assets"].handler(ctx, args)
    assert res.data["total"] == len(m) and len(res.data["items"]) == 3
    with pytest.raises(InvalidInputError) as err:
        TOOLS["find_assets"].handler(ctx, validate_arguments(TOOLS["find_assets"], {"bbox": [1, 2, 0, 3]}))
    assert err.value.field == "bbox"
    with pytest.raises(InvalidInputError) as err:
        TOOLS["find_assets"].handler(ctx, validate_arguments(TOOLS["find_assets"], {"limit": 0}))
    assert err.value.field == "limit"


def test_asset_detail_walks_to_the_substation(ctx: ToolContext) -> None:
    g = ctx.grid
    meter = g.meters.iloc[0]
    res = TOOLS["asset_detail"].handler(ctx, {"asset_id": meter.meter_id})
    path = res.data["path_to_substation"]
    head = g.feeders.loc[g.feeders.feeder_id == meter.feeder_id, "head_device_id"].iloc[0]
    assert path[0] == meter.meter_id and path[1] == meter.transformer_id
    assert head in path and path[-1] == meter.substation_id
    with pytest.raises(NotFoundError):
        TOOLS["asset_detail"].handler(ctx, {"asset_id": "NOPE-1"})


def test_transformer_meters(ctx: ToolContext) -> None:
    g = ctx.grid
    xid = str(g.meters.transformer_id.value_counts().index[0])
    res = TOOLS["transformer_meters"].handler(ctx, {"transformer_id": xid})
    assert res.data["meters"] == int((g.meters.transformer_id == xid).sum())
    assert sum(res.data["by_class"].values()) == res.data["meters"]


def test_services_missing_are_a_clear_error(ctx: ToolContext) -> None:
    from fluxops.core.errors import CapabilityError

    with pytest.raises(CapabilityError, match="ops service"):
        TOOLS["list_outages"].handler(ctx, validate_arguments(TOOLS["list_outages"], {}))
