"""Work orders and crews: the dispatch side of operations (state machine in `fluxops.ops.workorders`).

Crew status follows the orders: a crew with an assigned or in-progress order is ``assigned``, else
``available`` (``off_shift`` is left alone). Order ids are ``WO-000001``..., continuing after a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from fluxops.core.errors import ConflictError, InvalidInputError, NotFoundError
from fluxops.grid.models import Grid
from fluxops.ops.models import Crew, WorkOrder
from fluxops.ops.ports import OpsStore, WorkOrderQuery
from fluxops.ops.workorders import apply_action, edit_work_order, new_work_order


def _demo_skills(base: int) -> str:
    skills = ["overhead", "service"]
    if base % 3 == 1:
        skills.append("underground")
    if base % 4 == 2:
        skills.append("substation")
    return ",".join(skills)


# A line crew on energized distribution work is at least two qualified workers (OSHA 29 CFR
# 1910.269(l)(1)); the demo roster uses that minimum.
CREW_SIZE = 2


class Dispatch:
    def __init__(
        self,
        store: OpsStore,
        grid: Grid,
        *,
        asset_exists: Callable[[str], bool],
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.grid = grid
        self._asset_exists = asset_exists
        self._clock = clock
        self._lock = threading.RLock()
        self._wo_seq = store.max_work_order_seq()

    def create_work_order(
        self,
        *,
        work_type: str,
        priority: str,
        description: str,
        asset_id: str | None = None,
        outage_id: str | None = None,
        estimated_hours: float | None = None,
    ) -> WorkOrder:
        if outage_id is not None and self.store.get_outage(outage_id) is None:
            raise InvalidInputError(f"no outage {outage_id!r}", field="outage_id")
        if asset_id is not None and not self._asset_exists(asset_id):
            raise InvalidInputError(f"no asset {asset_id!r}", field="asset_id")
        with self._lock:
            self._wo_seq += 1
            wo = new_work_order(
                work_order_id=f"WO-{self._wo_seq:06d}",
                work_type=work_type,
                priority=priority,
                description=description,
                now_utc=self._clock(),
                asset_id=asset_id,
                outage_id=outage_id,
                estimated_hours=estimated_hours,
            )
            self.store.save_work_order(wo)
        return wo

    def get_work_order(self, work_order_id: str) -> WorkOrder:
        wo = self.store.get_work_order(work_order_id)
        if wo is None:
            raise NotFoundError(f"no work order {work_order_id!r}", details={"work_order_id": work_order_id})
        return wo

    def list_work_orders(self, query: WorkOrderQuery) -> list[WorkOrder]:
        return self.store.list_work_orders(query)

    def transition_work_order(
        self, work_order_id: str, action: str, *, crew_id: str | None = None
    ) -> WorkOrder:
        with self._lock:
            wo = self.get_work_order(work_order_id)
            crews = {c.crew_id: c for c in self.store.list_crews()}
            if action == "assign" and crew_id is not None and crew_id not in crews:
                raise InvalidInputError(f"no crew {crew_id!r}", field="crew_id")
            new = apply_action(wo, action, now_utc=self._clock(), crew_id=crew_id)
            # The work order and the crew statuses derived from it land together (the crew query in
            # `_update_crews` reads the transaction's own write).
            with self.store.transaction():
                self.store.save_work_order(new)
                touched = {c for c in (wo.crew_id, new.crew_id) if c is not None}
                self._update_crews(touched, crews)
            return new

    def update_work_order(self, work_order_id: str, changes: dict[str, Any]) -> WorkOrder:
        asset = changes.get("asset_id")
        if isinstance(asset, str) and not self._asset_exists(asset):
            raise InvalidInputError(f"no asset {asset!r}", field="asset_id")
        with self._lock:
            new = edit_work_order(self.get_work_order(work_order_id), changes, now_utc=self._clock())
            self.store.save_work_order(new)
            return new

    def delete_work_order(self, work_order_id: str) -> None:
        wo = self.get_work_order(work_order_id)
        if wo.status in ("assigned", "in_progress"):
            raise ConflictError(f"work order {work_order_id} is {wo.status}; cancel or complete it first")
        self.store.delete_work_order(work_order_id)

    def _update_crews(self, crew_ids: set[str], crews: dict[str, Crew]) -> None:
        updated = []
        for cid in crew_ids:
            crew = crews.get(cid)
            if crew is None:
                continue
            busy = self.store.list_work_orders(
                WorkOrderQuery(statuses=("assigned", "in_progress"), crew_id=cid)
            )
            status = "assigned" if busy else "available"
            if crew.status != status and crew.status != "off_shift":
                updated.append(replace(crew, status=status))
        self.store.save_crews(updated)

    def list_crews(self) -> list[Crew]:
        return self.store.list_crews()

    def seed_demo_crews(self, per_substation: int = 1) -> int:
        """A demo roster (one two-person crew per substation by default) when none is defined.

        Skills (`CREW_SKILLS`) follow a plausible mix, not a survey: every base has an overhead line
        crew that also takes service calls; every third base's crew also works underground cable and
        every fourth's substation equipment."""
        if self.store.list_crews():
            return 0
        subs = self.grid.substations
        crews = [
            Crew(
                crew_id=f"CREW-{i * per_substation + k + 1:03d}",
                name=f"{row.name} line crew {chr(65 + k)}",
                size=CREW_SIZE,
                status="available",
                substation_id=str(row.substation_id),
                lon=float(lon),
                lat=float(lat),
                skills=_demo_skills(i),
            )
            for i, (row, lon, lat) in enumerate(
                zip(
                    subs.itertuples(index=False),
                    subs["lon"].to_numpy(float),
                    subs["lat"].to_numpy(float),
                    strict=True,
                )
            )
            for k in range(per_substation)
        ]
        self.store.save_crews(crews)
        return len(crews)
