"""Every MQTT message ends acknowledged (issue 8 §2), against the machine's Mosquitto: poison messages
are dead-lettered (reason and payload kept) instead of filling the broker's in-flight window (20) and
starving the good batches behind them, even across a restart; a transient storage error (the lake's
writer lock held by another process) is retried, then stored once it clears or dead-lettered."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pyarrow as pa
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from fluxops.ami.ingest import IngestService
from fluxops.ami.mqtt import MqttIngest, RetryPolicy
from fluxops.ami.synth import AmiSynthesizer
from fluxops.ami.validation import MeterRegistry
from fluxops.grid.models import Grid
from fluxops.storage.deadletter import DeadLetterDir
from fluxops.storage.lake import AmiLake

BROKER = "127.0.0.1:1883"
HOLD_LOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.read()
"""


def _arrow(t: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, t.schema) as w:
        w.write_table(t)
    return bytes(sink.getvalue().to_pybytes())


class Rig:
    """A lake, a dead-letter directory and subscribers sharing one persistent MQTT session."""

    def __init__(self, root: Path, grid: Grid) -> None:
        self.lake = AmiLake(root / "lake")
        self.dead = DeadLetterDir(root / "deadletter")
        me = grid.meters
        self.registry = MeterRegistry(
            me["meter_id"], me["transformer_id"], me["feeder_id"], me["substation_id"]
        )
        self.prefix = f"fluxops-test/{uuid.uuid4().hex[:8]}"
        self.client_id = f"fluxops-test-{uuid.uuid4().hex[:8]}"
        day = (datetime.now(UTC) - timedelta(days=1)).date()
        self.readings = AmiSynthesizer(grid).day(day).readings.drop_columns(["delivered_utc"])
        self.subs: list[MqttIngest] = []

    def subscriber(self, retry: RetryPolicy) -> MqttIngest:
        svc = IngestService(self.registry, self.lake, self.lake)
        sub = MqttIngest(
            svc,
            broker=BROKER,
            topic=f"{self.prefix}/#",
            client_id=self.client_id,
            dead_letters=self.dead,
            retry=retry,
        )
        sub.start()
        assert sub.connected.wait(10)
        self.subs.append(sub)
        return sub

    def publish(self, *payloads: bytes, topic: str = "readings") -> None:
        pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
        pub.connect("127.0.0.1", 1883)
        pub.loop_start()
        try:
            for info in [pub.publish(f"{self.prefix}/{topic}", p, qos=1) for p in payloads]:
                info.wait_for_publish(10)
        finally:
            pub.loop_stop()
            pub.disconnect()

    def close(self) -> None:
        for sub in self.subs:
            sub.stop()
        drop = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=True)
        drop.connect("127.0.0.1", 1883)  # a clean session: the broker forgets what it kept for us
        drop.disconnect()
        self.lake.close()


@pytest.fixture
def rig(tmp_path: Path, tiny: Grid) -> Iterator[Rig]:
    r = Rig(tmp_path, tiny)
    yield r
    r.close()


def _until(cond: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_poison_messages_are_dead_lettered_and_good_batches_still_flow(rig: Rig) -> None:
    # A list where an id belongs: validation's cast raised ArrowNotImplementedError, the message was
    # never acknowledged, and 20 of them filled Mosquitto's in-flight window for good.
    poison = _arrow(pa.table({"meter_id": pa.array([["MTR-1"]]), "kwh_delivered": [0.5]}))
    good = rig.readings.slice(0, 500)
    sub = rig.subscriber(RetryPolicy(attempts=2, backoff_s=0.05))
    rig.publish(*([poison] * 25), _arrow(good))
    _until(lambda: sub.stats.readings_accepted == 500)
    _until(lambda: sub.stats.dead_lettered == 25)
    letters = rig.dead.recent(limit=100)
    assert len(letters) == 25 and {d.topic for d in letters} == {f"{rig.prefix}/readings"}
    assert all(d.reason.startswith("column 'meter_id' holds nested values") for d in letters)
    assert rig.dead.get_payload(letters[0].id) == poison
    sub.stop()

    again = rig.subscriber(RetryPolicy(attempts=2, backoff_s=0.05))  # same session: nothing re-delivered
    rig.publish(_arrow(rig.readings.slice(500, 10)))
    _until(lambda: again.stats.readings_accepted == 10)
    assert again.stats.messages == 1 and again.stats.dead_lettered == 0
    assert rig.lake.readings.read(columns=["meter_id"]).num_rows == 510


@pytest.fixture
def lake_lock(rig: Rig) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the readings dataset's writer lock (as a second writer would)."""
    path = rig.lake.readings.dir / ".writer.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        yield proc
        proc.kill()


def test_storage_error_retried_then_dead_lettered(rig: Rig, lake_lock: subprocess.Popen[str]) -> None:
    batch = _arrow(rig.readings.slice(0, 100))
    sub = rig.subscriber(RetryPolicy(attempts=3, backoff_s=0.05))
    rig.publish(batch)
    _until(lambda: sub.stats.dead_lettered == 1)
    (letter,) = rig.dead.recent(limit=10)
    assert letter.error == "StorageError" and letter.attempts == 3 and "another process" in letter.reason
    assert sub.stats.retries == 2 and rig.dead.get_payload(letter.id) == batch
    sub.stop()
    lake_lock.kill()
    lake_lock.wait(timeout=10)
    again = rig.subscriber(RetryPolicy(attempts=3, backoff_s=0.05))  # acknowledged: not re-delivered
    rig.publish(_arrow(rig.readings.slice(100, 5)))
    _until(lambda: again.stats.readings_accepted == 5)
    assert again.stats.messages == 1


def test_storage_error_that_clears_is_stored_on_retry(rig: Rig, lake_lock: subprocess.Popen[str]) -> None:
    sub = rig.subscriber(RetryPolicy(attempts=8, backoff_s=0.2))
    rig.publish(_arrow(rig.readings.slice(0, 100)))
    _until(lambda: sub.stats.retries >= 1)
    lake_lock.kill()  # the other writer goes away while the message waits for its next attempt
    _until(lambda: sub.stats.readings_accepted == 100)
    assert sub.stats.dead_lettered == 0 and rig.dead.count() == 0
