"""Read an OpenDSS circuit into the per-phase ``FeederModel`` of ``fluxops.network.threephase``.

Reads through ``opendssdirect`` (the DSS C-API engine, a dev/test dependency, imported inside the
functions): the engine parses the script, expands ``like=``/RPN and sequence impedances, and this module
copies out the raw element data — line-code matrices and units, line lengths, winding kV/kVA/%r/XHL/taps,
connections and node orders, load and capacitor ratings, regulator settings, the source's Z1/Z0. No
admittance, voltage or current of the engine goes into the model; those are read separately
(``opendss_solution``) as the reference to compare with.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

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

# DSS LineUnits enumeration
_UNITS = {0: "none", 1: "mi", 2: "kft", 3: "km", 4: "m", 5: "ft", 6: "in", 7: "cm", 8: "mm"}


def _dss() -> Any:
    import opendssdirect as dss  # type: ignore[import-untyped]

    return dss


def _square(values: Any, n: int) -> npt.NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.size != n * n:
        arr = np.zeros(n * n) if arr.size == 0 else arr[: n * n]
    return arr.reshape(n, n)


def _bus(name: str) -> str:
    return name.split(".")[0].lower()


def _query(cmd: str) -> str:
    dss = _dss()
    dss.Text.Command(f"? {cmd}")
    return str(dss.Text.Result())


def compile_script(script: Path, *, solve: bool = True) -> None:
    """``clear``, ``compile`` the script (it may solve itself), and solve once more when asked."""
    dss = _dss()
    dss.Text.Command("clear")
    dss.Text.Command(f'compile "{script}"')
    if solve:
        dss.Solution.Solve()


def read_feeder(name: str = "feeder") -> FeederModel:
    """The active OpenDSS circuit as a ``FeederModel`` (taps as the engine holds them now)."""
    dss = _dss()
    codes: dict[str, LineCode] = {}
    ok = dss.LineCodes.First()
    while ok:
        n = int(dss.LineCodes.Phases())
        cname = str(dss.LineCodes.Name()).lower()
        codes[cname] = LineCode(
            name=cname,
            r_ohm_per_unit=_square(dss.LineCodes.Rmatrix(), n),
            x_ohm_per_unit=_square(dss.LineCodes.Xmatrix(), n),
            c_nf_per_unit=_square(dss.LineCodes.Cmatrix(), n),
            units=_UNITS.get(int(dss.LineCodes.Units()), "none"),
        )
        ok = dss.LineCodes.Next()

    lines: list[Line] = []
    ok = dss.Lines.First()
    while ok:
        lname = str(dss.Lines.Name()).lower()
        ce = dss.CktElement
        if ce.Enabled() and not any(ce.IsOpen(term, 0) for term in (1, 2)):
            n = int(dss.Lines.Phases())
            order = [int(x) for x in ce.NodeOrder()]
            b1, b2 = (str(b) for b in ce.BusNames())
            code_name = str(dss.Lines.LineCode()).lower()
            units = _UNITS.get(int(dss.Lines.Units()), "none")
            code = codes.get(code_name)
            if code is None or code.n_phases != n:
                code = LineCode(
                    name=f"{lname}-own",
                    r_ohm_per_unit=_square(dss.Lines.RMatrix(), n),
                    x_ohm_per_unit=_square(dss.Lines.XMatrix(), n),
                    c_nf_per_unit=_square(dss.Lines.CMatrix(), n),
                    units=units,
                )
            lines.append(
                Line(
                    name=lname,
                    bus1=_bus(b1),
                    nodes1=tuple(order[:n]),
                    bus2=_bus(b2),
                    nodes2=tuple(order[n:]),
                    linecode=code,
                    length=float(dss.Lines.Length()),
                    length_units=units,
                    is_switch=bool(dss.Lines.IsSwitch()),
                )
            )
        ok = dss.Lines.Next()

    transformers: list[Transformer] = []
    ok = dss.Transformers.First()
    while ok:
        tname = str(dss.Transformers.Name()).lower()
        ce = dss.CktElement
        nph = int(ce.NumPhases())
        nc = nph + 1
        order = [int(x) for x in ce.NodeOrder()]
        buses = [_bus(b) for b in ce.BusNames()]
        nw = int(dss.Transformers.NumWindings())
        if nw != 2:
            raise NotImplementedError(f"transformer {tname}: {nw} windings")
        wdgs: list[Winding] = []
        for w in (1, 2):
            dss.Transformers.Wdg(w)
            conn: Connection = "delta" if dss.Transformers.IsDelta() else "wye"
            wdgs.append(
                Winding(
                    bus=buses[w - 1],
                    nodes=tuple(order[(w - 1) * nc : w * nc]),
                    conn=conn,
                    kv=float(dss.Transformers.kV()),
                    kva=float(dss.Transformers.kVA()),
                    r_pct=float(dss.Transformers.R()),
                    tap=float(dss.Transformers.Tap()),
                )
            )
        dss.Transformers.Wdg(2)
        transformers.append(
            Transformer(
                name=tname,
                phases=nph,
                windings=(wdgs[0], wdgs[1]),
                xhl_pct=float(dss.Transformers.Xhl()),
                ppm_antifloat=float(_query(f"transformer.{tname}.ppm_antifloat")),
                min_tap=float(dss.Transformers.MinTap()),
                max_tap=float(dss.Transformers.MaxTap()),
                num_taps=int(dss.Transformers.NumTaps()),
            )
        )
        ok = dss.Transformers.Next()

    load_mult = float(dss.Solution.LoadMult())
    loads: list[Load] = []
    ok = dss.Loads.First()
    while ok:
        ce = dss.CktElement
        if ce.Enabled():
            lconn: Connection = "delta" if dss.Loads.IsDelta() else "wye"
            loads.append(
                Load(
                    name=str(dss.Loads.Name()).lower(),
                    bus=_bus(ce.BusNames()[0]),
                    nodes=tuple(int(x) for x in ce.NodeOrder()),
                    phases=int(dss.Loads.Phases()),
                    conn=lconn,
                    kw=float(dss.Loads.kW()) * load_mult,
                    kvar=float(dss.Loads.kvar()) * load_mult,
                    kv=float(dss.Loads.kV()),
                    model=int(dss.Loads.Model()),
                    vminpu=float(dss.Loads.Vminpu()),
                    vmaxpu=float(dss.Loads.Vmaxpu()),
                    cvr_watts=float(dss.Loads.CVRwatts()),
                    cvr_vars=float(dss.Loads.CVRvars()),
                )
            )
        ok = dss.Loads.Next()

    caps: list[Capacitor] = []
    ok = dss.Capacitors.First()
    while ok:
        ce = dss.CktElement
        if ce.Enabled():
            nph = int(ce.NumPhases())
            order = [int(x) for x in ce.NodeOrder()]
            half = len(order) // 2
            cconn: Connection = "delta" if dss.Capacitors.IsDelta() else "wye"
            caps.append(
                Capacitor(
                    name=str(dss.Capacitors.Name()).lower(),
                    bus=_bus(ce.BusNames()[0]),
                    nodes1=tuple(order[:half]),
                    nodes2=tuple(order[half:]),
                    phases=nph,
                    conn=cconn,
                    kvar=float(dss.Capacitors.kvar()),
                    kv=float(dss.Capacitors.kV()),
                )
            )
        ok = dss.Capacitors.Next()

    regs: list[Regulator] = []
    ok = dss.RegControls.First()
    while ok:
        rname = str(dss.RegControls.Name()).lower()
        ptphase = _query(f"regcontrol.{rname}.ptphase")
        regs.append(
            Regulator(
                name=rname,
                transformer=str(dss.RegControls.Transformer()).lower(),
                winding=int(dss.RegControls.Winding()),
                vreg=float(dss.RegControls.ForwardVreg()),
                band=float(dss.RegControls.ForwardBand()),
                pt_ratio=float(dss.RegControls.PTRatio()),
                ct_primary_a=float(dss.RegControls.CTPrimary()),
                r_v=float(dss.RegControls.ForwardR()),
                x_v=float(dss.RegControls.ForwardX()),
                pt_phase=int(ptphase) if ptphase.strip().isdigit() else 1,
                max_tap_change=int(dss.RegControls.MaxTapChange()),
            )
        )
        ok = dss.RegControls.Next()

    dss.Vsources.First()
    vs_name = str(dss.Vsources.Name()).lower()
    dss.Circuit.SetActiveElement(f"Vsource.{vs_name}")
    order = [int(x) for x in dss.CktElement.NodeOrder()]
    nph = int(dss.CktElement.NumPhases())
    source = Source(
        bus=_bus(dss.CktElement.BusNames()[0]),
        nodes=tuple(order[:nph]),
        kv_ll=float(dss.Vsources.BasekV()),
        pu=float(dss.Vsources.PU()),
        angle_deg=float(dss.Vsources.AngleDeg()),
        r1_ohm=float(_query(f"vsource.{vs_name}.r1")),
        x1_ohm=float(_query(f"vsource.{vs_name}.x1")),
        r0_ohm=float(_query(f"vsource.{vs_name}.r0")),
        x0_ohm=float(_query(f"vsource.{vs_name}.x0")),
    )

    base: dict[str, float] = {}
    for bname in dss.Circuit.AllBusNames():
        dss.Circuit.SetActiveBus(bname)
        base[str(bname).lower()] = float(dss.Bus.kVBase())
    return FeederModel(
        name=name,
        source=source,
        lines=tuple(lines),
        transformers=tuple(transformers),
        loads=tuple(loads),
        capacitors=tuple(caps),
        regulators=tuple(regs),
        base_kv_ln=base,
        frequency_hz=float(dss.Solution.Frequency()),
    )


@dataclass(frozen=True)
class OpenDSSSolution:
    """The engine's solved state: node voltages (complex V), element currents (A), regulator taps."""

    v_node: dict[str, complex]
    currents: dict[str, npt.NDArray[np.complex128]]
    taps: dict[str, float]
    converged: bool


def opendss_solution() -> OpenDSSSolution:
    """Read the active circuit's present solution."""
    dss = _dss()
    names = [str(n).lower() for n in dss.Circuit.AllNodeNames()]
    raw = np.asarray(dss.Circuit.AllBusVolts(), dtype=np.float64)
    volts = raw[0::2] + 1j * raw[1::2]
    currents: dict[str, npt.NDArray[np.complex128]] = {}
    for cls in ("Line", "Transformer"):
        for el in dss.Circuit.AllElementNames():
            if str(el).lower().startswith(cls.lower() + "."):
                dss.Circuit.SetActiveElement(el)
                c = np.asarray(dss.CktElement.Currents(), dtype=np.float64)
                key = f"{cls}.{str(el).split('.', 1)[1].lower()}"
                currents[key] = c[0::2] + 1j * c[1::2]
    taps: dict[str, float] = {}
    ok = dss.RegControls.First()
    while ok:
        t = str(dss.RegControls.Transformer()).lower()
        w = int(dss.RegControls.Winding())
        dss.Circuit.SetActiveElement(f"Transformer.{t}")
        dss.Transformers.Name(t)
        dss.Transformers.Wdg(w)
        taps[t] = float(dss.Transformers.Tap())
        ok = dss.RegControls.Next()
    return OpenDSSSolution(
        dict(zip(names, volts.tolist(), strict=True)),
        currents,
        taps,
        bool(dss.Solution.Converged()),
    )
