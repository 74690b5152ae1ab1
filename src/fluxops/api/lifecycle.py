"""What the server does the moment it is asked to stop, before it waits for open connections.

Why not in the lifespan shutdown: uvicorn runs the lifespan shutdown only after every open connection
has finished (or ``timeout_graceful_shutdown`` ran out). A browser's live stream (``/api/stream``) never
finishes by itself, so without this the server would sit out the whole grace period and then cut it.
`begin_shutdown` tells stream clients to reconnect (a ``resync`` message, which ends the stream; the
browser's EventSource retries, reaching whichever server is up) and cancels the cascade jobs, logging
each job's id and kind. The lifespan shutdown then stops the AMI threads and waits briefly for the
cancelled jobs' threads (`fluxops.cascade.jobs.JobRunner.shutdown`).
"""

from __future__ import annotations

import logging

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
