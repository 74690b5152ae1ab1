"""Ops use cases: feed meter events to the outage engine, persist, publish; operator actions; work
orders; reliability; grid state.

Why a worker thread: the AMI ingestion calls subscribers synchronously after its durable write, so
`submit_events` only queues. The worker drains *everything* queued into one engine batch — in a storm
thousands of last-gasps become one vectorized step instead of thousands of small ones — and, once the
engine reports storm mode, waits ``storm_flush_s`` before each step so batches grow instead of the
system stalling. Stream messages are coalesced the same way (one asset-status diff per step, outage
summaries capped), so a browser never receives thousands of messages per second.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from fluxops.core.clock import utc_now
from fluxops.core.errors import ConflictError, InvalidInputError, NotFoundError
from fluxops.grid.models import Grid
from fluxops.network.compiled import compile_grid
from fluxops.network.energization import energize
from fluxops.ops.batches import StepLog, events_to_frame, merge_deltas, normalize_event_columns
from fluxops.ops.dispatch import Dispatch
from fluxops.ops.etr import (
    ETR_LOOKBACK_DAYS,
    RestorationMedians,
    estimate_restoration,
    fit_restoration_medians,
)
from fluxops.ops.health import HealthParams, asset_health
from fluxops.ops.models import (
    OUTAGE_CAUSES,
    MeterEvent,
    OutageDelta,
    OutageEventRecord,
    OutageRecord,
    TraceConfig,
)
from fluxops.ops.outages import OutageEngine
from fluxops.ops.ports import (
    AgingSource,
    CoverageSource,
    LoadingSource,
    OpsStore,
    OutageQuery,
    VoltageSource,
    WorkOrderQuery,
)
from fluxops.ops.reliability import (
    MED_LOOKBACK_DAYS,
    MedConfig,
    ReliabilityReport,
    ReliabilityRow,
    annualize_rows,
    compute_indices,
    customers_served,
    major_event_days,
)
from fluxops.ops.state import GridState, StateConfig
from fluxops.ops.stream import StreamHub
from fluxops.ops.trace import ProtectionTree
from fluxops.ops.workorders import restore_proposals

log = logging.getLogger(__name__)

# A line crew on energized distribution work is at least two qualified workers (OSHA 29 CFR
# 1910.269(l)(1)); the demo roster uses that minimum.
CREW_SIZE = 2
MAX_STREAM_ITEMS = 200  # per message; beyond it the client pulls /api/grid/state?changed_since=
ETR_CACHE_S = 60.0


@dataclass(frozen=True)
class ServiceConfig:
    storm_flush_s: float = 0.5  # in storm mode, accumulate this long before each engine step
    loading_refresh_s: float = 60.0  # re-read AMI transformer loading (hourly data: a minute is plenty)
    health_refresh_s: float = 900.0  # health moves < 0.001 %/h at rated aging; refresh every 15 min


class OpsService:
    def __init__(
        self,
        store: OpsStore,
        grid: Grid,
        *,
        trace: TraceConfig | None = None,
        state_config: StateConfig | None = None,
        config: ServiceConfig | None = None,
        hub: StreamHub | None = None,
        loading: LoadingSource | None = None,
        voltage: VoltageSource | None = None,
        aging: AgingSource | None = None,
        health_params: HealthParams | None = None,
        coverage: CoverageSource | None = None,
        med_config: MedConfig | None = None,
        asset_status_sink: Callable[[dict[str, str]], int] | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.grid = grid
        self.config = config or ServiceConfig()
        self.hub = hub or StreamHub()
        self.loading = loading
        self.voltage = voltage
        self.aging = aging
        self.health_params = health_params or HealthParams()
        self.coverage = coverage
        self.med_config = med_config or MedConfig()
        self._sink = asset_status_sink
        self._clock = clock
        store.ensure_tables()
        self.tree = ProtectionTree.build(grid)
        self.engine = OutageEngine(self.tree, trace, next_seq=store.max_outage_seq() + 1)
        records, meters, counts = store.open_outage_state()
        self.engine.load_open(records, meters, counts)
        self.state = GridState(grid, self.tree, state_config)
        self._state_ids = frozenset(str(a) for a in self.state.asset_id)
        self._lock = threading.RLock()  # engine + store writes
        self._cv = threading.Condition()
        self._queue: list[pa.Table] = []
        self._stop = False
        self._worker: threading.Thread | None = None
        self.dispatch = Dispatch(store, grid, asset_exists=self._asset_exists, clock=clock)
        self.steps = 0
        self._aging_read = False  # health computed with AMI aging at least once
        self._loading_table: pa.Table | None = None
        self._voltage_table: pa.Table | None = None
        self._etr_cache: tuple[datetime, RestorationMedians] | None = None
        self._loader: threading.Thread | None = None
        self._stop_loading = threading.Event()
        self._health_at = clock()
        self._health_table: pa.Table | None = asset_health(grid, self._health_at, None, self.health_params)
        self._switched_out = self._deenergized_meters(grid)
        self._refresh_state()

    def _deenergized_meters(self, grid: Grid) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Meter positions (tree order) without supply in this configuration — behind a device operated
        open (`fluxops.ops.switching`) — so the live state shows them out although no outage holds them.
        None for a grid whose devices are all in their normal state (no compile needed)."""
        dev = grid.devices
        if bool((dev["state"].astype(str) == dev["normal_state"].astype(str)).all()):
            return np.zeros(0, np.int64)
        cg = compile_grid(grid)
        dead = ~energize(cg).bus_energized[cg.xfmr_bus[cg.meter_xfmr]]
        nodes, _ = self.tree.meter_nodes(cg.meter_ids[dead])
        return np.asarray(nodes - self.tree.meter_offset, np.int64)

    # --- event intake --------------------------------------------------------------------------

    def start(self) -> None:
        if self._worker is None:
            self._stop = False
            self._worker = threading.Thread(target=self._run, name="fluxops-oms", daemon=True)
            self._worker.start()
        sources = (self.loading, self.voltage, self.aging)
        if any(src is not None for src in sources) and self._loader is None:
            self._stop_loading.clear()
            self._loader = threading.Thread(target=self._load_loop, name="fluxops-oms-loading", daemon=True)
            self._loader.start()

    def stop(self) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify_all()
        self._stop_loading.set()
        for th in (self._worker, self._loader):
            if th is not None:
                th.join(timeout=10)
        self._worker = self._loader = None

    def _load_loop(self) -> None:
        while True:
            try:
                self.refresh_loading()
            except Exception:  # analytics not ready (no readings yet): keep the previous loading
                log.exception("reading AMI transformer loading failed")
            if self._stop_loading.wait(self.config.loading_refresh_s):
                return

    def submit_events(self, events: pa.Table) -> None:
        """AMI subscriber: queue accepted events (quick, never raises)."""
        with self._cv:
            self._queue.append(events)
            self._cv.notify()

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._queue and not self._stop:
                    self._cv.wait()
                if self._stop:
                    return
            if self.engine.in_storm(self._clock()):
                with self._cv:
                    self._cv.wait(timeout=self.config.storm_flush_s)
            with self._cv:
                batch, self._queue = self._queue, []
            if not batch:
                continue
            try:
                cols = ["meter_id", "event_type", "event_utc"]
                parts = [normalize_event_columns(t).select(cols) for t in batch]
                self.process_events(pa.concat_tables(parts))
            except Exception:  # the worker must survive a bad batch; the events are durable in the AMI log
                log.exception("outage engine step failed")

    def process_events(self, events: pa.Table | Sequence[MeterEvent]) -> OutageDelta:
        """One engine step, persisted and published (synchronous; the worker and tests use it)."""
        with self._lock:
            delta = self.engine.process(events, now_utc=self._clock())
            self._commit(delta)
            self.steps += 1
            return delta

    def replay(self, events: pa.Table, *, slice_s: float = 60.0) -> dict[str, Any]:
        """Build outage history from stored meter events (e.g. an AMI backfill, which bypasses the live
        subscribers): events are fed in time order, ``slice_s`` of event time per engine step, exactly
        as if they had arrived live; the records are written once at the end. Refuses a period that
        already holds outages (replaying twice would double them)."""
        df = events_to_frame(normalize_event_columns(events))
        df = df[df["event_type"].isin(("last_gasp", "power_restore"))].sort_values("ts", kind="stable")
        if len(df) == 0:
            return {"events": 0, "steps": 0, "outages": 0}
        t_first, t_last = df["ts"].iloc[0].to_pydatetime(), df["ts"].iloc[-1].to_pydatetime()
        clash = self.store.count_outages(
            OutageQuery(since_utc=t_first, until_utc=t_last + timedelta(seconds=1))
        )
        if clash:
            raise ConflictError(
                f"{clash} outages already start between {t_first.isoformat()} and {t_last.isoformat()}",
                details={"count": clash},
            )
        slot = ((df["ts"] - df["ts"].iloc[0]).dt.total_seconds() // slice_s).astype(np.int64)
        deltas: list[OutageDelta] = []
        with self._lock:
            for _, chunk in df.groupby(slot.to_numpy(), sort=True):
                table = pa.table(
                    {
                        "meter_id": pa.array(chunk["meter_id"].tolist(), pa.string()),
                        "event_type": pa.array(chunk["event_type"].tolist(), pa.string()),
                        "event_utc": pa.array(chunk["ts"], pa.timestamp("us", tz="UTC")),
                    }
                )
                now = chunk["ts"].iloc[-1].to_pydatetime()
                deltas.append(self.engine.process(table, now_utc=now))
            merged = merge_deltas(deltas)
            self._commit(merged)
        created = {e.outage_id for e in merged.events if e.event_type == "proposed"}
        return {"events": len(df), "steps": len(deltas), "outages": len(created)}

    def _commit(self, delta: OutageDelta) -> None:
        """Persist, then announce: the outage message goes out as soon as the records are readable
        through the API; the asset-state diff (and its write to ``asset_status``) follows."""
        if not delta.empty:
            self.store.save_delta(delta)
        if delta.outages:
            items = [_outage_summary(o) for o in delta.outages]
            self.hub.publish(
                "outage",
                {
                    "count": len(items),
                    "truncated": len(items) > MAX_STREAM_ITEMS,
                    "outages": items[:MAX_STREAM_ITEMS],
                    "storm_mode": delta.storm_mode,
                },
            )
        if delta.outages or delta.meter_rows.num_rows:
            self._publish_state(self._refresh_state())
        if delta.outages:
            self.hub.publish("kpi", self.kpis())

    def _publish_state(self, changed: np.ndarray[Any, np.dtype[np.int64]]) -> None:
        if len(changed):
            # the delta carries status and loading: a client one version behind applies it as is
            # (delta applied == the full snapshot at this version); a truncated one pulls changed_since
            self.hub.publish(
                "asset_status",
                {
                    "version": self.state.version,
                    "epoch": self.state.epoch,
                    "count": len(changed),
                    "truncated": len(changed) > MAX_STREAM_ITEMS,
                    "changes": self.state.changes(changed[:MAX_STREAM_ITEMS]),
                },
            )

    def _refresh_state(self) -> np.ndarray[Any, np.dtype[np.int64]]:
        opened = self.engine.open_outages()
        nodes = np.array(
            [n for o in opened if o.kind == "device" and (n := self.tree.node_of(o.device_id)) is not None],
            dtype=np.int64,
        )
        meters_out = self.engine.meters_out()
        if len(self._switched_out):
            meters_out = np.union1d(meters_out, self._switched_out)
        changed = self.state.recompute(
            meters_out, nodes, self._loading_table, self._voltage_table, self._health_table
        )
        if self._sink is not None and len(changed):
            try:
                self._sink(self.state.statuses(changed))
            except Exception:  # the live map state is best effort; the outage records are the truth
                log.exception("writing asset statuses failed")
        return changed

    def refresh_loading(self) -> None:
        """Re-read AMI loading (periodically, off the event path: an analytics refresh may take seconds
        and must not delay outage detection) and publish the changes."""
        loading = self.loading.transformer_loading() if self.loading is not None else None
        voltage = self.voltage.meter_voltage_status() if self.voltage is not None else None
        now = self._clock()
        health = self._health_table
        age_s = (now - self._health_at).total_seconds()
        if age_s >= self.config.health_refresh_s or (self.aging is not None and not self._aging_read):
            aging = self.aging.transformer_aging() if self.aging is not None else None
            health = asset_health(self.grid, now, aging, self.health_params)
            self._health_at, self._aging_read = now, self.aging is not None
        with self._lock:
            self._loading_table, self._voltage_table, self._health_table = loading, voltage, health
            changed = self._refresh_state()
        self._publish_state(changed)

    def etr(self, outages: list[OutageRecord], *, refit: bool = True) -> dict[str, dict[str, Any]]:
        """Estimated restoration of the open ones among ``outages`` (`fluxops.ops.etr`); the model is
        refit from the store at most every ``ETR_CACHE_S`` (``refit=False``: the model as it is, for a
        caller that must not query — one fit exists, `etr_model_at`)."""
        now = self._clock()
        stale = self._etr_cache is None or (now - self._etr_cache[0]).total_seconds() > ETR_CACHE_S
        if self._etr_cache is None or (stale and refit):
            # synthetic (demo-injected) repairs are not this utility's history
            since = now - timedelta(days=ETR_LOOKBACK_DAYS)
            hist = self.store.restored_outages(since, include_synthetic=False).to_pandas()
            self._etr_cache = (now, fit_restoration_medians(hist))
        return estimate_restoration(self._etr_cache[1], outages)

    def etr_model_at(self) -> datetime | None:
        """When the ETR model `etr` uses was fit; None, or older than ``ETR_CACHE_S``, means the next
        `etr` call refits it from the store (a query the API's event loop must not make)."""
        cache = self._etr_cache
        if cache is None or (self._clock() - cache[0]).total_seconds() > ETR_CACHE_S:
            return None
        return cache[0]

    def restore_proposals(self, outages: list[OutageRecord]) -> dict[str, dict[str, Any]]:
        """Per open outage among ``outages``: ``restore_proposed`` (its repair work order is completed,
        `fluxops.ops.workorders.restore_proposals`) and that order's id and completion time."""
        opened = [o for o in outages if o.is_open]
        if not opened:
            return {}
        done = self.dispatch.list_work_orders(WorkOrderQuery(statuses=("completed",), limit=100_000))
        found = restore_proposals(opened, done)
        return {
            o.outage_id: {
                "restore_proposed": o.outage_id in found,
                "repair_work_order_id": found[o.outage_id].work_order_id if o.outage_id in found else None,
                "repair_completed_utc": found[o.outage_id].completed_utc if o.outage_id in found else None,
            }
            for o in opened
        }

    def _asset_exists(self, asset_id: str) -> bool:
        return self.tree.node_of(asset_id) is not None or asset_id in self._state_ids

    def storm_rule(self) -> dict[str, float | int]:
        """What turns storm mode on (`TraceConfig`): at least ``min_feeders`` feeders each with
        ``min_reports_per_feeder`` or more last-gasps within the last ``window_min`` minutes."""
        cfg = self.engine.config
        return {
            "min_feeders": cfg.storm_min_feeders,
            "window_min": cfg.storm_window_s / 60.0,
            "min_reports_per_feeder": cfg.min_reports,
        }

    def storm_mode(self) -> bool:
        return self.engine.in_storm(self._clock())

    def kpis(self) -> dict[str, Any]:
        opened = self.engine.open_outages()
        return {
            "active_outages": len(opened),
            "customers_out": int(sum(o.customers_out for o in opened)),
            "critical_customers_affected": int(sum(o.critical_customers_affected for o in opened)),
            "customers_served": int(self.tree.n_meters),
            "storm_mode": self.storm_mode(),
            "storm_rule": self.storm_rule(),
            "asset_status_counts": self.state.counts(),
            "as_of_utc": self._clock().isoformat(),
        }

    # --- outages -------------------------------------------------------------------------------

    def list_outages(self, query: OutageQuery) -> tuple[list[OutageRecord], int]:
        return self.store.list_outages(query), self.store.count_outages(query)

    def get_outage(self, outage_id: str) -> tuple[OutageRecord, list[OutageEventRecord], list[str]]:
        rec = self.store.get_outage(outage_id)
        if rec is None:
            raise NotFoundError(f"no outage {outage_id!r}", details={"outage_id": outage_id})
        return rec, self.store.list_outage_events(outage_id), self.store.outage_meter_ids(outage_id)

    def _operator(self, action: str, outage_id: str, actor: str) -> OutageRecord:
        with self._lock:
            if self.engine.get(outage_id) is None:
                rec = self.store.get_outage(outage_id)
                if rec is None:
                    raise NotFoundError(f"no outage {outage_id!r}", details={"outage_id": outage_id})
                raise ConflictError(f"outage {outage_id} is {rec.status}", details={"status": rec.status})
            fn = {"confirm": self.engine.confirm, "acknowledge": self.engine.acknowledge}.get(action)
            if action == "restore":
                fn = self.engine.restore
            elif action == "cancel":
                fn = self.engine.cancel
            if fn is None:
                raise InvalidInputError(f"unknown action {action!r}", field="action")
            delta = fn(outage_id, actor=actor, now_utc=self._clock())
            self._commit(delta)
            return next(o for o in delta.outages if o.outage_id == outage_id)

    def confirm(self, outage_id: str, *, actor: str) -> OutageRecord:
        return self._operator("confirm", outage_id, actor)

    def acknowledge(self, outage_id: str, *, actor: str) -> OutageRecord:
        return self._operator("acknowledge", outage_id, actor)

    def restore(self, outage_id: str, *, actor: str) -> OutageRecord:
        return self._operator("restore", outage_id, actor)

    def cancel(self, outage_id: str, *, actor: str) -> OutageRecord:
        return self._operator("cancel", outage_id, actor)

    def set_cause(self, outage_id: str, cause: str, *, actor: str) -> OutageRecord:
        """Record an outage's cause (`OUTAGE_CAUSES`), open or closed: crews often report it after
        restoration. A merged proposal has none of its own (its survivor does)."""
        if cause not in OUTAGE_CAUSES:
            raise InvalidInputError(f"cause_code must be one of {OUTAGE_CAUSES}", field="cause_code")
        with self._lock:
            if self.engine.get(outage_id) is not None:
                delta = self.engine.set_cause(outage_id, cause, actor=actor, now_utc=self._clock())
            else:
                rec = self.store.get_outage(outage_id)
                if rec is None:
                    raise NotFoundError(f"no outage {outage_id!r}", details={"outage_id": outage_id})
                if rec.status == "merged":
                    raise ConflictError(
                        f"outage {outage_id} was merged into {rec.merged_into_id}; code that one",
                        details={"status": rec.status},
                    )
                now = self._clock()
                new = replace(rec, cause_code=cause, updated_utc=now)
                acc = StepLog()
                acc.outages[outage_id] = new
                seq = len(self.store.list_outage_events(outage_id))
                acc.event(new, "cause_coded", now, 0, actor, cause, seq=seq)
                delta = acc.delta(self.storm_mode())
            self._commit(delta)
            return next(o for o in delta.outages if o.outage_id == outage_id)

    # --- reliability ---------------------------------------------------------------------------

    def reliability(
        self,
        *,
        level: str,
        start_utc: datetime | None,
        end_utc: datetime | None,
        interval: str = "all",
        exclude_major_events: bool = False,
        include_synthetic: bool = False,
    ) -> list[ReliabilityRow]:
        return self.reliability_report(
            level=level,
            start_utc=start_utc,
            end_utc=end_utc,
            interval=interval,
            exclude_major_events=exclude_major_events,
            include_synthetic=include_synthetic,
        ).rows

    def _data_start(self) -> datetime | None:
        if self.coverage is None:
            return None
        try:
            return self.coverage.history_start_utc()
        except Exception:  # coverage unknown: fall back to the records
            log.exception("reading the data coverage failed")
            return None

    def reliability_report(
        self,
        *,
        level: str,
        start_utc: datetime | None,
        end_utc: datetime | None,
        interval: str = "all",
        exclude_major_events: bool = False,
        include_synthetic: bool = False,
        annualize: bool = False,
    ) -> ReliabilityReport:
        """Indices, the period they cover and the period's Major Event Days (always identified;
        excluded on request).

        Why the period is said: without ``start`` the period is the last 365 days *or the data there
        are*, whichever is shorter (a week of records is a week's SAIDI, never shown as a year's);
        ``annualize`` adds labelled per-year extrapolations. Synthetic (demo-injected) outages stay out
        unless ``include_synthetic``."""
        now = self._clock()
        end = end_utc or now
        year_ago = end - timedelta(days=365)
        earliest = start_utc or year_ago
        lookback = earliest - timedelta(days=MED_LOOKBACK_DAYS)
        steps = self.store.restoration_steps(lookback, end, include_synthetic=include_synthetic).to_pandas()
        opened_recs = [o for o in self.engine.open_outages() if include_synthetic or not o.synthetic]
        opened = pd.DataFrame([o.to_dict() for o in opened_recs])
        data_start = self._data_start()
        data_source: str | None = "coverage" if data_start is not None else None
        if data_start is None:
            starts = [pd.Timestamp(t) for t in pd.to_datetime(steps.get("start_utc", []), utc=True)]
            starts += [pd.Timestamp(o.start_utc) for o in opened_recs]
            if starts:
                data_start, data_source = min(starts).to_pydatetime(), "first_outage_on_record"
        if start_utc is not None:
            start, basis = start_utc, "requested"
        elif data_start is not None and data_start > year_ago:
            start, basis = data_start, "data_coverage"
        else:
            start, basis = year_ago, "last_365_days"
        if end <= start:
            raise InvalidInputError("end must be after start", field="end")
        n_t = int(self.tree.n_meters)
        med = major_event_days(
            steps,
            opened,
            n_t,
            start_utc=start,
            end_utc=end,
            as_of_utc=min(now, end),
            momentary_max_min=self.engine.config.momentary_max_min,
            history_start_utc=data_start if data_source == "coverage" else None,
            config=self.med_config,
        )
        rows = compute_indices(
            steps,
            opened,
            customers_served(self.grid.meters, level),
            level=level,
            start_utc=start,
            end_utc=end,
            as_of_utc=min(now, end),
            interval=interval,
            momentary_max_min=self.engine.config.momentary_max_min,
            exclude_days=med.days if exclude_major_events else (),
            meter_rows=self.store.meter_interruptions(
                start, end, include_synthetic=include_synthetic
            ).to_pandas(),
        )
        return ReliabilityReport(
            rows=annualize_rows(rows) if annualize else rows,
            med=med,
            period_start_utc=start,
            period_end_utc=end,
            days_covered=(end - start).total_seconds() / 86_400.0,
            period_basis=basis,
            data_start_utc=data_start,
            data_start_source=data_source,
            customers_served=n_t,
            include_synthetic=include_synthetic,
            annualized=annualize,
        )

    def mark_synthetic(self, meter_ids: Sequence[str], synthetic: bool) -> None:
        """The demo fault feed says which meters are inside an injected fault (`fluxops.ops.faults`)."""
        with self._lock:
            self.engine.mark_synthetic(meter_ids, synthetic)


def _outage_summary(o: OutageRecord) -> dict[str, Any]:
    d = o.to_dict()
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in d.items()}
