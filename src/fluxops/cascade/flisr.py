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
from scipy import sparse
from scipy.sparse import csgraph

from fluxops.cascade.config import CascadeConfig, ScenarioConfig
from fluxops.cascade.context import EngineContext
from fluxops.cascade.models import SwitchingAction
from fluxops.cascade.phase_loading import worst_phase_loading
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

    When a whole region does not fit, the region is split: a closed switch inside it is opened so the tie
    carries only the part on its side (`_pickup_with_split`: the largest part that passes, found by
    bisection); the far part stays dark for another tie or the repair. ``tried_before`` (tie → topology
    key when it was rejected) carries rejections across rounds: a tie is not re-tried while nothing
    changed since.
    """
    ctx, st, cfg = step.ctx, step.st, step.config
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
            ok, fit = _try_pickup(step, en, pf_now, c, end, t_ready, split=-1)
            if not ok:
                ok = _pickup_with_split(step, en, pf_now, c, end, t_ready, fit)
            if ok:
                accepted = True
                break
            rejected.add(c)
            memo[c] = key_now
        if not accepted:
            return


def _pickup_with_split(
    step: FlisrStep,
    en: EnergizationResult,
    pf_now: PowerFlowResult,
    tie: int,
    end: int,
    t_ready: float,
    fit: float,
) -> bool:
    """Pick up part of a region too big for ``tie``: bisect the split candidates (largest part first)
    for the largest one whose island stays in limits, with at most ``max_split_candidates`` power flows.

    Why bisection: the share that fits is only estimated (the voltage drop and the cold-load factor are
    not linear in the part's kW, and the part's location matters), so trying just the few largest parts
    under the estimate can reject them all while a smaller part fits (mv_oberrhein FDR-003's breaker:
    three ~45-customer parts at 118 % / 0.86 pu, none of the 23-customer parts that fit were tried).
    Only a part that passed its own power flow is switched."""
    budget = step.config.max_split_candidates
    cands = _split_candidates(step, en, tie, end, fit, t_ready)
    lo, hi, best = 0, len(cands) - 1, -1
    while lo <= hi and budget > 0:
        mid = (lo + hi) // 2
        budget -= 1
        if _try_pickup(step, en, pf_now, tie, end, t_ready, split=cands[mid], commit=False)[0]:
            best, hi = mid, mid - 1
        else:
            lo = mid + 1
    return best >= 0 and _try_pickup(step, en, pf_now, tie, end, t_ready, split=cands[best])[0]


def _split_candidates(
    step: FlisrStep, en: EnergizationResult, tie: int, end: int, fit: float, t_ready: float
) -> list[int]:
    """Closed switches inside the tie's dead region whose tie-side part is at most ``fit`` (the bound on
    the share of the attempted load that could fit, see `_try_pickup` / `_precheck`), largest part
    first. A part is weighed with the cold-load factor its own switching time brings: opening a manual
    switch takes a crew
    (``manual_switch_time_min``), and the part then comes back cold even when the whole region, picked
    up by the automated tie alone, would not have."""
    ctx, st, cfg, sc = step.ctx, step.st, step.config, step.scenario
    cg = ctx.cg
    if cfg.max_split_candidates <= 0:
        return []
    region = (en.bus_island == en.bus_island[end]) & ~en.bus_energized
    # spanning tree of the dead region rooted at the tie's end: opening a switch leaves on the tie side
    # everything but the subtree below it (subtree sums in reverse BFS order; no energization per switch)
    live = st.closed & ~st.failed_edges & region[cg.from_bus] & region[cg.to_bus]
    f, t = cg.from_bus[live], cg.to_bus[live]
    adj = sparse.coo_matrix((np.ones(len(f), np.int8), (f, t)), shape=(cg.n_bus, cg.n_bus)).tocsr()
    order, pred = csgraph.breadth_first_order(adj, end, directed=False, return_predecessors=True)
    sub_kw = np.where(region, st.p_kw, 0.0)
    sub_cust = np.where(region, cg.bus_customer_count, 0).astype(np.int64)
    for node in order[::-1][:-1]:  # children before parents; the root has no parent
        sub_kw[pred[node]] += sub_kw[node]
        sub_cust[pred[node]] += sub_cust[node]
    total_kw, total_cust = float(sub_kw[end]), int(sub_cust[end])
    factor = sc.cold_load_pickup_factor if cfg.flisr_plans_with_cold_load else 1.0
    dead_since = float(np.nanmin(st.dead_since[region], initial=np.inf))
    t_whole = max(t_ready, step.time_min()) + step._duration(tie)

    def cold(t_close: float) -> float:
        long_out = np.isfinite(dead_since) and t_close - dead_since >= sc.cold_load_min_outage_min
        return factor if long_out else 1.0

    attempted_kw = total_kw * cold(t_whole)
    is_dev = (cg.edge_kind != 0) & ~np.isin(cg.device_type, ("tie_switch", "bus_tie"))
    scored: list[tuple[float, int]] = []
    for d in map(int, np.flatnonzero(is_dev & live)):
        a_, b_ = int(cg.from_bus[d]), int(cg.to_bus[d])
        child = b_ if pred[b_] == a_ else (a_ if pred[a_] == b_ else -1)
        if child < 0:
            continue  # not a tree edge of the region (a parallel path): opening it splits nothing
        kw = total_kw - float(sub_kw[child])
        kw_eff = kw * cold(t_whole + step._duration(d))
        if kw > 0 and kw_eff <= fit * attempted_kw and total_cust - int(sub_cust[child]) > 0:
            scored.append((kw, d))
    scored.sort(key=lambda x: (-x[0], x[1]))
    return [d for _, d in scored]


def _try_pickup(
    step: FlisrStep,
    en: EnergizationResult,
    pf_now: PowerFlowResult,
    c: int,
    end: int,
    t_ready: float,
    split: int,
    *,
    commit: bool = True,
) -> tuple[bool, float]:
    """Close tie ``c`` (after opening ``split`` when ≥ 0); keep it only if the island stays in limits.
    Returns (accepted, upper bound on the share of the attempted load that could fit: limit / observed
    loading). With ``commit=False`` a pick-up that passes is only reported, not switched."""
    ctx, st, cfg, sc = step.ctx, step.st, step.config, step.scenario
    cg = ctx.cg
    t_open = max(t_ready, step.time_min())
    t_close = t_open + (step._duration(split) if split >= 0 else 0.0) + step._duration(c)
    if split >= 0:
        st.closed[split] = False
    st.closed[c] = True
    en_t = st.energize()
    newly = en_t.bus_energized & ~en.bus_energized
    long_out = (t_close - np.nan_to_num(st.dead_since, nan=t_close)) >= sc.cold_load_min_outage_min
    factor = sc.cold_load_pickup_factor if cfg.flisr_plans_with_cold_load else 1.0
    n_new = int(cg.bus_customer_count[newly].sum())
    what = f"tie {cg.edge_ids[c]}" + (f" after opening {cg.edge_ids[split]}" if split >= 0 else "")

    def undo() -> None:
        st.closed[c] = False
        if split >= 0:
            st.closed[split] = True

    why_not, fit = _precheck(ctx, st, pf_now, en, c, end, newly, np.where(long_out, factor, 1.0), cfg)
    if why_not is not None:
        undo()
        step.rec.note(f"{what} rejected for {n_new} customers: {why_not}")
        return False, fit
    cold_before = st.cold.copy()
    st.cold |= newly & long_out
    pf, plan = st.powerflow(en_t, factor)
    # judged on each segment's most loaded phase (estimated: `cascade.phase_loading`, solve=False), so a
    # transfer FLISR accepts is not one the overload step then trips on a single-phase lateral
    worst = worst_phase_loading(
        ctx, st, en_t, plan, pf, factor, cfg.flisr_max_loading_pct, float("inf"), solve=False
    ).loading_pct
    ok, max_load, min_v = island_within_limits(
        ctx, pf, en_t, end, cfg.flisr_max_loading_pct, cfg.flisr_min_v_pu, worst
    )
    undo()
    if not ok:
        st.cold = cold_before
        why = (
            "power flow did not converge"
            if not pf.converged
            else (
                f"max loading {max_load:.0f} % (limit {cfg.flisr_max_loading_pct:.0f} %), "
                f"min voltage {min_v:.3f} pu (limit {cfg.flisr_min_v_pu:.3f})"
            )
        )
        step.rec.note(f"{what} rejected for {n_new} customers: {why}")
        # an upper bound on the share that fits: branch currents scale with the load they carry; the
        # voltage drop is no bound (a part nearer the tie also has a shorter path), the bisection finds it
        return False, min(cfg.flisr_max_loading_pct / max_load, 1.0) if pf.converged and max_load > 0 else 1.0
    if not commit:
        st.cold = cold_before
        return True, 1.0
    if split >= 0:
        step.switch(split, "open", "split", after=t_open)
    step.switch(c, "close", "restore", after=step.time_min(), p_kw=float(st.p_kw[newly].sum()))
    step.rec.note(
        f"{what} picked up {n_new} customers (max loading {max_load:.0f} %, min voltage {min_v:.3f} pu"
        + (f", cold-load ×{sc.cold_load_pickup_factor:g})" if (newly & long_out).any() else ")")
    )
    return True, 1.0


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
) -> tuple[str | None, float]:
    """A necessary condition checked before the power flow: the added apparent power must fit through
    the tie's rating and within the supplying transformer's remaining capacity (both at the FLISR
    loading limit). Returns (why it does not fit or None, estimated share of the load that fits)."""
    cg = ctx.cg
    s_kva = float(np.hypot(st.p_kw[newly] * scale[newly], st.q_kvar[newly] * scale[newly]).sum())
    live_end = int(cg.from_bus[tie]) if int(cg.to_bus[tie]) == dead_end else int(cg.to_bus[tie])
    i_add = s_kva / (np.sqrt(3.0) * cg.v_base_kv[live_end])
    limit = cfg.flisr_max_loading_pct / 100.0
    if cg.ampacity_a[tie] > 0 and i_add > limit * cg.ampacity_a[tie]:
        fit = 0.9 * limit * cg.ampacity_a[tie] / i_add
        return (
            f"{i_add:.0f} A exceeds the tie rating ({cg.ampacity_a[tie]:.0f} A) — no power flow needed",
            fit,
        )
    src = int(en.bus_source[live_end])
    if src >= 0 and cg.source_rating_mva[src] > 0:
        now = float(np.nan_to_num(pf_now.source_loading_pct[src])) / 100.0
        after = now + s_kva / (cg.source_rating_mva[src] * 1000.0)
        if after > limit:
            fit = 0.9 * max(limit - now, 0.0) / max(after - now, 1e-9)
            return (
                f"{cg.source_ids[src]} would carry {after * 100:.0f} % of its rating "
                f"(limit {cfg.flisr_max_loading_pct:.0f} %) — no power flow needed"
            ), fit
    return None, 1.0
