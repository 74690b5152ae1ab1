"""Three-phase nodal admittance assembly (sparse) and compiled arrays for the load iteration.

Every element contributes a primitive admittance over its conductors (OpenDSS's ``Yprim``); conductors on
node 0 are ground and drop out. Nodes are ``(bus, k)`` for k ≥ 1, numbered in first-seen order.

* Line: π section from its line code (``linecodes.line_yprim``).
* Transformer: per phase, two coupled coils with series impedance ``(%r1+%r2)/100 + j·xhl/100`` on the
  winding-1 VA per phase; on a 1-volt basis ``Y1V = (VA/z)·[[1,-1],[-1,1]]``, then scaled by
  ``1/(Vcoil_i·tap_i · Vcoil_j·tap_j)`` (so the impedance is referred to the tapped voltage, as OpenDSS
  does). Coil ends: wye → phase to the winding's neutral conductor; delta → phase k to phase k−1
  (coil 1 across a-c, as OpenDSS; a D-Yg bank lags 30°).
  ``ppm_antifloat`` adds a tiny reactance to ground on every conductor (keeps a floating delta-delta
  secondary solvable).
* Capacitor: ``jQ/V²`` per phase, wye to bus2 conductors or delta between phases.
* Source: Thevenin ``Z = [[Zs,Zm,Zm],...]`` from (Z1, Z0) as a Norton admittance and current.
* Loads: their nominal admittance ``conj(S)/V²`` goes into Y (it makes the fixed point contract); the
  iteration injects the difference between the actual load current and that admittance's current.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse import csgraph

from fluxops.core.errors import InvalidInputError
from fluxops.network.threephase.linecodes import series_impedance_ohm, shunt_admittance_s
from fluxops.network.threephase.model import Capacitor, FeederModel, Load, Transformer

ComplexArray = npt.NDArray[np.complex128]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_SQRT3 = float(np.sqrt(3.0))

LOAD_MODEL_PQ, LOAD_MODEL_Z, LOAD_MODEL_EXP, LOAD_MODEL_I = 1, 2, 4, 5


@dataclass(frozen=True, eq=False)
class BranchPrim:
    """An element's primitive admittance and the node index of each conductor (−1 = ground)."""

    name: str
    yprim: ComplexArray
    idx: IntArray
    n_cond: int  # conductors per terminal


@dataclass(frozen=True, eq=False)
class CompiledThreePhase:
    """Arrays of one feeder at fixed taps: node index, sparse Y, load elements, source injection."""

    node_names: tuple[str, ...]  # "bus.k"
    node_bus: tuple[str, ...]
    node_base_v: FloatArray  # nominal line-to-neutral volts per node (per-unit base)
    y: sparse.csc_matrix  # n×n with loads' nominal admittance
    i_source: ComplexArray  # Norton injection of the source (A)
    # load phase elements (one per phase of each load), between node a and node b (index n = ground)
    load_a: IntArray
    load_b: IntArray
    load_s_va: ComplexArray
    load_vnom_v: FloatArray
    load_model: IntArray
    load_vmin: FloatArray
    load_vmax: FloatArray
    load_cvr_p: FloatArray
    load_cvr_q: FloatArray
    load_owner: IntArray  # index into model.loads
    branches: tuple[BranchPrim, ...]  # lines and transformers, for terminal currents
    index: dict[str, int]

    @cached_property
    def branch_by_name(self) -> dict[str, BranchPrim]:
        return {b.name: b for b in self.branches}

    @cached_property
    def load_incidence(self) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        """``C`` (elements × nodes+ground: +1 at a, −1 at b) and ``Cᵀ`` without the ground column."""
        ne, n = len(self.load_a), self.n_nodes
        cmat = sparse.csr_matrix(
            (
                np.concatenate([np.ones(ne), -np.ones(ne)]),
                (np.concatenate([np.arange(ne)] * 2), np.concatenate([self.load_a, self.load_b])),
            ),
            shape=(ne, n + 1),
        )
        return cmat, sparse.csr_matrix(cmat.T[:n])

    @cached_property
    def energized(self) -> npt.NDArray[np.bool_]:
        """Nodes in a connected component of Y holding a source node (an open line can island a lateral)."""
        pattern = sparse.csr_matrix(abs(self.y))
        pattern.eliminate_zeros()
        _, labels = csgraph.connected_components(pattern, directed=False)
        src_labels = np.unique(labels[np.abs(self.i_source) > 0])
        return np.asarray(np.isin(labels, src_labels), dtype=np.bool_)

    @cached_property
    def y_keys(self) -> IntArray:
        """``col·n + row`` of every stored entry of ``y`` (sorted: canonical CSC), to find entries by key."""
        y = self.y
        cols = np.repeat(np.arange(y.shape[1], dtype=np.int64), np.diff(y.indptr))
        return np.asarray(cols * y.shape[0] + y.indices.astype(np.int64), dtype=np.int64)

    @property
    def n_nodes(self) -> int:
        return len(self.node_names)

    @property
    def load_yeq(self) -> ComplexArray:
        out: ComplexArray = (np.conj(self.load_s_va) / self.load_vnom_v**2).astype(np.complex128)
        return out


def _stamp_matrix(yprim: ComplexArray, idx: IntArray, n: int) -> sparse.csc_matrix:
    keep = idx >= 0
    ii = idx[keep]
    r, c = np.meshgrid(ii, ii, indexing="ij")
    return sparse.csc_matrix((yprim[np.ix_(keep, keep)].ravel(), (r.ravel(), c.ravel())), shape=(n, n))


def restamp(c: CompiledThreePhase, name: str, yprim: ComplexArray | None) -> CompiledThreePhase:
    """A copy of ``c`` with branch ``name``'s primitive replaced (``None``: the branch taken out).

    Y changes by the difference of the two stamps only, so a tap move or a line outage costs one sparse
    addition instead of a recompile; the node numbering stays (a node only the branch reached is then
    isolated and the solver leaves it dead).
    """
    from dataclasses import replace

    old = c.branch_by_name[name]
    y = c.y - _stamp_matrix(old.yprim, old.idx, c.n_nodes)
    branches = [b for b in c.branches if b.name != name]
    if yprim is not None:
        y = y + _stamp_matrix(yprim, old.idx, c.n_nodes)
        branches = [b if b.name != name else replace(b, yprim=yprim) for b in c.branches]
    out = replace(c, y=sparse.csc_matrix(y), branches=tuple(branches))
    # what the change cannot alter carries over: load incidence always, connectivity on a re-stamp
    keep = ("load_incidence", "energized") if yprim is not None else ("load_incidence",)
    for key in keep:
        if key in c.__dict__:
            out.__dict__[key] = c.__dict__[key]
    return out


def restamp_many(c: CompiledThreePhase, yprims: dict[str, ComplexArray]) -> CompiledThreePhase:
    """``restamp`` of several branches at once (same node numbering, connectivity and load incidence).

    A re-stamp keeps Y's pattern (every primitive entry is stored, zeros included), so the new values are
    written into a copy of Y's data at the entries' positions: no sparse addition or format conversion.
    """
    if not yprims:
        return c
    old = c.branch_by_name
    y = c.y
    if not y.has_canonical_format:  # pragma: no cover - compile_threephase builds canonical CSC
        y = sparse.csc_matrix(y)
        y.sum_duplicates()
    keys, n = c.y_keys, c.n_nodes
    data = y.data.copy()
    for name, yp in yprims.items():
        idx = old[name].idx
        keep = np.flatnonzero(idx >= 0)
        ii = idx[keep]
        want = (ii[None, :] * n + ii[:, None]).ravel()  # column-major key of entry (row a, col b)
        pos = np.searchsorted(keys, want)
        if np.any(pos >= len(keys)) or np.any(keys[np.minimum(pos, len(keys) - 1)] != want):
            return _restamp_sum(c, yprims)  # pragma: no cover - an entry outside the pattern
        np.add.at(data, pos, (yp - old[name].yprim)[keep[:, None], keep[None, :]].ravel())
    y_new = sparse.csc_matrix((data, y.indices, y.indptr), shape=y.shape)
    branches = tuple(
        BranchPrim(b.name, yprims[b.name], b.idx, b.n_cond) if b.name in yprims else b for b in c.branches
    )
    # a shallow copy keeps what a re-stamp cannot change (connectivity, load incidence, Y's pattern keys);
    # the branch lookup is rebuilt from the new branches
    out = copy.copy(c)
    object.__setattr__(out, "y", y_new)
    object.__setattr__(out, "branches", branches)
    out.__dict__.pop("branch_by_name", None)
    return out


def _restamp_sum(c: CompiledThreePhase, yprims: dict[str, ComplexArray]) -> CompiledThreePhase:
    for name, yp in yprims.items():
        c = restamp(c, name, yp)
    return c


def _coil_voltage_base(t: Transformer, conn: str, kv: float) -> float:
    if conn == "delta" or t.phases == 1:
        return kv * 1000.0
    return kv * 1000.0 / _SQRT3


def _coil_ends(conn: str, nph: int, k: int) -> tuple[int, int]:
    """Conductor positions (within a winding) of coil k's two ends."""
    if conn == "wye":
        return k, nph
    if nph == 1:
        return 0, 1
    return k, (k - 1) % nph  # OpenDSS's delta: coil k from phase k to phase k-1 (D-Yg lags 30°)


def transformer_yprim(t: Transformer) -> ComplexArray:
    """Primitive admittance over both windings' conductors (each nphases + 1, neutral last)."""
    if len(t.windings) != 2:  # pragma: no cover - model type allows two only
        raise InvalidInputError(f"transformer {t.name}: only two-winding units are modelled")
    nph = t.phases
    nc = nph + 1
    w1, w2 = t.windings
    va_phase = w1.kva * 1000.0 / nph
    z_pu = (w1.r_pct + w2.r_pct) / 100.0 + 1j * t.xhl_pct / 100.0
    y1v = va_phase / z_pu * np.array([[1.0, -1.0], [-1.0, 1.0]], dtype=np.complex128)
    vb = np.array([_coil_voltage_base(t, w.conn, w.kv) * w.tap for w in (w1, w2)], dtype=np.float64)
    ycoil = y1v / np.outer(vb, vb)
    yprim = np.zeros((2 * nc, 2 * nc), dtype=np.complex128)
    for k in range(nph):
        c = np.zeros((2, 2 * nc))
        for w_i, w in enumerate((w1, w2)):
            off = w_i * nc
            a, b = _coil_ends(w.conn, nph, k)
            c[w_i, off + a] += 1.0
            c[w_i, off + b] -= 1.0
        yprim += c.T @ ycoil @ c
    if t.ppm_antifloat:
        for w_i, w in enumerate((w1, w2)):
            vcoil = _coil_voltage_base(t, w.conn, w.kv)
            # as OpenDSS stamps it (matched entry by entry against its Yprim): half the ppm susceptance
            # on the diagonal at both ends of every coil, and once more on a wye winding's neutral
            y_ppm = -0.5j * t.ppm_antifloat * 1e-6 * va_phase / vcoil**2
            for k in range(nph):
                a, b = _coil_ends(w.conn, nph, k)
                yprim[w_i * nc + a, w_i * nc + a] += y_ppm
                yprim[w_i * nc + b, w_i * nc + b] += y_ppm
            if w.conn == "wye":
                yprim[w_i * nc + nph, w_i * nc + nph] += y_ppm
    return yprim


def _phase_pairs(conn: str, nodes: tuple[int, ...], phases: int, name: str) -> list[tuple[int, int]]:
    """(a, b) node pairs of each phase element: wye → (phase, neutral); delta → ring or the one pair."""
    if conn == "wye":
        neutral = nodes[phases] if len(nodes) > phases else 0
        return [(nodes[k], neutral) for k in range(phases)]
    if phases == 1:
        return [(nodes[0], nodes[1])]
    if phases == 3:
        return [(nodes[k], nodes[(k + 1) % 3]) for k in range(3)]
    raise InvalidInputError(f"{name}: a {phases}-phase delta connection is not modelled")


def _element_vnom(conn: str, phases: int, kv: float) -> float:
    if conn == "delta" or phases == 1:
        return kv * 1000.0
    return kv * 1000.0 / _SQRT3


def compile_threephase(model: FeederModel) -> CompiledThreePhase:
    """Number the nodes and assemble the sparse Y and the load arrays."""
    index: dict[str, int] = {}
    names: list[str] = []
    buses: list[str] = []

    def node(bus: str, k: int) -> int:
        if k == 0:
            return -1
        key = f"{bus}.{k}"
        pos = index.get(key)
        if pos is None:
            pos = len(names)
            index[key] = pos
            names.append(key)
            buses.append(bus)
        return pos

    src = model.source
    for k in src.nodes:
        node(src.bus, k)

    rows: list[IntArray] = []
    cols: list[IntArray] = []
    vals: list[ComplexArray] = []
    branches: list[BranchPrim] = []

    def stamp_many(yprims: ComplexArray, idx: IntArray) -> None:
        """Stamp a stack of primitives ``(m, k, k)`` over node indices ``(m, k)`` (−1 = ground)."""
        k = idx.shape[1]
        r = np.repeat(idx, k, axis=1).ravel()
        c = np.tile(idx, (1, k)).ravel()
        v = yprims.reshape(len(idx), k * k).ravel()
        keep = (r >= 0) & (c >= 0)
        rows.append(r[keep])
        cols.append(c[keep])
        vals.append(v[keep])

    def stamp(yprim: ComplexArray, idx: IntArray) -> None:
        stamp_many(yprim[None], idx[None])

    # lines, batched by conductor count: one stacked inverse and one stamp per group
    groups: dict[int, list[int]] = {}
    for pos, line in enumerate(model.lines):
        groups.setdefault(len(line.nodes1), []).append(pos)
    line_prims: dict[int, tuple[ComplexArray, IntArray]] = {}
    for nc, members in groups.items():
        grp = [model.lines[i] for i in members]
        z = np.stack([series_impedance_ohm(ln) for ln in grp])
        yc = np.stack([shunt_admittance_s(ln, model.frequency_hz) for ln in grp]) / 2.0
        y = np.linalg.inv(z)
        yp = np.concatenate(
            [np.concatenate([y + yc, -y], axis=2), np.concatenate([-y, y + yc], axis=2)], axis=1
        )
        idx = np.array(
            [[node(ln.bus1, k) for k in ln.nodes1] + [node(ln.bus2, k) for k in ln.nodes2] for ln in grp],
            dtype=np.int64,
        ).reshape(len(grp), 2 * nc)
        stamp_many(yp, idx)
        for j, i in enumerate(members):
            line_prims[i] = (yp[j], idx[j])
    for pos, line in enumerate(model.lines):
        yp_i, idx_i = line_prims[pos]
        branches.append(BranchPrim(f"Line.{line.name}", yp_i, idx_i, len(line.nodes1)))

    for t in model.transformers:
        idx = np.array([node(w.bus, k) for w in t.windings for k in w.nodes], dtype=np.int64)
        yp = transformer_yprim(t)
        stamp(yp, idx)
        branches.append(BranchPrim(f"Transformer.{t.name}", yp, idx, t.phases + 1))

    for cap in model.capacitors:
        stamp(*_capacitor_prim(cap, node, model))

    # source: Thevenin → Norton
    z1 = complex(src.r1_ohm, src.x1_ohm)
    z0 = complex(src.r0_ohm, src.x0_ohm)
    zs, zm = (2 * z1 + z0) / 3, (z0 - z1) / 3
    nsrc = len(src.nodes)
    zmat = np.full((nsrc, nsrc), zm, dtype=np.complex128)
    np.fill_diagonal(zmat, zs)
    ysrc: ComplexArray = np.linalg.inv(zmat).astype(np.complex128)
    sidx = np.array([node(src.bus, k) for k in src.nodes], dtype=np.int64)
    stamp(ysrc, sidx)
    v_ln = src.pu * src.kv_ll * 1000.0 / _SQRT3
    ang = np.deg2rad(src.angle_deg) - 2 * np.pi / 3 * np.arange(nsrc)
    e = v_ln * np.exp(1j * ang)
    i_src_local = ysrc @ e

    # loads
    la, lb, ls, lv, lm, lmin, lmax, lcp, lcq, lown = ([] for _ in range(10))
    for pos, load in enumerate(model.loads):
        pairs = _phase_pairs(load.conn, load.nodes, load.phases, f"load {load.name}")
        s_el = complex(load.kw, load.kvar) * 1000.0 / load.phases
        vnom = _element_vnom(load.conn, load.phases, load.kv)
        for a, b in pairs:
            la.append(node(load.bus, a))
            lb.append(node(load.bus, b))
            ls.append(s_el)
            lv.append(vnom)
            lm.append(load.model)
            lmin.append(load.vminpu)
            lmax.append(load.vmaxpu)
            lcp.append(load.cvr_watts)
            lcq.append(load.cvr_vars)
            lown.append(pos)
    for m in set(lm):
        if m not in (LOAD_MODEL_PQ, LOAD_MODEL_Z, LOAD_MODEL_EXP, LOAD_MODEL_I):
            raise InvalidInputError(f"load model {m} is not modelled (1, 2, 4, 5 are)")

    n = len(names)
    load_a = np.array(la, dtype=np.int64)
    load_b = np.array(lb, dtype=np.int64)
    load_a[load_a < 0] = n
    load_b[load_b < 0] = n
    s_va = np.array(ls, dtype=np.complex128)
    vnom_v = np.array(lv, dtype=np.float64)
    yeq = np.conj(s_va) / vnom_v**2
    # load nominal admittances between each element's a and b nodes, all at once
    pair = np.stack([np.where(load_a < n, load_a, -1), np.where(load_b < n, load_b, -1)], axis=1)
    two = np.array([[1.0, -1.0], [-1.0, 1.0]])
    stamp_many(yeq[:, None, None] * two[None], pair)

    y_mat = sparse.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )
    i_source = np.zeros(n, dtype=np.complex128)
    keep = sidx >= 0
    np.add.at(i_source, sidx[keep], i_src_local[keep])

    base = np.array([model.base_kv_ln.get(b, np.nan) * 1000.0 for b in buses], dtype=np.float64)
    return CompiledThreePhase(
        node_names=tuple(names),
        node_bus=tuple(buses),
        node_base_v=base,
        y=y_mat,
        i_source=i_source,
        load_a=load_a,
        load_b=load_b,
        load_s_va=s_va,
        load_vnom_v=vnom_v,
        load_model=np.array(lm, dtype=np.int64),
        load_vmin=np.array(lmin, dtype=np.float64),
        load_vmax=np.array(lmax, dtype=np.float64),
        load_cvr_p=np.array(lcp, dtype=np.float64),
        load_cvr_q=np.array(lcq, dtype=np.float64),
        load_owner=np.array(lown, dtype=np.int64),
        branches=tuple(branches),
        index=index,
    )


def _capacitor_prim(cap: Capacitor, node: object, model: FeederModel) -> tuple[ComplexArray, IntArray]:
    assert callable(node)
    nph = cap.phases
    vnom = _element_vnom(cap.conn, nph, cap.kv)
    y = 1j * cap.kvar * 1000.0 / nph / vnom**2
    nc = len(cap.nodes1)
    yprim = np.zeros((2 * nc, 2 * nc), dtype=np.complex128)
    if cap.conn == "wye":
        pairs = [(k, nc + k) for k in range(nph)]
    elif nph == 1:
        pairs = [(0, 1)]
    else:
        pairs = [(k, (k + 1) % nph) for k in range(nph)]
    for a, b in pairs:
        yprim[a, a] += y
        yprim[b, b] += y
        yprim[a, b] -= y
        yprim[b, a] -= y
    idx = np.array(
        [node(cap.bus, k) for k in cap.nodes1] + [node(cap.bus, k) for k in cap.nodes2],
        dtype=np.int64,
    )
    return yprim, idx


def load_is_delta(load: Load) -> bool:
    return load.conn == "delta"
