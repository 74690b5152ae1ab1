"""Which crew to send: the nearest available crew qualified for the work, not the first on the roster.

A work order needs a skill (`required_skill`, from what the asset is and how it is built: an
underground segment or a pad-mount transformer needs a cable crew, a breaker a substation crew, a
single customer's service a troubleshooter; an inspection any crew). Crews are ranked by:

1. available before busy (assigned / off shift are listed last, for information);
2. qualified before not (a crew whose skills are not recorded counts as unknown, between the two);
3. straight-line (great-circle) distance from the crew's base to the asset, nearest first.

Straight-line distance is a lower bound on travel: road routing is not modelled. Pure functions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from fluxops.ops.models import Crew

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius
SUBSTATION_DEVICES = frozenset({"breaker", "bus_tie"})


def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


def required_skill(asset_type: str | None, attributes: Mapping[str, Any], work_type: str) -> str | None:
    """The skill the work needs (`CREW_SKILLS`), or None when any crew can do it."""
    if work_type == "inspection" or asset_type is None:
        return None
    if asset_type in ("substation", "substation_transformer"):
        return "substation"
    if asset_type in ("meter", "customer"):
        return "service"
    if asset_type == "line_segment":
        return "underground" if attributes.get("construction") == "underground" else "overhead"
    if asset_type == "transformer":
        return "underground" if attributes.get("mounting") == "pad" else "overhead"
    if asset_type in SUBSTATION_DEVICES or attributes.get("device_type") in SUBSTATION_DEVICES:
        return "substation"
    return "overhead"  # poles, fuses, reclosers, sectionalizers, switches, feeders (patrol)


@dataclass(frozen=True)
class CrewProposal:
    crew_id: str
    name: str
    status: str
    skills: list[str]
    qualified: bool | None  # None: the crew's skills are not recorded
    distance_km: float | None  # None: the crew or the asset has no position
    rank: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def propose_crews(
    crews: Iterable[Crew],
    *,
    lon: float | None,
    lat: float | None,
    skill: str | None,
) -> list[CrewProposal]:
    """Every crew, best first (see the module docstring)."""
    scored: list[tuple[tuple[int, int, float, str], Crew, bool | None, float | None]] = []
    for c in crews:
        have = c.skill_set
        qualified: bool | None = True if skill is None else (skill in have if have else None)
        dist = None
        if c.lon is not None and c.lat is not None and lon is not None and lat is not None:
            dist = haversine_km(c.lon, c.lat, lon, lat)
        key = (
            0 if c.status == "available" else 1,
            {True: 0, None: 1, False: 2}[qualified],
            dist if dist is not None else math.inf,
            c.crew_id,
        )
        scored.append((key, c, qualified, dist))
    scored.sort(key=lambda t: t[0])
    return [
        CrewProposal(
            crew_id=c.crew_id,
            name=c.name,
            status=c.status,
            skills=sorted(c.skill_set),
            qualified=q,
            distance_km=None if d is None else round(d, 2),
            rank=i + 1,
        )
        for i, (_, c, q, d) in enumerate(scored)
    ]
