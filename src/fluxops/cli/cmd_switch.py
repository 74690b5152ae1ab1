"""``fluxops switch open|close|states|log|orders ...``: operate switching devices and switching orders from
the command line, through the same service (and the same checks) as the API. A server running on the
same store picks the new configuration up on its next request."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from fluxops.cli.cmd_grid import DATA_DIR_OPTION, console, settings_for
from fluxops.core.errors import InvalidInputError, NotFoundError
from fluxops.ops.switching import ORDER_STATUSES, SWITCH_ACTIONS


@contextmanager
def _switching(data_dir: Path | None) -> Iterator[tuple[Any, Any]]:
    """(service, live) where ``live()`` reads the configuration live now from the store."""
    from fluxops.network.compiled import compile_grid
    from fluxops.ops.switching_service import LiveConfiguration, SwitchingService
    from fluxops.ops.switching_validation import critical_customers_by_bus
    from fluxops.storage import open_store
    from fluxops.storage.switching_store import SwitchingTableStore, read_live_grid

    store = open_store(settings_for(data_dir))
    try:

        def live() -> LiveConfiguration:
            got = read_live_grid(store)
            if got is None:
                raise NotFoundError("no grid is loaded: run `fluxops generate` first")
            grid, _, base_hash = got
            cg = compile_grid(grid)
            return LiveConfiguration(base_hash, grid, cg, critical_customers_by_bus(grid, cg))

        yield SwitchingService(SwitchingTableStore(store)), live
    finally:
        store.close()


def _actor(actor: str | None) -> str:
    return actor or f"cli:{getpass.getuser()}"


def _parse_steps(steps: list[str]) -> list[dict[str, str]]:
    """``open:SW-1`` / ``close:TIE-2`` → step dicts (errors name ``step``)."""
    out = []
    for item in steps:
        action, sep, device = item.partition(":")
        if not sep or action not in SWITCH_ACTIONS or not device:
            raise InvalidInputError(
                f"--step expects open:<device> or close:<device>, got {item!r}", field="step"
            )
        out.append({"device_id": device, "action": action})
    return out


def _print_check(check: dict[str, Any]) -> None:
    table = Table(
        title=f"validation ({'ok' if check['ok'] else 'refused at step ' + str(check['failed_step'])})"
    )
    for col in ("step", "action", "device", "ok", "interrupted", "max load %", "problems"):
        table.add_column(col)
    for s in check["steps"]:
        table.add_row(
            str(s["step"]),
            s["action"],
            s["device_id"],
            "yes" if s["ok"] else "NO",
            str(s["customers_interrupted"]),
            "" if s["max_loading_pct"] is None else f"{s['max_loading_pct']:.1f}",
            "; ".join(s["problems"]),
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    switch = typer.Typer(help="Operate switching devices and switching orders.", no_args_is_help=True)
    orders = typer.Typer(
        help="Switching orders: draft → approved → executed (or cancelled).", no_args_is_help=True
    )
    app.add_typer(switch, name="switch")
    switch.add_typer(orders, name="orders")

    def _operate(
        action: str, device_id: str, reason: str, force: bool, actor: str | None, data_dir: Path | None
    ) -> None:
        with _switching(data_dir) as (svc, live):
            op, check = svc.operate(
                live, device_id=device_id, action=action, actor=_actor(actor), reason=reason, force=force
            )
        _print_check(check.to_dict())
        console.print(f"{op.device_id}: {op.from_state} → {op.to_state}{' (forced)' if op.forced else ''}")

    @switch.command("open")
    def switch_open(
        device_id: str = typer.Argument(..., help="Device id"),
        reason: str = typer.Option(..., "--reason", help="Why (required; recorded)"),
        force: bool = typer.Option(False, help="Emergency switching: apply despite a failed check"),
        actor: str | None = typer.Option(None, help="Who (default: cli:<user>)"),
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """Open a device now (validated by power flow first)."""
        _operate("open", device_id, reason, force, actor, data_dir)

    @switch.command("close")
    def switch_close(
        device_id: str = typer.Argument(..., help="Device id"),
        reason: str = typer.Option(..., "--reason", help="Why (required; recorded)"),
        force: bool = typer.Option(False, help="Emergency switching: apply despite a failed check"),
        actor: str | None = typer.Option(None, help="Who (default: cli:<user>)"),
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """Close a device now (validated by power flow first)."""
        _operate("close", device_id, reason, force, actor, data_dir)

    @switch.command("states")
    def switch_states(data_dir: Path | None = DATA_DIR_OPTION) -> None:
        """Devices operated on the loaded grid (last operation per device)."""
        with _switching(data_dir) as (svc, live):
            cfg = live()
            states = svc.switch_states(cfg.base_hash)
        table = Table(title=f"operated devices ({len(states)})")
        for col in ("device", "state", "by", "at (UTC)", "order", "reason"):
            table.add_column(col)
        for s in states:
            at = s.changed_utc.strftime("%Y-%m-%d %H:%M:%S")
            table.add_row(s.device_id, s.state, s.changed_by, at, s.order_id or "", s.reason)
        console.print(table)

    @switch.command("log")
    def switch_log(
        device: str | None = typer.Option(None, help="Only this device"),
        limit: int = typer.Option(50, min=1, max=5000),
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """Switching operations, newest first."""
        with _switching(data_dir) as (svc, live):
            ops = svc.operations(grid_hash=live().base_hash, device_id=device, limit=limit)
        table = Table(title=f"switching log ({len(ops)})")
        for col in ("at (UTC)", "device", "action", "from → to", "by", "order", "forced", "reason"):
            table.add_column(col)
        for o in ops:
            table.add_row(
                o.at_utc.strftime("%Y-%m-%d %H:%M:%S"),
                o.device_id,
                o.action,
                f"{o.from_state} → {o.to_state}",
                o.changed_by,
                o.order_id or "",
                "yes" if o.forced else "",
                o.reason,
            )
        console.print(table)

    @orders.command("create")
    def orders_create(
        title: str = typer.Option(..., help="Short title"),
        reason: str = typer.Option(..., "--reason", help="Why"),
        step: list[str] = typer.Option(..., "--step", help="open:<device> or close:<device>, in order"),
        load_multiplier: float = typer.Option(1.0, min=0.01, max=5.0, help="Validation load × design peak"),
        actor: str | None = typer.Option(None),
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """Create a draft order (refused, with the step named, when a step fails validation)."""
        steps = _parse_steps(step)
        with _switching(data_dir) as (svc, live):
            order = svc.create_order(
                live(),
                title=title,
                reason=reason,
                steps=steps,
                actor=_actor(actor),
                load_multiplier=load_multiplier,
            )
        _print_check(order.validation)
        console.print(f"{order.order_id}: {order.status}")

    @orders.command("list")
    def orders_list(
        status: str | None = typer.Option(None, help=f"One of {', '.join(ORDER_STATUSES)}"),
        limit: int = typer.Option(50, min=1, max=5000),
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """Switching orders, newest first."""
        with _switching(data_dir) as (svc, _):
            items = svc.list_orders(statuses=(status,) if status else None, limit=limit)
        table = Table(title=f"switching orders ({len(items)})")
        for col in ("id", "status", "title", "steps", "created by", "approved by", "executed by"):
            table.add_column(col)
        for o in items:
            steps = ", ".join(f"{s.action} {s.device_id}" for s in o.steps)
            table.add_row(
                o.order_id, o.status, o.title, steps, o.created_by, o.approved_by or "", o.executed_by or ""
            )
        console.print(table)

    @orders.command("show")
    def orders_show(order_id: str = typer.Argument(...), data_dir: Path | None = DATA_DIR_OPTION) -> None:
        """One order as JSON."""
        with _switching(data_dir) as (svc, _):
            order = svc.get_order(order_id)
        console.print_json(json.dumps(order.to_dict(), default=str))

    def _transition(action: str, order_id: str, actor: str | None, data_dir: Path | None) -> None:
        with _switching(data_dir) as (svc, live):
            if action == "approve":
                order = svc.approve(order_id, live, actor=_actor(actor))
            elif action == "execute":
                order = svc.execute(order_id, live, actor=_actor(actor))
            else:
                order = svc.cancel(order_id, actor=_actor(actor))
        console.print(f"{order.order_id}: {order.status}")

    @orders.command("approve")
    def orders_approve(
        order_id: str = typer.Argument(...),
        actor: str | None = typer.Option(None),
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """draft → approved (re-validated against the live configuration)."""
        _transition("approve", order_id, actor, data_dir)

    @orders.command("execute")
    def orders_execute(
        order_id: str = typer.Argument(...),
        actor: str | None = typer.Option(None),
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """approved → executed (re-validated, every step applied in one transaction)."""
        _transition("execute", order_id, actor, data_dir)

    @orders.command("cancel")
    def orders_cancel(
        order_id: str = typer.Argument(...),
        actor: str | None = typer.Option(None),
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """draft or approved → cancelled."""
        _transition("cancel", order_id, actor, data_dir)
