"""The ``fluxops`` command line (Typer + rich). Each module in this package named ``cmd_<domain>``
exposes ``register(app)`` to add its commands, so domains never edit each other's CLI code."""

from __future__ import annotations

import importlib
import pkgutil

import typer

app = typer.Typer(
    name="fluxops",
    help="Flux Operations Center: an operations center for electric distribution utilities.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _register_all() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            importlib.import_module(f"{__name__}.{info.name}").register(app)


_register_all()


def main() -> None:
    """Entry point: runs the app; a `FluxOpsError` prints one line and exits 2, never a traceback."""
    from rich.console import Console

    from fluxops.core.errors import FluxOpsError

    try:
        app(standalone_mode=True)
    except FluxOpsError as exc:
        Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {exc.message}")
        raise SystemExit(2) from None
