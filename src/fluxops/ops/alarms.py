"""Alarms: the operator's event list, derived from AMI meter events and thresholds, with acknowledgement.

An alarm is not stored: it is derived on every read from what the AMI lake already holds, so it can
never drift from the evidence. What is stored is the operator's acknowledgement, keyed by the alarm's
stable id (`alarm_acks`, `fluxops.storage.alarm_store`).

Sources and rules (`AlarmConfig`, frozen; every threshold is a field):

* ``last_gasp`` (critical) and ``power_restore`` (info): one alarm per meter event.
* ``voltage_excursion``: a ``voltage_sag`` / ``voltage_swell`` event whose value lies outside ANSI
  C84.1 **Range B** of the 120 V service base, 106–127 V (critical); inside Range B but outside
  Range A, 114–126 V, it is a warning; inside Range A no alarm. An event without a value is a warning.
* ``thermal``: a transformer whose IEEE C57.91 hot spot at the latest complete AMI hour is at least
  ``hot_spot_warning_c`` (110 °C, the rated hot spot of a 65 °C-rise unit: aging factor 1) — warning —
  or ``hot_spot_critical_c`` (140 °C, the C57.91 planned-emergency hot-spot limit) — critical.

Ids are ``<kind>.<source id>.<YYYYMMDDTHHMMSSZ>``: the same evidence always yields the same id.
Pure module: rows in, alarms out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

SEVERITIES: tuple[str, ...] = ("critical", "warning", "info")
ALARM_KINDS: tuple[str, ...] = ("last_gasp", "power_restore", "voltage_excursion", "thermal")

ALARM_ACKS_SCHEMA = pa.schema(
    [
        pa.field("alarm_id", pa.string(), nullable=False),
        pa.field("acknowledged_by", pa.string(), nullable=False),
        pa.field("acknowledged_utc", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("note", pa.string()),
    ]
)
ALARM_TABLES: dict[str, tuple[pa.Schema, tuple[str, ...]]] = {
    "alarm_acks": (ALARM_ACKS_SCHEMA, ("alarm_id",))
}


@dataclass(frozen=True)
class AlarmConfig:
    range_a_v: tuple[float, float] = (114.0, 126.0)  # ANSI C84.1 Range A, service voltage, 120 V base
    range_b_v: tuple[float, float] = (106.0, 127.0)  # ANSI C84.1 Range B
    hot_spot_warning_c: float = 110.0
    hot_spot_critical_c: float = 140.0


@dataclass(frozen=True)
class AlarmAck:
    alarm_id: str
    acknowledged_by: str
    acknowledged_utc: datetime
    note: str | None = None


@dataclass(frozen=True)
class Alarm:
    alarm_id: str
    kind: str
    severity: str
    time_utc: datetime
    source_id: str  # meter or transformer id
    message: str
    value: float | None = None
    unit: str | None = None
    acknowledged_by: str | None = None
    acknowledged_utc: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["acknowledged"] = self.acknowledged_utc is not None
        return d


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def alarm_id(kind: str, source_id: str, time_utc: datetime) -> str:
    return f"{kind}.{source_id}.{_utc(time_utc).strftime('%Y%m%dT%H%M%SZ')}"


def parse_alarm_id(alarm_id: str) -> tuple[str, str, datetime] | None:
    """(kind, source id, time) of an id made by `alarm_id`; None when it is not one."""
    kind, _, rest = alarm_id.partition(".")
    source, _, stamp = rest.rpartition(".")
    if kind not in ALARM_KINDS or not source:
        return None
    try:
        t = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    return kind, source, t


def _voltage(row: Mapping[str, Any], cfg: AlarmConfig) -> tuple[str, str] | None:
    v = row.get("value")
    word = "sag" if row["event_type"] == "voltage_sag" else "swell"
    if v is None:
        return "warning", f"voltage {word} reported (no value)"
    lo_b, hi_b = cfg.range_b_v
    lo_a, hi_a = cfg.range_a_v
    if v < lo_b or v > hi_b:
        return "critical", f"voltage {word} {v:.1f} V, outside ANSI C84.1 Range B ({lo_b:g}–{hi_b:g} V)"
    if v < lo_a or v > hi_a:
        return "warning", f"voltage {word} {v:.1f} V, outside Range A ({lo_a:g}–{hi_a:g} V), inside Range B"
    return None


def event_alarms(events: Iterable[Mapping[str, Any]], cfg: AlarmConfig) -> list[Alarm]:
    """Alarms from AMI meter events (rows of the lake's ``events``)."""
    out: list[Alarm] = []
    for row in events:
        t = _utc(row["event_time_utc"])
        meter = str(row["meter_id"])
        kind = row["event_type"]
        if kind == "last_gasp":
            out.append(
                Alarm(alarm_id(kind, meter, t), kind, "critical", t, meter, "last gasp: meter lost power")
            )
        elif kind == "power_restore":
            out.append(Alarm(alarm_id(kind, meter, t), kind, "info", t, meter, "power restored at meter"))
        elif kind in ("voltage_sag", "voltage_swell"):
            found = _voltage(row, cfg)
            if found is not None:
                sev, msg = found
                val = row.get("value")
                out.append(
                    Alarm(
                        alarm_id("voltage_excursion", meter, t),
                        "voltage_excursion",
                        sev,
                        t,
                        meter,
                        msg,
                        None if val is None else float(val),
                        "V",
                    )
                )
    return out


def thermal_alarms(transformers: Iterable[Mapping[str, Any]], cfg: AlarmConfig) -> list[Alarm]:
    """Alarms from the latest complete hour per transformer (``hot_spot_c``, ``hour_utc``)."""
    out: list[Alarm] = []
    for row in transformers:
        hs = row.get("hot_spot_c")
        if hs is None or hs < cfg.hot_spot_warning_c:
            continue
        sev = "critical" if hs >= cfg.hot_spot_critical_c else "warning"
        limit = cfg.hot_spot_critical_c if sev == "critical" else cfg.hot_spot_warning_c
        tid = str(row["transformer_id"])
        t = _utc(row["hour_utc"])
        msg = f"hot spot {hs:.0f} °C ≥ {limit:g} °C (IEEE C57.91)"
        if row.get("loading_pct") is not None:
            msg += f", loading {row['loading_pct']:.0f} %"
        out.append(Alarm(alarm_id("thermal", tid, t), "thermal", sev, t, tid, msg, float(hs), "°C"))
    return out


def list_alarms(
    events: Iterable[Mapping[str, Any]],
    transformers: Iterable[Mapping[str, Any]],
    acks: Mapping[str, AlarmAck],
    cfg: AlarmConfig,
    *,
    severity: str | None = None,
    acknowledged: bool | None = None,
    limit: int = 500,
) -> list[Alarm]:
    """Every alarm, acknowledgements applied, newest first (ties: severity, then id)."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    seen: dict[str, Alarm] = {}
    for a in [*event_alarms(events, cfg), *thermal_alarms(transformers, cfg)]:
        ack = acks.get(a.alarm_id)
        if ack is not None:
            a = Alarm(
                **{
                    **asdict(a),
                    "acknowledged_by": ack.acknowledged_by,
                    "acknowledged_utc": _utc(ack.acknowledged_utc),
                }
            )
        seen.setdefault(a.alarm_id, a)  # a duplicate event (re-sent batch) is one alarm
    rows = [
        a
        for a in seen.values()
        if (severity is None or a.severity == severity)
        and (acknowledged is None or (a.acknowledged_utc is not None) == acknowledged)
    ]
    rows.sort(key=lambda a: (-a.time_utc.timestamp(), rank[a.severity], a.alarm_id))
    return rows[:limit]
