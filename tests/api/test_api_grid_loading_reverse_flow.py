"""Regression (issue 10): ``/api/grid/loading`` answered 422 "transformer kW must be finite and
non-negative" for every hour after a transformer's customers exported rooftop PV (net-negative kW).
Reverse flow is a normal state: the flow solves it and says which segments carry it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from live_server import BOOTSTRAP_TOKEN, make_settings, start_uvicorn, stop_uvicorn

from fluxops.ami.synth import AmiSynthesizer, SynthParams
from fluxops.api.app import create_app
from fluxops.grid.models import Grid
from fluxops.storage import open_store


def test_pv_export_hour_is_solved_with_reverse_flow(tiny_grid: Grid, tmp_path: Path) -> None:
    store = open_store(make_settings(tmp_path))
    store.load_grid(tiny_grid)
    app = create_app(make_settings(tmp_path), store=store)
    running = start_uvicorn(app)
    try:
        readings = AmiSynthesizer(tiny_grid, SynthParams(seed=1)).day(date(2026, 7, 1)).readings
        readings = readings.drop_columns(["delivered_utc"])
        # the meters of the feeder-end transformers export 3 kWh per 15 min all day (≈ 12 kW each)
        meters = tiny_grid.meters
        xfs = meters.groupby("transformer_id").size().index[:40]
        exporters = pa.array(meters[meters.transformer_id.isin(xfs)].meter_id.astype(str).tolist())
        mask = pc.is_in(readings["meter_id"], value_set=exporters).to_numpy(zero_copy_only=False)
        received = readings["kwh_received"].to_numpy(zero_copy_only=False).astype(float)
        delivered = readings["kwh_delivered"].to_numpy(zero_copy_only=False).astype(float)
        received = np.where(mask, delivered + 3.0, received)
        i = readings.schema.get_field_index("kwh_received")
        readings = readings.set_column(i, readings.schema.field(i), pa.array(received, pa.float64()))
        app.state.ami.ingest_readings(readings)
        app.state.ami.refresh_now()
        with httpx.Client(
            base_url=f"http://127.0.0.1:{running.port}",
            headers={"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"},
            timeout=60,
        ) as c:
            r = c.get("/api/grid/loading", params={"format": "json"})
            assert r.status_code == 200, r.text
            body = r.json()
            arrow = c.get("/api/grid/loading")
            assert arrow.status_code == 200
        assert body["load_source"] == "ami" and body["converged"]
        segs = [row for row in body["rows"] if row["kind"] == "line_segment"]
        reverse = [row for row in segs if row["reverse_flow"]]
        assert reverse, "exporting transformers make some segments carry power back"
        assert body["reverse_flow_segments"] == len(reverse)
        assert all(row["p_from_kw"] < 0 for row in reverse)
        assert all(row["loading_pct"] is not None for row in reverse)
    finally:
        stop_uvicorn(running)
        store.close()
