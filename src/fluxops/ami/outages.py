"""Synthetic sustained outages for the AMI generator: which meters lose supply, when, for how long.

Why at protective devices: a real interruption is a fuse, recloser or breaker operating (or a single
transformer failing), so the meters that go dark together are exactly those downstream of one device.
That is what lets the outage-detection side trace last-gasps back to the device (issue 3 §4). Downstream
meters come from the network kernel (`fluxops.network.energization.energize` with the device's edge
failed), never from a constant.

Rates (documented defaults, `OutageParams`): US utilities report SAIFI ~1.0-1.5 interruptions per customer
per year excluding major events and CAIDI ~100-130 min (EIA-861 2022 reliability tables, IEEE 1366
basis); we draw incidents so the expected customer interruptions match ``saifi_per_year`` and durations
log-normally around ``median_duration_min``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fluxops.network.compiled import CompiledGrid
from fluxops.network.energization import energize


@dataclass(frozen=True)
class OutageParams:
    saifi_per_year: float = 1.3
    median_duration_min: float = 95.0
    duration_sigma: float = 0.8  # log-normal shape
    transformer_share: float = 0.35  # share of incidents that are a single transformer (not a device)
    last_gasp_delay_s: tuple[float, float] = (30.0, 45.0)  # outage declaration period (domain facts §8)
    last_gasp_lost_share: float = 0.15  # NIC without supercap / RF congestion: never reported
    restore_lost_share: float = 0.03
    restore_delay_s: tuple[float, float] = (20.0, 90.0)


@dataclass(frozen=True)
class Outage:
    """One incident: ``meter_pos`` are positions in the grid's meters table."""

    device_id: str  # protective device edge id or transformer id
    kind: str  # "device" | "transformer"
    start_s: int  # epoch seconds
    end_s: int
    meter_pos: npt.NDArray[np.int64]


def draw_outages(
    cg: CompiledGrid,
    meter_pos_of_cg_meter: npt.NDArray[np.int64],
    day_start_s: int,
    params: OutageParams,
    seed: int,
) -> list[Outage]:
    """Incidents starting during the UTC day beginning at ``day_start_s`` (deterministic in seed and day)."""
    rng = np.random.default_rng([seed, 0x0D7, day_start_s // 86_400])
    n_meters = cg.meter_ids.size
    if n_meters == 0:
        return []
    prot = np.flatnonzero(cg.is_protective & (cg.device_type != "breaker"))
    # Expected customers per incident, estimated from the two incident kinds' typical sizes.
    per_xfmr = max(float(n_meters) / max(cg.xfmr_ids.size, 1), 1.0)
    per_dev = max(float(n_meters) / max(prot.size, 1), per_xfmr)
    mean_size = params.transformer_share * per_xfmr + (1 - params.transformer_share) * per_dev
    expected = params.saifi_per_year * n_meters / 365.0 / mean_size
    count = int(rng.poisson(expected))
    out: list[Outage] = []
    meter_xfmr = np.asarray(cg.meter_xfmr)
    for _ in range(count):
        start = day_start_s + int(rng.integers(0, 86_400))
        dur = float(
            np.exp(np.log(params.median_duration_min * 60.0) + params.duration_sigma * rng.standard_normal())
        )
        end = start + max(int(dur), 300)
        if prot.size == 0 or rng.random() < params.transformer_share:
            x = int(rng.integers(0, cg.xfmr_ids.size))
            cg_meters = np.flatnonzero(meter_xfmr == x)
            out.append(
                Outage(str(cg.xfmr_ids[x]), "transformer", start, end, meter_pos_of_cg_meter[cg_meters])
            )
            continue
        e = int(prot[rng.integers(0, prot.size)])
        en = energize(cg, failed_edges=np.array([e]))
        dark_bus = ~en.bus_energized
        cg_meters = np.flatnonzero(dark_bus[np.asarray(cg.xfmr_bus)[meter_xfmr]])
        if cg_meters.size:
            out.append(Outage(str(cg.edge_ids[e]), "device", start, end, meter_pos_of_cg_meter[cg_meters]))
    return out


def outage_fraction(
    outages: list[Outage], n_meters: int, day_start_s: int, n_intervals: int, interval_s: int
) -> npt.NDArray[np.float32]:
    """Per meter × interval, the fraction of the interval without supply (0..1), over the given outages
    (pass those that overlap the day, including ones that started the day before)."""
    frac = np.zeros((n_meters, n_intervals), dtype=np.float32)
    edges = day_start_s + interval_s * np.arange(n_intervals + 1)
    for o in outages:
        lo = np.clip(np.minimum(edges[1:], o.end_s) - np.maximum(edges[:-1], o.start_s), 0, None) / interval_s
        if not lo.any():
            continue
        cur = frac[o.meter_pos]
        frac[o.meter_pos] = np.maximum(cur, lo[None, :].astype(np.float32))
    return frac
