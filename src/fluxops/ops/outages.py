"""OMS outage prediction from AMI last-gasp / power-restore events.

How it decides (the OMS "trace" of Oracle NMS / SmartMAP, vectorized over a `ProtectionTree`):

1. Last-gasps are taken in time order, one event per meter per pass (so a blink — gasp then restore
   in one batch — is a momentary outage, not lost). Meters already held by an open outage are not new
   evidence; a late report from a still-*proposed* outage is added to it (it may make it roll up).
2. Proposed outages whose last report is within ``window_s`` are re-opened and re-predicted together
   with the new reports: predictions may roll up to a higher device as evidence arrives, which is
   how real prediction engines behave (first calls → a transformer, more calls → the lateral fuse).
3. Each report climbs to its highest prediction level (protective device or transformer) where at
   least ``rollup_fraction`` of the still-energized meters reported (and at least ``min_reports``);
   reports grouped under one such level are explained by their *lowest common* ancestor, lifted to a
   protective level. One report with nothing implicated is a single lights-out.
4. An outage holds every meter under its device that no other open outage holds (customers are
   counted from meters, never estimated). A new outage whose zone contains open outages becomes their
   parent (nested outages); a new outage inside an open outage's zone is nested under it.
5. A power-restore proves supply on the whole path from that meter up: every device on it is closed.
   A meter of an open outage is restored when it reported, or when its nearest device (fuse, switch,
   recloser) is proven energized — so partial restorations (a crew isolates a section with a switch
   and recloses) restore exactly the re-energized part; meters that never send a restore message are
   still restored. An outage with no customer left out is restored; each step is logged with its
   customer count, from which IEEE 1366 indices are computed.

The engine owns its state (NumPy arrays over meters, records by id) and returns an `OutageDelta`
per call for the service to persist and publish. No I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from fluxops.core.errors import ConflictError, NotFoundError
from fluxops.ops.batches import StepLog, events_to_frame, opt_str, to_utc
from fluxops.ops.models import MeterEvent, OutageDelta, OutageRecord, TraceConfig
from fluxops.ops.trace import NODE_METER, NODE_TRANSFORMER, IntArray, ProtectionTree

_OMS = "oms"


@dataclass
class _Held:
    """Engine-private per-outage arrays (meter positions, reporters)."""

    meters: IntArray  # meter positions (0..n_meters) still out
    reporters: IntArray  # meter positions that sent a last-gasp
    last_report_utc: datetime
    device_node: int
    seq: int  # next event sequence number


class OutageEngine:
    """Stateful OMS prediction over one grid's protection tree (see module docstring)."""

    def __init__(self, tree: ProtectionTree, config: TraceConfig | None = None, *, next_seq: int = 1) -> None:
        self.tree = tree
        self.config = config or TraceConfig()
        self._owner = np.full(tree.n_meters, -1, dtype=np.int64)  # outage slot per meter
        self._slots: list[str] = []  # slot -> outage id
        self._slot_of: dict[str, int] = {}
        self._records: dict[str, OutageRecord] = {}  # open outages
        self._held: dict[str, _Held] = {}
        self._by_node: dict[int, str] = {}  # device node -> open outage predicted there
        self._next = next_seq
        # (batch time, feeder, last-gasps) per feeder with last-gasps in a batch, for storm detection
        self._recent_gasps: list[tuple[datetime, str, int]] = []
        self.storm_mode = False
        # meters inside a demo-injected fault right now (`fluxops.ops.faults`): their reports make
        # synthetic outages, which reliability and ETR statistics leave out unless asked
        self._synthetic = np.zeros(tree.n_meters, dtype=bool)

    # --- state access ------------------------------------------------------------------------

    def open_outages(self) -> list[OutageRecord]:
        return sorted(self._records.values(), key=lambda r: r.outage_id)

    def get(self, outage_id: str) -> OutageRecord | None:
        return self._records.get(outage_id)

    def meters_out(self) -> IntArray:
        """Meter positions currently without supply (held by an open outage)."""
        return np.flatnonzero(self._owner >= 0)

    def held_meters(self, outage_id: str) -> list[str]:
        held = self._held.get(outage_id)
        if held is None:
            return []
        return [str(m) for m in self.tree.meter_ids[held.meters]]

    def load_open(
        self, records: Iterable[OutageRecord], meter_rows: pa.Table, event_counts: dict[str, int]
    ) -> None:
        """Rebuild state after a restart from persisted open outages, their unrestored meter rows and
        how many log events each already has (so event ids continue)."""
        by_outage: dict[str, list[str]] = {}
        if meter_rows.num_rows:
            rows = meter_rows.to_pandas()
            by_outage = {str(k): g["meter_id"].tolist() for k, g in rows.groupby("outage_id")}
        for rec in records:
            if not rec.is_open:
                continue
            node = self.tree.node_of(rec.device_id)
            nodes, _ = self.tree.meter_nodes(by_outage.get(rec.outage_id, []))
            pos = nodes - self.tree.meter_offset
            slot = self._slot(rec.outage_id)
            self._owner[pos] = slot
            self._records[rec.outage_id] = rec
            dnode = -1 if node is None else node
            seq = event_counts.get(rec.outage_id, 0) + 1
            self._held[rec.outage_id] = _Held(pos, pos[:0], rec.updated_utc, dnode, seq)
            if dnode >= 0:
                self._by_node[dnode] = rec.outage_id

    def mark_synthetic(self, meter_ids: Sequence[str], synthetic: bool) -> None:
        """Say which meters are inside a demo-injected fault (``True`` when it starts, ``False`` once
        its restores are posted). An outage is synthetic when every meter that reported it is."""
        nodes, _ = self.tree.meter_nodes(list(meter_ids))
        self._synthetic[nodes - self.tree.meter_offset] = synthetic

    def _all_synthetic(self, reporters: IntArray) -> bool:
        return bool(len(reporters)) and bool(self._synthetic[reporters].all())

    # --- event processing --------------------------------------------------------------------

    def process(self, events: pa.Table | Sequence[MeterEvent], *, now_utc: datetime) -> OutageDelta:
        """Apply a batch of meter events; returns what changed."""
        df = events_to_frame(events)
        acc = StepLog()
        if len(df) == 0:
            return acc.delta(self.storm_mode)
        known = self.tree.positions(df["meter_id"].to_numpy())
        is_meter = (known >= 0) & (self.tree.node_kind[np.maximum(known, 0)] == NODE_METER)
        relevant = is_meter & df["event_type"].isin(("last_gasp", "power_restore")).to_numpy()
        acc.ignored = int((~relevant).sum())
        df = df[relevant].assign(pos=known[relevant] - self.tree.meter_offset)
        df = df.sort_values("ts", kind="stable")
        df["rank"] = df.groupby("pos").cumcount()
        self._update_storm(df, now_utc)
        for _, chunk in df.groupby("rank", sort=True):
            gasps = chunk[chunk["event_type"] == "last_gasp"]
            if len(gasps):
                self._gasps(gasps["pos"].to_numpy(np.int64), gasps["ts"], now_utc, acc)
            restores = chunk[chunk["event_type"] == "power_restore"]
            if len(restores):
                self._restores(restores["pos"].to_numpy(np.int64), restores["ts"], now_utc, acc)
        return acc.delta(self.storm_mode)

    def _update_storm(self, df: pd.DataFrame, now_utc: datetime) -> None:
        gasps = df[df["event_type"] == "last_gasp"]
        if len(gasps):
            feeders = self.tree.node_feeder[gasps["pos"].to_numpy(np.int64) + self.tree.meter_offset]
            counts = pd.Series(feeders).dropna().astype(str).value_counts()
            self._recent_gasps += [(now_utc, str(f), int(n)) for f, n in counts.items()]
        self.storm_mode = self.in_storm(now_utc)

    def in_storm(self, now_utc: datetime) -> bool:
        """Storm mode: at least ``storm_min_feeders`` distinct feeders with ``min_reports`` or more
        last-gasps each processed within the last ``storm_window_s`` (see `TraceConfig`; decays by
        itself once the events stop)."""
        cfg = self.config
        horizon = now_utc - timedelta(seconds=cfg.storm_window_s)
        self._recent_gasps = [r for r in self._recent_gasps if r[0] >= horizon]
        per_feeder: dict[str, int] = {}
        for _, f, n in self._recent_gasps:
            per_feeder[f] = per_feeder.get(f, 0) + n
        return sum(n >= cfg.min_reports for n in per_feeder.values()) >= cfg.storm_min_feeders

    def _slot(self, outage_id: str) -> int:
        if outage_id not in self._slot_of:
            self._slot_of[outage_id] = len(self._slots)
            self._slots.append(outage_id)
        return self._slot_of[outage_id]

    def _new_id(self) -> str:
        oid = f"OUT-{self._next:06d}"
        self._next += 1
        return oid

    def _gasps(self, pos: IntArray, ts: pd.Series, now: datetime, acc: StepLog) -> None:
        tree, cfg = self.tree, self.config
        times = ts.to_numpy()
        owner = self._owner[pos]
        t_batch = to_utc(ts.max())
        # late reports from a still-proposed outage: attribute them to it
        for slot in np.unique(owner[owner >= 0]):
            oid = self._slots[int(slot)]
            rec = self._records.get(oid)
            if rec is not None and rec.status == "proposed":
                h = self._held[oid]
                h.reporters = np.union1d(h.reporters, pos[owner == slot])
                h.last_report_utc = max(h.last_report_utc, t_batch)
        fresh = owner < 0
        new_pos, new_times = pos[fresh], times[fresh]
        if len(new_pos) == 0:
            return
        horizon = t_batch - timedelta(seconds=cfg.window_s)
        reopened = [
            oid
            for oid, r in self._records.items()
            if r.status == "proposed" and self._held[oid].last_report_utc >= horizon
        ]
        reopened_slots = np.array([self._slot_of[o] for o in reopened], dtype=np.int64)
        rep_pos = np.concatenate([new_pos, *[self._held[o].reporters for o in reopened]])
        rep_first = {o: self._records[o].start_utc for o in reopened}
        out_mask = (self._owner >= 0) & ~np.isin(self._owner, reopened_slots)
        off = tree.meter_offset
        out_count = tree.count_under(np.flatnonzero(out_mask) + off) if out_mask.any() else 0
        live = tree.meter_count - out_count
        rep_nodes = np.unique(rep_pos) + off
        rep_count = tree.count_under(rep_nodes)
        qualifies = (
            tree.is_prediction_level
            & (rep_count >= cfg.min_reports)
            & (rep_count >= cfg.rollup_fraction * np.maximum(live, 1))
        )
        # highest qualifying ancestor of every report (the report itself if none)
        best = rep_nodes.copy()
        cur = tree.parent[rep_nodes]
        while (cur >= 0).any():
            alive = cur >= 0
            q = np.zeros(len(cur), dtype=bool)
            q[alive] = qualifies[cur[alive]]
            best[q] = cur[q]
            nxt = np.full_like(cur, -1)
            nxt[alive] = tree.parent[cur[alive]]
            cur = nxt
        first_time: dict[int, datetime] = {}
        for p, t in zip(new_pos.tolist(), pd.to_datetime(new_times, utc=True), strict=True):
            first_time.setdefault(p, to_utc(t))
        reopened_set = set(reopened)
        for _, members in pd.Series(rep_nodes).groupby(best):
            nodes = members.to_numpy(np.int64)
            lca = tree.lowest_common_ancestor(nodes)
            if tree.node_kind[lca] != NODE_METER:
                lca = tree.lift_to_level(lca)
            member_pos = nodes - off
            owners = np.unique(self._owner[member_pos])
            absorbed = sorted({self._slots[int(s)] for s in owners[owners >= 0]} & reopened_set)
            starts = [first_time[p] for p in member_pos.tolist() if p in first_time]
            starts += [rep_first[o] for o in absorbed]
            self._place(lca, member_pos, min(starts), t_batch, absorbed, now, acc)

    def _place(
        self,
        node: int,
        reporters: IntArray,
        start: datetime,
        last_report: datetime,
        absorbed: list[str],
        now: datetime,
        acc: StepLog,
    ) -> None:
        """Open (or extend, when ``absorbed`` proposals roll up) an outage at ``node``."""
        tree = self.tree
        off = tree.meter_offset
        if len(absorbed) == 1 and self._held[absorbed[0]].device_node == node:
            # same prediction as before: only the evidence grew, nothing to re-announce
            held = self._held[absorbed[0]]
            held.reporters = np.union1d(held.reporters, reporters)
            held.last_report_utc = max(held.last_report_utc, last_report)
            old = self._records[absorbed[0]]
            if old.reports != len(held.reporters):
                synthetic = self._all_synthetic(held.reporters)
                rec = replace(old, reports=len(held.reporters), synthetic=synthetic, updated_utc=now)
                self._records[absorbed[0]] = rec
                acc.outages[absorbed[0]] = rec
            return
        absorbed_slots = np.array([self._slot_of[o] for o in absorbed], dtype=np.int64)
        zone = tree.meters_under(node) - off
        zone_owner = self._owner[zone]
        takes = (zone_owner < 0) | np.isin(zone_owner, absorbed_slots)
        meters = zone[takes]
        inner_slots = np.unique(zone_owner[~takes])  # open outages inside this zone: nested
        kind = (
            "lights_out"
            if tree.node_kind[node] == NODE_METER
            else "transformer"
            if tree.node_kind[node] == NODE_TRANSFORMER
            else "device"
        )
        crit = int(tree.meter_critical[meters].sum())
        survivor = min(absorbed) if absorbed else self._new_id()
        for o in absorbed:
            if o == survivor:
                continue
            old = self._records.pop(o)
            seq = self._seq(o)
            self._forget(o)
            merged = replace(old, status="merged", merged_into_id=survivor, customers_out=0, updated_utc=now)
            acc.outages[o] = merged
            acc.event(merged, "merged", now, 0, _OMS, f"absorbed into {survivor}", seq=seq)
            acc.dropped.append(o)
        slot = self._slot(survivor)
        self._owner[meters] = slot
        device_id = str(tree.node_ids[node])
        parent = self._enclosing_outage(node, exclude=survivor)
        if survivor in self._records:
            old = self._records[survivor]
            held = self._held[survivor]
            self._by_node.pop(held.device_node, None)
            held.meters, held.reporters = meters, np.union1d(held.reporters, reporters)
            held.last_report_utc = max(held.last_report_utc, last_report)
            held.device_node = node
            rec = replace(
                old,
                kind=kind,
                device_id=device_id,
                device_type=str(tree.node_type[node]),
                feeder_id=opt_str(tree.node_feeder[node]),
                substation_id=opt_str(tree.node_substation[node]),
                lon=float(tree.node_lon[node]),
                lat=float(tree.node_lat[node]),
                start_utc=min(old.start_utc, start),
                updated_utc=now,
                customers_affected=len(meters),
                critical_customers_affected=crit,
                customers_out=len(meters),
                reports=len(held.reporters),
                storm_mode=old.storm_mode or self.storm_mode,
                synthetic=self._all_synthetic(held.reporters),
                parent_outage_id=parent,
            )
            etype = "extended"
        else:
            self._held[survivor] = _Held(meters, np.unique(reporters), last_report, node, 1)
            rec = OutageRecord(
                outage_id=survivor,
                status="proposed",
                kind=kind,
                device_id=device_id,
                device_type=str(tree.node_type[node]),
                feeder_id=opt_str(tree.node_feeder[node]),
                substation_id=opt_str(tree.node_substation[node]),
                lon=float(tree.node_lon[node]),
                lat=float(tree.node_lat[node]),
                start_utc=start,
                proposed_utc=now,
                updated_utc=now,
                customers_affected=len(meters),
                critical_customers_affected=crit,
                customers_out=len(meters),
                reports=len(np.unique(reporters)),
                storm_mode=self.storm_mode,
                synthetic=self._all_synthetic(np.unique(reporters)),
                parent_outage_id=parent,
            )
            etype = "proposed"
        self._by_node[node] = survivor
        self._records[survivor] = rec
        acc.outages[survivor] = rec
        acc.event(
            rec, etype, now, len(meters), _OMS, f"{rec.device_type} {device_id}", seq=self._seq(survivor)
        )
        acc.meter_rows(survivor, tree.meter_ids[meters], rec.start_utc, None)
        # open outages inside this zone: nest the outermost of them under the new one
        for s_ in inner_slots.tolist():
            oid = self._slots[int(s_)]
            other = self._records.get(oid)
            if other is None or other.parent_outage_id == survivor:
                continue
            p = other.parent_outage_id
            if p is not None and p in self._held and self._is_under(self._held[p].device_node, node):
                continue  # already nested inside something that is itself inside the new zone
            nested = replace(other, parent_outage_id=survivor, updated_utc=now)
            self._records[oid] = nested
            acc.outages[oid] = nested
            acc.event(nested, "nested", now, 0, _OMS, f"inside {survivor}", seq=self._seq(oid))

    def _forget(self, outage_id: str) -> None:
        h = self._held.pop(outage_id)
        if self._by_node.get(h.device_node) == outage_id:
            self._by_node.pop(h.device_node)

    def _is_under(self, node: int, ancestor: int) -> bool:
        t = self.tree
        if node < 0 or ancestor < 0 or node == ancestor:
            return False
        return bool(t.tin[ancestor] <= t.tin[node] < t.tin[ancestor] + t.size[ancestor])

    def _enclosing_outage(self, node: int, *, exclude: str) -> str | None:
        """The open outage whose device is the nearest strict ancestor of ``node``."""
        cur = int(self.tree.parent[node])
        while cur >= 0:
            oid = self._by_node.get(cur)
            if oid is not None and oid != exclude:
                return oid
            cur = int(self.tree.parent[cur])
        return None

    def _seq(self, outage_id: str) -> int:
        h = self._held[outage_id]
        h.seq += 1
        return h.seq - 1

    def _restores(self, pos: IntArray, ts: pd.Series, now: datetime, acc: StepLog) -> None:
        tree = self.tree
        off = tree.meter_offset
        energized = tree.ancestors_mask(pos + off)
        times = pd.to_datetime(ts.to_numpy(), utc=True)
        t_min = to_utc(times.min())
        reported = np.zeros(tree.n_meters, dtype=bool)
        reported[pos] = True
        owners = np.unique(self._owner[pos])
        candidates = {self._slots[int(s)] for s in owners[owners >= 0]}
        candidates |= {self._by_node[n] for n in np.flatnonzero(energized).tolist() if n in self._by_node}
        for oid in sorted(candidates):
            h = self._held.get(oid)
            if h is None or len(h.meters) == 0:
                continue
            rec = self._records[oid]
            nodes = h.meters + off
            if rec.kind == "device":
                back = reported[h.meters] | energized[tree.gate[nodes]]
            elif rec.kind == "transformer":
                back = reported[h.meters] | bool(h.device_node >= 0 and energized[h.device_node])
            else:
                back = reported[h.meters]
            if not back.any():
                continue
            restored = h.meters[back]
            in_zone = np.isin(pos, restored)
            step_t = to_utc(times[in_zone].min()) if in_zone.any() else t_min
            step_t = max(step_t, rec.start_utc)
            h.meters = h.meters[~back]
            self._owner[restored] = -1
            minutes = len(restored) * (step_t - rec.start_utc).total_seconds() / 60.0
            done = len(h.meters) == 0
            new = replace(
                rec,
                customers_out=len(h.meters),
                customer_minutes=rec.customer_minutes + minutes,
                updated_utc=now,
                status="restored" if done else rec.status,
                restored_utc=step_t if done else None,
            )
            acc.outages[oid] = new
            etype = "restored" if done else "partial_restore"
            acc.event(new, etype, step_t, len(restored), _OMS, None, seq=self._seq(oid))
            acc.meter_rows(oid, tree.meter_ids[restored], rec.start_utc, step_t)
            if done:
                self._records.pop(oid)
                self._forget(oid)
            else:
                self._records[oid] = new

    # --- operator actions ----------------------------------------------------------------------

    def _open(self, outage_id: str) -> OutageRecord:
        rec = self._records.get(outage_id)
        if rec is None:
            raise NotFoundError(f"no open outage {outage_id!r}", details={"outage_id": outage_id})
        return rec

    def confirm(self, outage_id: str, *, actor: str, now_utc: datetime) -> OutageDelta:
        rec = self._open(outage_id)
        if rec.status != "proposed":
            raise ConflictError(
                f"outage {outage_id} is {rec.status}, only a proposed outage can be confirmed"
            )
        new = replace(rec, status="confirmed", confirmed_utc=now_utc, updated_utc=now_utc)
        self._records[outage_id] = new
        acc = StepLog()
        acc.outages[outage_id] = new
        acc.event(new, "confirmed", now_utc, 0, actor, None, seq=self._seq(outage_id))
        return acc.delta(self.storm_mode)

    def acknowledge(self, outage_id: str, *, actor: str, now_utc: datetime) -> OutageDelta:
        rec = self._open(outage_id)
        new = replace(rec, acknowledged_utc=now_utc, acknowledged_by=actor, updated_utc=now_utc)
        self._records[outage_id] = new
        acc = StepLog()
        acc.outages[outage_id] = new
        acc.event(new, "acknowledged", now_utc, 0, actor, None, seq=self._seq(outage_id))
        return acc.delta(self.storm_mode)

    def set_cause(self, outage_id: str, cause: str, *, actor: str, now_utc: datetime) -> OutageDelta:
        """Record what caused an open outage (`OUTAGE_CAUSES`); the state does not change."""
        rec = self._open(outage_id)
        new = replace(rec, cause_code=cause, updated_utc=now_utc)
        self._records[outage_id] = new
        acc = StepLog()
        acc.outages[outage_id] = new
        acc.event(new, "cause_coded", now_utc, 0, actor, cause, seq=self._seq(outage_id))
        return acc.delta(self.storm_mode)

    def cancel(self, outage_id: str, *, actor: str, now_utc: datetime) -> OutageDelta:
        """A proposal that was no outage (false last-gasps): closed as ``cancelled``, its customer rows
        dropped so no index counts it. A confirmed outage is real and is restored, not cancelled."""
        rec = self._open(outage_id)
        if rec.status != "proposed":
            raise ConflictError(
                f"outage {outage_id} is {rec.status}, only a proposed outage can be cancelled (restore it)"
            )
        h = self._held[outage_id]
        new = replace(rec, status="cancelled", customers_out=0, updated_utc=now_utc)
        acc = StepLog()
        acc.outages[outage_id] = new
        acc.event(
            new, "cancelled", now_utc, 0, actor, "no outage: cancelled by operator", seq=self._seq(outage_id)
        )
        acc.dropped.append(outage_id)
        self._owner[h.meters] = -1
        self._records.pop(outage_id)
        self._forget(outage_id)
        return acc.delta(self.storm_mode)

    def restore(self, outage_id: str, *, actor: str, now_utc: datetime) -> OutageDelta:
        """Operator/crew closes the device: every meter the outage holds is restored now."""
        rec = self._open(outage_id)
        h = self._held[outage_id]
        acc = StepLog()
        step_t = max(now_utc, rec.start_utc)
        minutes = len(h.meters) * (step_t - rec.start_utc).total_seconds() / 60.0
        new = replace(
            rec,
            status="restored",
            restored_utc=step_t,
            customers_out=0,
            customer_minutes=rec.customer_minutes + minutes,
            updated_utc=now_utc,
        )
        acc.outages[outage_id] = new
        acc.event(
            new, "restored", step_t, len(h.meters), actor, "closed by operator", seq=self._seq(outage_id)
        )
        acc.meter_rows(outage_id, self.tree.meter_ids[h.meters], rec.start_utc, step_t)
        self._owner[h.meters] = -1
        self._records.pop(outage_id)
        self._forget(outage_id)
        return acc.delta(self.storm_mode)
