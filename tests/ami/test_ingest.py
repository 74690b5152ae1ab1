"""Ingestion: every bad-input kind is rejected with its reason; re-sending changes nothing; order of
arrival does not matter; corrections replace explicitly; events reach subscribers after the write."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fluxops.ami.ingest import IngestService
from fluxops.ami.validation import MeterRegistry
from fluxops.core.errors import InvalidInputError
from fluxops.storage.lake import AmiLake

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)


def _service(tmp_path: Path, n_meters: int = 20) -> tuple[IngestService, AmiLake]:
    ids = [f"MTR-{i:04d}" for i in range(n_meters)]
    reg = MeterRegistry(
        ids, [f"XFMR-{i // 5}" for i in range(n_meters)], ["FDR-1"] * n_meters, ["SUB-1"] * n_meters
    )
    lake = AmiLake(tmp_path / "lake")
    return IngestService(reg, lake, lake, clock=lambda: NOW), lake


def _rows(pairs: list[tuple[int, int]], kwh: float = 0.5) -> pa.Table:
    return pa.table(
        {
            "meter_id": [f"MTR-{m:04d}" for m, _ in pairs],
            "interval_start_utc": [(T0 + timedelta(minutes=15 * k)).isoformat() for _, k in pairs],
            "kwh_delivered": [kwh] * len(pairs),
            "kwh_received": [0.0] * len(pairs),
            "voltage_v": [120.5] * len(pairs),
        }
    )


def test_each_bad_input_kind_is_rejected_with_its_reason(tmp_path: Path) -> None:
    svc, _ = _service(tmp_path)
    table = pa.table(
        {
            "meter_id": [
                "MTR-0001",
                "NOPE",
                "MTR-0002",
                "MTR-0003",
                "MTR-0004",
                "MTR-0005",
                "MTR-0006",
                "MTR-0007",
            ],
            "interval_start_utc": [
                "2026-03-01T00:15:00Z",
                "2026-03-01T00:15:00Z",
                "2026-03-01T00:07:00Z",
                "2026-03-01T00:15:00Z",
                "2026-03-01T00:15:00Z",
                "2026-03-09T00:00:00Z",
                "not a time",
                "2026-03-01T00:15:00+00:00",
            ],
            "kwh_delivered": [0.4, 0.4, 0.4, -0.1, 0.4, 0.4, 0.4, 0.4],
            "kwh_received": [0.0] * 8,
            "voltage_v": [120.0, 120.0, 120.0, 120.0, 999.0, 120.0, 120.0, None],
        }
    )
    rep = svc.ingest_readings(table)
    assert rep.accepted == 2 and rep.rejected == 6
    reasons = {r.row: r.reason for r in rep.rejections}
    assert reasons == {
        1: "unknown meter",
        2: "interval_start_utc not on a 15-minute boundary",
        3: "negative energy",
        4: "voltage outside physical limits",
        5: "interval in the future",
        6: "unparseable interval_start_utc",
    }


def test_missing_required_column_names_the_field(tmp_path: Path) -> None:
    svc, _ = _service(tmp_path)
    with pytest.raises(InvalidInputError) as exc:
        svc.ingest_readings(pa.table({"meter_id": ["MTR-0001"], "kwh_delivered": [1.0]}))
    assert exc.value.field == "interval_start_utc"


def test_resending_changes_nothing_and_survives_restart(tmp_path: Path) -> None:
    svc, _lake = _service(tmp_path)
    batch = _rows([(m, k) for m in range(5) for k in range(8)])
    first = svc.ingest_readings(batch)
    assert (first.accepted, first.duplicates) == (40, 0)
    again = svc.ingest_readings(batch)
    assert (again.accepted, again.duplicates, again.batch_seq) == (0, 40, None)
    svc2, lake2 = _service(tmp_path)  # a new process: the seen-index is rebuilt from the lake
    third = svc2.ingest_readings(batch)
    assert third.accepted == 0 and third.duplicates == 40
    assert lake2.readings.read().num_rows == 40


def test_corrections_are_explicit(tmp_path: Path) -> None:
    svc, lake = _service(tmp_path)
    svc.ingest_readings(_rows([(1, 0)], kwh=0.5))
    silent = svc.ingest_readings(_rows([(1, 0)], kwh=9.0))
    assert silent.accepted == 0
    fix = svc.ingest_readings(_rows([(1, 0)], kwh=0.7), correction=True)
    assert fix.accepted == 1
    t = lake.readings.read().sort_by("batch_seq")
    assert t["kwh_delivered"].to_pylist() == [0.5, 0.7]
    assert t["is_correction"].to_pylist() == [False, True]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    keys=st.lists(st.tuples(st.integers(0, 19), st.integers(0, 130)), min_size=1, max_size=60),
    cuts=st.lists(st.integers(0, 60), max_size=4),
    seed=st.integers(0, 10_000),
)
def test_idempotent_and_order_independent(
    tmp_path_factory: pytest.TempPathFactory, keys: list[tuple[int, int]], cuts: list[int], seed: int
) -> None:
    """Any split into batches, any order, any repetition: the stored key set is the distinct input keys."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(keys))
    shuffled = [keys[i] for i in order]
    bounds = sorted({0, len(shuffled), *[min(c, len(shuffled)) for c in cuts]})
    svc, lake = _service(tmp_path_factory.mktemp("p"))
    for a, b in itertools.pairwise(bounds):
        svc.ingest_readings(_rows(shuffled[a:b]))
        svc.ingest_readings(_rows(shuffled[a:b]))  # every batch re-sent
    t = lake.readings.read()
    stored = {
        (int(m[4:]), int((ts - T0).total_seconds() // 900))
        for m, ts in zip(t["meter_id"].to_pylist(), t["interval_start_utc"].to_pylist(), strict=True)
    }
    assert t.num_rows == len(set(keys))
    assert stored == set(keys)


def test_events_validated_deduplicated_and_delivered_after_write(tmp_path: Path) -> None:
    svc, lake = _service(tmp_path)
    seen: list[pa.Table] = []

    def sink(events: pa.Table) -> None:
        assert lake.events.read().num_rows >= events.num_rows  # durable before notification
        seen.append(events)

    svc.subscribe(sink)
    ev = pa.table(
        {
            "meter_id": ["MTR-0001", "MTR-0002", "MTR-0003", "BAD"],
            "event_type": ["last_gasp", "last_gasp", "explosion", "last_gasp"],
            "event_time_utc": [
                "2026-03-02T11:00:31Z",
                "2026-03-02T11:00:40Z",
                "2026-03-02T11:00:00Z",
                "2026-03-02T11:00:00Z",
            ],
        }
    )
    rep = svc.ingest_events(ev)
    assert rep.accepted == 2 and rep.rejected == 2
    assert {r.reason for r in rep.rejections} == {"unknown event_type", "unknown meter"}
    assert svc.ingest_events(ev).accepted == 0
    assert len(seen) == 1
    assert seen[0]["transformer_id"].to_pylist() == ["XFMR-0", "XFMR-0"]
