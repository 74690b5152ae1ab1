"""Trip rules between waves: momentary reclosing, transformer thermal trips, thermal clocks.

Why separate from the engine loop: these are the physics-and-protection rules each wave applies (which
reclosing device gives momentaries, which transformer reaches its IEEE C57.91 hot-spot limit first and
when), while `engine` only sequences the waves.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from fluxops.cascade.config import CascadeConfig, ScenarioConfig
from fluxops.cascade.context import EngineContext
from fluxops.cascade.models import MomentaryEvent
from fluxops.cascade.protection import Upstream, reclosing_ancestor
from fluxops.cascade.recorder import WaveRecorder
from fluxops.cascade.state import CascadeState
from fluxops.cascade.thermal import time_to_limit_min
from fluxops.network.energization import EnergizationResult, energize
from fluxops.network.powerflow import PowerFlowResult

FloatArray = npt.NDArray[np.float64]


def momentary_events(
    ctx: EngineContext,
    st: CascadeState,
    pe: npt.NDArray[np.int64],
    ops: list[Upstream],
    config: CascadeConfig,
    energized: npt.NDArray[np.bool_],
) -> list[MomentaryEvent]:
    """Fuse saving / sectionalizer counting: the reclosing device above a fuse or sectionalizer tries
    (1 fast shot over a fuse; ``reclose_shots − 1`` counts for a sectionalizer) before the downstream
    device clears the fault; customers it feeds that stay supplied see momentary interruptions."""
    cg = ctx.cg
    out = []
    for op in ops:
        if op.edge < 0:
            continue
        dtype = str(cg.device_type[op.edge])
        if dtype not in ("fuse", "sectionalizer") or config.reclose_shots == 0:
            continue
        r = reclosing_ancestor(ctx, pe, op.edge, cg.closed_state)
        if r < 0:
            continue
        closed = st.closed.copy()
        closed[r] = False
        en_r = energize(
            cg,
            closed=closed,
            failed_edges=st.failed_edges,
            failed_buses=st.failed_buses,
            failed_sources=st.failed_sources,
        )
        hit = ~en_r.bus_energized & energized
        shots = 1 if dtype == "fuse" else max(1, config.reclose_shots - 1)
        out.append(MomentaryEvent(str(cg.edge_ids[r]), shots, int(cg.bus_customer_count[hit].sum())))
    return out


def mark_source_clock(ctx: EngineContext, st: CascadeState, t: float) -> None:
    """Sources whose feeding region changed start a new thermal clock at ``t``."""
    en = st.energize()
    n_bus_fed = np.bincount(en.bus_source[en.bus_energized], minlength=ctx.cg.n_source)
    prev = getattr(st, "_fed_counts", None)
    changed = np.ones(ctx.cg.n_source, bool) if prev is None else n_bus_fed != prev
    st.source_load_since[changed] = t
    st._fed_counts = n_bus_fed  # type: ignore[attr-defined]


def thermal_trips(
    ctx: EngineContext,
    st: CascadeState,
    config: CascadeConfig,
    scenario: ScenarioConfig,
    pf: PowerFlowResult,
    en: EnergizationResult,
    k0_src: FloatArray,
    t_now: float,
    rec: WaveRecorder,
) -> float | None:
    """Trip the transformers whose hot spot reaches its limit first (within 1 min); return that time."""
    cg, th = ctx.cg, config.thermal
    amb = scenario.ambient_temp_c
    live_src = en.source_live & ~st.failed_sources
    k_src = np.nan_to_num(pf.source_loading_pct / 100.0)
    ttl_src = time_to_limit_min(th, amb, k0_src, k_src, th.sub_xfmr_trip_hot_spot_c)
    t_src = np.where(live_src, st.source_load_since + ttl_src, np.inf)
    xp = st.xfmr_peak_kw()  # coincident peak of its customers: the generator's sizing model
    share_q = np.where(
        cg.bus_p_kw[cg.xfmr_bus] > 0, st.q_kvar[cg.xfmr_bus] / np.maximum(st.p_kw[cg.xfmr_bus], 1e-9), 0.0
    )
    k_x = np.sqrt(xp**2 + (xp * share_q) ** 2) / np.maximum(cg.xfmr_rating_kva, 1e-9)
    live_x = en.bus_energized[cg.xfmr_bus] & ~st.failed_xfmr
    cand = live_x & (k_x > 1.0)
    t_x = np.full(len(k_x), np.inf)
    if cand.any():
        t_x[cand] = time_to_limit_min(
            th, amb, np.minimum(k_x[cand], 1.0), k_x[cand], th.dist_xfmr_fail_hot_spot_c
        )
    earliest = float(min(t_src.min(initial=np.inf), t_x.min(initial=np.inf)))
    if not np.isfinite(earliest):
        return None
    t = max(t_now, earliest)
    for s in np.flatnonzero(t_src <= earliest + 1.0):
        st.failed_sources[s] = True
        rec.thermal_sources.append(int(s))
        rec.event(
            str(cg.source_ids[s]),
            "substation_transformer",
            "thermal",
            f"hot spot ≥ {th.sub_xfmr_trip_hot_spot_c:.0f} °C at {k_src[s] * 100:.0f} % load "
            f"({amb:.0f} °C ambient) after {t_src[s] - st.source_load_since[s]:.0f} min",
            t,
            float(k_src[s]),
        )
    for x in np.flatnonzero(t_x <= earliest + 1.0):
        st.failed_xfmr[x] = True
        rec.thermal_xfmrs.append(int(x))
        rec.event(
            str(cg.xfmr_ids[x]),
            "transformer",
            "thermal",
            f"hot spot ≥ {th.dist_xfmr_fail_hot_spot_c:.0f} °C at {k_x[x] * 100:.0f} % of rating",
            t,
            float(k_x[x]),
        )
    return t
