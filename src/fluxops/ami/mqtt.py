"""MQTT ingestion: subscribe to a broker (Mosquitto) and ingest readings and events, QoS 1.

Why manual acknowledgement: with QoS 1 the broker re-delivers a message until it is acknowledged, so
acknowledging only after `IngestService` returned (the batch is fsync'd in the lake) means a crash
between receipt and the durable write loses nothing; idempotent ingestion absorbs the re-delivery. The
session is persistent (``clean_session=False``, fixed client id) so messages published while the
subscriber is down are queued by the broker.

Topics: ``<prefix>/readings`` and ``<prefix>/events``; payload an Arrow IPC stream or NDJSON (sniffed).
A payload that cannot be parsed is acknowledged and logged (re-delivery cannot fix it); a storage error
is not acknowledged, so the broker re-delivers after reconnect.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

import paho.mqtt.client as mqtt
import pyarrow as pa
from paho.mqtt.enums import CallbackAPIVersion

from fluxops.ami.formats import parse_table, sniff_content_type
from fluxops.ami.ingest import IngestReport
from fluxops.core.errors import InvalidInputError

log = logging.getLogger(__name__)


class Ingestor(Protocol):
    def ingest_readings(self, table: pa.Table, *, correction: bool = False) -> IngestReport: ...

    def ingest_events(self, table: pa.Table) -> IngestReport: ...


@dataclass
class MqttStats:
    messages: int = 0
    readings_accepted: int = 0
    events_accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    unparseable: int = 0
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def parse_broker(broker: str) -> tuple[str, int]:
    host, _, port = broker.rpartition(":")
    if not host or not port.isdigit():
        raise InvalidInputError("broker must be host:port", field="broker")
    return host, int(port)


class MqttIngest:
    """Subscriber bound to an `Ingestor` (the ingestion service)."""

    def __init__(
        self, ingest: Ingestor, *, broker: str, topic: str, client_id: str = "fluxops-ami-ingest"
    ) -> None:
        self.ingest = ingest
        self.host, self.port = parse_broker(broker)
        self.topic = topic
        self.stats = MqttStats()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
            manual_ack=True,
        )
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.connected = threading.Event()

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        client.subscribe(self.topic, qos=1)
        self.connected.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self.stats.lock:
            self.stats.messages += 1
        try:
            payload = bytes(msg.payload)
            table = parse_table(sniff_content_type(payload), payload)
            if msg.topic.endswith("/events"):
                rep = self.ingest.ingest_events(table)
                accepted_events, accepted_readings = rep.accepted, 0
            else:
                rep = self.ingest.ingest_readings(table)
                accepted_events, accepted_readings = 0, rep.accepted
        except InvalidInputError as exc:
            log.warning("MQTT message on %s dropped: %s", msg.topic, exc.message)
            with self.stats.lock:
                self.stats.unparseable += 1
            client.ack(msg.mid, msg.qos)
            return
        except Exception:
            log.exception("MQTT ingest failed; message left unacknowledged for re-delivery")
            with self.stats.lock:
                self.stats.errors += 1
            return
        client.ack(msg.mid, msg.qos)  # only now: the batch is durable
        with self.stats.lock:
            self.stats.readings_accepted += accepted_readings
            self.stats.events_accepted += accepted_events
            self.stats.duplicates += rep.duplicates
            self.stats.rejected += rep.rejected

    def start(self) -> None:
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()

    def run_forever(self) -> None:
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_forever()
