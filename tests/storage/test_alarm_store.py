"""`AlarmAckTableStore` on both backends: the table is created on demand, an acknowledgement round-trips
exactly (tz-aware UTC), and the first acknowledgement of an alarm stands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fluxops.ops.alarms import AlarmAck
from fluxops.storage.alarm_store import AlarmAckTableStore

T0 = datetime(2026, 7, 1, 18, 0, 5, 123456, tzinfo=UTC)


def test_acks_round_trip_and_first_wins(store: Any) -> None:
    acks = AlarmAckTableStore(store)
    acks.ensure_tables()
    acks.ensure_tables()  # idempotent
    assert acks.list_acks() == {} and acks.get_ack("x") is None
    a = AlarmAck("last_gasp.MTR-1.20260701T180000Z", "op-a", T0, "crew informed")
    assert acks.put_ack(a) == a
    again = acks.put_ack(AlarmAck(a.alarm_id, "op-b", T0 + timedelta(minutes=5)))
    assert again == a  # the first acknowledgement stands
    b = AlarmAck("thermal.XFMR-1.20260701T170000Z", "op-b", T0 + timedelta(hours=1))
    acks.put_ack(b)
    got = acks.list_acks()
    assert got == {a.alarm_id: a, b.alarm_id: b}
    assert got[a.alarm_id].acknowledged_utc.tzinfo is not None
