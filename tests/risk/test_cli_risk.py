"""``fluxops risk ...`` in-process on a DuckDB file holding the ``tiny`` grid: history from the stored grid,
a served model (a denser history written through the same store), evaluate and explain, and the errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from fluxops.cli import app
from fluxops.cli.cmd_grid import console
from fluxops.core.config import Settings
from fluxops.core.errors import ConflictError, InvalidInputError
from fluxops.grid.models import Grid
from fluxops.risk.assets import risk_assets
from fluxops.risk.history import generate_history
from fluxops.storage import open_store
from fluxops.storage.risk_files import RiskFileStore

from .conftest import END, scaled_params


def test_risk_commands(tiny_grid: Grid, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 240)
    store = open_store(Settings(data_dir=tmp_path))
    store.load_grid(tiny_grid)
    info = store.get_grid_info()
    store.close()
    assert info is not None
    run = CliRunner()
    d = ["--data-dir", str(tmp_path)]

    res = run.invoke(app, ["risk", "evaluate", *d])
    assert isinstance(res.exception, ConflictError) and "no failure history" in res.exception.message

    res = run.invoke(app, ["risk", "history", "--years", "5", "--end", "2026-01-01", *d])
    assert res.exit_code == 0, res.output
    assert "failures of" in res.output and "over 5 years" in res.output

    res = run.invoke(app, ["risk", "history", "--end", "2026-13-01", *d])
    assert isinstance(res.exception, InvalidInputError) and res.exception.field == "end"

    # published rates on 337 assets: too few failures to learn from, said so
    res = run.invoke(app, ["risk", "train", "--bootstrap", "20", *d])
    assert isinstance(res.exception, ConflictError) and "too few failures" in res.exception.message

    # a denser history (rates x20) through the same store; seed 3 holds out the small substation.
    # History seed 4: 3 failing assets in the test year (seed 2 had 1, where the oracle-ceiling check's
    # paired bootstrap on Brier is noise)
    h = generate_history(risk_assets(tiny_grid), end_utc=END, years=5, seed=4, params=scaled_params())
    RiskFileStore(tmp_path).save_history(info.content_hash, h)
    res = run.invoke(app, ["risk", "train", "--bootstrap", "20", "--rounds", "50", "--seed", "3", *d])
    assert res.exit_code == 0, res.output
    assert "served" in res.output and "oracle" in res.output

    res = run.invoke(app, ["risk", "evaluate", *d])
    assert res.exit_code == 0 and "by asset type" in res.output

    xf = tiny_grid.transformers["transformer_id"].iloc[0]
    res = run.invoke(app, ["risk", "explain", xf, *d])
    assert res.exit_code == 0, res.output
    assert "P(fail in 12 months)" in res.output and "log-odds" in res.output


def test_history_into_the_oms_and_the_demo_first_start(
    tiny_grid: Grid, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``risk history --oms`` and the demo's first start write the failures as historical outages; a
    second demo start (same grid) leaves them alone."""
    from fluxops.cli.cmd_risk import DEMO_RISK_YEARS_ENV, demo_risk_history
    from fluxops.storage.oms_history import oms_history_meta

    monkeypatch.setattr(console, "width", 240)
    settings = Settings(data_dir=tmp_path)
    store = open_store(settings)
    store.load_grid(tiny_grid)
    store.close()
    d = ["--data-dir", str(tmp_path)]
    res = CliRunner().invoke(app, ["risk", "history", "--years", "5", "--end", "2026-01-01", "--oms", *d])
    assert res.exit_code == 0, res.output
    assert "OMS history:" in res.output and "restored outages" in res.output
    res = CliRunner().invoke(app, ["risk", "history", "--oms", "--preset", "tiny", *d])
    assert isinstance(res.exception, InvalidInputError) and res.exception.field == "oms"

    store = open_store(settings)
    try:
        meta = oms_history_meta(store)
        assert meta is not None and meta["years"] == 5
        assert demo_risk_history(settings, store) is None  # this grid's history is there already
        store.execute("DELETE FROM oms_history")
        monkeypatch.setenv(DEMO_RISK_YEARS_ENV, "0")
        assert demo_risk_history(settings, store) is None  # switched off
        monkeypatch.setenv(DEMO_RISK_YEARS_ENV, "4")
        got = demo_risk_history(settings, store)  # the stored 5-year history is reused
        assert got is not None and got["years"] == 5
        n = store.query_arrow("SELECT COUNT(*) FROM outages WHERE historical").column(0)[0].as_py()
        assert n == got["outages"]
    finally:
        store.close()
