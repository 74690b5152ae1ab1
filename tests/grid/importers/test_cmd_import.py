from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from fluxops.cli import app

pytest.importorskip("pandapower")


def test_import_mv_oberrhein_into_duckdb(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["import", "pandapower", "mv_oberrhein", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())  # rich wraps at the terminal width other tests may have set
    assert "imported mv_oberrhein" in out
    assert "trafo.pfe_kw/i0_percent" in out  # what the model carries, and how, is said
    assert "carried: sgen" in out
    con = duckdb.connect(str(tmp_path / "fluxops.duckdb"), read_only=True)
    try:
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        seg_table = next(t for t in tables if t.endswith("line_segments"))
        assert con.execute(f"select count(*) from {seg_table}").fetchone() == (181,)
    finally:
        con.close()


def test_unknown_network_is_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["import", "pandapower", "nope", "--data-dir", str(tmp_path)])
    assert result.exit_code != 0
