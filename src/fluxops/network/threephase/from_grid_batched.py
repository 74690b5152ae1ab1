"""Every source island of a product grid as ONE compiled three-phase system, assembled from arrays.

Why: `from_grid.build_threephase` + `ybus.compile_threephase` build one `FeederModel` per source island,
element by element (a `Line` object and a line code per segment, node names looked up in a dict). That
is right for one feeder on screen; 94 times over on the `demo` grid it was most of the AMI synthesizer's
start-up (setup 1.6 s → 8–14 s on a busy machine once meters read their own phase). Here the same model
(the conversion rules in `from_grid`'s docstring: Z = Z1·(I + (k − 1)/3·1) on the segment's phases,
devices merged, bus loads split over A/B/C as wye constant-power elements, Thevenin source with Z0 = Z1)
is stamped for all islands at once. Islands share no node, so Y is block diagonal and one factorization
and one fixed-point iteration (`solver.solve_compiled`) solve them all; each island's iterates are the
ones its own solve would make (the iteration stops when the slowest island has converged, so the others
end closer to their fixed point, by less than the tolerance).

A merged bus is keyed by (island, representative), so a device joining two islands (meshed imports)
leaves each island its own copy of the bus, as the per-island models do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

from fluxops.core.errors import InvalidInputError
from fluxops.network.compiled import EDGE_LINE, CompiledGrid
from fluxops.network.energization import EnergizationResult
from fluxops.network.threephase.from_grid import VMAX_PU, VMIN_PU, Z0_OVER_Z1, merged_buses
from fluxops.network.threephase.ybus import LOAD_MODEL_PQ, CompiledThreePhase

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ComplexArray = npt.NDArray[np.complex128]
BoolMatrix = npt.NDArray[np.bool_]
_SQRT3 = float(np.sqrt(3.0))


@dataclass(frozen=True, eq=False)
class IslandsThreePhase:
    """The compiled system and the maps back to the compiled grid's buses."""

    compiled: CompiledThreePhase
    bus_node: IntArray  # (buses, 3): node of each compiled bus's phase (−1: absent or not energized)
    sources: IntArray  # the live sources (positions in ``cg.source_ids``) it holds
    moved_load_kw: float  # load on a phase its bus does not have, spread over the phases present


@dataclass(frozen=True, eq=False)
class _Stamps:
    rows: list[IntArray]
    cols: list[IntArray]
    vals: list[ComplexArray]

    def add(self, yprims: ComplexArray, idx: IntArray) -> None:
        """Stamp primitives ``(m, k, k)`` over node indices ``(m, k)`` (none on ground here)."""
        k = idx.shape[1]
        self.rows.append(np.repeat(idx, k, axis=1).ravel())
        self.cols.append(np.tile(idx, (1, k)).ravel())
        self.vals.append(yprims.reshape(len(idx), k * k).ravel())

    def matrix(self, n: int) -> sparse.csc_matrix:
        rows, cols = np.concatenate(self.rows), np.concatenate(self.cols)
        return sparse.csc_matrix((np.concatenate(self.vals), (rows, cols)), shape=(n, n))


def compile_islands(
    cg: CompiledGrid,
    energization: EnergizationResult,
    phases: BoolMatrix,
    p_kw: FloatArray,
    q_kvar: FloatArray,
    *,
    v_source_pu: float | None = None,
    merged: IntArray | None = None,
) -> IslandsThreePhase:
    """All live source islands with per-phase loads ``p_kw`` / ``q_kvar`` (buses, 3), consumption
    positive; ``phases``: `from_grid.edge_phases`. The model `build_threephase` makes per island."""
    n = cg.n_bus
    bus_src = np.asarray(energization.bus_source, np.int64)
    rep = merged_buses(cg, energization) if merged is None else np.asarray(merged, np.int64)
    in_any = bus_src >= 0
    ukeys, inverse = np.unique(bus_src[in_any] * n + rep[in_any], return_inverse=True)
    grp = np.full(n, -1, dtype=np.int64)  # per bus: its merged bus (a row of ``present``)
    grp[in_any] = inverse
    g_rep = ukeys % n
    ng = len(ukeys)

    sources = np.unique(bus_src[in_any])
    src_bus = np.asarray(cg.source_bus, np.int64)[sources]
    if np.any(bus_src[src_bus] != sources):
        bad = sources[bus_src[src_bus] != sources][0]
        raise InvalidInputError(f"source {cg.source_ids[bad]} is not energized", field="source")
    src_g = grp[src_bus]

    fb, tb = np.asarray(cg.from_bus), np.asarray(cg.to_bus)
    live = (
        np.asarray(energization.edge_energized)
        & (np.asarray(cg.edge_kind) == EDGE_LINE)
        & (bus_src[fb] >= 0)
        & (bus_src[fb] == bus_src[tb])
    )
    line = np.flatnonzero(live)
    a, b = grp[fb[line]], grp[tb[line]]
    keep = a != b
    line, a, b = line[keep], a[keep], b[keep]
    present = np.zeros((ng, 3), dtype=bool)
    present[src_g] = True
    np.logical_or.at(present, a, phases[line])
    np.logical_or.at(present, b, phases[line])
    n_nodes = int(present.sum())
    node = np.full((ng, 3), -1, dtype=np.int64)
    node[present] = np.arange(n_nodes)
    kv_ln = np.asarray(cg.v_base_kv, np.float64) / _SQRT3

    st = _Stamps([], [], [])
    _stamp_lines(st, cg, line, node[a], node[b], phases[line])
    i_source = _stamp_sources(st, cg, sources, g_rep[src_g], node[src_g], n_nodes, v_source_pu)
    p3, q3, moved = _island_loads(grp, ng, present, p_kw, q_kvar)
    g_i, ph_i = np.nonzero(np.abs(p3) + np.abs(q3) > 0)
    load_a = node[g_i, ph_i]
    s_va = ((p3[g_i, ph_i] + 1j * q3[g_i, ph_i]) * 1000.0).astype(np.complex128)
    vnom = kv_ln[g_rep[g_i]] * 1000.0
    st.add((np.conj(s_va) / vnom**2)[:, None, None], load_a[:, None])  # loads' nominal admittance

    node_g, node_ph = np.nonzero(present)
    bus_names = np.asarray(cg.bus_ids, dtype=object)[g_rep[node_g]]
    names = tuple(f"{bn}.{k}" for bn, k in zip(bus_names.tolist(), (node_ph + 1).tolist(), strict=True))
    ne = len(load_a)
    compiled = CompiledThreePhase(
        node_names=names,
        node_bus=tuple(str(x) for x in bus_names.tolist()),
        node_base_v=kv_ln[g_rep[node_g]] * 1000.0,
        y=st.matrix(n_nodes),
        i_source=i_source,
        load_a=load_a,
        load_b=np.full(ne, n_nodes, dtype=np.int64),  # ground
        load_s_va=s_va,
        load_vnom_v=vnom,
        load_model=np.full(ne, LOAD_MODEL_PQ, dtype=np.int64),
        load_vmin=np.full(ne, VMIN_PU),
        load_vmax=np.full(ne, VMAX_PU),
        load_cvr_p=np.ones(ne),
        load_cvr_q=np.full(ne, 2.0),
        load_owner=np.arange(ne, dtype=np.int64),
        branches=(),
        index={nm: i for i, nm in enumerate(names)},
    )
    bus_node = np.where(grp[:, None] >= 0, node[np.maximum(grp, 0)], -1)
    return IslandsThreePhase(compiled, bus_node, sources, moved)


def _stamp_lines(
    st: _Stamps, cg: CompiledGrid, line: IntArray, node_a: IntArray, node_b: IntArray, ph: BoolMatrix
) -> None:
    """π sections without shunt: ``[[Y, −Y], [−Y, Y]]``, ``Y = (Z1·shape)⁻¹``, per phase set at once."""
    k = Z0_OVER_Z1
    mask = ph @ np.array([1, 2, 4])
    z1 = np.asarray(cg.r_ohm)[line] + 1j * np.asarray(cg.x_ohm)[line]
    for m_code in np.unique(mask).tolist():
        sel = np.flatnonzero(mask == m_code)
        cols = [j for j in range(3) if m_code >> j & 1]
        m = len(cols)
        shape = np.eye(m) + (k - 1.0) / 3.0 * np.ones((m, m))
        y = np.linalg.inv(z1[sel, None, None] * shape[None])
        yp = np.concatenate([np.concatenate([y, -y], axis=2), np.concatenate([-y, y], axis=2)], axis=1)
        st.add(yp, np.concatenate([node_a[sel][:, cols], node_b[sel][:, cols]], axis=1))


def _stamp_sources(
    st: _Stamps,
    cg: CompiledGrid,
    sources: IntArray,
    src_rep: IntArray,
    src_nodes: IntArray,
    n_nodes: int,
    v_source_pu: float | None,
) -> ComplexArray:
    """Each source's Thevenin equivalent (Z0 = Z1) as a Norton admittance and current injection."""
    z1 = (
        np.asarray(cg.source_r_ohm, np.float64)[sources]
        + 1j * np.asarray(cg.source_x_ohm, np.float64)[sources]
    )
    z0 = z1
    zs, zm = (2 * z1 + z0) / 3, (z0 - z1) / 3
    zmat = np.broadcast_to(zm[:, None, None], (len(sources), 3, 3)).copy()
    zmat[:, np.arange(3), np.arange(3)] = zs[:, None]
    ysrc = np.asarray(np.linalg.inv(zmat), dtype=np.complex128)
    st.add(ysrc, src_nodes)
    vs = (
        np.asarray(cg.source_v_pu, np.float64)[sources]
        if v_source_pu is None
        else np.full(len(sources), float(v_source_pu))
    )
    v_ln = vs * np.asarray(cg.v_base_kv, np.float64)[src_rep] * 1000.0 / _SQRT3
    e = v_ln[:, None] * np.exp(1j * (-2 * np.pi / 3 * np.arange(3)))[None, :]
    out = np.zeros(n_nodes, dtype=np.complex128)
    np.add.at(out, src_nodes.ravel(), np.einsum("sij,sj->si", ysrc, e).ravel())
    return out


def _island_loads(
    grp: IntArray, ng: int, present: BoolMatrix, p_kw: FloatArray, q_kvar: FloatArray
) -> tuple[FloatArray, FloatArray, float]:
    """Loads summed on merged buses; a phase the bus lacks passes its load to the phases it has (as
    `build_threephase`)."""
    isl = np.flatnonzero(grp >= 0)
    p3 = np.zeros((ng, 3))
    q3 = np.zeros((ng, 3))
    np.add.at(p3, grp[isl], np.asarray(p_kw, np.float64)[isl])
    np.add.at(q3, grp[isl], np.asarray(q_kvar, np.float64)[isl])
    missing = ~present & (np.abs(p3) + np.abs(q3) > 0)
    moved = float(np.abs(p3[missing]).sum())
    if missing.any():
        cnt = np.maximum(present.sum(axis=1, keepdims=True), 1)
        for arr in (p3, q3):
            extra = np.where(missing, arr, 0.0).sum(axis=1, keepdims=True)
            arr[:] = np.where(present, arr + extra / cnt, 0.0)
    return p3, q3, moved
