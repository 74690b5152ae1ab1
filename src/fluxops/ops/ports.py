"""What the ops domain needs from storage and from AMI analytics.

`OpsStore` is implemented by `fluxops.storage.ops_store.OpsTableStore` over the store's generic
Arrow table API (DuckDB and PostgreSQL alike). `LoadingSource` is optional: when AMI analytics can say
how loaded each transformer is, the grid state uses it; without it, load is reported as unknown
(null), never invented.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import pyarrow as pa

from fluxops.ops.models import Crew, OutageDelta, OutageEventRecord, OutageRecord, WorkOrder
from fluxops.ops.switching import SwitchingOrder, SwitchOperation, SwitchState


@dataclass(frozen=True)
class OutageQuery:
    statuses: tuple[str, ...] | None = None  # None: every status but "merged"
    kinds: tuple[str, ...] | None = None
    feeder_id: str | None = None
    substation_id: str | None = None
    device_id: str | None = None
    parent_outage_id: str | None = None
    since_utc: datetime | None = None  # start_utc >= since
    until_utc: datetime | None = None  # start_utc < until
    limit: int = 500
    offset: int = 0


@dataclass(frozen=True)
class WorkOrderQuery:
    statuses: tuple[str, ...] | None = None
    priority: str | None = None
    crew_id: str | None = None
    outage_id: str | None = None
    asset_id: str | None = None
    limit: int = 500


class OpsStore(Protocol):
    def ensure_tables(self) -> None: ...

    def transaction(self) -> AbstractContextManager[None]:
        """``with ops_store.transaction():`` — the calling thread's writes inside commit together, or
        none of them does (on an exception). Nested use joins the outer transaction."""
        ...

    def save_delta(self, delta: OutageDelta) -> None:
        """Persist one engine step atomically (all in one transaction): upsert outages and meter rows,
        append log events, drop merged rows."""
        ...

    def list_outages(self, query: OutageQuery) -> list[OutageRecord]: ...

    def count_outages(self, query: OutageQuery) -> int: ...

    def get_outage(self, outage_id: str) -> OutageRecord | None: ...

    def list_outage_events(self, outage_id: str) -> list[OutageEventRecord]: ...

    def outage_meter_ids(self, outage_id: str, *, out_only: bool = False) -> list[str]: ...

    def open_outage_state(self) -> tuple[list[OutageRecord], pa.Table, dict[str, int]]:
        """Open outages, their unrestored meter rows, and the number of log events of each."""
        ...

    def restoration_steps(
        self, since_utc: datetime, until_utc: datetime, *, include_synthetic: bool = False
    ) -> pa.Table:
        """Log rows of type restored / partial_restore of outages starting in [since, until); those of
        synthetic (demo-injected) outages only with ``include_synthetic``."""
        ...

    def restored_outages(self, since_utc: datetime, *, include_synthetic: bool = False) -> pa.Table:
        """kind, device_type, start_utc, restored_utc of outages restored since ``since_utc`` (synthetic
        ones only with ``include_synthetic``)."""
        ...

    def meter_interruptions(
        self, since_utc: datetime, until_utc: datetime, *, include_synthetic: bool = False
    ) -> pa.Table:
        """meter_id, out_utc, restored_utc, feeder_id, substation_id: one row per customer per outage
        (merged proposals excluded; synthetic ones unless ``include_synthetic``) with out_utc in
        [since, until)."""
        ...

    def max_outage_seq(self) -> int: ...

    def save_work_order(self, wo: WorkOrder) -> None: ...

    def get_work_order(self, work_order_id: str) -> WorkOrder | None: ...

    def list_work_orders(self, query: WorkOrderQuery) -> list[WorkOrder]: ...

    def delete_work_order(self, work_order_id: str) -> bool: ...

    def max_work_order_seq(self) -> int: ...

    def save_crews(self, crews: list[Crew]) -> None: ...

    def list_crews(self) -> list[Crew]: ...


class LoadingSource(Protocol):
    """Latest transformer loading from AMI analytics: columns transformer_id, loading_pct."""

    def transformer_loading(self) -> pa.Table | None: ...


class CoverageSource(Protocol):
    """When the utility's data begin (e.g. the AMI lake's first day): what period reliability indices
    can honestly cover. None when unknown."""

    def history_start_utc(self) -> datetime | None: ...


class AgingSource(Protocol):
    """Accumulated IEEE C57.91 insulation aging per distribution transformer from AMI hot-spot
    history: columns transformer_id, telemetry_h (hours measured), aging_equivalent_h (Σ F_AA · 1 h)."""

    def transformer_aging(self) -> pa.Table | None: ...


class VoltageSource(Protocol):
    """Latest ANSI C84.1 voltage status per meter from AMI analytics: columns meter_id, status
    (normal: Range A, warning: Range B only, critical: outside Range B)."""

    def meter_voltage_status(self) -> pa.Table | None: ...


class SwitchingStore(Protocol):
    """Switch states, the switching log and switching orders (`fluxops.ops.switching` tables).

    Implemented by `fluxops.storage.switching_store.SwitchingTableStore` on both stores."""

    def transaction(self) -> AbstractContextManager[None]:
        """The calling thread's writes inside commit together, or none of them does."""
        ...

    def list_switch_states(self, grid_hash: str) -> list[SwitchState]:
        """The operated state of every device operated on the grid ``grid_hash`` (ordered by id)."""
        ...

    def save_switch_states(self, states: Sequence[SwitchState]) -> None:
        """Upsert by (grid_hash, device_id): the last operation wins."""
        ...

    def append_switch_operations(self, ops: Sequence[SwitchOperation]) -> None: ...

    def list_switch_operations(
        self, *, grid_hash: str | None = None, device_id: str | None = None, limit: int = 500
    ) -> list[SwitchOperation]:
        """Newest first."""
        ...

    def save_order(self, order: SwitchingOrder) -> None:
        """Upsert by order id."""
        ...

    def get_order(self, order_id: str) -> SwitchingOrder | None: ...

    def list_orders(
        self, *, statuses: tuple[str, ...] | None = None, limit: int = 500
    ) -> list[SwitchingOrder]:
        """Newest first."""
        ...

    def replace_order_if(self, order: SwitchingOrder, *, expected_status: str) -> bool:
        """Write ``order`` only if the stored one is still ``expected_status`` (True when written):
        two executions of one order cannot both succeed, whichever process runs them."""
        ...
