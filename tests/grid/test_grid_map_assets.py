"""The map payload: every map asset once, compact types, IPC round trip."""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

from fluxops.grid.map_assets import MAP_SCHEMA, build_map_assets, build_meter_points, to_ipc_bytes
from fluxops.grid.models import Grid
from fluxops.grid.summaries import kpis


def test_map_assets_table(tiny_grid: Grid) -> None:
    table = build_map_assets(tiny_grid)
    assert table.schema.equals(MAP_SCHEMA, check_metadata=False)
    assert table.num_rows == kpis(tiny_grid)["map_assets"]
    ids = table.column("asset_id").to_pylist()
    assert len(set(ids)) == len(ids)
    df = table.to_pandas()
    seg = df[df.asset_type == "line_segment"]
    assert seg.path.map(len).ge(4).all()
    assert df.path[df.asset_type != "line_segment"].isna().all()
    feeders = json.loads(table.schema.metadata[b"feeders"])
    assert feeders == list(tiny_grid.feeders.feeder_id)
    xf = df[df.asset_type == "transformer"]
    assert xf.customers_downstream.sum() == len(tiny_grid.meters)
    sub = df[df.asset_type == "substation"]
    assert sub.customers_downstream.sum() == len(tiny_grid.customers)
    ties = df[df.asset_type == "tie_switch"]
    assert (ties.normal_state == "open").all() and (ties.customers_downstream == 0).all()


@pytest.mark.parametrize("compression", [None, "lz4", "zstd"])
def test_ipc_round_trip(tiny_grid: Grid, compression: str | None) -> None:
    table = build_map_assets(tiny_grid)
    data = to_ipc_bytes(table, compression)
    back = ipc.open_stream(io.BytesIO(data)).read_all()
    assert back.equals(table)


def test_meter_points_link_to_transformer_rows(tiny_grid: Grid) -> None:
    meters = build_meter_points(tiny_grid)
    assert meters.num_rows == len(tiny_grid.meters)
    assets = build_map_assets(tiny_grid)
    rows = meters.column("transformer_row").to_numpy()
    linked = pa.array(assets.column("asset_id").to_numpy(zero_copy_only=False)[rows]).to_pylist()
    assert linked == list(tiny_grid.meters.transformer_id)
