"""Per-phase network model of an unbalanced distribution feeder (inputs only; results live elsewhere).

A *terminal* is a bus name plus the node numbers of its conductors, as OpenDSS writes ``bus.1.2.3``:
node 1..3 are phases a..c, node 0 is ground (the reference, never a solved unknown), any other number is
an explicit neutral or auxiliary node. Conductor lists are ordered as the element's conductors, so a
two-phase lateral ``632.3.2`` keeps its c-b order and a single-phase lateral is one conductor.

Units are SI in the names (``kv``, ``kva``, ``kw``, ``ohm``, ``nf``); line matrices are per unit length in
``units`` (``mi``, ``kft``, ``km``, ``ft``, ``m``, ``none``) and converted by ``linecodes``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

FloatMatrix = npt.NDArray[np.float64]
Connection = Literal["wye", "delta"]


@dataclass(frozen=True, eq=False)
class LineCode:
    """Phase-frame (Kron-reduced) line parameters per unit length, as a DSS ``LineCode`` gives them."""

    name: str
    r_ohm_per_unit: FloatMatrix  # n×n
    x_ohm_per_unit: FloatMatrix  # n×n
    c_nf_per_unit: FloatMatrix  # n×n shunt capacitance (zeros when none)
    units: str = "none"

    @property
    def n_phases(self) -> int:
        return int(self.r_ohm_per_unit.shape[0])


@dataclass(frozen=True, eq=False)
class Line:
    """A line segment or switch: ``len(nodes1) == len(nodes2) == linecode.n_phases`` conductors."""

    name: str
    bus1: str
    nodes1: tuple[int, ...]
    bus2: str
    nodes2: tuple[int, ...]
    linecode: LineCode
    length: float
    length_units: str = "none"  # "none": the line code's units
    is_switch: bool = False


@dataclass(frozen=True)
class Winding:
    """One winding of a transformer: ``nodes`` are phase conductors then the neutral (nphases + 1)."""

    bus: str
    nodes: tuple[int, ...]
    conn: Connection
    kv: float  # line-line for a three-phase bank, coil voltage for a single-phase unit
    kva: float
    r_pct: float
    tap: float = 1.0  # per unit of kv


@dataclass(frozen=True)
class Transformer:
    """A two-winding transformer (bank or single-phase unit; a step-voltage regulator is one)."""

    name: str
    phases: int
    windings: tuple[Winding, Winding]
    xhl_pct: float
    ppm_antifloat: float = 1.0  # parts per million of the winding VA to ground (OpenDSS default)
    min_tap: float = 0.9
    max_tap: float = 1.1
    num_taps: int = 32

    @property
    def tap_increment(self) -> float:
        return (self.max_tap - self.min_tap) / self.num_taps


@dataclass(frozen=True)
class Load:
    """A wye or delta load; DSS load models 1 (constant PQ), 2 (const Z), 4 (exponential), 5 (const |I|).

    ``nodes``: wye → phases then neutral (nphases + 1); delta → phases (three-phase: a-b, b-c, c-a;
    single-phase: the two named conductors). Power is split equally over the phases.
    """

    name: str
    bus: str
    nodes: tuple[int, ...]
    phases: int
    conn: Connection
    kw: float
    kvar: float
    kv: float
    model: int = 1
    vminpu: float = 0.95
    vmaxpu: float = 1.05
    cvr_watts: float = 1.0
    cvr_vars: float = 2.0


@dataclass(frozen=True)
class Capacitor:
    """A fixed shunt capacitor bank; ``nodes1``/``nodes2`` as the DSS two-terminal element (bus2 = ground)."""

    name: str
    bus: str
    nodes1: tuple[int, ...]
    nodes2: tuple[int, ...]
    phases: int
    conn: Connection
    kvar: float
    kv: float


@dataclass(frozen=True)
class Source:
    """Thevenin source: balanced voltages behind a sequence impedance (Z1, Z0 in ohm)."""

    bus: str
    nodes: tuple[int, ...]
    kv_ll: float
    pu: float
    angle_deg: float
    r1_ohm: float
    x1_ohm: float
    r0_ohm: float
    x0_ohm: float


@dataclass(frozen=True)
class Regulator:
    """A step-voltage regulator controller on one transformer winding (DSS ``RegControl``).

    The controlled voltage is the winding's ``pt_phase`` coil voltage over ``pt_ratio`` (on a 120 V base)
    plus line-drop compensation ``(r_v + j x_v) · I / ct_primary_a`` with ``I`` the current into that
    winding terminal; taps move when it leaves ``vreg ± band/2``.
    """

    name: str
    transformer: str
    winding: int  # 1-based, as DSS
    vreg: float
    band: float
    pt_ratio: float
    ct_primary_a: float
    r_v: float = 0.0
    x_v: float = 0.0
    pt_phase: int = 1
    max_tap_change: int = 16


@dataclass(frozen=True, eq=False)
class FeederModel:
    """The whole feeder: elements plus each bus's nominal line-to-neutral kV (for per-unit results)."""

    name: str
    source: Source
    lines: tuple[Line, ...]
    transformers: tuple[Transformer, ...]
    loads: tuple[Load, ...]
    capacitors: tuple[Capacitor, ...]
    regulators: tuple[Regulator, ...] = ()
    base_kv_ln: dict[str, float] = field(default_factory=dict)
    frequency_hz: float = 60.0

    def with_taps(self, taps: dict[str, float]) -> FeederModel:
        """A copy whose transformers named in ``taps`` have that tap (pu) on their regulated winding 2."""
        from dataclasses import replace

        regulated = {r.transformer: r.winding for r in self.regulators}
        new = []
        for t in self.transformers:
            if t.name in taps:
                w = regulated.get(t.name, 2) - 1
                wdgs = list(t.windings)
                wdgs[w] = replace(wdgs[w], tap=taps[t.name])
                t = replace(t, windings=(wdgs[0], wdgs[1]))
            new.append(t)
        return replace(self, transformers=tuple(new))
