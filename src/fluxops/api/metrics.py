"""``GET /metrics`` (Prometheus text format) and the middleware that times every request.

Who may scrape: an admin, or a Prometheus server holding ``FLUXOPS_SERVER__METRICS_TOKEN`` as its bearer
token (a token that can read nothing else, so the scraper's config never holds an admin credential).

Why latency is labelled by route template (``/api/jobs/{job_id}``), never the raw path: one series per
job id or meter id would grow without bound and make the histogram useless for alerting.
Server-sent-event streams are left out of the latency histogram (they last as long as the browser tab);
their number is the ``fluxops_sse_clients`` gauge instead.

What is counted where it happens (process-wide, `fluxops.core.metrics.REGISTRY`): request latency (here),
ingested rows and rejections (`fluxops.ami.ingest`), store errors answered by the API
(`fluxops.api.errors`), lake compactions (`timed_compaction`). What is a state is computed at scrape time
from the app: lake files and bytes per partition, the cascade job queue, stream clients.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, Depends, FastAPI, Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fluxops import __version__
from fluxops.api.security import ROLE_ATTR, authorize, bearer_scheme
from fluxops.core.clock import utc_now
from fluxops.core.metrics import CONTENT_TYPE, REGISTRY, Gauge, Metric, histogram

log = logging.getLogger(__name__)
T = TypeVar("T")

HTTP_LATENCY = histogram(
    "fluxops_http_request_duration_seconds",
    "Time from request to the end of the response, by route template",
    ("method", "route", "status"),
)
COMPACTION_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
COMPACTION = histogram(
    "fluxops_lake_compaction_duration_seconds",
    "AMI lake compaction runs (trigger: background loop or the admin API) and how long they took",
    ("trigger", "outcome"),
    COMPACTION_BUCKETS,
)
UNMATCHED = "unmatched"  # 404s on paths no route knows: one series, not one per scanner probe


def route_template(scope: Scope) -> str:
    """The matched route's path template, as FastAPI/Starlette left it in the scope after routing."""
    route = scope.get("route")
    if route is None:
        return UNMATCHED
    path = getattr(route, "path_format", None) or getattr(route, "path", None) or ""
    if isinstance(route, Mount):
        return f"{path.rstrip('/')}/{{path}}"
    return str(path) or UNMATCHED


class MetricsMiddleware:
    """Observes each HTTP request's duration in `HTTP_LATENCY` (errors included, SSE excluded)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        streaming = False

        async def send_and_watch(message: Message) -> None:
            nonlocal status, streaming
            if message["type"] == "http.response.start":
                status = int(message["status"])
                for name, value in message.get("headers", ()):
                    if name.lower() == b"content-type" and value.startswith(b"text/event-stream"):
                        streaming = True
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            if not streaming:
                HTTP_LATENCY.observe(
                    time.perf_counter() - started,
                    method=str(scope.get("method", "")),
                    route=route_template(scope),
                    status=str(status),
                )


def timed_compaction(trigger: str, compact: Callable[[], T]) -> T:
    """Run ``compact()`` (a lake compaction) with its duration and outcome recorded in `COMPACTION`."""
    started = time.perf_counter()
    outcome = "error"
    try:
        result = compact()
        outcome = "ok"
        return result
    finally:
        COMPACTION.observe(time.perf_counter() - started, trigger=trigger, outcome=outcome)


# --- scrape-time gauges --------------------------------------------------------------------------------


def _lake_gauges(app: FastAPI) -> list[Metric]:
    files = Gauge("fluxops_lake_files", "Live Parquet files per AMI lake partition", ("dataset", "partition"))
    size = Gauge(
        "fluxops_lake_bytes", "Bytes of live Parquet files per AMI lake partition", ("dataset", "partition")
    )
    rt = getattr(app.state, "ami", None)
    lake = getattr(rt, "lake", None)
    for dataset in ("readings", "events"):
        part_lake = getattr(lake, dataset, None)
        if part_lake is None:
            continue
        for day in part_lake.partitions():
            paths = part_lake.files(day, day)
            total = 0
            for p in paths:
                try:
                    total += p.stat().st_size
                except OSError:  # compacted away between listing and stat
                    continue
            files.set(len(paths), dataset=dataset, partition=day.isoformat())
            size.set(total, dataset=dataset, partition=day.isoformat())
    return [files, size]


def _job_gauges(app: FastAPI) -> list[Metric]:
    count = Gauge(
        "fluxops_jobs", "Cascade background jobs known to this process, by kind and state", ("kind", "state")
    )
    oldest = Gauge(
        "fluxops_jobs_oldest_age_seconds",
        "Age of the oldest queued / running cascade job (0: none)",
        ("state",),
    )
    svc = getattr(app.state, "cascade", None)
    jobs = svc.jobs.list() if svc is not None else []
    now = utc_now()
    tally: dict[tuple[str, str], int] = {}
    ages = {"queued": 0.0, "running": 0.0}
    for job in jobs:
        tally[(job.kind, job.state)] = tally.get((job.kind, job.state), 0) + 1
        if job.state in ages:
            ages[job.state] = max(ages[job.state], (now - job.created_utc).total_seconds())
    for (kind, state), n in tally.items():
        count.set(n, kind=kind, state=state)
    for state, age in ages.items():
        oldest.set(age, state=state)
    return [count, oldest]


def _stream_gauges(app: FastAPI) -> list[Metric]:
    clients = Gauge("fluxops_sse_clients", "Browsers connected to the live stream /api/stream")
    ops = getattr(app.state, "ops", None)
    hub = getattr(ops, "hub", None)
    clients.set(hub.subscriber_count() if hub is not None else 0)
    info = Gauge("fluxops_build_info", "The running version (value always 1)", ("version",))
    info.set(1, version=__version__)
    return [clients, info]


def render_metrics(app: FastAPI) -> str:
    extra: list[Metric] = []
    for collect in (_lake_gauges, _job_gauges, _stream_gauges):
        try:
            extra.extend(collect(app))
        except Exception:  # a broken collector must not take the other metrics down with it
            log.exception("metrics collector %s failed", collect.__name__)
    return REGISTRY.render(extra)


# --- the route -----------------------------------------------------------------------------------------


def require_metrics_access(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Security(bearer_scheme)
) -> None:
    """The scrape token (``FLUXOPS_SERVER__METRICS_TOKEN``) or an admin credential."""
    scrape_token = request.app.state.settings.server.metrics_token
    if (
        scrape_token
        and credentials is not None
        and secrets.compare_digest(credentials.credentials.encode(), scrape_token.encode())
    ):
        return
    authorize(request, credentials, "admin")


setattr(require_metrics_access, ROLE_ATTR, "admin")  # what the route-table auth walk expects of it

router = APIRouter(tags=["monitoring"])


@router.get(
    "/metrics",
    summary="Prometheus metrics (admin, or the scrape token FLUXOPS_SERVER__METRICS_TOKEN)",
    dependencies=[Depends(require_metrics_access)],
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}}},
)
def metrics(request: Request) -> Response:
    return Response(render_metrics(request.app), media_type=CONTENT_TYPE)


def install_metrics(app: FastAPI) -> None:
    """The latency middleware (outermost, so it times auth, audit and compression too) and the route."""
    app.add_middleware(MetricsMiddleware)
    app.include_router(router)
