"""The load-port reduction (``ports``) against the sparse path it replaces, on hand-built feeders.

Same fixed point, same start, same stopping test: the port iteration must give ``solve_compiled``'s
voltages to round-off for every load model and band (PQ, Z, |I|, exponential; below vmin, above vmax),
warm or cold; a regulator study's Woodbury tap updates must give what re-stamping and refactorizing
gives; the port load evaluation must equal ``load_currents`` everywhere. IEEE-feeder checks against
OpenDSS (taps, outages, islands) are in tests/crossval/.
"""

from __future__ import annotations

import numpy as np
import pytest

from fluxops.network.threephase import (
    FeederModel,
    Line,
    LineCode,
    Load,
    Regulator,
    Source,
    Transformer,
    Winding,
)
from fluxops.network.threephase.ports import build_ports, injection, solve_ports
from fluxops.network.threephase.regulators import RegulatorStudy, _solve_sparse
from fluxops.network.threephase.solver import load_currents, solve_compiled
from fluxops.network.threephase.ybus import compile_threephase

KV = 4.16
V_LN = KV / np.sqrt(3.0)
CODE = LineCode(
    name="mtx601",
    r_ohm_per_unit=np.array([[0.3465, 0.1560, 0.1580], [0.1560, 0.3375, 0.1535], [0.1580, 0.1535, 0.3414]]),
    x_ohm_per_unit=np.array([[1.0179, 0.5017, 0.4236], [0.5017, 1.0478, 0.3849], [0.4236, 0.3849, 1.0348]]),
    c_nf_per_unit=np.zeros((3, 3)),
    units="mi",
)
STIFF = Source("src", (1, 2, 3), KV, 1.0, 0.0, 0.0, 1e-4, 0.0, 1e-4)

_LOADS = (
    Load("pq", "b", (1, 2, 3, 0), 3, "wye", 900.0, 350.0, KV, model=1),
    Load("z", "b", (2, 3), 1, "delta", 200.0, 90.0, KV, model=2),
    Load("i", "c", (3, 0), 1, "wye", 250.0, 60.0, V_LN, model=5),
    Load("exp", "c", (1, 2, 3), 3, "delta", 300.0, 120.0, KV, model=4),
    Load("far", "c", (2, 0), 1, "wye", 400.0, 100.0, V_LN, model=1, vminpu=0.99),
)


def _model(mult: float = 1.0, loads: tuple[Load, ...] = _LOADS) -> FeederModel:
    from dataclasses import replace

    lines = (
        Line("l1", "src", (1, 2, 3), "b", (1, 2, 3), CODE, 4000.0, "ft"),
        Line("l2", "b", (1, 2, 3), "c", (1, 2, 3), CODE, 6000.0, "ft"),
    )
    scaled = tuple(replace(ld, kw=ld.kw * mult, kvar=ld.kvar * mult) for ld in loads)
    return FeederModel(
        name="ports",
        source=STIFF,
        lines=lines,
        transformers=(),
        loads=scaled,
        capacitors=(),
        base_kv_ln={"src": V_LN, "b": V_LN, "c": V_LN},
    )


@pytest.mark.parametrize("mult", [0.2, 1.0, 3.0])
def test_port_solve_equals_the_sparse_solve(mult: float) -> None:
    c = compile_threephase(_model(mult))
    ps = build_ports(c)
    assert ps is not None
    assert len(ps.ports) == len(c.load_a) - 1  # the constant-Z element never injects: not a port
    ref = solve_compiled(c, tol_pu=1e-10)
    ours = solve_ports(ps, tol_pu=1e-10)
    assert ours.converged and ref.converged
    assert np.max(np.abs(ours.v - ref.v)) / (KV * 1000) < 1e-9
    # warm start from another load level: same answer, and no more iterations than the sparse path
    other = solve_compiled(compile_threephase(_model(mult * 0.9)), tol_pu=1e-10).v
    warm = solve_ports(ps, v0=other, tol_pu=1e-4)
    warm_ref = solve_compiled(c, v0=other, tol_pu=1e-4)
    assert warm.iterations == warm_ref.iterations
    assert np.max(np.abs(warm.v - warm_ref.v)) / (KV * 1000) < 1e-9


def test_port_load_evaluation_equals_load_currents_in_every_band() -> None:
    c = compile_threephase(_model())
    ps = build_ports(c)
    assert ps is not None
    ld = ps.loads
    vn = ld.load_vnom_v
    rng = np.random.default_rng(7)
    for level in (0.3, 0.6, 0.97, 1.0, 1.2):
        mags = level * (1.0 + 0.05 * rng.standard_normal((len(vn), 4)))
        vd = vn[:, None] * mags * np.exp(1j * rng.uniform(-np.pi, np.pi, mags.shape))
        ref = ld.yeq[:, None] * vd - load_currents(ld, vd)
        assert np.max(np.abs(injection(ld, vd) - ref)) <= 1e-12 * np.max(np.abs(ref))
        ref1 = ld.yeq * vd[:, 0] - load_currents(ld, vd[:, 0])
        assert np.max(np.abs(injection(ld, vd[:, 0]) - ref1)) <= 1e-12 * np.max(np.abs(ref1))


def _regulated() -> FeederModel:
    from dataclasses import replace

    reg_t = Transformer(
        "reg",
        1,
        (Winding("b", (1, 0), "wye", 2.4, 1666.0, 0.005), Winding("r", (1, 0), "wye", 2.4, 1666.0, 0.005)),
        xhl_pct=0.01,
    )
    loads = (
        Load("ld", "r", (1, 0), 1, "wye", 700.0, 300.0, 2.4),
        Load("i", "c", (2, 0), 1, "wye", 250.0, 60.0, V_LN, model=5),
    )
    reg = Regulator(
        "reg", "reg", 2, vreg=122.0, band=2.0, pt_ratio=20.0, ct_primary_a=700.0, r_v=3.0, x_v=9.0
    )
    base = _model(loads=loads)
    return replace(
        base,
        transformers=(reg_t,),
        regulators=(reg,),
        base_kv_ln={**base.base_kv_ln, "r": 2.4},
    )


def test_regulator_study_equals_restamping_and_refactorizing() -> None:
    model = _regulated()
    ours = RegulatorStudy(model).solve()
    ref = _solve_sparse(model, 20, 1e-8)
    assert ours.converged and ref.converged
    assert ours.taps == ref.taps and ours.taps["reg"] > 1.0
    assert ours.control_iterations == ref.control_iterations
    assert np.max(np.abs(ours.result.v - ref.result.v)) / (KV * 1000) < 1e-7
    # the result's compiled feeder carries the final tap: its branch currents are the sparse path's
    for name, cur in ref.result.branch_currents().items():
        mine = ours.result.branch_current(name)
        assert np.max(np.abs(mine - cur)) <= 1e-6 * max(float(np.max(np.abs(cur))), 1.0), name
    # and its Y is the one compiled at that tap
    direct = compile_threephase(model.with_taps(ours.taps))
    assert abs(ours.result.compiled.y - direct.y).max() <= 1e-9 * abs(direct.y).max()
    # a study is reusable: another run from other taps settles on the same taps
    again = RegulatorStudy(model).solve({"reg": 0.95})
    assert again.taps == ours.taps


def test_scaled_port_evaluation_includes_constant_z_and_equals_load_currents() -> None:
    c = compile_threephase(_model())
    ps = build_ports(c, constant_z=True)
    assert ps is not None and len(ps.ports) == len(c.load_a)
    ld = ps.loads
    vn = ld.load_vnom_v
    rng = np.random.default_rng(3)
    scale = rng.uniform(0.3, 1.5, (len(vn), 6))
    for level in (0.4, 0.98, 1.1):
        vd = vn[:, None] * level * (1.0 + 0.04 * rng.standard_normal(scale.shape)) * np.exp(0.3j)
        ref = ld.yeq[:, None] * vd - load_currents(ld, vd, scale)
        assert np.max(np.abs(injection(ld, vd, scale) - ref)) <= 1e-12 * np.max(np.abs(ref))


def test_pq_and_current_ports_clip_above_vmax_like_load_currents() -> None:
    only = tuple(ld for ld in _LOADS if ld.model in (1, 5))
    ps = build_ports(compile_threephase(_model(loads=only)))
    assert ps is not None and ps.loads.plain
    ld = ps.loads
    vn = ld.load_vnom_v
    for level in (0.97, 1.04, 1.08, 1.3):
        vd = vn * level * np.exp(0.4j)
        ref = ld.yeq * vd - load_currents(ld, vd)
        assert np.max(np.abs(injection(ld, vd) - ref)) <= 1e-12 * np.max(np.abs(ref))
        cols = np.stack([vd, vd * 0.99, vd * 1.07], axis=1)
        ref2 = ld.yeq[:, None] * cols - load_currents(ld, cols)
        assert np.max(np.abs(injection(ld, cols) - ref2)) <= 1e-12 * np.max(np.abs(ref2))
