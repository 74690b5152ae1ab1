"""``GET /api/grid/loading`` over real HTTP: Arrow and JSON, equal to a direct whole-grid power flow."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pytest
from live_server import BOOTSTRAP_TOKEN, LiveServer, make_settings, start_uvicorn, stop_uvicorn

from fluxops.ami.synth import AmiSynthesizer, SynthParams
from fluxops.api.app import create_app
from fluxops.grid.models import Grid
from fluxops.network.compiled import EDGE_LINE, compile_grid
from fluxops.network.energization import energize
from fluxops.network.powerflow import run_powerflow
from fluxops.network.regulation import SubstationRegulation, ldc_boost_pu
from fluxops.storage import open_store


def test_grid_loading_arrow_matches_power_flow(live: LiveServer, viewer: httpx.Client) -> None:
    r = viewer.get("/api/grid/loading")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.apache.arrow.stream")
    # the tiny test grid has no AMI readings: design peak
    assert r.headers["x-load-source"] == "design_peak"
    table = pa.ipc.open_stream(r.content).read_all()
    assert table.schema.metadata[b"load_source"] == b"design_peak"
    cg = compile_grid(live.store.read_grid())
    # the served flow holds each substation bus by its LTC + line-drop compensation
    reg = SubstationRegulation()
    first = run_powerflow(cg, v_source_pu=reg.v_set_pu)
    boost = ldc_boost_pu(first.vm_pu, energize(cg).bus_source, cg.n_source, reg)
    pf = run_powerflow(cg, v_source_pu=reg.v_set_pu + boost)
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


def test_grid_loading_follows_the_latest_complete_ami_hour(tiny_grid: Grid, tmp_path: Path) -> None:
    """Its own server and store: a day of synthetic AMI readings makes the flow use hour 22:00 of that
    day (23:00 is the newest hour, so the latest complete one is 22:00), every transformer measured."""
    store = open_store(make_settings(tmp_path))
    store.load_grid(tiny_grid)
    app = create_app(make_settings(tmp_path), store=store)
    running = start_uvicorn(app)
    try:
        day = AmiSynthesizer(tiny_grid, SynthParams(seed=1)).day(date(2026, 7, 1))
        app.state.ami.ingest_readings(day.readings.drop_columns(["delivered_utc"]))
        app.state.ami.refresh_now()  # what the background refresher does (GETs never refresh)
        with httpx.Client(
            base_url=f"http://127.0.0.1:{running.port}",
            headers={"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"},
            timeout=60,
        ) as c:
            body = c.get("/api/grid/loading", params={"format": "json"}).json()
        assert body["load_source"] == "ami"
        assert body["hour_utc"].startswith("2026-07-01T22:00") and body["hour_complete"] is True
        assert body["measured_transformers"] == body["transformers"] == len(tiny_grid.transformers)
        design = max(r["loading_pct"] or 0.0 for r in body["rows"] if r["kind"] == "line_segment")
        assert body["max_loading_pct"] == pytest.approx(design)
    finally:
        stop_uvicorn(running)
        store.close()
