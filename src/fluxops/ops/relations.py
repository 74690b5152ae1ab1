"""Which outages an asset is part of, from each outage's own members (its meters and its device).

An asset is related to an outage when it is one of the outage's elements or carries it:

* ``device``: it is the predicted device (fuse, recloser, transformer, or the meter of a lights-out);
* ``member``: it is one of the meters the outage holds (``outage_meters``);
* ``feeds``: it lies on the path from the device or a member meter's transformer up to the substation,
  or it is the outage's feeder or substation (so a substation shows the fuse outage on its feeder);
* ``inside``: it lies between the device and a member meter (a transformer or segment in the zone).

Never by feeder alone: a meter on the same feeder that kept its supply is not part of the outage.
Pure: data in, new data out; the topology is passed as a path function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass

from fluxops.core.errors import NotFoundError
from fluxops.ops.models import OutageRecord, WorkOrder

RELATIONS: tuple[str, ...] = ("device", "member", "feeds", "inside")


@dataclass(frozen=True)
class OutageFootprint:
    """The ids an outage touches, split by how (see the module docstring)."""

    outage_id: str
    device_id: str
    members: frozenset[str]
    upstream: frozenset[str]  # the device's path to the substation, its feeder and substation
    zone: frozenset[str]  # between the device and the member meters (their transformers' paths)

    def relation(self, asset_id: str) -> str | None:
        if asset_id == self.device_id:
            return "device"
        if asset_id in self.members:
            return "member"
        if asset_id in self.upstream:
            return "feeds"
        if asset_id in self.zone:
            return "inside"
        return None


def outage_footprint(
    outage: OutageRecord,
    member_meter_ids: Iterable[str],
    *,
    meter_transformer: Mapping[str, str],
    path_to_substation: Callable[[str], list[str]],
) -> OutageFootprint:
    """The footprint of one outage. ``meter_transformer`` maps a meter id to its transformer id;
    ``path_to_substation`` is `GridTopology.path_to_substation` (ids from an element up to its substation)."""
    members = frozenset(member_meter_ids)
    upstream: set[str] = {x for x in (outage.feeder_id, outage.substation_id) if x}
    with suppress(NotFoundError):  # a device of a grid since replaced: its members still relate
        upstream.update(path_to_substation(outage.device_id))
    zone: set[str] = set()
    for xf in {meter_transformer[m] for m in members if m in meter_transformer}:
        try:
            path = path_to_substation(xf)
        except NotFoundError:
            continue
        zone.update(path)
    zone -= upstream
    upstream.discard(outage.device_id)
    return OutageFootprint(
        outage_id=outage.outage_id,
        device_id=outage.device_id,
        members=members,
        upstream=frozenset(upstream),
        zone=frozenset(zone),
    )


def related_outages(
    asset_id: str, outages: Iterable[OutageRecord], footprints: Mapping[str, OutageFootprint]
) -> list[tuple[OutageRecord, str]]:
    """The outages (with the relation) whose footprint holds ``asset_id``, in the given order."""
    out: list[tuple[OutageRecord, str]] = []
    for o in outages:
        fp = footprints.get(o.outage_id)
        rel = fp.relation(asset_id) if fp is not None else None
        if rel is not None:
            out.append((o, rel))
    return out


def related_work_orders(
    asset_id: str, work_orders: Iterable[WorkOrder], outage_ids: Iterable[str]
) -> list[WorkOrder]:
    """Orders for this asset, and orders for an outage this asset is related to (no duplicates)."""
    wanted = set(outage_ids)
    seen: set[str] = set()
    out: list[WorkOrder] = []
    for wo in work_orders:
        if wo.work_order_id in seen:
            continue
        if wo.asset_id == asset_id or (wo.outage_id is not None and wo.outage_id in wanted):
            seen.add(wo.work_order_id)
            out.append(wo)
    return out
