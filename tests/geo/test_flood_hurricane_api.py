"""The API's hurricane runs use flood exposure (issue 13 §1): over HTTP, a hurricane on the tiny grid
fails no site by flood while no flood zones are stored, and, once an admin generates them, fails at the
start exactly the sites whose freeboard is below the storm's flood level (as the engine does)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fluxops.grid.models import Grid
from fluxops.storage import geo_generate

sys.path.insert(0, str(Path(__file__).parent.parent / "api"))
from live_server import LiveServer, serve_grid  # type: ignore[import-not-found]

ADMIN = "test-bootstrap-token-0123456789abcdef"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, tiny_grid: Grid) -> Iterator[LiveServer]:
    with serve_grid(tmp_path_factory.mktemp("flood-api"), tiny_grid) as server:
        yield server


def _flood_failures(client: httpx.Client, grid: Grid) -> list[tuple[int, str]]:
    """Flood failures (wave, site) of a near-calm hurricane (1 m/s: no wind damage to speak of, so the
    run stays small) started at one pole-top transformer (the API wants a patient zero or wind damage)."""
    pole_top = str(grid.transformers.transformer_id[grid.transformers.mounting != "pad"].iloc[0])
    body = {
        "scenario": "hurricane",
        "overrides": {"wind_speed_mps": 1.0},
        "patient_zero": pole_top,
        "seed": 0,
    }
    r = client.post("/api/cascade/simulate", json=body)
    assert r.status_code == 200, r.text
    waves: list[dict[str, Any]] = r.json()["waves"]
    return [
        (i, str(e["element_id"]))
        for i, w in enumerate(waves)
        for e in w["events"]
        if str(e["detail"]).startswith("flood")
    ]


def test_hurricane_over_http_fails_flooded_sites(live: LiveServer, tiny_grid: Grid) -> None:
    with live.client(ADMIN) as admin:
        assert _flood_failures(admin, tiny_grid) == []  # no flood layer: no flood failures
        r = admin.post("/api/admin/geo/generate", json={"layers": ["flood_zones"], "seed": 0})
        assert r.status_code == 200, r.text
        below = sorted(a for a, fb in geo_generate.flood_freeboard(live.store, tiny_grid).items() if fb < 0.0)
        assert below  # the tiny grid has sites below the 1 % / 0.2 % flood
        flooded = _flood_failures(admin, tiny_grid)
        assert sorted(a for _, a in flooded) == below
        assert {i for i, _ in flooded} == {0}  # at the start of the storm
