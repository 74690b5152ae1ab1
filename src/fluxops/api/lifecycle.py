"""What the server does the moment it is asked to stop, before it waits for open connections.

Why not in the lifespan shutdown: uvicorn runs the lifespan shutdown only after every open connection
has finished (or ``timeout_graceful_shutdown`` ran out). A browser's live stream (``/api/stream``) never
finishes by itself, so without this the server would sit out the whole grace period and then cut it.
`begin_shutdown` tells stream clients to reconnect (a ``resync`` message, which ends the stream; the
browser's EventSource retries, reaching whichever server is up) and cancels the cascade jobs, logging
each job's id and kind. The lifespan shutdown then stops the AMI threads and waits briefly for the
cancelled jobs' threads (`fluxops.cascade.jobs.JobRunner.shutdown`).

Why a signal hook installed at startup rather than a uvicorn subclass: it works however uvicorn runs the
app (``fluxops serve``, ``--workers`` processes, or an IT team's own ``uvicorn --factory`` command line).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from fastapi import FastAPI

log = logging.getLogger(__name__)
SHUTDOWN_REASON = "server shutting down"


def begin_shutdown(app: FastAPI) -> None:
    """End live streams and cancel background jobs (idempotent; safe before startup finished)."""
    hub = getattr(getattr(app.state, "ops", None), "hub", None)
    if hub is not None:
        clients = hub.subscriber_count()
        if clients:
            hub.publish("resync", {"reason": SHUTDOWN_REASON})
            log.info("shutdown: ended %d live stream(s)", clients)
    svc = getattr(app.state, "cascade", None)
    if svc is not None:
        cancelled = svc.jobs.cancel_all(reason=SHUTDOWN_REASON)
        if cancelled:
            names = ", ".join(f"{j.job_id} ({j.kind})" for j in cancelled)
            log.warning("shutdown: cancelled %d job(s): %s", len(cancelled), names)


def hook_signals(app: FastAPI) -> Callable[[], None]:
    """At the first SIGTERM / SIGINT run `begin_shutdown` in the event loop, then the server's own
    handler. Called from the lifespan startup, when uvicorn has installed its handlers; returns what puts
    them back (the lifespan shutdown calls it). A server run outside the main thread (tests) keeps only
    the lifespan shutdown path."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    replaced: dict[int, Any] = {}

    def on_signal(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is already closed: nothing left to drain
            loop.call_soon_threadsafe(begin_shutdown, app)
        previous = replaced.get(signum)
        if callable(previous):
            previous(signum, frame)

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)
        if callable(previous):  # someone (uvicorn) stops the server on it; otherwise leave it alone
            replaced[sig] = previous
            signal.signal(sig, on_signal)

    def unhook() -> None:
        for sig, previous in replaced.items():
            if signal.getsignal(sig) is on_signal:
                signal.signal(sig, previous)

    return unhook
