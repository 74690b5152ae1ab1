"""An imported OpenDSS grid's own three-phase model survives both stores exactly: the stored document
hashes to the sha256 the importer recorded, and it reads back into a model that solves the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fluxops.network.threephase import solve_threephase
from fluxops.network.threephase.serialize import model_from_dict, model_hash

pytest.importorskip("pandapower")
SCRIPT = Path("/work/shared/data/ieee-test-feeders/13Bus/IEEE13Nodeckt.dss")
if not SCRIPT.is_file():  # pragma: no cover - data of this workplace
    pytest.skip("IEEE test feeders not present", allow_module_level=True)


def test_dss_threephase_model_round_trips(store: Any) -> None:
    from fluxops.grid.importers.opendss import import_opendss

    grid, _ = import_opendss(SCRIPT)
    store.load_grid(grid)
    back = store.read_grid().meta.params
    assert back["dss_threephase_sha256"] == grid.meta.params["dss_threephase_sha256"]
    assert model_hash(back["dss_threephase"]) == back["dss_threephase_sha256"]
    a = solve_threephase(model_from_dict(grid.meta.params["dss_threephase"]))
    b = solve_threephase(model_from_dict(back["dss_threephase"]))
    assert np.array_equal(a.v, b.v)
