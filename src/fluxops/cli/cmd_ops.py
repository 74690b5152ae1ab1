"""``fluxops outages list|show``, ``fluxops reliability``, ``fluxops workorders list``: the ops records
in the store, from the command line (the same services the API uses)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from fluxops.cli.cmd_grid import DATA_DIR_OPTION, console, settings_for
from fluxops.core.errors import InvalidInputError, NotFoundError
from fluxops.ops.models import WORK_ORDER_STATUSES
from fluxops.ops.ports import OutageQuery, WorkOrderQuery
from fluxops.ops.query import parse_statuses, parse_time


@contextmanager
def _ops(data_dir: Path | None) -> Iterator[Any]:
    from fluxops.ops.service import OpsService
    from fluxops.storage import open_store
    from fluxops.storage.ops_store import OpsTableStore

    store = open_store(settings_for(data_dir))
    try:
        grid = store.read_grid()
        if grid is None:
            raise NotFoundError("no grid is loaded: run `fluxops generate` first")
        yield OpsService(OpsTableStore(store), grid)
    finally:
        store.close()


def _fmt(t: datetime | None) -> str:
    return "" if t is None else t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def register(app: typer.Typer) -> None:
    outages = typer.Typer(help="Outages predicted from AMI last-gasps (OMS).", no_args_is_help=True)
    workorders = typer.Typer(help="Work orders.", no_args_is_help=True)
    app.add_typer(outages, name="outages")
    app.add_typer(workorders, name="workorders")

    @outages.command("list")
    def outages_list(
        status: str | None = typer.Option(None, help="active, history, or a comma list of statuses"),
        feeder: str | None = typer.Option(None),
        substation: str | None = typer.Option(None),
        limit: int = typer.Option(50, min=1, max=5000),
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """Newest first."""
        with _ops(data_dir) as svc:
            q = OutageQuery(
                statuses=parse_statuses(status), feeder_id=feeder, substation_id=substation, limit=limit
            )
            items, total = svc.list_outages(q)
        table = Table(title=f"outages ({len(items)} of {total})")
        for col in (
            "id",
            "status",
            "kind",
            "device",
            "feeder",
            "start (UTC)",
            "restored (UTC)",
            "cust.",
            "out",
            "crit.",
        ):
            table.add_column(col)
        for o in items:
            table.add_row(
                o.outage_id,
                o.status,
                o.kind,
                f"{o.device_type} {o.device_id}",
                o.feeder_id or "",
                _fmt(o.start_utc),
                _fmt(o.restored_utc),
                str(o.customers_affected),
                str(o.customers_out),
                str(o.critical_customers_affected),
            )
        console.print(table)

    @outages.command("show")
    def outages_show(outage_id: str, data_dir: Path | None = DATA_DIR_OPTION) -> None:
        """One outage and its event log."""
        with _ops(data_dir) as svc:
            rec, events, meters = svc.get_outage(outage_id)
        console.print(rec.to_dict())
        table = Table(title=f"{outage_id}: {len(events)} events, {len(meters)} meters")
        for col in ("time (UTC)", "event", "customers", "still out", "actor"):
            table.add_column(col)
        for e in events:
            table.add_row(
                _fmt(e.event_utc), e.event_type, str(e.customers), str(e.customers_out_after), e.actor
            )
        console.print(table)

    @outages.command("replay")
    def outages_replay(
        start: str | None = typer.Option(None, help="first UTC day, YYYY-MM-DD (default: all stored)"),
        end: str | None = typer.Option(None, help="last UTC day, YYYY-MM-DD"),
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """Build outage history from the AMI event log (e.g. after `fluxops ami backfill`)."""
        import time
        from datetime import date

        from fluxops.storage.lake import AmiLake

        try:
            d0 = date.fromisoformat(start) if start else None
            d1 = date.fromisoformat(end) if end else None
        except ValueError:
            raise InvalidInputError("start and end must be YYYY-MM-DD", field="start") from None
        settings = settings_for(data_dir)
        events = AmiLake(settings.lake_dir).events.read(
            d0, d1, columns=["meter_id", "event_type", "event_time_utc"]
        )
        t0 = time.perf_counter()
        with _ops(data_dir) as svc:
            out = svc.replay(events)
        console.print(
            f"replayed {out['events']:,} last-gasp/restore events in {out['steps']:,} steps: "
            f"{out['outages']:,} outages ({time.perf_counter() - t0:.1f} s)"
        )

    @workorders.command("list")
    def workorders_list(
        status: str | None = typer.Option(None, help=f"comma list of {', '.join(WORK_ORDER_STATUSES)}"),
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        statuses = tuple(s.strip() for s in status.split(",")) if status else None
        if statuses and any(s not in WORK_ORDER_STATUSES for s in statuses):
            raise InvalidInputError(f"status must be among {WORK_ORDER_STATUSES}", field="status")
        with _ops(data_dir) as svc:
            items = svc.dispatch.list_work_orders(WorkOrderQuery(statuses=statuses))
        table = Table(title=f"work orders ({len(items)})")
        for col in ("id", "status", "priority", "type", "asset", "crew", "created (UTC)"):
            table.add_column(col)
        for w in items:
            table.add_row(
                w.work_order_id,
                w.status,
                w.priority,
                w.work_type,
                w.asset_id or "",
                w.crew_id or "",
                _fmt(w.created_utc),
            )
        console.print(table)

    @app.command("reliability")
    def reliability(
        level: str = typer.Option("system", help="system | substation | feeder"),
        start: str | None = typer.Option(
            None, help="period start, ISO 8601 (default: end - 365 days, or the data start if later)"
        ),
        end: str | None = typer.Option(None, help="period end, ISO 8601 (default: now)"),
        interval: str = typer.Option("all", help="all | day | month"),
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """IEEE 1366 indices (SAIFI, SAIDI, CAIDI, ASAI, MAIFI_E) computed from the outage records."""
        with _ops(data_dir) as svc:
            rows = svc.reliability(
                level=level,
                start_utc=parse_time(start, "start"),
                end_utc=parse_time(end, "end"),
                interval=interval,
            )
        table = Table(title=f"IEEE 1366 reliability by {level}")
        for col in (
            "key",
            "period start",
            "N_T",
            "SAIFI",
            "SAIDI min",
            "CAIDI min",
            "ASAI",
            "MAIFI_E",
            "CAIFI",
        ):
            table.add_column(col)
        for r in rows:
            table.add_row(
                r.key,
                _fmt(r.period_start_utc),
                str(r.customers_served),
                f"{r.saifi:.4f}",
                f"{r.saidi_min:.2f}",
                "" if r.caidi_min is None else f"{r.caidi_min:.1f}",
                f"{r.asai:.6f}",
                f"{r.maifi_e:.4f}",
                "" if r.caifi is None else f"{r.caifi:.3f}",
            )
        console.print(table)
