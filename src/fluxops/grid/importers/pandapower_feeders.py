"""Feeders of the imported network: one per device leaving a substation bus section, and every bus
booked to the feeder that reaches it (islands behind open switches to the feeder across the switch)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fluxops.grid.importers.pandapower_mapping import ImportReport, fail

Arr = np.ndarray


@dataclass(frozen=True)
class Feeders:
    """Feeder ids in head-device order, with each feeder's head device, head bus and bus section, and
    each bus's feeder (None on a bus section)."""

    feeder_ids: Arr
    head_dev: Arr  # positions in the device table
    head_bus: Arr
    head_sec: Arr
    bus_feeder: Arr


def assign_feeders(
    dev: pd.DataFrame,
    n_seg: int,
    is_sec: Arr,
    a: Arr,
    b: Arr,
    closed: Arr,
    labels: Arr,
    report: ImportReport,
) -> Feeders:
    """``a``/``b``: oriented edge ends (segments, then devices); ``labels``: components without the bus
    sections (`pandapower_topology.orient_and_label`)."""
    head = np.flatnonzero(is_sec[a] ^ is_sec[b])
    head_dev = head[head >= n_seg] - n_seg
    if len(head) != len(head_dev):
        raise fail("line", "*", "from_bus", "leaves a bus section without a switch")  # synthesized before
    head_bus = np.where(is_sec[a[n_seg + head_dev]], b[n_seg + head_dev], a[n_seg + head_dev])
    head_sec = np.where(is_sec[a[n_seg + head_dev]], a[n_seg + head_dev], b[n_seg + head_dev])
    order = np.argsort(dev["device_id"].to_numpy()[head_dev].astype(str), kind="stable")
    head_dev, head_bus, head_sec = head_dev[order], head_bus[order], head_sec[order]
    feeder_ids = np.array([f"FDR-{k + 1:03d}" for k in range(len(head_dev))], dtype=object)
    feeder_of_label = pd.Series(feeder_ids[::-1], index=labels[head_bus][::-1])
    feeder_of_label = feeder_of_label[~feeder_of_label.index.duplicated(keep="last")]
    if len(set(labels[head_bus].tolist())) < len(head_bus):
        report.notes.append(
            "some feeders are paralleled in the normal state; their buses go to the first feeder"
        )
    bus_feeder = pd.Series(labels).map(feeder_of_label).to_numpy(object)
    bus_feeder[is_sec] = None
    _book_orphans(bus_feeder, feeder_ids, is_sec, a, b, closed, labels)
    return Feeders(feeder_ids, head_dev, head_bus, head_sec, bus_feeder)


def _book_orphans(
    bus_feeder: Arr, feeder_ids: Arr, is_sec: Arr, a: Arr, b: Arr, closed: Arr, labels: Arr
) -> None:
    """Islands behind open switches go to the feeder on the other side of an open device; buses no
    feeder reaches even so (isolated in the source data) to the first feeder, de-energized."""
    orphan = np.flatnonzero(~is_sec & pd.isna(bus_feeder))
    if not len(orphan):
        return
    for _ in range(3):
        for k in np.flatnonzero(~closed):
            fa, fb = bus_feeder[a[k]], bus_feeder[b[k]]
            if pd.isna(fa) and not pd.isna(fb) and not is_sec[a[k]]:
                bus_feeder[labels == labels[a[k]]] = fb
            elif pd.isna(fb) and not pd.isna(fa) and not is_sec[b[k]]:
                bus_feeder[labels == labels[b[k]]] = fa
    orphan = np.flatnonzero(~is_sec & pd.isna(bus_feeder))
    if len(orphan):
        bus_feeder[orphan] = feeder_ids[0] if len(feeder_ids) else None


def feeder_table(
    net: Any,
    f: Feeders,
    bus: pd.DataFrame,
    bus_ix: pd.Index,
    dev: pd.DataFrame,
    stx_of_sec: dict[str, str],
    sub_of_sec: dict[str, str],
) -> tuple[pd.DataFrame, Arr]:
    """The feeders table, and each bus's substation (its feeder's; a bus section's own)."""
    feeders = pd.DataFrame(
        {
            "feeder_id": f.feeder_ids,
            "name": [f"Feeder {k + 1}" for k in range(len(f.feeder_ids))],
            "substation_id": [sub_of_sec[bus_ix[i]] for i in f.head_sec],
            "transformer_id": [stx_of_sec[bus_ix[i]] for i in f.head_sec],
            "head_bus_id": bus_ix[f.head_bus].to_numpy(),
            "head_device_id": dev["device_id"].to_numpy()[f.head_dev],
            "v_nom_kv": net.bus["vn_kv"].loc[bus["pp_bus"].to_numpy()[f.head_bus]].to_numpy(float),
        }
    )
    sub_of_feeder = dict(zip(feeders["feeder_id"], feeders["substation_id"], strict=True))
    sec_sub = pd.Series([sub_of_sec.get(x) for x in bus_ix], dtype=object).to_numpy()
    bus_sub = np.array(
        [sub_of_feeder[fd] if not pd.isna(fd) else sec_sub[i] for i, fd in enumerate(f.bus_feeder)],
        dtype=object,
    )
    return feeders, bus_sub
