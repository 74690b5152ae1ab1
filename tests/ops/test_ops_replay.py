"""Outage history rebuilt from the AMI generator's events, checked against the generator's own
incidents (ground truth): each incident is traced to a device whose zone is exactly the meters that
lost supply, and restored after the incident's duration (give or take the meters' reporting delays)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from fluxops.ami.outages import OutageParams
from fluxops.ami.synth import AmiSynthesizer, SynthParams
from fluxops.core.config import Settings
from fluxops.core.errors import ConflictError
from fluxops.grid.generator import generate_grid
from fluxops.ops.ports import OutageQuery
from fluxops.ops.service import OpsService
from fluxops.storage import open_store
from fluxops.storage.ops_store import OpsTableStore


def test_replay_matches_generator_incidents(tmp_path: Path) -> None:
    grid = generate_grid("tiny", seed=0)
    # a stormy year (SAIFI 25 instead of ~1.3) so that ten days hold enough incidents to check
    synth = AmiSynthesizer(grid, SynthParams(seed=3, outages=OutageParams(saifi_per_year=25.0)))
    days = [synth.day(date(2026, 7, 1) + timedelta(days=k)) for k in range(10)]
    events = pa.concat_tables([d.events.select(["meter_id", "event_type", "event_time_utc"]) for d in days])
    incidents = [o for d in days[:-1] for o in d.outages]
    assert len(incidents) >= 8
    store = open_store(Settings(data_dir=tmp_path))
    svc = OpsService(OpsTableStore(store), grid)
    out = svc.replay(events)
    assert out["outages"] >= len(incidents) // 2 and out["events"] > 0
    records = svc.list_outages(OutageQuery(limit=5000))[0]
    by_zone: dict[frozenset[int], list[Any]] = {}
    for r in records:
        node = svc.tree.node_of(r.device_id)
        assert node is not None
        zone = frozenset((svc.tree.meters_under(node) - svc.tree.meter_offset).tolist())
        by_zone.setdefault(zone, []).append(r)
    traced = 0
    for inc in incidents:
        start = datetime.fromtimestamp(inc.start_s, UTC)
        # the first last-gasp arrives within the 30-45 s declaration delay
        same = [
            r
            for r in by_zone.get(frozenset(inc.meter_pos.tolist()), [])
            if start <= r.start_utc <= start + timedelta(seconds=45)
        ]
        if not same:
            continue  # every last-gasp of a small zone lost, or overlapping incidents rolled up
        traced += 1
        (rec,) = same
        if rec.status == "restored":
            end = datetime.fromtimestamp(inc.end_s, UTC)
            assert end <= rec.restored_utc <= end + timedelta(seconds=90)  # type: ignore[operator]
    assert traced >= 0.8 * len(incidents), (traced, len(incidents))
    rel = svc.reliability(
        level="system", start_utc=datetime(2026, 7, 1, tzinfo=UTC), end_utc=datetime(2026, 7, 10, tzinfo=UTC)
    )
    assert rel[0].saifi > 0 and rel[0].saidi_min > 0
    with pytest.raises(ConflictError):
        svc.replay(events)  # the same period twice would double the history
    store.close()
