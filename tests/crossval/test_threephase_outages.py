"""Batched N-1 (``solve_outages``: one base LU, rank-m updates) against one solve per outage and OpenDSS.

Every line segment of IEEE 13 and IEEE 123 out in turn, islands included: the same energized nodes as
``restamp`` + ``solve_compiled`` (a fresh LU of the outaged Y), voltages within 1e-7 pu of that path
iterated to 1e-12 (the two differ by round-off on Y's ~1e13 condition number), and within the crossval
tolerance of OpenDSS with the line open.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("opendssdirect")

from fluxops.grid.opendss_threephase import compile_script, opendss_solution, read_feeder
from fluxops.network.threephase.outages import solve_outages
from fluxops.network.threephase.solver import solve_compiled
from fluxops.network.threephase.ybus import compile_threephase, restamp

FEEDERS = Path("/work/shared/data/ieee-test-feeders")
if not FEEDERS.is_dir():  # pragma: no cover - data of this workplace
    pytest.skip("IEEE test feeders not present", allow_module_level=True)

SCRIPTS = {
    "ieee13": FEEDERS / "13Bus" / "IEEE13Nodeckt.dss",
    "ieee123": FEEDERS / "123Bus" / "IEEE123Master.dss",
}


@pytest.mark.parametrize("feeder_name", sorted(SCRIPTS))
def test_batched_outages_equal_one_by_one(feeder_name: str) -> None:
    import opendssdirect as dss  # type: ignore[import-untyped]

    compile_script(SCRIPTS[feeder_name])
    model = read_feeder(feeder_name)
    c = compile_threephase(model.with_taps(opendss_solution().taps))
    names = [f"Line.{ln.name}" for ln in model.lines if not ln.is_switch]
    out = solve_outages(c, names)
    assert out.converged.all()
    base = np.where(np.isfinite(c.node_base_v), c.node_base_v, 1.0)
    dead_seen = 0
    for j, name in enumerate(names):
        ref = solve_compiled(restamp(c, name, None), tol_pu=1e-12)
        assert (ref.energized == out.energized[j]).all(), name
        assert np.all(out.v[j][~ref.energized] == 0.0), name
        assert float(np.max(np.abs(out.v[j] - ref.v) / base)) < 1e-7, name
        dead_seen += int((~ref.energized).sum())
    assert dead_seen > 0  # some outages really island part of the feeder

    dss.Text.Command("set controlmode=off")
    for j, name in list(enumerate(names))[:: max(len(names) // 8, 1)]:
        dss.Text.Command(f"open {name} term=1")
        dss.Solution.Solve()
        ref_v = opendss_solution().v_node
        dss.Text.Command(f"close {name} term=1")
        for node, i in c.index.items():
            assert abs(out.v[j][i] - ref_v.get(node, 0j)) / base[i] < 1e-4, (name, node)


def test_sparse_fallback_equals_the_port_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Feeders too large for the dense port matrices take the sparse-LU batch: same answer on IEEE 13."""
    from fluxops.network.threephase import outage_ports

    compile_script(SCRIPTS["ieee13"])
    model = read_feeder("ieee13")
    c = compile_threephase(model.with_taps(opendss_solution().taps))
    names = [f"Line.{ln.name}" for ln in model.lines if not ln.is_switch]
    ports = solve_outages(c, names)
    monkeypatch.setattr(outage_ports, "MAX_DENSE_ENTRIES", 0)
    sparse_lu = solve_outages(c, names)
    base = np.where(np.isfinite(c.node_base_v), c.node_base_v, 1.0)
    assert (ports.energized == sparse_lu.energized).all()
    assert sparse_lu.converged.all()
    assert float(np.max(np.abs(ports.v - sparse_lu.v) / base)) < 1e-7
