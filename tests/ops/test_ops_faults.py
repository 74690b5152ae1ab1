"""The demo fault injector produces events the outage engine traces back to the faulted zone."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from fluxops.grid.models import Grid
from fluxops.ops.faults import DemoFeed, FaultInjector, FaultParams
from fluxops.ops.outages import OutageEngine
from fluxops.ops.trace import ProtectionTree

T0 = datetime(2026, 7, 1, tzinfo=UTC)


def test_injected_faults_are_traced_and_restored(tiny_grid: Grid) -> None:
    tree = ProtectionTree.build(tiny_grid)
    inj = FaultInjector(tree, FaultParams(seed=4))
    busy = np.zeros(tree.n_meters, dtype=bool)
    for _ in range(10):
        fault = inj.draw(T0, busy)
        assert fault is not None and fault.restore_utc > fault.start_utc
        eng = OutageEngine(tree)
        gasps = inj.last_gasps(fault)
        delta = eng.process(gasps, now_utc=T0)
        if gasps.num_rows < 2:
            continue  # a one-meter zone, or every last-gasp lost: at most a lights-out
        (out,) = delta.outages
        node = tree.node_of(out.device_id)
        assert node is not None
        assert set(tree.meters_under(node).tolist()) == set((fault.meters + tree.meter_offset).tolist())
        done = eng.process(inj.restores(fault), now_utc=fault.restore_utc)
        assert done.outages[-1].status == "restored"


def test_feed_thread_posts_gasps_then_restores(tiny_grid: Grid) -> None:
    tree = ProtectionTree.build(tiny_grid)
    params = FaultParams(
        mean_interval_s=0.2,
        max_active=1,
        speed=1e6,
        min_repair_wall_s=0.3,
        declaration_delay_s=(0.0, 0.1),
        restore_delay_s=(0.0, 0.1),
        first_fault_s=0.0,
        seed=1,
    )
    got: list[pa.Table] = []
    seen = threading.Event()

    def sink(t: pa.Table) -> None:
        got.append(t)
        if any(x.column("event_type")[0].as_py() == "power_restore" for x in got):
            seen.set()

    feed = DemoFeed(FaultInjector(tree, params), sink)
    feed.start()
    try:
        assert seen.wait(15)
    finally:
        feed.stop()
    kinds = [t.column("event_type")[0].as_py() for t in got]
    assert kinds[0] == "last_gasp" and "power_restore" in kinds and feed.faults_started >= 1
