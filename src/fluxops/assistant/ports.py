"""What the assistant needs from the rest of the application, as protocols.

The API layer (`fluxops.api.routes.assistant`) and the CLI satisfy them with the application's own
services: `fluxops.ops.service.OpsService`, `fluxops.storage.ami_queries.AmiQueries`, the cascade
service, the read-only SQL sandbox (`fluxops.storage.assistant_sql`) and the thread tables
(`fluxops.storage.assistant_store`). Nothing here imports storage or the web framework.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol

import pyarrow as pa

from fluxops.assistant.models import Document, Feedback, Message, Thread
from fluxops.ops.models import Crew, OutageRecord, WorkOrder
from fluxops.ops.ports import OutageQuery, WorkOrderQuery
from fluxops.ops.reliability import ReliabilityReport


class Dispatch(Protocol):
    def list_work_orders(self, query: WorkOrderQuery) -> list[WorkOrder]: ...

    def list_crews(self) -> list[Crew]: ...


class OpsPort(Protocol):
    """The outage, work-order and reliability service (`fluxops.ops.service.OpsService`)."""

    @property
    def dispatch(self) -> Dispatch: ...

    def list_outages(self, query: OutageQuery) -> tuple[list[OutageRecord], int]: ...

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
    ) -> ReliabilityReport: ...

    def acknowledge(self, outage_id: str, *, actor: str) -> OutageRecord: ...


class AmiPort(Protocol):
    """AMI lake answers (`fluxops.storage.ami_queries.AmiQueries`)."""

    def readings(self, *, meter_id: str, start: date | None, end: date | None, limit: int) -> pa.Table: ...

    def group_summary(self, level: str, *, start: date | None, end: date | None, limit: int) -> pa.Table: ...

    def voltage_meters(self, *, day: date | None, status: str | None, limit: int) -> pa.Table: ...

    def voltage_transformers(self, *, day: date | None, limit: int) -> pa.Table: ...

    def transformer_latest(
        self, *, feeder_id: str | None, min_loading_pct: float | None, limit: int
    ) -> pa.Table: ...


class CascadePort(Protocol):
    """Runs one cascade with its economics (`fluxops.cascade.service.CascadeService.economic_impact`
    over the loaded grid's engine context)."""

    def economic_impact(self, *, patient_zero: list[str], scenario: str) -> dict[str, Any]: ...


class SqlPort(Protocol):
    """Read-only SQL over the documented views (`fluxops.storage.assistant_sql`)."""

    def views(self) -> dict[str, list[str]]:
        """View name -> its columns."""
        ...

    def run(self, sql: str, *, limit: int) -> tuple[pa.Table, bool]:
        """The rows (at most ``limit``) and whether more existed. Raises
        `fluxops.core.errors.InvalidInputError` (field ``sql``) for anything but one read query,
        an unknown name (with the nearest real names) or a query past the statement timeout."""
        ...


class ThreadStore(Protocol):
    """Threads, messages, feedback and uploaded documents (both store backends)."""

    def ensure_tables(self) -> None: ...

    def create_thread(self, thread: Thread) -> None: ...

    def get_thread(self, thread_id: str) -> Thread | None: ...

    def list_threads(self, owner: str, *, limit: int) -> list[Thread]: ...

    def touch_thread(self, thread_id: str, updated_utc: datetime) -> None: ...

    def add_message(self, message: Message) -> None: ...

    def list_messages(self, thread_id: str) -> list[Message]: ...

    def add_feedback(self, feedback: Feedback) -> None: ...

    def list_feedback(self, thread_id: str) -> list[Feedback]: ...

    def add_document(self, doc: Document) -> None: ...

    def list_documents(self) -> list[Document]: ...
