"""MQTT ingestion: subscribe to a broker (Mosquitto) and ingest readings and events, QoS 1.

Why manual acknowledgement: with QoS 1 the broker re-delivers a message until it is acknowledged, so
acknowledging only after `IngestService` returned (the batch is fsync'd in the lake) means a crash
between receipt and the durable write loses nothing; idempotent ingestion absorbs the re-delivery. The
session is persistent (``clean_session=False``, a fixed client id: ``FLUXOPS_INGEST__MQTT_CLIENT_ID``)
so messages published while the subscriber is down are queued by the broker.

Why every message ends acknowledged (issue 8 §2): an unacknowledged message holds a slot of the
broker's in-flight window (Mosquitto: 20) for the whole session, across restarts; a few poison
messages left unacknowledged starve every good batch after them. So each message ends either stored
or in the `DeadLetterStore` (reason and payload bytes kept; ``GET /api/ami/rejections``,
``fluxops ami rejections``), and only then is it acknowledged:

* a payload that cannot be parsed, or a batch refused whole (a required column missing): dead-lettered
  at once (re-delivery cannot fix it);
* a transient storage error (`StorageError` or `OSError`: disk full, the lake's writer lock held by
  another process): retried per `RetryPolicy` (default 4 attempts over 3.5 s, in the network thread,
  well inside the 30 s keepalive), then dead-lettered; replaying it later is an operator's decision;
* any other exception (a bug meeting odd input): dead-lettered at once with the exception named.

The one message left unacknowledged is one the dead-letter store could not take either (its disk
write failed too): nothing would keep it, so the broker keeps it and re-delivers it at the next
connection. A message whose retries are cut short by `stop` is likewise left for re-delivery.

Topics: ``<prefix>/readings`` and ``<prefix>/events``; payload an Arrow IPC stream or NDJSON (sniffed).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from fluxops.ami.formats import ParseLimits, parse_table, sniff_content_type
from fluxops.ami.ingest import IngestReport
from fluxops.ami.ports import DeadLetterStore, Ingestor
from fluxops.core.config import IngestSettings
from fluxops.core.errors import InvalidInputError, PayloadTooLargeError, StorageError

log = logging.getLogger(__name__)
DEFAULT_CLIENT_ID = "fluxops-ami-ingest"


@dataclass(frozen=True)
class RetryPolicy:
    """Transient storage errors: ``attempts`` in all, waiting ``backoff_s``, then twice as long, ..."""

    attempts: int = 4
    backoff_s: float = 0.5

    @classmethod
    def from_settings(cls, s: IngestSettings) -> RetryPolicy:
        return cls(attempts=s.mqtt_store_attempts, backoff_s=s.mqtt_retry_backoff_s)


@dataclass
class MqttStats:
    messages: int = 0
    readings_accepted: int = 0
    events_accepted: int = 0
    duplicates: int = 0
    rejected: int = 0  # rows rejected by validation inside stored batches
    unparseable: int = 0  # messages refused whole (dead-lettered)
    dead_lettered: int = 0  # every message that went to the dead-letter store, whatever the reason
    retries: int = 0  # store attempts repeated after a transient storage error
    errors: int = 0  # messages left unacknowledged (the dead-letter store failed too)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class _Refused(Exception):
    """A message that will be dead-lettered: why, and after how many store attempts."""

    def __init__(self, exc: BaseException, attempts: int) -> None:
        super().__init__(str(exc))
        self.exc = exc
        self.attempts = attempts


def parse_broker(broker: str) -> tuple[str, int]:
    host, _, port = broker.rpartition(":")
    if not host or not port.isdigit():
        raise InvalidInputError("broker must be host:port", field="broker")
    return host, int(port)


class MqttIngest:
    """Subscriber bound to an `Ingestor` (the ingestion service) and a `DeadLetterStore`."""

    def __init__(
        self,
        ingest: Ingestor,
        *,
        broker: str,
        topic: str,
        dead_letters: DeadLetterStore,
        client_id: str = DEFAULT_CLIENT_ID,
        retry: RetryPolicy | None = None,
        limits: ParseLimits | None = None,
    ) -> None:
        self.ingest = ingest
        self.dead_letters = dead_letters
        self.retry = retry or RetryPolicy()
        self.limits = limits or ParseLimits()
        self.host, self.port = parse_broker(broker)
        self.topic = topic
        self.stats = MqttStats()
        self._stopping = threading.Event()
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
        payload = bytes(msg.payload)
        try:
            rep = self._store(msg.topic, payload)
        except _Refused as refused:
            self._dead_letter(client, msg, payload, refused)
            return
        except _Interrupted:
            return  # stopping mid-retry: left unacknowledged, re-delivered at the next start
        client.ack(msg.mid, msg.qos)  # only now: the batch is durable
        events = msg.topic.endswith("/events")
        with self.stats.lock:
            self.stats.readings_accepted += 0 if events else rep.accepted
            self.stats.events_accepted += rep.accepted if events else 0
            self.stats.duplicates += rep.duplicates
            self.stats.rejected += rep.rejected

    def _store(self, topic: str, payload: bytes) -> IngestReport:
        """Parse and store, retrying transient storage errors; raises `_Refused` to dead-letter."""
        try:
            table = parse_table(sniff_content_type(payload), payload, self.limits)
        except Exception as exc:  # InvalidInputError / PayloadTooLargeError; anything else is a bug
            raise _Refused(exc, 0) from exc
        wait = self.retry.backoff_s
        for attempt in range(1, self.retry.attempts + 1):
            try:
                if topic.endswith("/events"):
                    return self.ingest.ingest_events(table)
                return self.ingest.ingest_readings(table)
            except (StorageError, OSError) as exc:
                if attempt == self.retry.attempts:
                    raise _Refused(exc, attempt) from exc
                log.warning("MQTT store attempt %d failed (%s); retrying in %.1f s", attempt, exc, wait)
                with self.stats.lock:
                    self.stats.retries += 1
                if self._stopping.wait(wait):
                    raise _Interrupted from exc
                wait *= 2
            except Exception as exc:  # refused whole (InvalidInputError) or a bug: retrying cannot help
                raise _Refused(exc, attempt) from exc
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _dead_letter(
        self, client: mqtt.Client, msg: mqtt.MQTTMessage, payload: bytes, refused: _Refused
    ) -> None:
        exc = refused.exc
        reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        try:
            letter = self.dead_letters.put(
                source="mqtt",
                topic=msg.topic,
                reason=reason,
                error=type(exc).__name__,
                attempts=refused.attempts,
                payload=payload,
            )
        except Exception:
            log.exception("MQTT message on %s could not be dead-lettered; left for re-delivery", msg.topic)
            with self.stats.lock:
                self.stats.errors += 1
            return
        client.ack(msg.mid, msg.qos)
        log.warning("MQTT message on %s dead-lettered as %s: %s", msg.topic, letter.id, reason)
        with self.stats.lock:
            self.stats.dead_lettered += 1
            if isinstance(exc, InvalidInputError | PayloadTooLargeError):
                self.stats.unparseable += 1

    def start(self) -> None:
        self._stopping.clear()
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        self._stopping.set()
        self.client.loop_stop()
        self.client.disconnect()

    def run_forever(self) -> None:
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_forever()


class _Interrupted(Exception):
    """`MqttIngest.stop` was called while a store attempt waited to be retried."""
