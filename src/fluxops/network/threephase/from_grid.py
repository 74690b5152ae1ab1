"""The product's grids as three-phase models: one source's island of a compiled grid → `FeederModel`.

Why an adapter: the asset model stores each segment's positive-sequence impedance and its phases
(``line_segments.phases``), each transformer's phases and each bus's load; the three-phase solver wants
per-phase matrices, per-phase loads and a Thevenin source. Conversion rules:

* **lines**: ``Z = Z1·(I + (k − 1)/3 · 1)`` on the phases the segment carries, i.e. self
  ``Zs = (Z0 + 2·Z1)/3`` and mutual ``Zm = (Z0 − Z1)/3`` with ``Z0 = k·Z1``, ``k = Z0_OVER_Z1 = 3.2``
  (IEEE 13 configuration 601: Z1 = 0.186 + j0.597, Z0 = 0.653 + j1.907 Ω/mi, Z0/Z1 = 3.22 − j0.09). A
  balanced current sees exactly ``Z1`` (so balanced loads give the balanced solver's answer); a
  single-phase lateral's return path makes its drop ``Zs/Z1 = 1.73`` times larger per ampere.
* **devices** (closed breakers, reclosers, fuses, switches) have no impedance in the asset model: their
  buses are merged (open ones and failed elements are simply absent).
* **loads**: each bus's three-phase load split over A/B/C by the phases of its transformers
  (`bus_phase_share`), as wye constant-power elements (constant power down to 0.6 pu, as the balanced
  solver; OpenDSS's own default switches to constant impedance at 0.95 pu).
* **source**: the substation transformer as a Thevenin source at its LV bus (Z0 = Z1: a delta-wye
  grounded bank's zero-sequence path is its leakage impedance), at ``source_v_pu``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from fluxops.core.errors import InvalidInputError
from fluxops.grid.models import Grid
from fluxops.grid.phases import phase_matrix, transformer_phase_share
from fluxops.network.compiled import EDGE_DEVICE, EDGE_LINE, CompiledGrid
from fluxops.network.energization import EnergizationResult
from fluxops.network.threephase.model import FeederModel, Line, LineCode, Load, Source

Z0_OVER_Z1 = 3.2
VMIN_PU = 0.6  # constant power above this, as the balanced sweep
VMAX_PU = 1.5
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolMatrix = npt.NDArray[np.bool_]
_SQRT3 = float(np.sqrt(3.0))


def edge_phases(grid: Grid, cg: CompiledGrid) -> BoolMatrix:
    """(edges, 3): the phases each compiled edge carries (segments and devices; unknown → ABC)."""
    ph = pd.concat(
        [
            grid.line_segments[["segment_id", "phases"]].set_axis(["id", "phases"], axis=1),
            grid.devices[["device_id", "phases"]].set_axis(["id", "phases"], axis=1),
        ]
    ).drop_duplicates("id")
    by_id = ph.set_index("id")["phases"].reindex(pd.Index(cg.edge_ids.astype(object)))
    return phase_matrix(by_id.to_numpy(dtype=object))


def bus_phase_share(cg: CompiledGrid, grid: Grid) -> FloatArray:
    """(buses, 3): the share of each bus's load on A, B, C, weighted by its transformers' design load
    (a bus without transformers: 1/3 each)."""
    xf = grid.transformers.set_index("transformer_id")
    share = transformer_phase_share(grid)
    pos = pd.Index(xf.index).get_indexer(pd.Index(cg.xfmr_ids.astype(object)))
    s = np.where(pos[:, None] >= 0, share[np.maximum(pos, 0)], 1.0 / 3.0)
    w = np.maximum(np.asarray(cg.xfmr_p_kw, np.float64), 0.0) + 1e-9  # a 0-kW unit still says its phases
    acc = np.zeros((cg.n_bus, 3))
    np.add.at(acc, np.asarray(cg.xfmr_bus), s * w[:, None])
    tot = acc.sum(axis=1, keepdims=True)
    out: FloatArray = np.where(tot > 0, acc / np.where(tot > 0, tot, 1.0), 1.0 / 3.0)
    return out


@dataclass(frozen=True, eq=False)
class GridThreePhase:
    """A source island as a `FeederModel` plus the maps back to the compiled grid's buses."""

    model: FeederModel
    source: int
    bus_rep: IntArray  # per compiled bus: the merged bus it belongs to (−1: not in the island)
    bus_phases: BoolMatrix  # per compiled bus: phases present there (False outside the island)
    load_bus_phase: IntArray  # per model load: merged bus · 3 + phase
    bus_names: npt.NDArray[np.object_]  # compiled bus ids (model bus names are those of merged buses)
    moved_load_kw: float  # load on a phase its bus does not have, spread over the phases present


def build_threephase(
    cg: CompiledGrid,
    energization: EnergizationResult,
    source: int,
    phases: BoolMatrix,
    p_kw: FloatArray,
    q_kvar: FloatArray,
    *,
    v_source_pu: float | None = None,
    merged: IntArray | None = None,
) -> GridThreePhase:
    """The island fed by ``source`` (a position in ``cg.source_ids``) with per-phase loads ``p_kw`` /
    ``q_kvar`` of shape (buses, 3), consumption positive. ``phases``: `edge_phases`. ``merged``: the
    `merged_buses` of this energization, when building many islands of one grid (computed once)."""
    if not 0 <= source < cg.n_source:
        raise InvalidInputError(f"no source {source}", field="source")
    in_island = np.asarray(energization.bus_source) == source
    live = np.asarray(energization.edge_energized) & in_island[cg.from_bus] & in_island[cg.to_bus]
    n = cg.n_bus
    rep = np.where(in_island, merged_buses(cg, energization) if merged is None else merged, -1)

    line = np.flatnonzero(live & (cg.edge_kind == EDGE_LINE))
    a, b = rep[cg.from_bus[line]], rep[cg.to_bus[line]]
    keep = a != b
    line, a, b = line[keep], a[keep], b[keep]
    present = np.zeros((n, 3), dtype=bool)
    src_bus = int(rep[cg.source_bus[source]]) if in_island[cg.source_bus[source]] else -1
    if src_bus < 0:
        raise InvalidInputError(f"source {cg.source_ids[source]} is not energized", field="source")
    present[src_bus] = True
    np.logical_or.at(present, a, phases[line])
    np.logical_or.at(present, b, phases[line])
    names = cg.bus_ids
    lines = _lines(cg, line, a, b, phases, names)

    # loads on the merged buses; a phase the bus lacks passes its load to the phases it has
    p3 = np.zeros((n, 3))
    q3 = np.zeros((n, 3))
    isl = np.flatnonzero(in_island)
    np.add.at(p3, rep[isl], np.asarray(p_kw, np.float64)[isl])
    np.add.at(q3, rep[isl], np.asarray(q_kvar, np.float64)[isl])
    missing = ~present & (np.abs(p3) + np.abs(q3) > 0)
    moved = float(np.abs(p3[missing]).sum())
    if missing.any():
        cnt = np.maximum(present.sum(axis=1, keepdims=True), 1)
        for arr in (p3, q3):
            extra = np.where(missing, arr, 0.0).sum(axis=1, keepdims=True)
            arr[:] = np.where(present, arr + extra / cnt, 0.0)
    bus_i, ph_i = np.nonzero(np.abs(p3) + np.abs(q3) > 0)
    kv_ln = cg.v_base_kv / _SQRT3
    loads = [
        Load(
            name=f"{names[i]}.{j + 1}",
            bus=str(names[i]),
            nodes=(j + 1, 0),
            phases=1,
            conn="wye",
            kw=float(p3[i, j]),
            kvar=float(q3[i, j]),
            kv=float(kv_ln[i]),
            vminpu=VMIN_PU,
            vmaxpu=VMAX_PU,
        )
        for i, j in zip(bus_i.tolist(), ph_i.tolist(), strict=True)
    ]
    vs = float(cg.source_v_pu[source] if v_source_pu is None else v_source_pu)
    r1, x1 = float(cg.source_r_ohm[source]), float(cg.source_x_ohm[source])
    src = Source(str(names[src_bus]), (1, 2, 3), float(cg.v_base_kv[src_bus]), vs, 0.0, r1, x1, r1, x1)
    used = np.flatnonzero(rep == np.arange(n))
    model = FeederModel(
        name=str(cg.source_ids[source]),
        source=src,
        lines=tuple(lines),
        transformers=(),
        loads=tuple(loads),
        capacitors=(),
        base_kv_ln={str(names[i]): float(kv_ln[i]) for i in used.tolist()},
    )
    bus_phases = np.where(rep[:, None] >= 0, present[np.maximum(rep, 0)], False)
    return GridThreePhase(model, source, rep, bus_phases, (bus_i * 3 + ph_i).astype(np.int64), names, moved)


def merged_buses(cg: CompiledGrid, energization: EnergizationResult) -> IntArray:
    """Per bus, the lowest bus position joined to it by energized closed devices (zero impedance)."""
    n = cg.n_bus
    dev = np.asarray(energization.edge_energized) & (cg.edge_kind == EDGE_DEVICE)
    merge = sparse.coo_matrix((np.ones(int(dev.sum())), (cg.from_bus[dev], cg.to_bus[dev])), shape=(n, n))
    _, label = csgraph.connected_components(merge, directed=False)
    first = np.full(int(label.max()) + 1, -1, dtype=np.int64)
    order = np.arange(n)[::-1]
    first[label[order]] = order
    out: IntArray = first[label].astype(np.int64)
    return out


def _lines(
    cg: CompiledGrid,
    line: IntArray,
    a: IntArray,
    b: IntArray,
    phases: BoolMatrix,
    names: npt.NDArray[np.object_],
) -> list[Line]:
    """`Line` per live segment, matrices built per phase set at once (no per-line array work)."""
    k = Z0_OVER_Z1
    mask = phases[line] @ np.array([1, 2, 4])
    z1 = cg.r_ohm[line] + 1j * cg.x_ohm[line]
    out: list[Line | None] = [None] * len(line)
    for m_code in np.unique(mask).tolist():
        sel = np.flatnonzero(mask == m_code)
        nodes = tuple(j + 1 for j in range(3) if m_code >> j & 1)
        m = len(nodes)
        shape = np.eye(m) + (k - 1.0) / 3.0 * np.ones((m, m))
        z = z1[sel, None, None] * shape[None]
        re = np.ascontiguousarray(z.real, dtype=np.float64)
        im = np.ascontiguousarray(z.imag, dtype=np.float64)
        c0 = np.zeros((m, m))
        for r, i in enumerate(sel.tolist()):
            e = str(cg.edge_ids[line[i]])
            code = LineCode(e, re[r], im[r], c0, "none")
            out[i] = Line(e, str(names[a[i]]), nodes, str(names[b[i]]), nodes, code, 1.0)
    return [x for x in out if x is not None]


def node_positions(g: GridThreePhase, node_index: dict[str, int]) -> IntArray:
    """(buses, 3): position of each compiled bus's phase node in a solved vector (−1: absent), given
    the compiled model's ``index`` ("bus.k" → position)."""
    out = np.full((len(g.bus_rep), 3), -1, dtype=np.int64)
    rows = np.flatnonzero(g.bus_rep >= 0)
    rep_names = g.bus_names[g.bus_rep[rows]]
    for j in range(3):
        out[rows, j] = [node_index.get(f"{b}.{j + 1}", -1) for b in rep_names]
    return out


def bus_phase_voltages(pos: IntArray, v: npt.ArrayLike) -> npt.NDArray[np.complex128]:
    """Per compiled bus and phase, the entries of a solved vector ``v`` (nodes,) or stack (K, nodes);
    nan where the phase is absent. ``pos``: `node_positions`."""
    arr = np.asarray(v, dtype=np.complex128)
    ext = np.concatenate([arr, np.full((*arr.shape[:-1], 1), np.nan + 0j)], axis=-1)
    out: npt.NDArray[np.complex128] = ext[..., np.where(pos >= 0, pos, ext.shape[-1] - 1)]
    return out


_A = np.exp(2j * np.pi / 3)


def vuf_pct(v_abc: npt.NDArray[np.complex128]) -> FloatArray:
    """Voltage unbalance factor |V2| / |V1| in % per row of (…, 3) phase voltages (IEC/IEEE "true"
    definition; ANSI C84.1 recommends ≤ 3 % at the service); nan where a phase is absent."""
    va, vb, vc = v_abc[..., 0], v_abc[..., 1], v_abc[..., 2]
    v1 = (va + _A * vb + _A**2 * vc) / 3.0
    v2 = (va + _A**2 * vb + _A * vc) / 3.0
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = np.abs(v2) / np.abs(v1) * 100.0
    return out
