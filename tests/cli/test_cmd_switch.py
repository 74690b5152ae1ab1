"""``fluxops switch ...`` in-process (Typer's runner) on a real DuckDB file holding the ``tiny`` grid: the
same checks as the API, and a cascade run from the CLI sees the operated configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from fluxops.cli import app
from fluxops.cli.cmd_grid import console
from fluxops.core.config import Settings
from fluxops.core.errors import ConflictError, InvalidInputError
from fluxops.grid.models import Grid
from fluxops.ops.switching import device_states
from fluxops.storage import open_store
from fluxops.storage.switching_store import read_live_grid

FUSE, TIE, BRK = "FUS-0001-02-00011", "TIE-00002", "BRK-0001-02"


def test_switch_commands(tiny_grid: Grid, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 240)  # tables unwrapped, whatever the terminal
    store = open_store(Settings(data_dir=tmp_path))
    store.load_grid(tiny_grid)
    store.close()
    run = CliRunner()
    d = ["--data-dir", str(tmp_path)]

    res = run.invoke(app, ["switch", "open", FUSE, "--reason", "lateral patrol", "--actor", "op-cli", *d])
    assert res.exit_code == 0, res.output
    assert "closed → open" in res.output

    res = run.invoke(app, ["switch", "open", BRK, "--reason", "x", *d])
    assert isinstance(res.exception, ConflictError) and "critical" in res.exception.message

    res = run.invoke(
        app, ["switch", "orders", "create", "--title", "t", "--reason", "r", "--step", "shut:X", *d]
    )
    assert isinstance(res.exception, InvalidInputError) and res.exception.details["field"] == "step"

    res = run.invoke(
        app,
        ["switch", "orders", "create", "--title", "pick up", "--reason", "r", "--step", f"close:{TIE}", *d],
    )
    assert res.exit_code == 0, res.output
    order_id = res.output.strip().splitlines()[-1].split(":")[0]
    for action in ("approve", "execute"):
        res = run.invoke(app, ["switch", "orders", action, order_id, *d])
        assert res.exit_code == 0, res.output
    assert f"{order_id}: executed" in res.output

    res = run.invoke(app, ["switch", "states", *d])
    assert res.exit_code == 0 and FUSE in res.output and TIE in res.output and "op-cli" in res.output
    res = run.invoke(app, ["switch", "log", "--device", TIE, *d])
    assert res.exit_code == 0 and order_id in res.output

    store = open_store(Settings(data_dir=tmp_path))
    try:
        live = read_live_grid(store)
        assert live is not None
        grid, info, stored_hash = live
        assert (device_states(grid)[FUSE], device_states(grid)[TIE]) == ("open", "closed")
        assert info.content_hash != stored_hash
        assert store.read_grid() is not None and device_states(store.read_grid())[FUSE] == "closed"  # type: ignore[arg-type]
    finally:
        store.close()
