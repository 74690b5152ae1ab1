"""Step-by-step validation of switching by power flow: no critical customer islanded, no overload.

Each step is applied to the configuration left by the steps before it, then energization and one
whole-grid power flow (`fluxops.network.powerflow.run_powerflow`, the same solver the map's loading and
the cascade engine use) are run on it. A step fails when:

* a critical customer (``customers.is_critical``: hospitals, water, emergency services, telecom) that had
  supply before the first step has none after this step — switching must transfer them (close the tie
  first, make before break), never drop them;
* a line segment, device or substation transformer is loaded above its limit (default: 100 % of its
  continuous rating; `SwitchingLimits`) where it was not before the first step, or where it was and the
  step raises it further (by more than ``tolerance_pct``): an existing overload is not the order's fault,
  making it worse is;
* the power flow does not converge;
* the device is already in the state the step asks for (the order was written against another state).

The load is the design peak times ``load_multiplier`` (1.0: design peak, the conservative basis a
switching order is checked against when it may be executed at any hour).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from fluxops.core.errors import InvalidInputError
from fluxops.grid.models import Grid
from fluxops.network.compiled import EDGE_DEVICE, EDGE_LINE, BoolArray, CompiledGrid, FloatArray
from fluxops.network.powerflow import PowerFlowResult, run_powerflow
from fluxops.ops.switching import SwitchingStep

MAX_LISTED = 50  # ids listed per problem (counts are always complete)


@dataclass(frozen=True)
class SwitchingLimits:
    """Limits a switching step must respect. Default: continuous (normal) ratings, as a planned
    reconfiguration must hold indefinitely; emergency ratings are for contingencies, not plans."""

    max_loading_pct: float = 100.0
    max_source_loading_pct: float = 100.0
    tolerance_pct: float = 0.5  # rise that makes an existing overload "worse"

    def validate(self) -> SwitchingLimits:
        for name in ("max_loading_pct", "max_source_loading_pct"):
            v = getattr(self, name)
            if not (np.isfinite(v) and 0 < v <= 1000):
                raise InvalidInputError(f"{name} must be in (0, 1000]", field=f"limits.{name}")
        if not (np.isfinite(self.tolerance_pct) and 0 <= self.tolerance_pct <= 100):
            raise InvalidInputError("tolerance_pct must be in [0, 100]", field="limits.tolerance_pct")
        return self


@dataclass(frozen=True)
class Overload:
    element_id: str
    element_type: str  # line_segment | <device type> | substation_transformer
    loading_pct: float
    before_pct: float | None  # before the first step (None: not energized then)


@dataclass(frozen=True)
class StepCheck:
    step: int  # 1-based
    device_id: str
    action: str
    ok: bool
    problems: tuple[str, ...]
    converged: bool
    customers_without_supply: int  # after the step, whole grid
    customers_interrupted: int  # had supply before the first step, none after this one
    critical_islanded: tuple[str, ...]  # customer ids (at most MAX_LISTED)
    critical_islanded_count: int
    overloads: tuple[Overload, ...]
    max_loading_pct: float | None
    min_v_pu: float | None


@dataclass(frozen=True)
class SwitchingCheck:
    ok: bool
    failed_step: int | None  # first failing step (1-based)
    steps: tuple[StepCheck, ...]
    load_multiplier: float
    limits: SwitchingLimits
    before: dict[str, Any]  # the starting configuration's figures

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = _finite(asdict(self))
        return out

    def first_problem(self) -> str:
        if self.failed_step is None:
            return ""
        s = self.steps[self.failed_step - 1]
        return f"step {s.step} ({s.action} {s.device_id}): {'; '.join(s.problems)}"


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def critical_customers_by_bus(grid: Grid, cg: CompiledGrid) -> dict[int, tuple[str, ...]]:
    """Bus position → ids of the critical customers it serves (customer → meter → transformer → bus)."""
    cu = grid.customers[grid.customers["is_critical"].astype(bool)]
    if cu.empty:
        return {}
    me = grid.meters.set_index("meter_id")["transformer_id"]
    xf = me.reindex(cu["meter_id"].astype(object)).to_numpy(object)
    pos = pd.Index(cg.xfmr_ids).get_indexer(pd.Index(xf))
    out: dict[int, list[str]] = {}
    for cid, p in zip(cu["customer_id"].astype(str), pos, strict=True):
        if p >= 0:
            out.setdefault(int(cg.xfmr_bus[p]), []).append(cid)
    return {b: tuple(sorted(ids)) for b, ids in out.items()}


def device_edges(cg: CompiledGrid) -> dict[str, int]:
    """Device id → edge position in ``cg``."""
    dev = np.flatnonzero(cg.edge_kind == EDGE_DEVICE)
    return {str(cg.edge_ids[e]): int(e) for e in dev}


def closed_after(cg: CompiledGrid, states: Mapping[str, str]) -> BoolArray:
    """``cg.closed_state`` with ``states`` (device id → open/closed) applied (a new array)."""
    pos = device_edges(cg)
    closed = np.array(cg.closed_state, dtype=bool, copy=True)
    for device_id, state in states.items():
        e = pos.get(device_id)
        if e is None:
            raise InvalidInputError(f"no switching device {device_id!r}", field="device_id")
        closed[e] = state == "closed"
    return closed


def _loading(pf: PowerFlowResult, cg: CompiledGrid) -> FloatArray:
    ok = pf.edge_energized & (cg.ampacity_a > 0) & np.isfinite(pf.loading_pct)
    return np.where(ok, pf.loading_pct, np.nan)


def _edge_type(cg: CompiledGrid, e: int) -> str:
    return "line_segment" if cg.edge_kind[e] == EDGE_LINE else str(cg.device_type[e])


def validate_steps(
    cg: CompiledGrid,
    steps: Sequence[SwitchingStep],
    *,
    critical_by_bus: Mapping[int, tuple[str, ...]],
    load_multiplier: float = 1.0,
    limits: SwitchingLimits | None = None,
    closed: npt.ArrayLike | None = None,
) -> SwitchingCheck:
    """Check ``steps`` one after another from ``closed`` (default: ``cg.closed_state``, the configuration
    ``cg`` was compiled from). Pure: inputs are never modified. Unknown devices raise
    `InvalidInputError` naming ``steps[i].device_id``."""
    lim = (limits or SwitchingLimits()).validate()
    if not (np.isfinite(load_multiplier) and 0 < load_multiplier <= 5):
        raise InvalidInputError("load_multiplier must be in (0, 5]", field="load_multiplier")
    pos = device_edges(cg)
    for i, s in enumerate(steps):
        if s.device_id not in pos:
            raise InvalidInputError(f"no switching device {s.device_id!r}", field=f"steps[{i}].device_id")
    p = cg.bus_p_kw * load_multiplier
    q = cg.bus_q_kvar * load_multiplier
    state = np.array(cg.closed_state if closed is None else closed, dtype=bool, copy=True)
    base = run_powerflow(cg, closed=state, p_kw=p, q_kvar=q)
    base_load = _loading(base, cg)
    base_src = np.where(np.isfinite(base.source_loading_pct), base.source_loading_pct, np.nan)
    had_supply = np.asarray(base.bus_energized, bool)
    crit_buses = np.zeros(cg.n_bus, bool)
    crit_buses[list(critical_by_bus)] = True
    crit_before = had_supply & crit_buses

    checks: list[StepCheck] = []
    for i, step in enumerate(steps):
        e = pos[step.device_id]
        want_closed = step.action == "close"
        problems: list[str] = []
        if bool(state[e]) == want_closed:
            problems.append(f"{step.device_id} is already {'closed' if want_closed else 'open'}")
        state[e] = want_closed
        pf = run_powerflow(cg, closed=state, p_kw=p, q_kvar=q)
        energized = np.asarray(pf.bus_energized, bool)
        islanded = np.flatnonzero(crit_before & ~energized)
        crit_ids = [c for b in islanded for c in critical_by_bus.get(int(b), ())]
        if crit_ids:
            problems.append(
                f"leaves {len(crit_ids)} critical customer(s) without supply: {', '.join(crit_ids[:5])}"
                + (" ..." if len(crit_ids) > 5 else "")
            )
        if not pf.converged:
            problems.append("the power flow does not converge")
        load = _loading(pf, cg)
        with np.errstate(invalid="ignore"):
            worse = ~(load <= base_load + lim.tolerance_pct)  # True where base was NaN (newly fed)
            over_e = np.flatnonzero((load > lim.max_loading_pct) & worse)
            src = pf.source_loading_pct
            src_worse = ~(src <= base_src + lim.tolerance_pct)
            over_s = np.flatnonzero((src > lim.max_source_loading_pct) & src_worse)
        overloads = [
            Overload(
                str(cg.edge_ids[k]),
                _edge_type(cg, int(k)),
                round(float(load[k]), 2),
                None if not np.isfinite(base_load[k]) else round(float(base_load[k]), 2),
            )
            for k in over_e[np.argsort(-load[over_e])]
        ] + [
            Overload(
                str(cg.source_ids[k]),
                "substation_transformer",
                round(float(src[k]), 2),
                None if not np.isfinite(base_src[k]) else round(float(base_src[k]), 2),
            )
            for k in over_s
        ]
        if overloads:
            worst = overloads[0]
            problems.append(
                f"overloads {len(overloads)} element(s), worst {worst.element_id} at "
                f"{worst.loading_pct:.1f} % (limit {lim.max_loading_pct:.0f} %)"
            )
        finite = load[np.isfinite(load)]
        vm = pf.vm_pu[energized]
        vm = vm[np.isfinite(vm)]
        checks.append(
            StepCheck(
                step=i + 1,
                device_id=step.device_id,
                action=step.action,
                ok=not problems,
                problems=tuple(problems),
                converged=bool(pf.converged),
                customers_without_supply=int(cg.bus_customer_count[~energized].sum()),
                customers_interrupted=int(cg.bus_customer_count[had_supply & ~energized].sum()),
                critical_islanded=tuple(crit_ids[:MAX_LISTED]),
                critical_islanded_count=len(crit_ids),
                overloads=tuple(overloads[:MAX_LISTED]),
                max_loading_pct=round(float(finite.max()), 2) if finite.size else None,
                min_v_pu=round(float(vm.min()), 5) if vm.size else None,
            )
        )
    failed = next((c.step for c in checks if not c.ok), None)
    finite0 = base_load[np.isfinite(base_load)]
    before = {
        "converged": bool(base.converged),
        "customers_without_supply": int(cg.bus_customer_count[~had_supply].sum()),
        "max_loading_pct": round(float(finite0.max()), 2) if finite0.size else None,
    }
    return SwitchingCheck(
        ok=failed is None,
        failed_step=failed,
        steps=tuple(checks),
        load_multiplier=float(load_multiplier),
        limits=lim,
        before=before,
    )
