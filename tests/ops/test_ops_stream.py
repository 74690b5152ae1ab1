"""The stream hub: thread-safe fan-out, type filters, replay after Last-Event-ID, slow clients dropped
with a resync message instead of slowing the publisher."""

from __future__ import annotations

import asyncio
import threading

import pytest

from fluxops.ops.stream import StreamHub


def drain(loop: asyncio.AbstractEventLoop, q: asyncio.Queue) -> list:  # type: ignore[type-arg]
    loop.run_until_complete(asyncio.sleep(0))
    out = []
    while not q.empty():
        out.append(q.get_nowait())
    return out


def test_fan_out_filters_and_replay() -> None:
    loop = asyncio.new_event_loop()
    hub = StreamHub()
    everything = hub.subscribe(loop)
    outages = hub.subscribe(loop, types=frozenset({"outage"}))
    threads = [
        threading.Thread(target=hub.publish, args=(t, {"i": i})) for i, t in enumerate(["outage", "kpi"] * 5)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    got_all = drain(loop, everything.queue)
    got_out = drain(loop, outages.queue)
    assert len(got_all) == 10 and sorted(m.seq for m in got_all) == list(range(1, 11))
    assert len(got_out) == 5 and {m.type for m in got_out} == {"outage"}
    late = hub.subscribe(loop, after_seq=7)
    assert [m.seq for m in drain(loop, late.queue)] == [8, 9, 10]
    hub.unsubscribe(everything)
    hub.publish("kpi", {})
    assert drain(loop, everything.queue) == [] and hub.subscriber_count() == 2
    with pytest.raises(ValueError):
        hub.publish("gossip", {})
    loop.close()


def test_slow_subscriber_gets_resync_and_is_dropped() -> None:
    loop = asyncio.new_event_loop()
    hub = StreamHub(max_queue=3)
    slow = hub.subscribe(loop)
    for i in range(5):
        hub.publish("asset_status", {"i": i})
    got = drain(loop, slow.queue)
    assert [m.type for m in got] == ["asset_status"] * 3 + ["resync"]
    assert hub.subscriber_count() == 0 and slow.closed
    loop.close()
