"""Crew proposals: the nearest available crew qualified for the asset, not the first on the roster."""

from __future__ import annotations

import pytest

from fluxops.ops.crew_proposals import haversine_km, propose_crews, required_skill
from fluxops.ops.models import Crew

# Houston-ish bases ~0.01° apart (≈1 km), asset next to HOME
HOME = (-95.36, 29.75)


def crew(cid: str, dlon: float, *, skills: str | None, status: str = "available") -> Crew:
    return Crew(
        crew_id=cid,
        name=cid,
        size=2,
        status=status,
        lon=HOME[0] + dlon,
        lat=HOME[1],
        skills=skills,
    )


def test_haversine_matches_a_known_distance() -> None:
    # one degree of latitude ≈ 111.2 km
    assert haversine_km(0.0, 0.0, 0.0, 1.0) == pytest.approx(111.19, abs=0.01)
    assert haversine_km(-95.36, 29.75, -95.36, 29.75) == 0.0


def test_required_skill_follows_what_the_asset_is_and_how_it_is_built() -> None:
    assert required_skill("line_segment", {"construction": "underground"}, "outage_repair") == "underground"
    assert required_skill("line_segment", {"construction": "overhead"}, "outage_repair") == "overhead"
    assert required_skill("transformer", {"mounting": "pad"}, "replacement") == "underground"
    assert required_skill("transformer", {"mounting": "pole"}, "replacement") == "overhead"
    assert required_skill("breaker", {"device_type": "breaker"}, "maintenance") == "substation"
    assert required_skill("fuse", {"device_type": "fuse"}, "outage_repair") == "overhead"
    assert required_skill("meter", {}, "outage_repair") == "service"
    assert required_skill("transformer", {"mounting": "pad"}, "inspection") is None


def test_the_nearest_qualified_available_crew_comes_first_not_crew_001() -> None:
    crews = [
        crew("CREW-001", 1.0, skills="overhead,service"),  # ~97 km away, wrong skill
        crew("CREW-002", 0.05, skills="overhead,underground"),  # ~5 km, qualified
        crew("CREW-003", 0.01, skills="overhead,underground", status="assigned"),  # nearest but busy
        crew("CREW-004", 0.02, skills=None),  # near, skills not recorded
        crew("CREW-005", 0.2, skills="underground"),  # ~19 km, qualified
    ]
    got = propose_crews(crews, lon=HOME[0], lat=HOME[1], skill="underground")
    assert [p.crew_id for p in got] == ["CREW-002", "CREW-005", "CREW-004", "CREW-001", "CREW-003"]
    best = got[0]
    assert best.qualified is True and best.rank == 1
    assert best.distance_km == pytest.approx(haversine_km(HOME[0] + 0.05, HOME[1], *HOME), abs=0.01)
    assert got[2].qualified is None and got[3].qualified is False
    # with no skill needed (an inspection), distance alone orders the available crews
    near = propose_crews(crews, lon=HOME[0], lat=HOME[1], skill=None)
    assert [p.crew_id for p in near][:2] == ["CREW-004", "CREW-002"]
