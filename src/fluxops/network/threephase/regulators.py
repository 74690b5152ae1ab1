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

from fluxops.network.threephase.model import FeederModel, Regulator, Transformer
from fluxops.network.threephase.solver import ThreePhaseResult, solve_compiled
from fluxops.network.threephase.ybus import compile_threephase, restamp, transformer_yprim

_SQRT3 = float(np.sqrt(3.0))


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
    w = t.windings[reg.winding - 1]
    c = res.compiled
    nc = t.phases + 1
    k = reg.pt_phase - 1
    v = np.append(res.v, 0.0)

    def volt(node: int) -> complex:
        pos = c.index.get(f"{w.bus}.{node}", -1) if node else -1
        return complex(v[pos])

    if w.conn == "wye":
        v_coil = volt(w.nodes[k]) - volt(w.nodes[t.phases])
    else:
        v_coil = volt(w.nodes[k]) - volt(w.nodes[(k + 1) % t.phases])
    vc = v_coil / reg.pt_ratio
    if reg.r_v or reg.x_v:
        i_in = res.branch_current(f"Transformer.{t.name}")[(reg.winding - 1) * nc + k]
        vc += complex(reg.r_v, reg.x_v) * i_in / reg.ct_primary_a
    return float(abs(vc))


def _coil_base_v(t: Transformer, winding: int) -> float:
    w = t.windings[winding - 1]
    if w.conn == "delta" or t.phases == 1:
        return w.kv * 1000.0
    return w.kv * 1000.0 / _SQRT3


def solve_with_regulators(
    model: FeederModel,
    *,
    max_control_iter: int = 20,
    tol_pu: float = 1e-8,
) -> RegulatorResult:
    """Solve with every regulator's controller active, starting from the model's taps."""
    by_name = {t.name: t for t in model.transformers}
    taps = {r.transformer: by_name[r.transformer].windings[r.winding - 1].tap for r in model.regulators}
    history = [dict(taps)]
    compiled = compile_threephase(model.with_taps(taps))
    res = solve_compiled(compiled, tol_pu=tol_pu)
    settled = False
    rounds = 0
    for rounds in range(1, max_control_iter + 1):  # noqa: B007 - reported
        moves: dict[str, float] = {}
        for reg in model.regulators:
            t = by_name[reg.transformer]
            vact = controlled_voltage(res, reg, t)
            if abs(reg.vreg - vact) <= reg.band / 2.0:
                continue
            step = t.tap_increment
            boost = (reg.vreg - vact) * reg.pt_ratio / _coil_base_v(t, reg.winding)
            pending = round(boost / step) * step
            if pending == 0.0:
                continue
            n = int(0.7 * abs(pending) / step)
            n = min(max(n, 1), reg.max_tap_change)
            new = taps[t.name] + np.sign(pending) * n * step
            new = float(np.clip(new, t.min_tap, t.max_tap))
            new = 1.0 + round((new - 1.0) / step) * step
            if abs(new - taps[t.name]) > 1e-12:
                moves[t.name] = new
        if not moves:
            settled = True
            break
        taps.update(moves)
        history.append(dict(taps))
        retapped = {t.name: t for t in model.with_taps(moves).transformers if t.name in moves}
        for tname, t_new in retapped.items():  # only the moved units' stamps change
            compiled = restamp(compiled, f"Transformer.{tname}", transformer_yprim(t_new))
        res = solve_compiled(compiled, tol_pu=tol_pu, v0=res.v)
    return RegulatorResult(res, dict(taps), rounds, settled, tuple(history))
