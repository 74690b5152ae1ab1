"""An OpenDSS script's own three-phase model (`FeederModel`), read from our parser's `DssCircuit`.

Why beside the pandapower mapping: the balanced import keeps only sequence values, but
``model=three_phase`` on an imported feeder must solve the file's circuit as written — line-code 3×3
matrices, single-phase regulators with their controls, transformer connections, capacitors, wye and delta
loads on their own phases. OpenDSS itself is not a product dependency, so this reads the parsed script
with OpenDSS's documented defaults (Vsource, Line, LineCode, Transformer, Load, Capacitor, RegControl)
where a property is left out. ``tests/crossval`` checks the result element by element against the model
the DSS engine builds from the same file. Taps start neutral; the regulator controller sets them.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from fluxops.grid.importers.opendss_parser import DssCircuit, DssObject, array, err, matrix, number, unwrap
from fluxops.network.threephase.model import (
    Capacitor,
    Connection,
    FeederModel,
    Line,
    LineCode,
    Load,
    Regulator,
    Source,
    Transformer,
    Winding,
)

# OpenDSS defaults (its Line/LineCode: ohm and nF per unit length, units "none")
_LINE_SEQ = {"r1": 0.058, "x1": 0.1206, "r0": 0.1784, "x0": 0.4047, "c1": 3.4, "c0": 1.6}
_SWITCH_SEQ = {"r1": 1.0, "x1": 1.0, "r0": 1.0, "x0": 1.0, "c1": 1.1, "c0": 1.0}


def _num(o: DssObject, key: str, default: float) -> float:
    v = o.props.get(key)
    if v is None:
        return default
    try:
        return number(v)
    except (ValueError, ZeroDivisionError, IndexError) as exc:
        raise err(o.file, o.line, f"{o.cls}.{o.name}", key, f"is not a number: {v!r}") from exc


def _terminal(ref: Any) -> tuple[str, list[int]]:
    parts = unwrap(str(ref)).lower().split(".")
    return parts[0], [int(p) for p in parts[1:] if p.isdigit()]


def _conn(v: Any) -> Connection:
    return "delta" if unwrap(str(v)).lower() in ("delta", "d", "ll") else "wye"


def _nodes(given: list[int], n: int, neutral: bool) -> tuple[int, ...]:
    """Conductor nodes as OpenDSS fills them: a bare bus is 1, 2, 3 …; a bus with nodes named pads the
    conductors it leaves out with 0 (ground); a wye neutral is 0 unless named."""
    total = n + int(neutral)
    if not given:
        return (*range(1, n + 1), *([0] if neutral else []))
    return tuple((list(given) + [0] * total)[:total])


def _seq_matrix(n: int, a1: float, a0: float) -> np.ndarray:
    s, m = (2.0 * a1 + a0) / 3.0, (a0 - a1) / 3.0
    return np.full((n, n), m) + np.eye(n) * (s - m)


def _code(o: DssObject) -> LineCode:
    n = int(_num(o, "nphases", 3))
    mats = {}
    for key, ak in (("rmatrix", "r"), ("xmatrix", "x"), ("cmatrix", "c")):
        if key in o.props:
            mats[ak] = np.asarray(matrix(o.props[key]), dtype=np.float64)
        else:
            mats[ak] = _seq_matrix(
                n, _num(o, f"{ak}1", _LINE_SEQ[f"{ak}1"]), _num(o, f"{ak}0", _LINE_SEQ[f"{ak}0"])
            )
    units = unwrap(str(o.props.get("units", "none"))).lower()
    return LineCode(o.name, mats["r"], mats["x"], mats["c"], units)


def _line(o: DssObject, codes: dict[str, LineCode]) -> Line:
    b1, n1 = _terminal(o.props.get("bus1", ""))
    b2, n2 = _terminal(o.props.get("bus2", b1))
    switch = unwrap(str(o.props.get("switch", "no"))).lower() in ("y", "yes", "true", "t")
    cname = unwrap(str(o.props.get("linecode", ""))).lower()
    own = any(k in o.props for k in ("r1", "x1", "r0", "x0", "c1", "c0", "rmatrix", "xmatrix", "cmatrix"))
    if cname and not own:
        if cname not in codes:
            raise err(o.file, o.line, f"line.{o.name}", "linecode", f"{cname!r} is not defined")
        code = codes[cname]
        n = int(_num(o, "phases", code.n_phases))
    else:
        n = int(_num(o, "phases", 3))
        seq = dict(_SWITCH_SEQ if switch else _LINE_SEQ)
        seq.update({k: _num(o, k, v) for k, v in seq.items()})
        code = LineCode(
            f"{o.name}-own",
            _seq_matrix(n, seq["r1"], seq["r0"]),
            _seq_matrix(n, seq["x1"], seq["x0"]),
            _seq_matrix(n, seq["c1"], seq["c0"]),
            "none",
        )
    default_len = 0.001 if switch else 1.0
    units = unwrap(str(o.props.get("units", "none"))).lower()
    if switch and "units" not in o.props:
        units = "none"
    return Line(
        name=o.name,
        bus1=b1,
        nodes1=_nodes(n1, n, False),
        bus2=b2,
        nodes2=_nodes(n2, n, False),
        linecode=code,
        length=_num(o, "length", default_len),
        length_units=units,
        is_switch=switch,
    )


def _transformer(o: DssObject) -> Transformer:
    n = int(_num(o, "phases", 3))
    nw = int(_num(o, "windings", 2))
    if nw != 2:
        raise err(o.file, o.line, f"transformer.{o.name}", "windings", f"is {nw}: only two-winding units")
    w = [dict(x) for x in o.windings] + [{} for _ in range(max(0, 2 - len(o.windings)))]
    for key, col in (
        ("buses", "bus"),
        ("kvs", "kv"),
        ("kvas", "kva"),
        ("conns", "conn"),
        ("%rs", "%r"),
        ("taps", "tap"),
    ):
        if key in o.props:
            for i, v in enumerate(array(o.props[key])[:2]):
                w[i].setdefault(col, v)
    r_default = _num(o, "%loadloss", 0.4) / 2.0
    kva_all = o.props.get("kva")
    wdgs = []
    for wd in w[:2]:
        bus, nodes = _terminal(wd.get("bus", ""))
        wdgs.append(
            Winding(
                bus=bus,
                nodes=_nodes(nodes, n, True),
                conn=_conn(wd.get("conn", "wye")),
                kv=number(wd.get("kv", 12.47)),
                kva=number(wd.get("kva", kva_all if kva_all is not None else 1000.0)),
                r_pct=number(wd.get("%r", r_default)),
                tap=number(wd.get("tap", 1.0)),
            )
        )
    return Transformer(
        name=o.name,
        phases=n,
        windings=(wdgs[0], wdgs[1]),
        xhl_pct=_num(o, "xhl", _num(o, "x12", 7.0)),
        ppm_antifloat=_num(o, "ppm_antifloat", _num(o, "ppm", 1.0)),  # DSS accepts the abbreviation
        min_tap=_num(o, "mintap", 0.9),
        max_tap=_num(o, "maxtap", 1.1),
        num_taps=int(_num(o, "numtaps", 32)),
    )


def _load(o: DssObject) -> Load:
    n = int(_num(o, "phases", 3))
    conn = _conn(o.props.get("conn", "wye"))
    bus, nodes = _terminal(o.props.get("bus1", ""))
    kw = _num(o, "kw", 10.0)
    if "kvar" in o.props:
        kvar = _num(o, "kvar", 0.0)
    else:
        pf = _num(o, "pf", 0.88)
        kvar = math.copysign(kw * math.tan(math.acos(min(abs(pf), 1.0))), pf)
    # OpenDSS: a wye load has a neutral conductor; a 1- or 2-phase delta load names its two conductors
    nd = _nodes(nodes, n, True) if conn == "wye" else _nodes(nodes, n + 1 if n in (1, 2) else n, False)
    return Load(
        name=o.name,
        bus=bus,
        nodes=nd,
        phases=n,
        conn=conn,
        kw=kw,
        kvar=kvar,
        kv=_num(o, "kv", 12.47),
        model=int(_num(o, "model", 1)),
        vminpu=_num(o, "vminpu", 0.95),
        vmaxpu=_num(o, "vmaxpu", 1.05),
        cvr_watts=_num(o, "cvrwatts", 1.0),
        cvr_vars=_num(o, "cvrvars", 2.0),
    )


def _capacitor(o: DssObject) -> Capacitor:
    n = int(_num(o, "phases", 3))
    bus, nodes = _terminal(o.props.get("bus1", ""))
    _, nodes2 = _terminal(o.props.get("bus2", bus + ".0.0.0"))
    kvar = array(o.props["kvar"]) if "kvar" in o.props else ["1200"]
    return Capacitor(
        name=o.name,
        bus=bus,
        nodes1=_nodes(nodes, n, False),
        nodes2=tuple((nodes2 + [0] * n)[:n]),
        phases=n,
        conn=_conn(o.props.get("conn", "wye")),
        kvar=sum(number(k) for k in kvar),
        kv=_num(o, "kv", 12.47),
    )


def _regulator(o: DssObject) -> Regulator:
    return Regulator(
        name=o.name,
        transformer=unwrap(str(o.props.get("transformer", ""))).lower(),
        winding=int(_num(o, "winding", 1)),
        vreg=_num(o, "vreg", 120.0),
        band=_num(o, "band", 3.0),
        pt_ratio=_num(o, "ptratio", 60.0),
        ct_primary_a=_num(o, "ctprim", 300.0),
        r_v=_num(o, "r", 0.0),
        x_v=_num(o, "x", 0.0),
        pt_phase=int(_num(o, "ptphase", 1)),
        max_tap_change=int(_num(o, "maxtapchange", 16)),
    )


def _source(o: DssObject) -> Source:
    """Vsource: Z1 and Z0 from the short-circuit MVA (X/R 4 and 3), unless given in ohm."""
    kv = _num(o, "basekv", 115.0)
    bus, nodes = _terminal(o.props.get("bus1", "sourcebus"))
    if "r1" in o.props or "x1" in o.props:
        r1, x1 = _num(o, "r1", 1.65), _num(o, "x1", 6.6)
        r0, x0 = _num(o, "r0", 1.9), _num(o, "x0", 5.7)
    else:
        x1r1, x0r0 = _num(o, "x1r1", 4.0), _num(o, "x0r0", 3.0)
        z1 = kv**2 / _num(o, "mvasc3", 2000.0)
        r1 = z1 / math.sqrt(1.0 + x1r1**2)
        x1 = r1 * x1r1
        zs3 = 3.0 * kv**2 / _num(o, "mvasc1", 2100.0)  # |2·Z1 + Z0|
        a, b, c = 1.0 + x0r0**2, 4.0 * (r1 + x1 * x0r0), 4.0 * (r1**2 + x1**2) - zs3**2
        r0 = (-b + math.sqrt(b * b - 4.0 * a * c)) / (2.0 * a)
        x0 = r0 * x0r0
    return Source(
        bus=bus,
        nodes=_nodes(nodes, int(_num(o, "phases", 3)), False),
        kv_ll=kv,
        pu=_num(o, "pu", 1.0),
        angle_deg=_num(o, "angle", 0.0),
        r1_ohm=r1,
        x1_ohm=x1,
        r0_ohm=r0,
        x0_ohm=x0,
    )


def _base_kv_ln(source: Source, lines: list[Line], xfs: list[Transformer]) -> dict[str, float]:
    """Each bus's nominal line-to-neutral kV: the source's, carried through transformer ratios."""
    adj: dict[str, list[tuple[str, float]]] = {}
    for ln in lines:
        adj.setdefault(ln.bus1, []).append((ln.bus2, 1.0))
        adj.setdefault(ln.bus2, []).append((ln.bus1, 1.0))
    for t in xfs:
        w1, w2 = t.windings
        adj.setdefault(w1.bus, []).append((w2.bus, w2.kv / w1.kv))
        adj.setdefault(w2.bus, []).append((w1.bus, w1.kv / w2.kv))
    base = {source.bus: source.kv_ll / math.sqrt(3.0)}
    todo = deque([source.bus])
    while todo:
        b = todo.popleft()
        for nb, ratio in adj.get(b, []):
            if nb not in base:
                base[nb] = base[b] * ratio
                todo.append(nb)
    return base


def feeder_model(c: DssCircuit) -> FeederModel:
    """The script's circuit as a `FeederModel` (open and disabled elements left out, taps as written)."""

    def objs(cls: str) -> list[DssObject]:
        out = [o for (k, _), o in c.objects.items() if k == cls]
        return [
            o for o in out if unwrap(str(o.props.get("enabled", "yes"))).lower() not in ("no", "false", "n")
        ]

    circuit = objs("circuit")
    if not circuit:
        raise err("?", 0, "Circuit", "New Circuit", "is missing: no source is defined")
    codes = {o.name: _code(o) for o in objs("linecode")}
    lines = [_line(o, codes) for o in objs("line") if o.name not in c.opened]
    xfs = [_transformer(o) for o in objs("transformer")]
    source = _source(circuit[0])
    return FeederModel(
        name=c.name,
        source=source,
        lines=tuple(lines),
        transformers=tuple(xfs),
        loads=tuple(_load(o) for o in objs("load")),
        capacitors=tuple(_capacitor(o) for o in objs("capacitor")),
        regulators=tuple(_regulator(o) for o in objs("regcontrol")),
        base_kv_ln=_base_kv_ln(source, lines, xfs),
        frequency_hz=60.0,
    )
