"""A small live fault injector for the demo: faults at protective-device zones, reported the way meters
report them.

Why here: `fluxops demo` must show outages appearing and clearing. Each fault picks a protective
device (fuse, recloser, sectionalizer; breakers rarer) or a distribution transformer, and produces the
events its meters would send: a last-gasp from each meter (a share never arrives), posted after the
head-end's 30–45 s declaration delay, then power-restores after a sampled repair time (a share never
arrives either). The events go through the same sink as a head-end's (the AMI ingestion service when
it is running), so the outage engine cannot tell them from real ones — which is why the feed *tells*
it (``on_synthetic``): outages made only of injected meters are flagged ``synthetic`` and left out of
the reliability indices and ETR statistics unless asked (issue 9 §1).

Rates and shares match the AMI generator's documented defaults (`fluxops.ami.outages.OutageParams`):
faults arrive as a Poisson process whose expected customer interruptions per year equal
``saifi_per_year`` (1.3, EIA-861 2022 SAIFI excluding major events) × customers served, i.e.
``saifi · N_T / 8760 h / mean customers per fault`` — on the ``demo`` utility (164,017 customers,
~40 per drawn fault) 0.61 faults/h, one every ~98 minutes (the first comes ``first_fault_s`` after
start so the demo shows the path at once); repairs
log-normal around 95 min (σ 0.8, EIA-861 CAIDI ~100–130 min); 15 % of last-gasps and 3 % of restores
lost. Repair times are real: ``speed`` > 1 shortens them on the wall clock for a faster show, and
then the recorded durations are the accelerated ones — another reason synthetic outages stay out of
the statistics. (Before: a fault every 40 s, repairs ×10 faster, ~26 faults/h counted as real.)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa

from fluxops.ops.trace import NODE_DEVICE, NODE_TRANSFORMER, IntArray, ProtectionTree

log = logging.getLogger(__name__)
EVENT_COLUMNS_TS = pa.timestamp("us", tz="UTC")


HOURS_PER_YEAR = 8760.0


@dataclass(frozen=True)
class FaultParams:
    saifi_per_year: float = 1.3  # as `fluxops.ami.outages.OutageParams` (EIA-861 2022, without MEDs)
    mean_interval_s: float | None = None  # None: from saifi_per_year and the grid (module docstring)
    max_active: int = 6
    speed: float = 1.0  # repair-time acceleration on the wall clock (1: real durations)
    repair_median_min: float = 95.0
    repair_sigma: float = 0.8
    transformer_share: float = 0.35
    breaker_weight: float = 0.1  # relative to other protective devices: feeder lockouts are rarer
    last_gasp_lost_share: float = 0.15
    restore_lost_share: float = 0.03
    declaration_delay_s: tuple[float, float] = (30.0, 45.0)
    restore_delay_s: tuple[float, float] = (20.0, 90.0)  # restore messages trickle in
    first_fault_s: float = 5.0
    min_repair_wall_s: float = 60.0
    seed: int = 0


@dataclass(frozen=True)
class Fault:
    element_id: str
    node: int
    meters: IntArray  # meter positions
    start_utc: datetime
    restore_utc: datetime


@dataclass
class _Pending:
    due: float  # time.monotonic() when to post
    table: pa.Table
    clears: list[str] | None = None  # meters no longer inside an injected fault once this is posted


def events_table(meter_ids: list[str], event_type: str, at: datetime) -> pa.Table:
    n = len(meter_ids)
    return pa.table(
        {
            "meter_id": pa.array(meter_ids, pa.string()),
            "event_type": pa.array([event_type] * n, pa.string()),
            "event_time_utc": pa.array([at] * n, EVENT_COLUMNS_TS),
        }
    )


class FaultInjector:
    """Draws faults and the meter events they cause (deterministic in ``params.seed``)."""

    def __init__(self, tree: ProtectionTree, params: FaultParams | None = None) -> None:
        self.tree = tree
        self.params = params or FaultParams()
        self.rng = np.random.default_rng(self.params.seed)
        kinds, types = tree.node_kind, tree.node_type
        n = np.arange(len(kinds))
        prot = (kinds == NODE_DEVICE) & tree.is_prediction_level & (tree.meter_count > 0)
        self._devices = n[prot]
        w = np.where(types[self._devices] == "breaker", self.params.breaker_weight, 1.0)
        self._device_w = w / w.sum() if len(w) else w
        self._transformers = n[(kinds == NODE_TRANSFORMER) & (tree.meter_count > 0)]
        self.mean_interval_s = (
            self.params.mean_interval_s
            if self.params.mean_interval_s is not None
            else 3600.0 / self.expected_faults_per_h()
        )

    def mean_customers_per_fault(self) -> float:
        """Expected meters under one drawn fault (transformer or device zone, as `draw` picks them)."""
        p, counts = self.params, self.tree.meter_count
        x = float(counts[self._transformers].mean()) if len(self._transformers) else 0.0
        d = float((counts[self._devices] * self._device_w).sum()) if len(self._devices) else 0.0
        if not len(self._devices):
            return max(x, 1.0)
        if not len(self._transformers):
            return max(d, 1.0)
        return max(p.transformer_share * x + (1 - p.transformer_share) * d, 1.0)

    def expected_faults_per_h(self) -> float:
        """Faults per hour whose customer interruptions add up to ``saifi_per_year`` per customer."""
        n_t = float(self.tree.n_meters)
        return max(self.params.saifi_per_year * n_t / HOURS_PER_YEAR / self.mean_customers_per_fault(), 1e-9)

    def draw(self, now: datetime, busy: np.ndarray[tuple[int], np.dtype[np.bool_]]) -> Fault | None:
        """A new fault whose zone does not overlap meters already faulted (``busy`` per meter)."""
        p = self.params
        for _ in range(20):
            if len(self._transformers) and (
                not len(self._devices) or self.rng.random() < p.transformer_share
            ):
                node = int(self.rng.choice(self._transformers))
            elif len(self._devices):
                node = int(self.rng.choice(self._devices, p=self._device_w))
            else:
                return None
            meters = self.tree.meters_under(node) - self.tree.meter_offset
            if len(meters) == 0 or busy[meters].any():
                continue
            minutes = float(np.exp(np.log(p.repair_median_min) + p.repair_sigma * self.rng.standard_normal()))
            wall_s = max(minutes * 60.0 / p.speed, p.min_repair_wall_s)
            return Fault(str(self.tree.node_ids[node]), node, meters, now, now + timedelta(seconds=wall_s))
        return None

    def last_gasps(self, fault: Fault) -> pa.Table:
        keep = self.rng.random(len(fault.meters)) >= self.params.last_gasp_lost_share
        ids = [str(m) for m in self.tree.meter_ids[fault.meters[keep]]]
        return events_table(ids, "last_gasp", fault.start_utc)

    def restores(self, fault: Fault) -> pa.Table:
        keep = self.rng.random(len(fault.meters)) >= self.params.restore_lost_share
        ids = [str(m) for m in self.tree.meter_ids[fault.meters[keep]]]
        return events_table(ids, "power_restore", fault.restore_utc)


@dataclass
class DemoFeed:
    """Background thread posting injected faults' events to ``sink`` in real time."""

    injector: FaultInjector
    sink: Callable[[pa.Table], object]
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # told which meters are inside an injected fault (True at injection, False once restores post)
    on_synthetic: Callable[[list[str], bool], object] | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    faults_started: int = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="fluxops-demo-faults", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _synthetic(self, fault: Fault, on: bool) -> None:
        if self.on_synthetic is not None:
            self.on_synthetic([str(m) for m in self.injector.tree.meter_ids[fault.meters]], on)

    def _run(self) -> None:
        p = self.injector.params
        tree = self.injector.tree
        busy = np.zeros(tree.n_meters, dtype=bool)
        pending: list[_Pending] = []
        active: list[tuple[float, Fault]] = []  # (restore due, fault)
        next_fault = time.monotonic() + p.first_fault_s
        while not self._stop.wait(0.2):
            now_m = time.monotonic()
            try:
                if now_m >= next_fault and len(active) < p.max_active:
                    fault = self.injector.draw(self.clock(), busy)
                    if fault is not None:
                        busy[fault.meters] = True
                        self._synthetic(fault, True)
                        delay = float(self.injector.rng.uniform(*p.declaration_delay_s))
                        pending.append(_Pending(now_m + delay, self.injector.last_gasps(fault)))
                        wall = (fault.restore_utc - fault.start_utc).total_seconds()
                        active.append((now_m + wall, fault))
                        self.faults_started += 1
                    next_fault = now_m + float(self.injector.rng.exponential(self.injector.mean_interval_s))
                for due, fault in [a for a in active if a[0] <= now_m]:
                    active.remove((due, fault))
                    busy[fault.meters] = False
                    delay = float(self.injector.rng.uniform(*p.restore_delay_s))
                    ids = [str(m) for m in tree.meter_ids[fault.meters]]
                    pending.append(_Pending(now_m + delay, self.injector.restores(fault), ids))
                for item in [x for x in pending if x.due <= now_m]:
                    pending.remove(item)
                    if item.table.num_rows:
                        self.sink(item.table)
                    if item.clears is not None and self.on_synthetic is not None:
                        self.on_synthetic(item.clears, False)
            except Exception:  # the demo feed must keep running
                log.exception("demo fault feed step failed")
