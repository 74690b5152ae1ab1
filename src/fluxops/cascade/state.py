"""The mutable working state of one cascade run (switch states, failures, outage clocks).

Why a separate class: the engine, FLISR and the outage-group builder all read and change the same few
arrays; keeping them in one object (copied from the grid's arrays, never the grid's own) makes "algorithms
never mutate inputs" easy to keep.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from fluxops.cascade.context import EngineContext
from fluxops.network.elements import customers_out
from fluxops.network.energization import EnergizationResult, energize
from fluxops.network.powerflow import PowerFlowResult, SweepPlan, prepare_sweep, run_powerflow

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class CascadeState:
    ctx: EngineContext
    p_kw: FloatArray  # scenario load per bus (no cold-load pickup)
    q_kvar: FloatArray
    closed: BoolArray
    failed_edges: BoolArray
    failed_buses: BoolArray
    failed_sources: BoolArray  # failed or tripped
    failed_xfmr: BoolArray
    cold: BoolArray  # buses carrying cold-load pickup in the next flow check
    dead_since: FloatArray  # per bus: minute it lost supply (NaN while supplied)
    lost_wave: npt.NDArray[np.int64]  # per bus: wave that de-energized it (−1 while supplied)
    xfmr_dead_since: FloatArray
    xfmr_lost_wave: npt.NDArray[np.int64]
    source_load_since: FloatArray  # per source: minute its present loading began (thermal clock)
    energy_kwh_by_wave: dict[int, float] = field(default_factory=dict)
    cust_min_by_wave: dict[int, float] = field(default_factory=dict)
    en: EnergizationResult | None = None
    # (duration min, customers by ICE class, their annual kWh by ICE class) of interruptions ended early
    interruptions: list[tuple[float, list[int], list[float]]] = field(default_factory=list)
    _memo: dict[tuple[str, bytes], object] = field(default_factory=dict)

    @classmethod
    def start(cls, ctx: EngineContext, p_kw: FloatArray, q_kvar: FloatArray) -> CascadeState:
        cg = ctx.cg
        st = cls(
            ctx=ctx,
            p_kw=p_kw,
            q_kvar=q_kvar,
            closed=cg.closed_state.copy(),
            failed_edges=np.zeros(cg.n_edge, bool),
            failed_buses=np.zeros(cg.n_bus, bool),
            failed_sources=np.zeros(cg.n_source, bool),
            failed_xfmr=np.zeros(len(cg.xfmr_ids), bool),
            cold=np.zeros(cg.n_bus, bool),
            dead_since=np.full(cg.n_bus, np.nan),
            lost_wave=np.full(cg.n_bus, -1, np.int64),
            xfmr_dead_since=np.full(len(cg.xfmr_ids), np.nan),
            xfmr_lost_wave=np.full(len(cg.xfmr_ids), -1, np.int64),
            source_load_since=np.zeros(cg.n_source),
        )
        en = st.energize()
        # buses already dead in the starting configuration are not the cascade's doing
        st.en = en
        return st

    def _topology_key(self) -> bytes:
        return b"".join(
            a.tobytes() for a in (self.closed, self.failed_edges, self.failed_buses, self.failed_sources)
        )

    def energize(self) -> EnergizationResult:
        """Energization of the present state (memoized: waves and FLISR ask for it repeatedly)."""
        key = self._topology_key()
        hit = self._memo.get(("en", key))
        if isinstance(hit, EnergizationResult):
            return hit
        en = energize(
            self.ctx.cg,
            closed=self.closed,
            failed_edges=self.failed_edges,
            failed_buses=self.failed_buses,
            failed_sources=self.failed_sources,
        )
        self._remember(("en", key), en)
        return en

    def _remember(self, key: tuple[str, bytes], value: object) -> None:
        if len(self._memo) >= 8:
            self._memo.pop(next(iter(self._memo)))
        self._memo[key] = value

    def loads(self, cold_factor: float) -> tuple[FloatArray, FloatArray]:
        scale = np.where(self.cold, cold_factor, 1.0)
        return self.p_kw * scale, self.q_kvar * scale

    def powerflow(self, en: EnergizationResult, cold_factor: float) -> tuple[PowerFlowResult, SweepPlan]:
        """Power flow of ``en`` with the present loads (memoized on topology, cold-load mask and factor)."""
        key = self._topology_key() + self.cold.tobytes() + np.float64(cold_factor).tobytes()
        if en is self._memo.get(("en", self._topology_key())):
            hit = self._memo.get(("pf", key))
            if hit is not None:
                return hit  # type: ignore[return-value]
        plan = prepare_sweep(self.ctx.cg, en)
        p, q = self.loads(cold_factor)
        out = (run_powerflow(self.ctx.cg, p_kw=p, q_kvar=q, plan=plan), plan)
        if en is self._memo.get(("en", self._topology_key())):
            self._remember(("pf", key), out)
        return out

    def customers(self, en: EnergizationResult) -> tuple[int, int]:
        return customers_out(
            self.ctx.cg, en.bus_energized, failed_transformers=np.flatnonzero(self.failed_xfmr)
        )

    def p_kw_out(self, en: EnergizationResult) -> float:
        cg = self.ctx.cg
        dead = float(self.p_kw[~en.bus_energized].sum())
        xf_live = self.failed_xfmr & en.bus_energized[cg.xfmr_bus]
        share = self._xfmr_share()
        return dead + float((self.p_kw[cg.xfmr_bus] * share)[xf_live].sum())

    def _xfmr_share(self) -> FloatArray:
        """Each distribution transformer's share of its bus's load (design-peak proportions)."""
        cg = self.ctx.cg
        bus_total = cg.bus_p_kw[cg.xfmr_bus]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(np.where(bus_total > 0, cg.xfmr_p_kw / bus_total, 0.0), np.float64)

    def xfmr_p_kw(self) -> FloatArray:
        return np.asarray(self.p_kw[self.ctx.cg.xfmr_bus] * self._xfmr_share(), np.float64)

    def xfmr_peak_kw(self) -> FloatArray:
        """Each distribution transformer's coincident peak (its share × u(N), `cascade.coincidence`):
        what heats it, against its rating. Energy and customer counts keep the share (`xfmr_p_kw`)."""
        u = self.ctx.xfmr_coincidence
        xp = self.xfmr_p_kw()
        return xp if u.size == 0 else np.asarray(xp * u, np.float64)

    def book_energy(
        self,
        restored_bus: BoolArray,
        restored_xfmr: BoolArray,
        t_min: float | FloatArray,
        t_xfmr_min: float | FloatArray | None = None,
        *,
        record: bool = True,
    ) -> None:
        """Close the outage clock of buses/transformers supplied again at ``t_min``; with ``record``, keep
        (duration, customers by ICE class) of the interruptions ended during the cascade (for ICE cost)."""
        cg = self.ctx.cg
        xp = self.xfmr_p_kw()
        # loads behind failed transformers are booked on the transformers' own clocks
        bus_p = self.p_kw - np.bincount(cg.xfmr_bus, weights=xp * self.failed_xfmr, minlength=cg.n_bus)
        bus_c = cg.bus_customer_count - np.bincount(
            cg.xfmr_bus, weights=cg.xfmr_customer_count * self.failed_xfmr, minlength=cg.n_bus
        )
        t_bus = np.broadcast_to(np.asarray(t_min, np.float64), (cg.n_bus,))
        for wave in np.unique(self.lost_wave[restored_bus]):
            m = restored_bus & (self.lost_wave == wave)
            dur_h = np.maximum(t_bus[m] - self.dead_since[m], 0.0) / 60.0
            self.energy_kwh_by_wave[int(wave)] = self.energy_kwh_by_wave.get(int(wave), 0.0) + float(
                (bus_p[m] * dur_h).sum()
            )
            self.cust_min_by_wave[int(wave)] = self.cust_min_by_wave.get(int(wave), 0.0) + float(
                (bus_c[m] * dur_h * 60.0).sum()
            )
            if record:
                idx = np.flatnonzero(m)
                cls = self.ctx.bus_customers_by_class[idx]
                kwh = self.ctx.bus_annual_kwh_by_class[idx]
                for d in np.unique(np.round(dur_h * 60.0, 1)):
                    sel = np.round(dur_h * 60.0, 1) == d
                    counts = cls[sel].sum(axis=0)
                    if counts.sum() > 0:
                        energy = kwh[sel].sum(axis=0)
                        self.interruptions.append(
                            (float(d), [int(c) for c in counts], [round(float(e), 1) for e in energy])
                        )
        t_x = np.broadcast_to(
            np.asarray(t_min if t_xfmr_min is None else t_xfmr_min, np.float64), (len(cg.xfmr_ids),)
        )
        for wave in np.unique(self.xfmr_lost_wave[restored_xfmr]):
            m = restored_xfmr & (self.xfmr_lost_wave == wave)
            dur_h = np.maximum(t_x[m] - self.xfmr_dead_since[m], 0.0) / 60.0
            self.energy_kwh_by_wave[int(wave)] = self.energy_kwh_by_wave.get(int(wave), 0.0) + float(
                (xp[m] * dur_h).sum()
            )
            self.cust_min_by_wave[int(wave)] = self.cust_min_by_wave.get(int(wave), 0.0) + float(
                (cg.xfmr_customer_count[m] * dur_h * 60.0).sum()
            )
        self.dead_since[restored_bus] = np.nan
        self.lost_wave[restored_bus] = -1
        self.xfmr_dead_since[restored_xfmr] = np.nan
        self.xfmr_lost_wave[restored_xfmr] = -1
