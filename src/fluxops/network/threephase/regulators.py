"""Step-voltage regulator control (band + line-drop compensation) around the three-phase solve.

Static control as OpenDSS's ``controlmode=static``: solve, then every regulator samples its controlled
voltage ``|V_coil/PT + (R + jX)·I_in/CT|`` (120 V base; ``I_in`` flows into the regulated winding
terminal, so the sum is ``V − Z·I_load``); one outside ``vreg ± band/2`` proposes
``round(boost·PT/V_coil_base / step)`` taps, moves 70 % of them (at least one, at most
``max_tap_change``) within the tap limits, and the feeder is solved again (warm start) until no
regulator moves or ``max_control_iter`` is reached.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fluxops.network.threephase.model import FeederModel, Regulator, Transformer
from fluxops.network.threephase.ports import (
    StampChange,
    build_ports,
    single_thread_blas,
    solve_ports,
    stamp_change,
    tap_basis,
)
from fluxops.network.threephase.solver import ThreePhaseResult, solve_compiled
from fluxops.network.threephase.ybus import compile_threephase, restamp_many, transformer_yprim

_SQRT3 = float(np.sqrt(3.0))
ROUND_TOL_PU = 1e-4  # rounds that only decide taps: OpenDSS's own tolerance (band/2 is ~1e-2 pu)


@dataclass(frozen=True, eq=False)
class RegulatorResult:
    """The converged solve, the final tap (pu) per regulated transformer, control rounds and history."""

    result: ThreePhaseResult
    taps: dict[str, float]
    control_iterations: int
    converged: bool  # no regulator wanted to move at the end
    history: tuple[dict[str, float], ...]


def tap_position(tap_pu: float, step: float) -> int:
    """Integer tap position (0 = neutral) of a per-unit tap."""
    return round((tap_pu - 1.0) / step)


def controlled_voltage(res: ThreePhaseResult, reg: Regulator, t: Transformer) -> float:
    """Compensated control voltage (on the PT secondary, volts) of one regulator."""
    br = res.compiled.branch_by_name[f"Transformer.{t.name}"]
    return _control_volts(np.append(res.v, 0.0), res.compiled.index, reg, t, br.yprim, br.idx)


def _control_volts(
    vext: npt.NDArray[np.complex128],
    index: dict[str, int],
    reg: Regulator,
    t: Transformer,
    yprim: npt.NDArray[np.complex128],
    idx: npt.NDArray[np.int64],
) -> float:
    """``controlled_voltage`` from node voltages (ground appended last) and the unit's primitive."""
    w = t.windings[reg.winding - 1]
    nc = t.phases + 1
    k = reg.pt_phase - 1

    def volt(node: int) -> complex:
        pos = index.get(f"{w.bus}.{node}", -1) if node else -1
        return complex(vext[pos])

    if w.conn == "wye":
        v_coil = volt(w.nodes[k]) - volt(w.nodes[t.phases])
    else:
        v_coil = volt(w.nodes[k]) - volt(w.nodes[(k + 1) % t.phases])
    vc = v_coil / reg.pt_ratio
    if reg.r_v or reg.x_v:
        i_in = yprim[(reg.winding - 1) * nc + k] @ vext[np.where(idx >= 0, idx, len(vext) - 1)]
        vc += complex(reg.r_v, reg.x_v) * i_in / reg.ct_primary_a
    return float(abs(vc))


def _coil_base_v(t: Transformer, winding: int) -> float:
    w = t.windings[winding - 1]
    if w.conn == "delta" or t.phases == 1:
        return w.kv * 1000.0
    return w.kv * 1000.0 / _SQRT3


@dataclass(frozen=True, eq=False)
class _ControlRule:
    """The regulators' settings as arrays, so a control round is a few vector operations."""

    names: tuple[str, ...]  # transformer per regulator
    vreg: npt.NDArray[np.float64]
    half_band: npt.NDArray[np.float64]
    gain: npt.NDArray[np.float64]  # pt_ratio / coil base volts
    step: npt.NDArray[np.float64]
    min_tap: npt.NDArray[np.float64]
    max_tap: npt.NDArray[np.float64]
    max_change: npt.NDArray[np.float64]

    @staticmethod
    def of(regulators: tuple[Regulator, ...], by_name: dict[str, Transformer]) -> _ControlRule:
        ts = [by_name[r.transformer] for r in regulators]

        def arr(values: list[float]) -> npt.NDArray[np.float64]:
            return np.array(values, dtype=np.float64)

        return _ControlRule(
            names=tuple(r.transformer for r in regulators),
            vreg=arr([r.vreg for r in regulators]),
            half_band=arr([r.band / 2.0 for r in regulators]),
            gain=arr([r.pt_ratio / _coil_base_v(t, r.winding) for r, t in zip(regulators, ts, strict=True)]),
            step=arr([t.tap_increment for t in ts]),
            min_tap=arr([t.min_tap for t in ts]),
            max_tap=arr([t.max_tap for t in ts]),
            max_change=arr([float(r.max_tap_change) for r in regulators]),
        )

    def moves(self, vact: npt.NDArray[np.float64], taps: dict[str, float]) -> dict[str, float]:
        """One static control round (OpenDSS's rule): every regulator outside its band proposes
        ``round(boost/step)`` taps and moves 70 % of them (at least one, at most ``max_tap_change``)."""
        err = self.vreg - vact
        step = self.step
        now = np.array([taps[n] for n in self.names], dtype=np.float64)
        pending = np.round(err * self.gain / step) * step
        n = np.clip(np.trunc(0.7 * np.abs(pending) / step), 1.0, self.max_change)
        new = np.clip(now + np.sign(pending) * n * step, self.min_tap, self.max_tap)
        new = 1.0 + np.round((new - 1.0) / step) * step
        act = (np.abs(err) > self.half_band) & (pending != 0.0) & (np.abs(new - now) > 1e-12)
        return {self.names[j]: float(new[j]) for j in np.flatnonzero(act)}


class RegulatorStudy:
    """A feeder compiled and reduced to its load and regulator ports once, for many control runs.

    Every control round is a port solve (``ports.solve_ports``) with the regulators' tap changes as one
    low-rank Woodbury update of the compiled Y — no recompile, re-stamp or refactorization per round
    (OpenDSS keeps its circuit in memory the same way). Feeders too large for the dense port matrices
    re-stamp and refactorize per round instead.
    """

    def __init__(self, model: FeederModel, *, tol_pu: float = 1e-8) -> None:
        self.model = model
        self.tol_pu = tol_pu
        self.by_name = {t.name: t for t in model.transformers}
        self.compiled = compile_threephase(model)
        self.ports = build_ports(self.compiled)
        self._yprims: dict[tuple[str, float], npt.NDArray[np.complex128]] = {}
        names = [f"Transformer.{r.transformer}" for r in model.regulators]
        self._blocks = []
        for name in dict.fromkeys(names):
            br = self.compiled.branch_by_name[name]
            keep = br.idx >= 0
            self._blocks.append((name[len("Transformer.") :], br, keep))
        self._nodes = np.concatenate(
            [br.idx[keep] for _, br, keep in self._blocks] or [np.zeros(0, np.int64)]
        )
        self._g = tap_basis(self.ports, self._nodes) if self.ports is not None else None
        self._d: dict[tuple[str, float], npt.NDArray[np.complex128]] = {}
        self._rule = _ControlRule.of(model.regulators, self.by_name)
        self._setup_control_points()

    def _setup_control_points(self) -> None:
        """Per regulator: the PT coil's two nodes, and the winding-current row its compensation reads."""
        n = self.compiled.n_nodes
        index = self.compiled.index
        coil, pt, zc = [], [], []
        self._ldc: dict[int, tuple[str, int, npt.NDArray[np.int64]]] = {}
        for j, reg in enumerate(self.model.regulators):
            t = self.by_name[reg.transformer]
            w = t.windings[reg.winding - 1]
            k = reg.pt_phase - 1
            other = w.nodes[t.phases] if w.conn == "wye" else w.nodes[(k + 1) % t.phases]
            coil.append([index.get(f"{w.bus}.{x}", n) if x else n for x in (w.nodes[k], other)])
            pt.append(reg.pt_ratio)
            zc.append(complex(reg.r_v, reg.x_v) / reg.ct_primary_a)
            if reg.r_v or reg.x_v:
                br = self.compiled.branch_by_name[f"Transformer.{t.name}"]
                row = (reg.winding - 1) * (t.phases + 1) + k
                self._ldc[j] = (br.name, row, np.where(br.idx >= 0, br.idx, n))
        self._coil = np.array(coil, dtype=np.int64).reshape(-1, 2)
        self._pt = np.array(pt, dtype=np.float64)
        self._zc = np.array(zc, dtype=np.complex128)

    def _yprim(self, tname: str, tap: float) -> npt.NDArray[np.complex128]:
        """The unit's primitive at a tap, computed once per tap position seen."""
        key = (tname, round(tap, 12))
        if key not in self._yprims:
            t = next(x for x in self.model.with_taps({tname: tap}).transformers if x.name == tname)
            self._yprims[key] = yp = transformer_yprim(t)
            br = self.compiled.branch_by_name[f"Transformer.{tname}"]
            keep = np.flatnonzero(br.idx >= 0)
            self._d[key] = (yp - br.yprim)[keep[:, None], keep[None, :]]
        return self._yprims[key]

    def _change(self, taps: dict[str, float]) -> tuple[StampChange, dict[str, npt.NDArray[np.complex128]]]:
        """Y at ``taps`` as one Woodbury change of the compiled Y over all regulator nodes."""
        assert self.ports is not None and self._g is not None
        m = len(self._nodes)
        d = np.zeros((m, m), dtype=np.complex128)
        prims = {}
        off = 0
        for tname, br, _ in self._blocks:
            prims[br.name] = self._yprim(tname, taps[tname])
            blk = self._d[(tname, round(taps[tname], 12))]
            k = blk.shape[0]
            d[off : off + k, off : off + k] = blk
            off += k
        return stamp_change(self._g, d), prims

    def _control_volts(
        self, v: npt.NDArray[np.complex128], prims: dict[str, npt.NDArray[np.complex128]]
    ) -> npt.NDArray[np.float64]:
        """Every regulator's compensated control voltage at once (``controlled_voltage``, vectorized)."""
        vext = np.append(v, 0.0)
        vc = (vext[self._coil[:, 0]] - vext[self._coil[:, 1]]) / self._pt
        for j, (bname, row, cidx) in self._ldc.items():
            vc[j] += self._zc[j] * (prims[bname][row] @ vext[cidx])
        return np.asarray(np.abs(vc), dtype=np.float64)

    def solve(self, taps: dict[str, float] | None = None, *, max_control_iter: int = 20) -> RegulatorResult:
        """Static control from ``taps`` (default: the model's) until no regulator moves."""
        with single_thread_blas():
            return self._solve(taps, max_control_iter)

    def _solve(self, taps: dict[str, float] | None, max_control_iter: int) -> RegulatorResult:
        model = self.model
        start = {
            r.transformer: self.by_name[r.transformer].windings[r.winding - 1].tap for r in model.regulators
        }
        taps = dict(start if taps is None else {**start, **taps})
        if self.ports is None:
            return _solve_sparse(model.with_taps(taps), max_control_iter, self.tol_pu)
        history = [dict(taps)]
        change, prims = self._change(taps)
        # rounds that only decide taps solve to ROUND_TOL_PU (a tap decision needs the voltage to a small
        # fraction of the band); the settled taps are solved to ``tol_pu`` at the end
        loose = max(self.tol_pu, ROUND_TOL_PU)
        res = solve_ports(self.ports, tol_pu=loose, change=change)
        settled = False
        rounds = 0
        for rounds in range(1, max_control_iter + 1):  # noqa: B007 - reported
            moves = self._rule.moves(self._control_volts(res.v, prims), taps)
            if not moves:
                settled = True
                break
            taps.update(moves)
            history.append(dict(taps))
            change, prims = self._change(taps)
            res = solve_ports(self.ports, tol_pu=loose, change=change, v0=res.v)
        if loose > self.tol_pu:
            res = solve_ports(self.ports, tol_pu=self.tol_pu, change=change, v0=res.v)
        final = restamp_many(self.compiled, prims)
        out = ThreePhaseResult(
            final, res.v, res.converged, res.iterations, res.max_mismatch_pu, res.energized
        )
        return RegulatorResult(out, dict(taps), rounds, settled, tuple(history))


def solve_with_regulators(
    model: FeederModel,
    *,
    max_control_iter: int = 20,
    tol_pu: float = 1e-8,
) -> RegulatorResult:
    """Solve with every regulator's controller active, starting from the model's taps."""
    return RegulatorStudy(model, tol_pu=tol_pu).solve(max_control_iter=max_control_iter)


def _solve_sparse(model: FeederModel, max_control_iter: int, tol_pu: float) -> RegulatorResult:
    """The control loop on the sparse path: re-stamp the moved units and refactorize per round."""
    by_name = {t.name: t for t in model.transformers}
    taps = {r.transformer: by_name[r.transformer].windings[r.winding - 1].tap for r in model.regulators}
    history = [dict(taps)]
    rule = _ControlRule.of(model.regulators, by_name)
    compiled = compile_threephase(model)
    res = solve_compiled(compiled, tol_pu=tol_pu)
    settled = False
    rounds = 0
    for rounds in range(1, max_control_iter + 1):  # noqa: B007 - reported
        vact = np.array([controlled_voltage(res, r, by_name[r.transformer]) for r in model.regulators])
        moves = rule.moves(vact, taps)
        if not moves:
            settled = True
            break
        taps.update(moves)
        history.append(dict(taps))
        retapped = {t.name: t for t in model.with_taps(moves).transformers if t.name in moves}
        compiled = restamp_many(
            compiled, {f"Transformer.{n}": transformer_yprim(t_new) for n, t_new in retapped.items()}
        )
        res = solve_compiled(compiled, tol_pu=tol_pu, v0=res.v)
    return RegulatorResult(res, dict(taps), rounds, settled, tuple(history))
