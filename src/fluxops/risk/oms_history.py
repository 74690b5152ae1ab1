"""The failure history (`fluxops.risk.history`) as OMS outage records, so IEEE 1366 reliability has years.

Why here and not in the live engine: these outages were never predicted from last-gasps; they are what
the hazard process says failed. Each becomes what the OMS would have kept for it once restored:

* the outage record (`fluxops.ops.models.OutageRecord`), status ``restored``, ``historical`` set,
  ``cause_code`` ``equipment`` (IEEE 1782: the failed asset is equipment), never synthetic: reliability
  counts it like any real outage, nothing lists it as active and no alarm comes from it;
* its customers: the meters under the protective device that operated, read from the same protection
  tree the live engine predicts on (`fluxops.ops.trace.ProtectionTree.meters_under`); a substation
  transformer's failure opens every feeder head breaker it feeds;
* the log: one ``proposed`` event at the start and one ``restored`` step per feeder (so by-feeder
  indices see their own customers), at the restoration time the history drew from the project's one
  repair model (`fluxops.cascade.repair.repair_hours`, via `fluxops.risk.history.repair_h_of`);
* one row per interrupted meter (``outage_meters``), so CAIFI / CEMI count these customers too.

Pure: DataFrames and the tree in, an `OutageDelta` out; `fluxops.storage.oms_history` writes it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from fluxops.grid.models import Grid
from fluxops.ops.models import OUTAGE_METERS_SCHEMA, OutageDelta, OutageEventRecord, OutageRecord
from fluxops.ops.trace import ProtectionTree

HISTORY_PREFIX = "HIST-"  # outage ids of the history; the live engine numbers its own "OUT-nnnnnn"
HISTORY_ACTOR = "risk-history"
Progress = Callable[[float, str], None]
I64 = npt.NDArray[np.int64]


def _meters_of_device(tree: ProtectionTree, grid: Grid) -> Callable[[str], I64]:
    """Meter node positions a failure's protective device takes out (cached per device)."""
    heads = grid.feeders.groupby("transformer_id")["head_device_id"].apply(list).to_dict()
    cache: dict[str, I64] = {}

    def of(device_id: str) -> I64:
        hit = cache.get(device_id)
        if hit is not None:
            return hit
        node = tree.node_of(device_id)
        if node is not None:
            out = tree.meters_under(node)
        else:  # a substation transformer: all its feeders' head breakers open
            parts = [
                tree.meters_under(n) for h in heads.get(device_id, []) if (n := tree.node_of(h)) is not None
            ]
            out = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        cache[device_id] = out.astype(np.int64)
        return cache[device_id]

    return of


def _restore_steps(
    tree: ProtectionTree, oid: str, meters: I64, start: datetime, back: datetime
) -> list[OutageEventRecord]:
    """One restoration step per (feeder, substation) of the meters, all at the repair's end."""
    fd = np.asarray(pd.Series(tree.node_feeder[meters]).fillna("").astype(str), dtype=object)
    sub = np.asarray(pd.Series(tree.node_substation[meters]).fillna("").astype(str), dtype=object)
    keys, counts = np.unique(fd + "|" + sub, return_counts=True)
    left = len(meters)
    out: list[OutageEventRecord] = []
    for seq, (key, cnt) in enumerate(zip(keys.tolist(), counts.tolist(), strict=True), start=1):
        feeder, substation = str(key).split("|")
        left -= int(cnt)
        kind = "restored" if left == 0 else "partial_restore"
        out.append(
            OutageEventRecord(
                f"{oid}:{seq:05d}", oid, kind, back, int(cnt), left, HISTORY_ACTOR, start, "repaired",
                feeder or None, substation or None,
            )
        )  # fmt: skip
    return out


def outage_history(
    failures: pd.DataFrame, tree: ProtectionTree, grid: Grid, progress: Progress | None = None
) -> OutageDelta:
    """Every failure of the history as a restored, historical OMS outage (see the module docstring)."""
    report = progress or (lambda _f, _m: None)
    meters_of = _meters_of_device(tree, grid)
    outages: list[OutageRecord] = []
    events: list[OutageEventRecord] = []
    rows: list[tuple[str, I64, datetime, datetime]] = []
    n = len(failures)
    col = {c: failures[c].to_numpy(object) for c in failures.columns}
    dur_h = failures["duration_h"].to_numpy(np.float64)
    starts = pd.to_datetime(failures["start_utc"], utc=True)
    backs = pd.to_datetime(failures["restored_utc"], utc=True)
    for i in range(n):  # a few thousand failures, not per meter
        dev = str(col["protective_device_id"][i])
        meters = meters_of(dev)
        oid = f"{HISTORY_PREFIX}{col['failure_id'][i]}"
        start: datetime = starts.iloc[i].to_pydatetime()
        back: datetime = backs.iloc[i].to_pydatetime()
        node = tree.node_of(dev)
        n_cust = len(meters)
        feeder = col["feeder_id"][i]
        rec = OutageRecord(
            outage_id=oid,
            status="restored",
            kind=str(col["outage_kind"][i]),
            device_id=dev,
            device_type=str(tree.node_type[node]) if node is not None else str(col["asset_type"][i]),
            feeder_id=None if feeder is None or pd.isna(feeder) else str(feeder),
            substation_id=str(col["substation_id"][i]),
            start_utc=start,
            proposed_utc=start,
            confirmed_utc=start,
            updated_utc=back,
            restored_utc=back,
            customers_affected=n_cust,
            critical_customers_affected=int(tree.meter_critical[meters - tree.meter_offset].sum()),
            customers_out=0,
            reports=0,
            customer_minutes=float(n_cust * dur_h[i] * 60.0),
            lon=float(tree.node_lon[node]) if node is not None else None,
            lat=float(tree.node_lat[node]) if node is not None else None,
            cause_code="equipment",
            historical=True,
        )
        outages.append(rec)
        detail = f"failure of {col['asset_type'][i]} {col['asset_id'][i]} (asset-risk history)"
        events.append(
            OutageEventRecord(
                f"{oid}:00000", oid, "proposed", start, n_cust, n_cust, HISTORY_ACTOR, start, detail,
                rec.feeder_id, rec.substation_id,
            )
        )  # fmt: skip
        events += _restore_steps(tree, oid, meters, start, back)
        if n_cust:
            rows.append((oid, meters, start, back))
        if i % 500 == 0:
            report(i / max(n, 1), f"{i:,} of {n:,} historical outages")
    meter_rows = _meter_table(tree, rows)
    report(1.0, f"{n:,} historical outages, {meter_rows.num_rows:,} customer interruptions")
    return OutageDelta(outages=outages, events=events, meter_rows=meter_rows)


def _meter_table(tree: ProtectionTree, rows: list[tuple[str, I64, datetime, datetime]]) -> pa.Table:
    """outage_meters rows: every interrupted meter with its outage's start and restoration."""
    if not rows:
        return OUTAGE_METERS_SCHEMA.empty_table()
    sizes = np.array([len(m) for _, m, _, _ in rows], dtype=np.int64)
    df = pd.DataFrame(
        {
            "outage_id": np.repeat(np.array([r[0] for r in rows], dtype=object), sizes),
            "meter_id": tree.node_ids[np.concatenate([r[1] for r in rows])],
            "out_utc": np.repeat(pd.DatetimeIndex([r[2] for r in rows]), sizes),
            "restored_utc": np.repeat(pd.DatetimeIndex([r[3] for r in rows]), sizes),
        }
    )
    # one row per (outage, meter): a meter under two feeder heads of one transformer appears once
    df = df.drop_duplicates(["outage_id", "meter_id"])
    return pa.Table.from_pandas(df, schema=OUTAGE_METERS_SCHEMA, preserve_index=False)
