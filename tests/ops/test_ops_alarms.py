"""Alarm derivation rules (pure): kinds, ANSI C84.1 ranges, hot-spot thresholds, ids, ordering, acks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fluxops.ops.alarms import AlarmAck, AlarmConfig, alarm_id, list_alarms, parse_alarm_id

T0 = datetime(2026, 7, 1, 18, 0, tzinfo=UTC)
CFG = AlarmConfig()


def ev(meter: str, kind: str, minutes: int, value: float | None = None) -> dict[str, object]:
    return {
        "meter_id": meter,
        "event_type": kind,
        "event_time_utc": T0 + timedelta(minutes=minutes),
        "value": value,
    }


def test_kinds_severities_and_voltage_ranges() -> None:
    events = [
        ev("M1", "last_gasp", 0),
        ev("M1", "power_restore", 30),
        ev("M2", "voltage_sag", 1, 104.0),  # outside Range B
        ev("M3", "voltage_sag", 2, 110.0),  # Range B, outside A
        ev("M4", "voltage_swell", 3, 125.0),  # inside Range A: no alarm
        ev("M5", "tamper", 4),  # not an alarm kind
    ]
    got = {a.source_id + a.kind: a for a in list_alarms(events, [], {}, CFG)}
    assert set(got) == {"M1last_gasp", "M1power_restore", "M2voltage_excursion", "M3voltage_excursion"}
    assert got["M1last_gasp"].severity == "critical"
    assert got["M1power_restore"].severity == "info"
    assert (
        got["M2voltage_excursion"].severity == "critical" and "Range B" in got["M2voltage_excursion"].message
    )
    assert got["M3voltage_excursion"].severity == "warning"


def test_thermal_thresholds() -> None:
    rows = [
        {"transformer_id": "X1", "hour_utc": T0, "hot_spot_c": 105.0, "loading_pct": 90.0},
        {"transformer_id": "X2", "hour_utc": T0, "hot_spot_c": 120.0, "loading_pct": 120.0},
        {"transformer_id": "X3", "hour_utc": T0, "hot_spot_c": 150.0, "loading_pct": 160.0},
        {"transformer_id": "X4", "hour_utc": T0, "hot_spot_c": None},
    ]
    got = {a.source_id: a.severity for a in list_alarms([], rows, {}, CFG)}
    assert got == {"X2": "warning", "X3": "critical"}


def test_newest_first_stable_ids_duplicates_and_acks() -> None:
    events = [ev("M1", "last_gasp", 0), ev("M2", "last_gasp", 5), ev("M1", "last_gasp", 0)]
    alarms = list_alarms(events, [], {}, CFG)
    assert [a.source_id for a in alarms] == ["M2", "M1"]  # newest first, the re-sent event is one alarm
    assert alarms[1].alarm_id == alarm_id("last_gasp", "M1", T0) == "last_gasp.M1.20260701T180000Z"
    ack = AlarmAck(alarms[1].alarm_id, "op", T0 + timedelta(minutes=9))
    acked = list_alarms(events, [], {ack.alarm_id: ack}, CFG)
    assert acked[1].acknowledged_by == "op" and acked[1].to_dict()["acknowledged"] is True
    assert [a.source_id for a in list_alarms(events, [], {ack.alarm_id: ack}, CFG, acknowledged=False)] == [
        "M2"
    ]


def test_ids_parse_back() -> None:
    assert parse_alarm_id(alarm_id("thermal", "XFMR-1.a", T0)) == ("thermal", "XFMR-1.a", T0)
    assert parse_alarm_id("last_gasp.M1.2026") is None
    assert parse_alarm_id("nope.M1.20260701T180000Z") is None
    assert parse_alarm_id("last_gasp..20260701T180000Z") is None
