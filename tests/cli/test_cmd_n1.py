"""``fluxops cascade n1``: N-1 with FLISR restoration by default, ``--radial`` for the outage only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from fluxops.cli import main; main()", "cascade", "n1", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_n1_defaults_to_restoration_and_radial_is_an_option(tmp_path: Path) -> None:
    common = ("--preset", "tiny", "--seed", "0", "--data-dir", str(tmp_path), "--json", "--top", "3")
    rest = _run(*common)
    assert rest.returncode == 0, rest.stdout + rest.stderr
    body = json.loads(rest.stdout)
    assert body["mode"] == "restoration" and body["method"] == "flisr-batched"
    assert "customers_restored" in body["worst"][0]
    radial = _run(*common, "--radial")
    assert radial.returncode == 0, radial.stdout + radial.stderr
    assert json.loads(radial.stdout)["mode"] == "radial"
