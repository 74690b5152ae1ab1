"""A three-phase model stored as JSON data comes back identical (same hash, same solution), and a stored
document that was altered or has another format is refused, not solved."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fluxops.core.errors import InvalidInputError
from fluxops.grid.importers.opendss_model import feeder_model
from fluxops.grid.importers.opendss_parser import parse_dss
from fluxops.network.threephase import solve_threephase
from fluxops.network.threephase.serialize import model_from_dict, model_hash, model_to_dict

SCRIPT = Path("/work/shared/data/ieee-test-feeders/13Bus/IEEE13Nodeckt.dss")
if not SCRIPT.is_file():  # pragma: no cover - data of this workplace
    pytest.skip("IEEE test feeders not present", allow_module_level=True)


def test_round_trip_is_exact() -> None:
    model = feeder_model(parse_dss(SCRIPT))
    doc = json.loads(json.dumps(model_to_dict(model)))  # through JSON, as the stores keep it
    back = model_from_dict(doc)
    assert model_hash(model_to_dict(back)) == model_hash(doc)
    a, b = solve_threephase(model), solve_threephase(back)
    assert a.compiled.node_names == b.compiled.node_names
    assert np.array_equal(a.v, b.v)
    # every phase kind of the file is there: single-phase regulators, delta and wye loads, 1/2/3-phase lines
    assert {t.phases for t in back.transformers} == {1, 3}
    assert {ld.conn for ld in back.loads} == {"wye", "delta"}
    assert {len(ln.nodes1) for ln in back.lines} == {1, 2, 3}


def test_bad_documents_are_refused() -> None:
    doc = model_to_dict(feeder_model(parse_dss(SCRIPT)))
    with pytest.raises(InvalidInputError, match="format"):
        model_from_dict({**doc, "format": 99})
    with pytest.raises(InvalidInputError, match="malformed"):
        model_from_dict({**doc, "lines": [{"name": "x"}]})
