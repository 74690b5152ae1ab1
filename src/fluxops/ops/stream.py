"""In-process publish/subscribe of live changes: asset status, outages, KPIs.

Why a hub of its own: the outage engine runs in a worker thread, while server-sent-event clients
wait in the event loop. Publishing is thread-safe and never blocks the publisher: each subscriber has
a bounded queue; a subscriber that falls ``max_queue`` messages behind is told to resynchronize
(``type: "resync"``) and dropped, instead of slowing the engine (a storm must not stall on a slow
browser). Every message carries a monotonically increasing ``seq`` so a reconnecting client can ask
for what it missed (``Last-Event-ID``) from a short replay buffer.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

MESSAGE_TYPES: tuple[str, ...] = ("asset_status", "outage", "kpi", "resync")


@dataclass(frozen=True)
class StreamMessage:
    seq: int
    type: str  # MESSAGE_TYPES
    data: dict[str, Any]


@dataclass
class Subscription:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[StreamMessage]
    types: frozenset[str]
    closed: bool = False
    pending: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    async def get(self) -> StreamMessage:
        msg = await self.queue.get()
        with self._lock:
            self.pending -= 1
        return msg


class StreamHub:
    """Thread-safe fan-out of `StreamMessage`s to asyncio subscribers."""

    def __init__(self, *, max_queue: int = 1000, replay: int = 500) -> None:
        self._lock = threading.Lock()
        self._subs: list[Subscription] = []
        self._seq = 0
        self._recent: deque[StreamMessage] = deque(maxlen=replay)
        self.max_queue = max_queue

    @property
    def seq(self) -> int:
        return self._seq

    def subscribe(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        types: frozenset[str] | None = None,
        after_seq: int | None = None,
    ) -> Subscription:
        """Register a subscriber on ``loop``; with ``after_seq``, replay buffered messages after it."""
        sub = Subscription(loop=loop, queue=asyncio.Queue(), types=types or frozenset(MESSAGE_TYPES))
        with self._lock:
            if after_seq is not None:
                for msg in self._recent:
                    if msg.seq > after_seq and msg.type in sub.types:
                        sub.queue.put_nowait(msg)
                        sub.pending += 1
            self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            sub.closed = True
            if sub in self._subs:
                self._subs.remove(sub)

    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subs)

    def publish(self, type_: str, data: dict[str, Any]) -> StreamMessage:
        if type_ not in MESSAGE_TYPES:
            raise ValueError(f"unknown stream message type {type_!r}")
        with self._lock:
            self._seq += 1
            msg = StreamMessage(self._seq, type_, data)
            self._recent.append(msg)
            subs = list(self._subs)
        for sub in subs:
            if sub.closed or type_ not in sub.types:
                continue
            with sub._lock:
                overflow = sub.pending >= self.max_queue
                sub.pending += 1
            if overflow:
                self.unsubscribe(sub)
                resync = StreamMessage(msg.seq, "resync", {"reason": "client too slow", "seq": msg.seq})
                self._deliver(sub, resync)
            else:
                self._deliver(sub, msg)
        return msg

    @staticmethod
    def _deliver(sub: Subscription, msg: StreamMessage) -> None:
        try:
            sub.loop.call_soon_threadsafe(sub.queue.put_nowait, msg)
        except RuntimeError:  # the subscriber's loop is closed: it is gone
            sub.closed = True
