"""``fluxops serve`` and ``fluxops demo``: start the API (and UI) with a one-time admin URL.

Safe by default: binds 127.0.0.1; refuses a non-loopback address unless API keys exist or OIDC is
configured. The printed ``/?token=`` URL carries this process's bootstrap admin token
(``FLUXOPS_SERVER__BOOTSTRAP_TOKEN`` or a random one), like Jupyter's.

``fluxops keys create|list|revoke`` manages the API keys that make binding beyond loopback
allowed (the CLI's own key changes are written to the audit log with method ``CLI``).

First start of ``demo``: with no AMI history yet (no ``_demo_history.json`` in the lake) it writes
``FLUXOPS_DEMO_BACKFILL_DAYS`` UTC days of synthetic AMI straight into the lake (the last one being today
up to the live feed's start), with a progress bar; the live simulator then continues from exactly there
with the same seed, so history and live feed neither overlap nor leave a gap. Later starts skip it.

Extension point for ``demo``: the server runs with ``app.state.demo = True``; route modules that
want to start something only in demo mode (e.g. the live AMI simulator) check it in their
``on_startup(app)`` hook, so this file never needs to know them.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fluxops.cli.cmd_grid import DATA_DIR_OPTION, console, generate_and_load, settings_for, store_location
from fluxops.core.clock import utc_now
from fluxops.core.config import Settings
from fluxops.core.errors import InvalidInputError
from fluxops.grid.ports import GridStore
from fluxops.security.ports import AuditEntry, SecurityStore
from fluxops.security.service import (
    active_api_keys,
    check_bind_address,
    create_api_key,
    is_loopback,
    revoke_api_key,
)


def _check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise InvalidInputError(f"cannot bind {host}:{port}: {exc.strerror}", field="port") from None


DEMO_HISTORY_MARKER = "_demo_history.json"


def demo_history(settings: Settings, store: GridStore, *, now: datetime | None = None) -> datetime | None:
    """Once per data directory: AMI history for the demo, ending where the live feed will start.

    Returns the live feed's start when history was written now, None when it exists already (the
    marker file), is switched off (``demo_backfill_days = 0``) or no grid is loaded."""
    from fluxops.api.ami_runtime import DEMO_LOOKBACK_H
    from fluxops.cli.cmd_ami import backfill

    days = settings.demo_backfill_days
    marker = settings.lake_dir / DEMO_HISTORY_MARKER
    if days == 0 or marker.exists():
        return None
    grid = store.read_grid()
    if grid is None:
        return None
    live_start = (now or utc_now()) - timedelta(hours=DEMO_LOOKBACK_H)
    t0 = time.perf_counter()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        out = backfill(
            settings,
            grid,
            days=days,
            end=live_start.date(),
            seed=settings.demo_seed,
            refresh=True,
            until=live_start,
            progress=progress,
        )
    wall = time.perf_counter() - t0
    marker.write_text(
        json.dumps(
            {
                "days": days,
                "until_utc": live_start.isoformat(),
                "seed": settings.demo_seed,
                "readings": out["readings"],
                "events": out["events"],
                "seconds": round(wall, 1),
            }
        )
    )
    console.print(
        f"AMI history: {out['days_written']} days, {out['readings']:,} readings, {out['events']:,} events "
        f"in {wall:.0f} s (first start only; FLUXOPS_DEMO_BACKFILL_DAYS={days})"
    )
    return live_start


WORKER_DEMO_ENV = "FLUXOPS_SERVE_DEMO"  # tells each worker process it serves `fluxops demo`
WORKER_LIVE_START_ENV = "FLUXOPS_SERVE_LIVE_START_UTC"
WORKER_THREADS_ENV = "FLUXOPS_SERVE_WORKER_THREADS"
# Request threads per worker. On PostgreSQL each thread holds its own connection, so N workers need about
# N x (threads + 8 background) connections: 16 keeps 4 workers under PostgreSQL's default 100. (uvicorn's
# default of 40 threads ran 2 workers into "too many clients" under 64 concurrent clients.)
DEFAULT_WORKER_THREADS = 16


def check_workers(settings: Settings, workers: int) -> None:
    """Several worker processes need a store that several processes may write: PostgreSQL."""
    if workers < 1:
        raise InvalidInputError("--workers must be at least 1", field="workers")
    if workers > 1 and settings.store.backend != "postgres":
        raise InvalidInputError(
            f"--workers {workers} needs the PostgreSQL store (FLUXOPS_STORE__BACKEND=postgres): the DuckDB "
            "file is embedded and single-writer, so serve it with one worker",
            field="workers",
        )


def limit_threads(app: Any, threads: int) -> None:
    """Run the app's sync routes on at most ``threads`` threads (anyio's default is 40). Under 64
    concurrent clients on two cores, 40 runnable threads mostly wait for the GIL and for each other
    (issue 8 §5); with PostgreSQL each thread also holds a connection."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        async with inner(a) as state:
            yield state

    app.router.lifespan_context = lifespan
    app.state.worker_threads = threads


def worker_app() -> Any:
    """The app of one worker process (``uvicorn --factory``): settings from the environment the parent
    set up; exactly one worker becomes the AMI lake writer (`fluxops.api.ami_runtime`)."""
    from fluxops.api.app import create_app
    from fluxops.core.config import get_settings

    app = create_app(get_settings())
    limit_threads(app, int(os.environ.get(WORKER_THREADS_ENV) or DEFAULT_WORKER_THREADS))
    app.state.demo = os.environ.get(WORKER_DEMO_ENV) == "1"
    app.state.multi_worker = True
    live_start = os.environ.get(WORKER_LIVE_START_ENV)
    if live_start:
        app.state.ami_live_start_utc = datetime.fromisoformat(live_start)
    return app


SHUTDOWN_GRACE_S = 10  # after SIGTERM/Ctrl-C, open requests get this long before they are cut


def serve_app(app: Any, settings: Settings, **uvicorn_options: Any) -> None:
    """One process: uvicorn with the configured log format (``FLUXOPS_LOG__FORMAT``, access log too) and
    a 10 s graceful shutdown; at the first signal the app itself ends live streams and cancels jobs
    (`fluxops.api.lifecycle`), so the grace period is for ordinary requests."""
    import uvicorn

    from fluxops.core.logging import uvicorn_log_config

    uvicorn.run(
        app,
        host=settings.server.host,
        port=settings.server.port,
        log_config=uvicorn_log_config(settings.log.format, settings.log.level),
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
        **uvicorn_options,
    )


def run_server(
    settings: Settings,
    *,
    demo: bool,
    workers: int = 1,
    proxy_headers: bool = True,
    forwarded_allow_ips: str | None = None,
    worker_threads: int = DEFAULT_WORKER_THREADS,
) -> None:
    from fluxops.api.app import create_app
    from fluxops.storage import open_store

    check_workers(settings, workers)
    host, port = settings.server.host, settings.server.port
    proxy = {"proxy_headers": proxy_headers, "forwarded_allow_ips": forwarded_allow_ips}
    store = open_store(settings)
    try:
        check_bind_address(
            host,
            keys_exist=bool(active_api_keys(store)),
            oidc_configured=bool(settings.server.oidc_issuer),
            auth_disabled=settings.server.auth_disabled,
        )
        _check_port_free(host, port)
        if demo and store.get_grid_info() is None:
            generate_and_load(store, preset=settings.demo_preset, seed=settings.demo_seed)
        live_start = demo_history(settings, store) if demo else None
        if demo:  # years of failure history as restored OMS outages (once per grid; cmd_risk)
            from fluxops.cli.cmd_risk import demo_risk_history

            demo_risk_history(settings, store)
        if workers > 1:
            store.close()
            _run_workers(
                settings,
                demo=demo,
                workers=workers,
                live_start=live_start,
                proxy=proxy,
                threads=worker_threads,
            )
            return
        app = create_app(settings, store=store)
        limit_threads(app, worker_threads)
        app.state.demo = demo
        if live_start is not None:
            app.state.ami_live_start_utc = live_start  # the simulator continues the history from here
        shown = host if is_loopback(host) else f"{host} (reachable from other machines)"
        url_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        base = f"http://{url_host}:{port}"
        console.print(f"Flux Operations Center on {shown}, store {store_location(settings)}")
        console.print(f"  open  [bold]{base}/?token={app.state.bootstrap_token}[/bold]")
        console.print(f"  API   {base}/docs  (Authorize with the token above as a Bearer token)")
        serve_app(app, settings, **proxy)
    finally:
        store.close()


def _run_workers(
    settings: Settings,
    *,
    demo: bool,
    workers: int,
    live_start: datetime | None,
    proxy: dict[str, Any],
    threads: int = DEFAULT_WORKER_THREADS,
) -> None:
    """``workers`` processes behind one socket (uvicorn's supervisor). They share one bootstrap token
    and the data directory through the environment; each opens its own PostgreSQL connections."""
    import secrets

    import uvicorn

    from fluxops.core.logging import uvicorn_log_config

    host, port = settings.server.host, settings.server.port
    token = settings.server.bootstrap_token or secrets.token_urlsafe(32)
    os.environ["FLUXOPS_DATA_DIR"] = str(settings.data_dir)
    os.environ["FLUXOPS_SERVER__BOOTSTRAP_TOKEN"] = token
    os.environ[WORKER_DEMO_ENV] = "1" if demo else "0"
    os.environ[WORKER_THREADS_ENV] = str(threads)
    if live_start is not None:
        os.environ[WORKER_LIVE_START_ENV] = live_start.isoformat()
    url_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{url_host}:{port}"
    console.print(
        f"Flux Operations Center on {host}, {workers} worker processes, store {store_location(settings)}"
    )
    console.print(f"  open  [bold]{base}/?token={token}[/bold]")
    console.print(
        "  AMI ingestion: one worker owns the lake writer; the others answer it with 503 + Retry-After"
    )
    uvicorn.run(
        "fluxops.cli.cmd_serve:worker_app",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_config=uvicorn_log_config(settings.log.format, settings.log.level),
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,  # each worker; streams are cut when it runs out
        **proxy,
    )


def _with_bind(settings: Settings, host: str | None, port: int | None) -> Settings:
    server = settings.server.model_copy(
        update={k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    )
    return settings.model_copy(update={"server": server})


HOST_OPTION = typer.Option(None, help="Bind address (default 127.0.0.1; others need auth configured)")
PORT_OPTION = typer.Option(None, help="Port (default 8000)")
WORKERS_OPTION = typer.Option(
    1, "--workers", help="Worker processes (PostgreSQL only; DuckDB is single-writer and is refused)"
)
WORKER_THREADS_OPTION = typer.Option(
    DEFAULT_WORKER_THREADS,
    "--worker-threads",
    min=1,
    help="Request threads per process, one process or --workers (on PostgreSQL each holds one "
    "connection: keep workers x (threads + 8) under the server's max_connections)",
)
PROXY_HEADERS_OPTION = typer.Option(
    True,
    "--proxy-headers/--no-proxy-headers",
    help="Take client address and scheme from X-Forwarded-For/-Proto sent by --forwarded-allow-ips",
)
FORWARDED_IPS_OPTION = typer.Option(
    None,
    "--forwarded-allow-ips",
    help="Comma list of reverse-proxy addresses trusted for X-Forwarded-* (default 127.0.0.1; '*' = any)",
)


def _audit_cli(store: SecurityStore, action: str, status: int, detail: dict[str, str]) -> None:
    store.append_audit(
        AuditEntry(
            at_utc=utc_now(),
            actor="cli",
            role="admin",
            method="CLI",
            path=f"fluxops keys {action}",
            status_code=status,
            detail=detail,
        )
    )


keys_app = typer.Typer(help="Manage API keys (stored hashed; a token is shown once).", no_args_is_help=True)


@keys_app.command("create")
def keys_create(
    role: str = typer.Option(..., help="viewer | operator | admin"),
    label: str = typer.Option("", help="Who or what the key is for"),
    data_dir: Path | None = DATA_DIR_OPTION,
) -> None:
    """Create a key and print its token once (send it as 'Authorization: Bearer <token>')."""
    from fluxops.storage import open_store

    store = open_store(settings_for(data_dir))
    try:
        issued = create_api_key(store, role=role, label=label)
        _audit_cli(store, "create", 201, {"key_id": issued.record.key_id, "role": role})
    finally:
        store.close()
    console.print(f"key {issued.record.key_id} ({role}) created; the token is shown only now:")
    console.print(issued.token, soft_wrap=True, highlight=False)


@keys_app.command("list")
def keys_list(data_dir: Path | None = DATA_DIR_OPTION) -> None:
    """List active keys (ids, roles, labels; never secrets)."""
    from fluxops.storage import open_store

    store = open_store(settings_for(data_dir))
    try:
        records = active_api_keys(store)
    finally:
        store.close()
    if not records:
        console.print("no active API keys")
    for r in records:
        console.print(f"{r.key_id}  {r.role:<8}  {r.created_utc:%Y-%m-%d %H:%M}Z  {r.label}", highlight=False)


@keys_app.command("revoke")
def keys_revoke(key_id: str, data_dir: Path | None = DATA_DIR_OPTION) -> None:
    """Revoke a key by its id (fx_...)."""
    from fluxops.storage import open_store

    store = open_store(settings_for(data_dir))
    try:
        revoke_api_key(store, key_id)
        _audit_cli(store, "revoke", 204, {"key_id": key_id})
    finally:
        store.close()
    console.print(f"revoked {key_id}")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")

    @app.command()
    def serve(
        host: str | None = HOST_OPTION,
        port: int | None = PORT_OPTION,
        data_dir: Path | None = DATA_DIR_OPTION,
        workers: int = WORKERS_OPTION,
        worker_threads: int = WORKER_THREADS_OPTION,
        proxy_headers: bool = PROXY_HEADERS_OPTION,
        forwarded_allow_ips: str | None = FORWARDED_IPS_OPTION,
    ) -> None:
        """Serve the API and UI over the configured store."""
        run_server(
            _with_bind(settings_for(data_dir), host, port),
            demo=False,
            workers=workers,
            proxy_headers=proxy_headers,
            forwarded_allow_ips=forwarded_allow_ips,
            worker_threads=worker_threads,
        )

    @app.command()
    def demo(
        host: str | None = HOST_OPTION,
        port: int | None = PORT_OPTION,
        data_dir: Path | None = DATA_DIR_OPTION,
        faults: bool = typer.Option(
            True,
            "--faults/--no-faults",
            help="Inject demo faults (last-gasps of a protective zone, then restores after a real "
            "repair time) through the real AMI ingestion: the first within a minute, then at the "
            "SAIFI 1.3 rate (about one every 100 min on the demo utility), flagged synthetic and kept "
            "out of reliability indices; without it outages come only at the live feed's rate.",
        ),
    ) -> None:
        """Generate the demo utility if none is loaded, then serve it (printing the URL with token)."""
        if faults:
            os.environ["FLUXOPS_DEMO_FEED"] = "1"  # read by the ops runtime at startup
        run_server(_with_bind(settings_for(data_dir), host, port), demo=True)
