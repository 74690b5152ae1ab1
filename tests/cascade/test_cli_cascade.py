"""``fluxops cascade ...`` in-process with Typer's runner on a generated preset and a temp data dir."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fluxops.cli import app


def test_cascade_run_json_and_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["--preset", "tiny", "--data-dir", str(tmp_path)]
    r = runner.invoke(
        app, ["cascade", "run", "-p", "SEG-0001-01-00005", "-s", "summer_peak", "--json", *args]
    )
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    assert res["patient_zero"] == ["SEG-0001-01-00005"] and res["waves"][0]["label"] == "fault"
    r = runner.invoke(app, ["cascade", "run", "-p", "SEG-0001-01-00005", "--set", "load_multiplier=9", *args])
    assert r.exit_code != 0
    assert "load_multiplier" in str(r.exception) or "load_multiplier" in r.output
    r = runner.invoke(app, ["cascade", "restore", "-p", "SEG-0001-01-00005", "--crews", "2", *args])
    assert r.exit_code == 0 and "milestones" in r.output
    r = runner.invoke(app, ["cascade", "scenarios"])
    assert r.exit_code == 0 and "winter_storm" in r.output
