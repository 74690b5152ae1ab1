"""FLISR switching steps: isolate, re-close, transfer through bus ties, pick up through ties.

Why each pick-up is a power flow: a tie may only carry a dead section if the neighbour feeder keeps its
conductors within ampacity and its customers within ANSI Range A (Oracle NMS FLISR runs exactly this
check, several load flows per event; domain-facts §4.2). Cold-load pickup inflates the picked-up load
when the outage lasted long enough for thermostats to lose diversity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from fluxops.cascade.config import CascadeConfig, ScenarioConfig
from fluxops.cascade.context import EngineContext
from fluxops.cascade.models import SwitchingAction
from fluxops.cascade.protection import island_within_limits, tie_candidates
from fluxops.cascade.state import CascadeState
from fluxops.network.energization import EnergizationResult
from fluxops.network.powerflow import PowerFlowResult

if TYPE_CHECKING:
    from fluxops.cascade.recorder import WaveRecorder

BoolArray = npt.NDArray[np.bool_]


class FlisrStep:
    """Switching actions of one FLISR wave, each with its completion time."""

    def __init__(
        self,
        ctx: EngineContext,
        st: CascadeState,
        config: CascadeConfig,
        scenario: ScenarioConfig,
        rec: WaveRecorder,
        t0: float = 0.0,
    ) -> None:
        self.ctx, self.st, self.config, self.scenario, self.rec, self.t0 = ctx, st, config, scenario, rec, t0
        self.actions: list[SwitchingAction] = []

    def time_min(self) -> float:
        return max([self.t0, *(a.time_min for a in self.actions)])

    def _duration(self, e: int) -> float:
        auto = bool(self.ctx.edge_automated[e])
        return self.config.flisr_switch_time_min if auto else self.config.manual_switch_time_min

    def switch(
        self, e: int, action: str, purpose: str, *, after: float | None = None, p_kw: float = 0.0
    ) -> None:
        self.st.closed[e] = action == "close"
        start = self.t0 if after is None else after
        self.actions.append(
            SwitchingAction(
                device_id=str(self.ctx.cg.edge_ids[e]),
                action=action,
                purpose=purpose,
                time_min=round(start + self._duration(e), 3),
                automated=bool(self.ctx.edge_automated[e]),
                p_kw_transferred=round(p_kw, 2),
            )
        )

    def reclose_source(self, s: int) -> None:
        self.st.failed_sources[s] = False
        self.rec.tripped_sources.remove(s)
        self.actions.append(
            SwitchingAction(
                device_id=str(self.ctx.cg.source_ids[s]),
                action="close",
                purpose="restore",
                time_min=round(self.t0 + self.config.flisr_switch_time_min, 3),
                automated=True,
            )
        )


def transfer_bus_ties(step: FlisrStep, failed_sources: npt.NDArray[np.int64]) -> None:
    """Close the normally-open bus tie of each lost substation transformer's bus section (automatic
    transfer; no capacity check — the thermal waves decide whether the remaining transformer holds)."""
    cg, st = step.ctx.cg, step.st
    if len(failed_sources) == 0:
        return
    is_bt = cg.device_type == "bus_tie"
    for s in map(int, failed_sources):
        b = int(cg.source_bus[s])
        en = st.energize()
        if en.bus_energized[b] or st.failed_buses[b]:
            continue
        cand = np.flatnonzero(is_bt & ~st.closed & ~st.failed_edges & ((cg.from_bus == b) | (cg.to_bus == b)))
        for e in map(int, cand):
            other = int(cg.to_bus[e]) if int(cg.from_bus[e]) == b else int(cg.from_bus[e])
            if en.bus_energized[other]:
                st.closed[e] = True
                newly = st.energize().bus_energized & ~en.bus_energized
                st.closed[e] = False
                step.switch(e, "close", "transfer", p_kw=float(st.p_kw[newly].sum()))
                break


def run_pickups(
    step: FlisrStep, blocked: BoolArray, t_ready: float, tried_before: dict[int, bytes] | None = None
) -> None:
    """Greedy tie pick-ups: largest dead region first; each accepted only if its island stays in limits.

    ``tried_before`` (tie → topology key when it was rejected) carries rejections across rounds: a tie is
    not re-tried while nothing has changed since."""
    ctx, st, cfg, sc = step.ctx, step.st, step.config, step.scenario
    cg = ctx.cg
    memo = tried_before if tried_before is not None else {}
    key_now = st._topology_key()
    rejected: set[int] = {t for t, k in memo.items() if k == key_now}
    tried = 0
    while tried < cfg.max_flisr_candidates:
        en = st.energize()
        cands = [
            c for c in tie_candidates(ctx, en, st.closed, st.failed_edges, blocked) if int(c) not in rejected
        ]
        if not cands:
            return
        dead = ~en.bus_energized
        island_cust = np.bincount(
            en.bus_island[dead], weights=cg.bus_customer_count[dead], minlength=cg.n_bus
        )
        ends = [int(cg.to_bus[c]) if en.bus_energized[cg.from_bus[c]] else int(cg.from_bus[c]) for c in cands]
        order = np.argsort([-island_cust[en.bus_island[b]] for b in ends], kind="stable")
        pf_now, _ = st.powerflow(en, 1.0)
        accepted = False
        for k in order:
            if tried >= cfg.max_flisr_candidates:
                return
            c, end = int(cands[k]), ends[k]
            tried += 1
            t_close = max(t_ready, step.time_min()) + step._duration(c)
            st.closed[c] = True
            en_t = st.energize()
            newly = en_t.bus_energized & ~en.bus_energized
            long_out = (t_close - np.nan_to_num(st.dead_since, nan=t_close)) >= sc.cold_load_min_outage_min
            factor = sc.cold_load_pickup_factor if cfg.flisr_plans_with_cold_load else 1.0
            why_not = _precheck(ctx, st, pf_now, en, c, end, newly, np.where(long_out, factor, 1.0), cfg)
            if why_not is not None:
                st.closed[c] = False
                rejected.add(c)
                memo[c] = key_now
                step.rec.note(
                    f"tie {cg.edge_ids[c]} rejected for {int(cg.bus_customer_count[newly].sum())} customers: "
                    f"{why_not}"
                )
                continue
            cold_before = st.cold.copy()
            st.cold |= newly & long_out
            pf, _ = st.powerflow(en_t, factor)
            ok, max_load, min_v = island_within_limits(
                ctx, pf, en_t, end, cfg.flisr_max_loading_pct, cfg.flisr_min_v_pu
            )
            if ok:
                st.closed[c] = False
                step.switch(
                    c,
                    "close",
                    "restore",
                    after=max(t_ready, step.time_min()),
                    p_kw=float(st.p_kw[newly].sum()),
                )
                step.rec.note(
                    f"tie {cg.edge_ids[c]} picked up {int(cg.bus_customer_count[newly].sum())} customers "
                    f"(max loading {max_load:.0f} %, min voltage {min_v:.3f} pu"
                    + (f", cold-load ×{sc.cold_load_pickup_factor:g})" if (newly & long_out).any() else ")")
                )
                accepted = True
                break
            st.closed[c] = False
            st.cold = cold_before
            rejected.add(c)
            memo[c] = key_now
            why = (
                "power flow did not converge"
                if not pf.converged
                else (
                    f"max loading {max_load:.0f} % (limit {cfg.flisr_max_loading_pct:.0f} %), "
                    f"min voltage {min_v:.3f} pu (limit {cfg.flisr_min_v_pu:.3f})"
                )
            )
            step.rec.note(
                f"tie {cg.edge_ids[c]} rejected for "
                f"{int(cg.bus_customer_count[newly].sum())} customers: {why}"
            )
        if not accepted:
            return


def _precheck(
    ctx: EngineContext,
    st: CascadeState,
    pf_now: PowerFlowResult,
    en: EnergizationResult,
    tie: int,
    dead_end: int,
    newly: BoolArray,
    scale: npt.NDArray[np.float64],
    cfg: CascadeConfig,
) -> str | None:
    """A necessary condition checked before the power flow: the added apparent power must fit through
    the tie's rating and within the supplying transformer's remaining capacity (both at the FLISR
    loading limit). Returns why it does not fit, or None."""
    cg = ctx.cg
    s_kva = float(np.hypot(st.p_kw[newly] * scale[newly], st.q_kvar[newly] * scale[newly]).sum())
    live_end = int(cg.from_bus[tie]) if int(cg.to_bus[tie]) == dead_end else int(cg.to_bus[tie])
    i_add = s_kva / (np.sqrt(3.0) * cg.v_base_kv[live_end])
    limit = cfg.flisr_max_loading_pct / 100.0
    if cg.ampacity_a[tie] > 0 and i_add > limit * cg.ampacity_a[tie]:
        return f"{i_add:.0f} A exceeds the tie rating ({cg.ampacity_a[tie]:.0f} A) — no power flow needed"
    src = int(en.bus_source[live_end])
    if src >= 0 and cg.source_rating_mva[src] > 0:
        now = float(np.nan_to_num(pf_now.source_loading_pct[src])) / 100.0
        after = now + s_kva / (cg.source_rating_mva[src] * 1000.0)
        if after > limit:
            return (
                f"{cg.source_ids[src]} would carry {after * 100:.0f} % of its rating "
                f"(limit {cfg.flisr_max_loading_pct:.0f} %) — no power flow needed"
            )
    return None
