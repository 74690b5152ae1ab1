"""The AMI record shapes: interval readings and meter events, declared once as pyarrow schemas.

Why these shapes: the seed wrote one wide row with random quality flags and wall-clock timestamps
(reference/ami-generator-inventory.md §1, §9). Here a reading is keyed by ``(meter_id,
interval_start_utc)`` aligned to the 15-minute settlement interval (ERCOT Protocols §18), carries
delivered and received energy separately (PV customers export), the interval's average service voltage
(120 V base, one leg of the 120/240 V service) and a quality code. Events are separate records keyed by
``(meter_id, event_type, event_time_utc)``.

``batch_seq`` and ``ingested_utc`` are written by the ingestion service, never by a sender: the sequence
number is the watermark incremental analytics resume from, and ``ingested_utc − interval end`` is the
reporting latency the seed measured wrongly (inventory §4 item 13).
"""

from __future__ import annotations

import pyarrow as pa

INTERVAL_MIN = 15
INTERVAL_S = INTERVAL_MIN * 60
INTERVALS_PER_DAY = 24 * 60 // INTERVAL_MIN

# Quality codes. ``outage``: the meter recorded no supply for (part of) the interval (kWh 0, voltage null).
READING_QUALITIES: tuple[str, ...] = ("valid", "estimated", "outage")

# Event types. last_gasp / power_restore per the AMI outage-notification practice (domain inventory §8:
# declared after ~30-45 s of zero voltage). voltage_sag / voltage_swell are raised when an interval's
# average leaves ANSI C84.1 Range A (114-126 V). reverse_flow: a PV meter starts exporting that day.
EVENT_TYPES: tuple[str, ...] = (
    "last_gasp",
    "power_restore",
    "voltage_sag",
    "voltage_swell",
    "tamper",
    "reverse_flow",
)

TS = pa.timestamp("us", tz="UTC")

# What a head-end sends (HTTP/MQTT body columns). ``quality`` defaults to "valid" when absent.
READING_INPUT_SCHEMA = pa.schema(
    [
        pa.field("meter_id", pa.string(), nullable=False),
        pa.field("interval_start_utc", TS, nullable=False),
        pa.field("kwh_delivered", pa.float64(), nullable=False),
        pa.field("kwh_received", pa.float64(), nullable=False),
        pa.field("voltage_v", pa.float64(), nullable=True),
        pa.field("quality", pa.string(), nullable=False),
    ]
)

# What the lake stores (the input plus what ingestion adds).
READING_SCHEMA = pa.schema(
    [
        *READING_INPUT_SCHEMA,
        pa.field("ingested_utc", TS, nullable=False),
        pa.field("batch_seq", pa.int64(), nullable=False),
        pa.field("is_correction", pa.bool_(), nullable=False),
    ]
)

EVENT_INPUT_SCHEMA = pa.schema(
    [
        pa.field("meter_id", pa.string(), nullable=False),
        pa.field("event_type", pa.string(), nullable=False),
        pa.field("event_time_utc", TS, nullable=False),
        pa.field("value", pa.float64(), nullable=True),  # e.g. the voltage of a sag, kWh of reverse flow
    ]
)

EVENT_SCHEMA = pa.schema(
    [
        *EVENT_INPUT_SCHEMA,
        pa.field("ingested_utc", TS, nullable=False),
        pa.field("batch_seq", pa.int64(), nullable=False),
    ]
)

# Physical limits used by validation (not compliance limits): a 120 V-base meter reports 0..300 V
# (the upper bound well above any swell, below meter damage levels); per-interval energy above
# 10 MWh in 15 min (40 MW) is not a meter on a distribution service.
VOLTAGE_MIN_V = 0.0
VOLTAGE_MAX_V = 300.0
KWH_MAX_PER_INTERVAL = 10_000.0
