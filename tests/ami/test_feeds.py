"""The three ways data arrives: backfill straight to the lake (CLI), the live simulator over HTTP, and
MQTT from the machine's Mosquitto (QoS 1, acknowledged after the durable write)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pyarrow as pa
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from typer.testing import CliRunner

from conftest import TOKEN, Server, settings_for
from fluxops.ami.ingest import IngestService
from fluxops.ami.mqtt import MqttIngest
from fluxops.ami.simulator import HttpSink, LiveSimulator, SimulatorParams
from fluxops.ami.synth import AmiSynthesizer
from fluxops.ami.validation import MeterRegistry
from fluxops.cli import app as cli_app
from fluxops.grid.models import Grid
from fluxops.storage import open_store
from fluxops.storage.ami_analytics import AmiAnalytics
from fluxops.storage.deadletter import DeadLetterDir
from fluxops.storage.lake import AmiLake


def test_backfill_cli_writes_days_once(tmp_path: Path, tiny: Grid) -> None:
    data = tmp_path / "data"
    data.mkdir()
    store = open_store(settings_for(data))
    store.load_grid(tiny)
    store.close()
    args = ["ami", "backfill", "--days", "2", "--end", "2025-07-02", "--data-dir", str(data)]
    args += ["--scenario", "heat_wave", "--scenario-start", "2025-07-01", "--scenario-days", "2"]
    res = CliRunner().invoke(cli_app, args)
    assert res.exit_code == 0, res.output
    lake = AmiLake(data / "lake")
    assert lake.readings.partitions() == [date(2025, 7, 1), date(2025, 7, 2)]
    n = lake.readings.read(columns=["meter_id"]).num_rows
    assert n > 2 * 633 * 96 * 0.98
    again = CliRunner().invoke(cli_app, args)
    assert again.exit_code == 0 and "2 skipped" in again.output
    assert AmiLake(data / "lake").readings.read(columns=["meter_id"]).num_rows == n
    assert list((data / "lake" / "derived" / "transformer_hour" / "date=2025-07-02").glob("data-*.parquet"))
    weather = AmiAnalytics(AmiLake(data / "lake")).params.weather  # C57.91 ambient uses the same overlay
    assert [sc.kind for sc in weather.scenarios] == ["heat_wave"]


def test_backfill_without_grid_is_one_line_error(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli_app, ["ami", "backfill", "--days", "1", "--data-dir", str(tmp_path)])
    assert res.exit_code != 0


def test_live_simulator_posts_over_http(server: Server) -> None:
    grid = server.store.read_grid()
    start = datetime.now(UTC) - timedelta(hours=3)
    sink = HttpSink(server.url, TOKEN)
    sim = LiveSimulator(AmiSynthesizer(grid), sink, SimulatorParams(speed=50_000.0, start_utc=start))
    time.sleep(0.3)  # 0.3 s × 50,000 = the 3 h window is due
    try:
        n_r, n_e = sim.tick()
    finally:
        sink.close()
    assert n_r > 633 * 4 * 2  # a couple of hours of intervals for every meter
    assert sim.sim_now() <= datetime.now(UTC)
    lake = server.app.state.ami.lake
    assert lake.readings.read(columns=["meter_id"]).num_rows == n_r
    assert lake.events.read(columns=["meter_id"]).num_rows == n_e


@pytest.fixture
def mqtt_ingest(tmp_path: Path, tiny: Grid) -> tuple[MqttIngest, AmiLake, str]:
    lake = AmiLake(tmp_path / "lake")
    me = tiny.meters
    svc = IngestService(
        MeterRegistry(me["meter_id"], me["transformer_id"], me["feeder_id"], me["substation_id"]), lake, lake
    )
    prefix = f"fluxops-test/{uuid.uuid4().hex[:8]}"
    sub = MqttIngest(
        svc,
        broker="127.0.0.1:1883",
        topic=f"{prefix}/#",
        client_id=f"fluxops-test-{uuid.uuid4().hex[:8]}",
        dead_letters=DeadLetterDir(tmp_path / "deadletter"),
    )
    return sub, lake, prefix


def test_mqtt_qos1_ingest_arrow_and_ndjson(mqtt_ingest: tuple[MqttIngest, AmiLake, str], tiny: Grid) -> None:
    sub, lake, prefix = mqtt_ingest
    sub.start()
    try:
        assert sub.connected.wait(10)
        day = (datetime.now(UTC) - timedelta(days=1)).date()
        gen = AmiSynthesizer(tiny).day(day)
        readings = gen.readings.drop_columns(["delivered_utc"]).slice(0, 5_000)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, readings.schema) as w:
            w.write_table(readings)
        ev = {
            "meter_id": tiny.meters["meter_id"].iloc[0],
            "event_type": "tamper",
            "event_time_utc": f"{day}T03:00:00Z",
        }
        pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
        pub.connect("127.0.0.1", 1883)
        pub.loop_start()
        infos = [
            pub.publish(f"{prefix}/readings", bytes(sink.getvalue().to_pybytes()), qos=1),
            pub.publish(f"{prefix}/readings", bytes(sink.getvalue().to_pybytes()), qos=1),  # re-delivery
            pub.publish(f"{prefix}/events", orjson.dumps(ev), qos=1),
            pub.publish(f"{prefix}/readings", b"not a batch", qos=1),
        ]
        for i in infos:
            i.wait_for_publish(10)
        deadline = time.monotonic() + 20
        while sub.stats.messages < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        pub.loop_stop()
        pub.disconnect()
    finally:
        sub.stop()
    assert sub.stats.readings_accepted == 5_000 and sub.stats.duplicates == 5_000
    assert sub.stats.events_accepted == 1 and sub.stats.unparseable == 1
    assert lake.readings.read(columns=["meter_id"]).num_rows == 5_000
