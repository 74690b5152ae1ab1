"""Bookkeeping of a cascade run: events, per-wave diffs of what lost or regained supply, repair actions.

Why separate from the engine: the engine decides *what happens*; this records *what changed* the same
way for every wave (energized sets before/after, customers from the meters downstream, unserved energy
clocks) and turns the end state into repair actions for the restoration plan.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from fluxops.cascade.context import EngineContext
from fluxops.cascade.groups import RepairAction
from fluxops.cascade.models import Event, LostElement, OutageGroup, SwitchingAction, WaveResult
from fluxops.cascade.restoration import RestorationPlan
from fluxops.cascade.state import CascadeState
from fluxops.network.compiled import EDGE_LINE
from fluxops.network.energization import EnergizationResult

BoolArray = npt.NDArray[np.bool_]


class WaveRecorder:
    def __init__(self, ctx: EngineContext, st: CascadeState) -> None:
        self.ctx, self.st = ctx, st
        assert st.en is not None
        self.prev_en: EnergizationResult = st.en
        self.prev_xfmr_live: BoolArray = st.en.bus_energized[ctx.cg.xfmr_bus] & ~st.failed_xfmr
        self.events: list[Event] = []
        self.switching: list[SwitchingAction] = []
        self.notes: list[str] = []
        self.waves: list[dict[str, object]] = []
        self.fault_edges: list[int] = []
        self.fault_buses: list[int] = []
        self.fault_sources: list[int] = []
        self.fault_xfmrs: list[int] = []
        # single-phase faults cleared by a single-pole fuse: (faulted edge, fuse, transformers out)
        self.phase_faults: list[tuple[int, int, tuple[int, ...]]] = []
        self.protection_edges: list[int] = []
        self.tripped_sources: list[int] = []
        self.isolation_edges: list[int] = []
        self.overload_edges: list[int] = []
        self.overload_sources: list[int] = []
        self.thermal_sources: list[int] = []
        self.thermal_xfmrs: list[int] = []
        self._lost_ids: set[str] = set()

    @property
    def n_waves(self) -> int:
        return len(self.waves)

    def event(
        self,
        element_id: str,
        element_type: str,
        cause: str,
        detail: str,
        t: float,
        value: float | None = None,
    ) -> None:
        self.events.append(Event(element_id, element_type, cause, detail, round(t, 3), value))

    def note(self, text: str) -> None:
        self.notes.append(text)

    def close_wave(self, wave: int, t: float, label: str, *, cold_factor: float) -> EnergizationResult:
        """Diff the supply state against the previous wave and store the wave's record."""
        st, cg = self.st, self.ctx.cg
        en = st.energize()
        xfmr_live = en.bus_energized[cg.xfmr_bus] & ~st.failed_xfmr
        prev = self.prev_en
        primary = {e.element_id: e.cause for e in self.events}
        lost_e = np.flatnonzero(prev.edge_energized & ~en.edge_energized)
        back_e = np.flatnonzero(~prev.edge_energized & en.edge_energized)
        lost_x = np.flatnonzero(self.prev_xfmr_live & ~xfmr_live)
        back_x = np.flatnonzero(~self.prev_xfmr_live & xfmr_live)
        etype = self.ctx.edge_type
        lost = [
            LostElement(i, ty, primary.get(i, "isolated"))
            for i, ty in zip(cg.edge_ids[lost_e].tolist(), etype[lost_e].tolist(), strict=True)
        ] + [LostElement(i, "transformer", primary.get(i, "isolated")) for i in cg.xfmr_ids[lost_x].tolist()]
        lost += [
            LostElement(ev.element_id, ev.element_type, ev.cause)
            for ev in self.events
            if ev.element_type in ("substation", "substation_transformer", "bus")
            and ev.cause in ("fault", "thermal")
        ]
        restored = [
            LostElement(i, ty, "restored")
            for i, ty in zip(cg.edge_ids[back_e].tolist(), etype[back_e].tolist(), strict=True)
        ] + [LostElement(i, "transformer", "restored") for i in cg.xfmr_ids[back_x].tolist()]
        self._lost_ids.update(x.element_id for x in lost)
        # outage clocks
        newly_dead = prev.bus_energized & ~en.bus_energized
        st.dead_since[newly_dead] = t
        st.lost_wave[newly_dead] = wave
        new_fail_x = st.failed_xfmr & np.isnan(st.xfmr_dead_since)
        st.xfmr_dead_since[new_fail_x] = t
        st.xfmr_lost_wave[new_fail_x] = wave
        st.book_energy(
            ~prev.bus_energized & en.bus_energized & ~np.isnan(st.dead_since), np.zeros_like(xfmr_live), t
        )
        cust, crit = st.customers(en)
        pf, _ = st.powerflow(en, cold_factor)
        load = pf.loading_pct[en.edge_energized]
        self.waves.append(
            {
                "wave": wave,
                "time_min": round(t, 3),
                "label": label,
                "events": self.events,
                "lost": lost,
                "restored": restored,
                "switching": self.switching,
                "customers_out": cust,
                # newly dark buses, plus transformers lost on buses that stay supplied
                "customers_out_new": int(cg.bus_customer_count[newly_dead].sum())
                + int(cg.xfmr_customer_count[lost_x[en.bus_energized[cg.xfmr_bus[lost_x]]]].sum()),
                "customers_restored": int(
                    cg.bus_customer_count[~prev.bus_energized & en.bus_energized].sum()
                ),
                "critical_out": crit,
                "p_kw_out": round(st.p_kw_out(en), 3),
                "max_loading_pct": round(float(np.nanmax(load, initial=0.0)), 2),
                "min_v_pu": round(float(np.nanmin(pf.vm_pu)), 4) if en.bus_energized.any() else 0.0,
                "powerflow_converged": bool(pf.converged),
                "notes": self.notes,
            }
        )
        self.events, self.switching, self.notes = [], [], []
        self.prev_en, self.prev_xfmr_live = en, xfmr_live
        return en

    def _edge_repair(self, e: int, out: list[RepairAction]) -> tuple[str, set[int]]:
        """Appends the repair of faulted conductor ``e`` to ``out``; returns its key and the protection zones
        it touches (a three-phase fault and a single-phase one are repaired the same way)."""
        ctx, cg = self.ctx, self.ctx.cg
        key = f"repair:{cg.edge_ids[e]}"
        out.append(self._edge_action(key, e, "repair"))
        return key, {int(ctx.bus_zone[cg.from_bus[e]]), int(ctx.bus_zone[cg.to_bus[e]])}

    def _etype(self, e: int) -> str:
        cg = self.ctx.cg
        return "line_segment" if cg.edge_kind[e] == EDGE_LINE else str(cg.device_type[e])

    def unique_lost(self) -> int:
        return len(self._lost_ids)

    def _edge_action(self, key: str, e: int, kind: str) -> RepairAction:
        ctx = self.ctx
        edge_id = str(ctx.cg.edge_ids[e])
        lon, lat = float(ctx.edge_lon[e]), float(ctx.edge_lat[e])
        return RepairAction(key, edge_id, self._etype(e), kind, lon, lat, edges=(e,))

    def _source_action(self, key: str, s: int, kind: str) -> RepairAction:
        ctx = self.ctx
        lon, lat = float(ctx.source_lon[s]), float(ctx.source_lat[s])
        return RepairAction(
            key, str(ctx.cg.source_ids[s]), "substation_transformer", kind, lon, lat, sources=(s,)
        )

    def _xfmr_action(self, key: str, x: int, kind: str) -> RepairAction:
        ctx = self.ctx
        lon, lat = float(ctx.xfmr_lon[x]), float(ctx.xfmr_lat[x])
        return RepairAction(key, str(ctx.cg.xfmr_ids[x]), "transformer", kind, lon, lat, xfmr=x)

    def repair_actions(self) -> list[RepairAction]:
        """Repairs still needed at the end: faults (with the devices opened to clear and isolate them),
        devices tripped on overload, transformers tripped or failed thermally."""
        cg = self.ctx.cg
        out: list[RepairAction] = []
        fault_keys = self._fault_repairs(out)  # key, protection zones it touches
        default_key = fault_keys[0][0] if fault_keys else None
        self._isolation_recloses(out, fault_keys, default_key)
        out += [
            self._edge_action(f"reclose:{cg.edge_ids[e]}", e, "reclose")
            for e in self.overload_edges
            if not self.st.closed[e]
        ]
        out += [
            self._source_action(f"reclose:{cg.source_ids[s]}", s, "reclose") for s in self.overload_sources
        ]
        out += [
            self._source_action(f"replace:{cg.source_ids[s]}", s, "replace") for s in self.thermal_sources
        ]
        out += [self._xfmr_action(f"replace:{cg.xfmr_ids[x]}", x, "replace") for x in self.thermal_xfmrs]
        return out

    def _fault_repairs(self, out: list[RepairAction]) -> list[tuple[str, set[int]]]:
        """Appends the repair of every faulted element; returns each repair's key and the zones it touches."""
        ctx, cg = self.ctx, self.ctx.cg
        fault_keys = [self._edge_repair(e, out) for e in self.fault_edges]
        sub_of_fault = {int(cg.bus_substation[b]) for b in self.fault_buses if cg.bus_is_substation[b]}
        for s in sub_of_fault:
            srcs = tuple(int(x) for x in np.flatnonzero(cg.source_substation == s))
            sub_id = str(cg.substation_ids[s])
            lon, lat = float(ctx.substation_lon[s]), float(ctx.substation_lat[s])
            out.append(
                RepairAction(f"repair:{sub_id}", sub_id, "substation", "repair", lon, lat, sources=srcs)
            )
        for b in self.fault_buses:
            if cg.bus_is_substation[b]:
                continue
            key = f"repair:{cg.bus_ids[b]}"
            fault_keys.append((key, {int(ctx.bus_zone[b])}))
            lon, lat = float(ctx.bus_lon[b]), float(ctx.bus_lat[b])
            out.append(RepairAction(key, str(cg.bus_ids[b]), "bus", "repair", lon, lat, buses=(b,)))
        out += [
            self._source_action(f"repair:{cg.source_ids[s]}", s, "replace")
            for s in self.fault_sources
            if int(cg.source_substation[s]) not in sub_of_fault
        ]
        out += [self._xfmr_action(f"repair:{cg.xfmr_ids[x]}", x, "replace") for x in self.fault_xfmrs]
        for e, _fuse, lost in self.phase_faults:  # the faulted conductor's repair restores its phase
            key, zones = self._edge_repair(e, out)
            fault_keys.append((key, zones))
            out += [self._xfmr_action(key, x, "repair") for x in lost]
        return fault_keys

    def _isolation_recloses(
        self, out: list[RepairAction], fault_keys: list[tuple[str, set[int]]], default_key: str | None
    ) -> None:
        """Devices opened to clear or isolate a fault close with the repair of the fault in their zone."""
        ctx, cg = self.ctx, self.ctx.cg
        if default_key is None:
            return
        for e in self.protection_edges + self.isolation_edges:
            if self.st.closed[e]:
                continue
            zones = {int(ctx.bus_zone[cg.from_bus[e]]), int(ctx.bus_zone[cg.to_bus[e]])}
            key = next((k for k, z in fault_keys if z & zones), default_key)
            out.append(self._edge_action(key, e, "reclose"))
        out += [self._source_action(default_key, s, "reclose") for s in self.tripped_sources]

    def finish(
        self,
        groups: list[OutageGroup],
        bus_group: npt.NDArray[np.int64],
        xfmr_group: npt.NDArray[np.int64],
        plan: RestorationPlan,
    ) -> list[WaveResult]:
        """Close the outage clocks with the restoration plan's times and emit the wave records."""
        st = self.st
        restored_at = {s.group_id: s.restored_min for s in plan.steps}
        g_t = np.array([restored_at.get(g.group_id, 0.0) for g in groups] + [0.0], np.float64)
        dead = ~np.isnan(st.dead_since)
        t_bus = g_t[np.where(bus_group >= 0, bus_group, len(groups))]
        t_bus = np.maximum(t_bus, np.nan_to_num(st.dead_since))
        xf_dead = ~np.isnan(st.xfmr_dead_since)
        t_x = g_t[np.where(xfmr_group >= 0, xfmr_group, len(groups))]
        t_x = np.maximum(t_x, np.nan_to_num(st.xfmr_dead_since))
        st.book_energy(dead, xf_dead, t_bus, t_x, record=False)
        if self.notes and self.waves:  # FLISR attempts of a round that changed nothing (all rejected)
            last_notes = self.waves[-1]["notes"]
            assert isinstance(last_notes, list)
            last_notes.extend(self.notes)
            self.notes = []
        out = []
        for w in self.waves:
            n = int(w["wave"])  # type: ignore[call-overload]
            out.append(
                WaveResult(
                    **{k: v for k, v in w.items() if k != "notes"},  # type: ignore[arg-type]
                    mwh_unserved=round(st.energy_kwh_by_wave.get(n, 0.0) / 1000.0, 4),
                    notes=list(w["notes"]),  # type: ignore[call-overload]
                )
            )
        return out
