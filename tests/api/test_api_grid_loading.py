"""``GET /api/grid/loading`` over real HTTP: Arrow and JSON, equal to a direct whole-grid power flow."""

from __future__ import annotations

import httpx
import numpy as np
import pyarrow as pa
from live_server import LiveServer

from fluxops.network.compiled import EDGE_LINE, compile_grid
from fluxops.network.powerflow import run_powerflow


def test_grid_loading_arrow_matches_power_flow(live: LiveServer, viewer: httpx.Client) -> None:
    r = viewer.get("/api/grid/loading")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.apache.arrow.stream")
    # the tiny test grid has no AMI readings: design peak
    assert r.headers["x-load-source"] == "design_peak"
    table = pa.ipc.open_stream(r.content).read_all()
    assert table.schema.metadata[b"load_source"] == b"design_peak"
    cg = compile_grid(live.store.read_grid())
    pf = run_powerflow(cg)
    seg = np.flatnonzero(cg.edge_kind == EDGE_LINE)
    rows = table.filter(pa.compute.equal(table["kind"], "line_segment"))
    assert rows["asset_id"].to_pylist() == list(cg.edge_ids[seg])
    i_a = rows["i_a"].to_numpy(zero_copy_only=False).astype(float)
    np.testing.assert_allclose(i_a, np.where(pf.edge_energized[seg], pf.i_edge_a[seg], np.nan))
    xf = table.filter(pa.compute.equal(table["kind"], "transformer"))
    assert xf.num_rows == len(cg.xfmr_ids)
    again = viewer.get("/api/grid/loading", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


def test_grid_loading_json_and_bad_format(viewer: httpx.Client) -> None:
    body = viewer.get("/api/grid/loading", params={"format": "json"}).json()
    assert body["load_source"] == "design_peak" and body["converged"] is True
    kinds = {row["kind"] for row in body["rows"]}
    assert kinds == {"line_segment", "bus", "transformer"}
    r = viewer.get("/api/grid/loading", params={"format": "csv"})
    assert r.status_code == 422 and r.json()["details"]["field"] == "format"
