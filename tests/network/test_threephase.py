"""Three-phase unbalanced power flow on small hand-built feeders (no OpenDSS needed).

The IEEE-feeder comparison with OpenDSS is in tests/crossval/test_threephase_opendss.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from fluxops.network.threephase import (
    Capacitor,
    FeederModel,
    Line,
    LineCode,
    Load,
    Regulator,
    Source,
    Transformer,
    Winding,
    solve_threephase,
    solve_with_regulators,
)
from fluxops.network.threephase.linecodes import series_impedance_ohm

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


def _feeder(*, loads: tuple[Load, ...] = (), caps: tuple[Capacitor, ...] = (), **kw: object) -> FeederModel:
    line = Line("l1", "src", (1, 2, 3), "b", (1, 2, 3), CODE, 2000.0, "ft")
    return FeederModel(
        name="t",
        source=STIFF,
        lines=(line,),
        transformers=kw.get("transformers", ()),  # type: ignore[arg-type]
        loads=loads,
        capacitors=caps,
        regulators=kw.get("regulators", ()),  # type: ignore[arg-type]
        base_kv_ln=kw.get("base", {"src": V_LN, "b": V_LN}),  # type: ignore[arg-type]
    )


def test_line_code_units_are_converted() -> None:
    line = Line("l", "a", (1, 2, 3), "b", (1, 2, 3), CODE, 2000.0, "ft")
    z = series_impedance_ohm(line)
    miles = 2000.0 * 0.3048 / 1609.344
    np.testing.assert_allclose(z, (CODE.r_ohm_per_unit + 1j * CODE.x_ohm_per_unit) * miles)


@pytest.mark.parametrize(
    ("conn", "nodes", "phases"), [("wye", (2, 0), 1), ("delta", (1, 2, 3), 3), ("delta", (3, 1), 1)]
)
@pytest.mark.parametrize("model_code", [1, 2, 5])
def test_load_draws_its_model_power(conn: str, nodes: tuple[int, ...], phases: int, model_code: int) -> None:
    kv = V_LN if conn == "wye" and phases == 1 else KV
    load = Load("ld", "b", nodes, phases, conn, 300.0, 120.0, kv, model=model_code)  # type: ignore[arg-type]
    res = solve_threephase(_feeder(loads=(load,)))
    assert res.converged
    c = res.compiled
    v = {n: res.v[i] for n, i in c.index.items()}
    i_line = res.branch_currents()["Line.l1"][3:]  # current into terminal 2 = −(load current)
    s = sum(v[f"b.{k + 1}"] * np.conj(-i_line[k]) for k in range(3)) / 1000.0  # kVA into bus b
    if conn == "wye":
        pairs = [(nodes[0], 0)]
    elif phases == 1:
        pairs = [(nodes[0], nodes[1])]
    else:
        pairs = [(1, 2), (2, 3), (3, 1)]
    expected = 0j
    vpus = []
    for a, b in pairs:  # each phase element draws S/phases at its own voltage
        vd = v[f"b.{a}"] - (v[f"b.{b}"] if b else 0.0)
        vpu = abs(vd) / (kv * 1000.0)
        vpus.append(vpu)
        expected += complex(300.0, 120.0) / phases * {1: 1.0, 2: vpu**2, 5: vpu}[model_code]
    assert abs(s - expected) < 1e-6 * abs(expected)
    # the load really drags the voltage, so the model choice matters
    assert all(0.95 < x < 1.0 for x in vpus)


def test_unbalanced_single_phase_load_sags_its_own_phase() -> None:
    load = Load("ld", "b", (1, 0), 1, "wye", 800.0, 400.0, V_LN)
    res = solve_threephase(_feeder(loads=(load,)))
    vb = np.abs(res.v_pu[[res.compiled.index[f"b.{k}"] for k in (1, 2, 3)]])
    assert vb[0] < vb[1] - 0.01 and vb[0] < vb[2] - 0.01


def test_capacitor_raises_voltage_by_its_kvar() -> None:
    load = Load("ld", "b", (1, 2, 3, 0), 3, "wye", 900.0, 600.0, KV)
    cap = Capacitor("c", "b", (1, 2, 3), (0, 0, 0), 3, "wye", 600.0, KV)
    without = solve_threephase(_feeder(loads=(load,)))
    with_cap = solve_threephase(_feeder(loads=(load,), caps=(cap,)))
    i = with_cap.compiled.index["b.1"]
    assert abs(with_cap.v_pu[i]) > abs(without.v_pu[i]) + 0.005


def _bank(conn1: str, tap: float = 1.0) -> Transformer:
    return Transformer(
        "t",
        3,
        (
            Winding("b", (1, 2, 3, 0), conn1, KV, 500.0, 0.55),  # type: ignore[arg-type]
            Winding("lv", (1, 2, 3, 0), "wye", 0.48, 500.0, 0.55, tap=tap),
        ),
        xhl_pct=2.0,
    )


@pytest.mark.parametrize(("conn1", "shift_deg"), [("wye", 0.0), ("delta", -30.0)])
def test_transformer_ratio_tap_and_phase_shift(conn1: str, shift_deg: float) -> None:
    base = {"src": V_LN, "b": V_LN, "lv": 0.48 / np.sqrt(3.0)}
    res = solve_threephase(_feeder(transformers=(_bank(conn1, tap=1.025),), base=base))
    c = res.compiled
    hv, lv = res.v_pu[c.index["b.1"]], res.v_pu[c.index["lv.1"]]
    assert abs(abs(lv) / abs(hv) - 1.025) < 1e-6  # no load: ratio × tap
    assert abs(np.angle(lv / hv, deg=True) - shift_deg) < 1e-6


def test_regulator_brings_voltage_into_band() -> None:
    reg_t = Transformer(
        "reg",
        1,
        (Winding("b", (1, 0), "wye", 2.4, 1666.0, 0.005), Winding("r", (1, 0), "wye", 2.4, 1666.0, 0.005)),
        xhl_pct=0.01,
    )
    load = Load("ld", "r", (1, 0), 1, "wye", 500.0, 250.0, 2.4)
    reg = Regulator("reg", "reg", 2, vreg=122.0, band=2.0, pt_ratio=20.0, ct_primary_a=700.0)
    model = _feeder(
        loads=(load,), transformers=(reg_t,), regulators=(reg,), base={"src": V_LN, "b": V_LN, "r": 2.4}
    )
    out = solve_with_regulators(model)
    assert out.converged and out.taps["reg"] > 1.0
    v_r = abs(out.result.v[out.result.compiled.index["r.1"]]) / 20.0
    assert abs(v_r - 122.0) <= 1.0
    fixed = solve_threephase(model)  # neutral tap: below the band
    assert abs(fixed.v[fixed.compiled.index["r.1"]]) / 20.0 < 121.0


def test_islanded_nodes_are_dead_and_the_rest_solves() -> None:
    # a load on a bus no line reaches (as after opening the line that fed it): 0 V there, normal elsewhere
    fed = Load("fed", "b", (1, 2, 3, 0), 3, "wye", 300.0, 100.0, KV)
    stranded = Load("st", "c", (1, 0), 1, "wye", 100.0, 50.0, V_LN)
    alone = solve_threephase(_feeder(loads=(fed,)))
    both = solve_threephase(_feeder(loads=(fed, stranded)))
    assert both.converged
    i_c = both.compiled.index["c.1"]
    assert not both.energized[i_c] and both.v[i_c] == 0
    i_b = both.compiled.index["b.1"]
    assert abs(both.v[i_b] - alone.v[alone.compiled.index["b.1"]]) < 1e-6


def test_batched_load_scenarios_equal_one_by_one_solves() -> None:
    from dataclasses import replace

    from fluxops.network.threephase import solve_scenarios
    from fluxops.network.threephase.ybus import compile_threephase

    loads = (
        Load("pq", "b", (1, 2, 3, 0), 3, "wye", 600.0, 250.0, KV, model=1),
        Load("z", "b", (2, 3), 1, "delta", 200.0, 90.0, KV, model=2),
        Load("i", "b", (3, 0), 1, "wye", 150.0, 60.0, V_LN, model=5),
    )
    model = _feeder(loads=loads)
    mults = np.array([0.3, 1.0, 1.4])
    batch = solve_scenarios(compile_threephase(model), mults)
    assert batch.converged.all()
    for k, m in enumerate(mults):
        scaled = replace(model, loads=tuple(replace(ld, kw=ld.kw * m, kvar=ld.kvar * m) for ld in loads))
        one = solve_threephase(scaled)
        assert np.max(np.abs(batch.v[k] - one.v)) / (KV * 1000) < 1e-8
    # the scenarios really differ
    assert np.ptp(np.abs(batch.v_pu[:, batch.compiled.index["b.1"]])) > 0.002


def test_load_scale_reuses_the_factorization_exactly() -> None:
    from dataclasses import replace

    from fluxops.network.threephase.solver import solve_compiled
    from fluxops.network.threephase.ybus import compile_threephase

    load = Load("pq", "b", (1, 2, 3, 0), 3, "wye", 600.0, 250.0, KV)
    c = compile_threephase(_feeder(loads=(load,)))
    scaled = solve_compiled(c, load_scale=0.5)
    direct = solve_threephase(_feeder(loads=(replace(load, kw=300.0, kvar=125.0),)))
    assert np.max(np.abs(scaled.v - direct.v)) / (KV * 1000) < 1e-8


@pytest.mark.parametrize("model_code", [1, 5])
def test_low_voltage_load_current_follows_opendss_interpolation(model_code: int) -> None:
    from fluxops.network.threephase.solver import load_currents
    from fluxops.network.threephase.ybus import compile_threephase

    load = Load("ld", "b", (1, 0), 1, "wye", 100.0, 50.0, V_LN, model=model_code)
    c = compile_threephase(_feeder(loads=(load,)))
    vn = V_LN * 1000.0
    yeq = complex(100e3, -50e3) / vn**2

    def current(vpu: float) -> complex:
        return complex(load_currents(c, np.array([vpu * vn + 0j]))[0])

    # continuous at vmin for constant PQ (OpenDSS's interpolation starts from the vmin current)
    if model_code == 1:
        assert abs(abs(current(0.95 - 1e-9)) - abs(current(0.95 + 1e-9))) < 1e-6
    # continuous at vlow = 0.5 and plain nominal impedance below it
    assert abs(current(0.5 - 1e-9) - current(0.5 + 1e-9)) < 1e-6
    assert abs(current(0.3) - yeq * 0.3 * vn) < 1e-9
    # in between: the magnitude is linear in |V| from vlow to vmin
    mags = [abs(current(v)) for v in (0.6, 0.7, 0.8)]
    assert abs((mags[2] - mags[1]) - (mags[1] - mags[0])) < 1e-9
    assert mags[0] < mags[1] < mags[2]
