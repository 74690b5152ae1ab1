"""Event batches in, step deltas out: the engine's input normalization and output accumulation.

Why separate from the engine: the same shapes are used by the live path (one delta per step), by
history replay (many steps merged into one write) and by the service (AMI tables name the time column
``event_time_utc``, the engine ``event_utc``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from fluxops.core.errors import InvalidInputError
from fluxops.ops.models import OUTAGE_METERS_SCHEMA, MeterEvent, OutageDelta, OutageEventRecord, OutageRecord


def normalize_event_columns(t: pa.Table) -> pa.Table:
    """The AMI domain's ``event_time_utc`` as the engine's ``event_utc``."""
    if "event_utc" not in t.column_names and "event_time_utc" in t.column_names:
        return t.rename_columns(["event_utc" if c == "event_time_utc" else c for c in t.column_names])
    return t


def events_to_frame(events: pa.Table | Sequence[MeterEvent]) -> pd.DataFrame:
    """Normalize a batch (Arrow table with meter_id/event_type/event_utc, or dataclasses)."""
    if isinstance(events, pa.Table):
        events = normalize_event_columns(events)
        for col in ("meter_id", "event_type", "event_utc"):
            if col not in events.column_names:
                raise InvalidInputError(f"events lack column {col!r}", field=col)
        df: pd.DataFrame = events.select(["meter_id", "event_type", "event_utc"]).to_pandas()
    else:
        df = pd.DataFrame(
            {
                "meter_id": [e.meter_id for e in events],
                "event_type": [e.event_type for e in events],
                "event_utc": [e.event_utc for e in events],
            }
        )
    if len(df) == 0:
        return pd.DataFrame(
            {
                "meter_id": pd.Series(dtype=object),
                "event_type": pd.Series(dtype=object),
                "ts": pd.Series(dtype="datetime64[us, UTC]"),
            }
        )
    ts = pd.to_datetime(df["event_utc"], utc=True)
    out = pd.DataFrame({"meter_id": df["meter_id"].astype(str), "event_type": df["event_type"], "ts": ts})
    return out


def merge_deltas(deltas: Sequence[OutageDelta]) -> OutageDelta:
    """Several engine steps as one write: the latest record per outage, every log event, the latest
    row per (outage, meter), and no rows for outages merged away along the way."""
    outages: dict[str, OutageRecord] = {}
    for d in deltas:
        for o in d.outages:
            outages[o.outage_id] = o
    dropped = sorted({o for d in deltas for o in d.dropped_meter_outage_ids})
    tables = [d.meter_rows for d in deltas if d.meter_rows.num_rows]
    rows = OUTAGE_METERS_SCHEMA.empty_table()
    if tables:
        df = pa.concat_tables(tables).to_pandas().drop_duplicates(["outage_id", "meter_id"], keep="last")
        df = df[~df["outage_id"].isin(dropped)]
        rows = pa.Table.from_pandas(df, schema=OUTAGE_METERS_SCHEMA, preserve_index=False)
    return OutageDelta(
        outages=list(outages.values()),
        events=[e for d in deltas for e in d.events],
        meter_rows=rows,
        dropped_meter_outage_ids=dropped,
        storm_mode=any(d.storm_mode for d in deltas),
        ignored_events=sum(d.ignored_events for d in deltas),
    )


class StepLog:
    """Collects one step's changes (latest record per outage, log rows, meter rows)."""

    def __init__(self) -> None:
        self.outages: dict[str, OutageRecord] = {}
        self.events: list[OutageEventRecord] = []
        self.rows: list[pa.Table] = []
        self.dropped: list[str] = []
        self.ignored = 0

    def event(
        self,
        rec: OutageRecord,
        etype: str,
        at: datetime,
        customers: int,
        actor: str,
        detail: str | None,
        *,
        seq: int,
    ) -> None:
        self.events.append(
            OutageEventRecord(
                event_id=f"{rec.outage_id}:{seq:05d}",
                outage_id=rec.outage_id,
                event_type=etype,
                event_utc=at,
                customers=customers,
                customers_out_after=rec.customers_out,
                actor=actor,
                start_utc=rec.start_utc,
                detail=detail,
                feeder_id=rec.feeder_id,
                substation_id=rec.substation_id,
            )
        )

    def meter_rows(
        self, outage_id: str, meter_ids: npt.NDArray[np.object_], out_utc: datetime, restored: datetime | None
    ) -> None:
        n = len(meter_ids)
        if n == 0:
            return
        self.rows.append(
            pa.table(
                {
                    "outage_id": pa.array([outage_id] * n, pa.string()),
                    "meter_id": pa.array(meter_ids.tolist(), pa.string()),
                    "out_utc": pa.array([out_utc] * n, pa.timestamp("us", tz="UTC")),
                    "restored_utc": pa.array([restored] * n, pa.timestamp("us", tz="UTC")),
                },
                schema=OUTAGE_METERS_SCHEMA,
            )
        )

    def delta(self, storm: bool) -> OutageDelta:
        rows = pa.concat_tables(self.rows) if self.rows else OUTAGE_METERS_SCHEMA.empty_table()
        if rows.num_rows:  # the latest row per (outage, meter) wins
            df = rows.to_pandas().drop_duplicates(["outage_id", "meter_id"], keep="last")
            rows = pa.Table.from_pandas(df, schema=OUTAGE_METERS_SCHEMA, preserve_index=False)
        return OutageDelta(
            outages=list(self.outages.values()),
            events=self.events,
            meter_rows=rows,
            dropped_meter_outage_ids=self.dropped,
            storm_mode=storm,
            ignored_events=self.ignored,
        )


def to_utc(t: object) -> datetime:
    """A tz-aware UTC datetime from a pandas/numpy timestamp."""
    out = pd.Timestamp(t)  # type: ignore[arg-type]
    if out.tzinfo is None:
        out = out.tz_localize(UTC)
    dt: datetime = out.tz_convert(UTC).to_pydatetime()
    return dt


def opt_str(v: object) -> str | None:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
