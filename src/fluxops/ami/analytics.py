"""What the AMI analytics compute (the SQL that computes it lives in `fluxops.storage.ami_analytics`).

Derived datasets, each partitioned by UTC date and recomputed only for the dates that received new
readings since the last watermark (like the seed's dynamic tables, at date-partition granularity):

* ``transformer_hour`` — per transformer and hour: net kWh, average and 15-min peak kW, readings,
  loading % of the nameplate kVA (kW / pf / kVA), ambient °C, top-oil rise, hot spot and aging factor
  (IEEE C57.91, `fluxops.ami.thermal`), the thermal state carried from the previous day;
* ``voltage_meter_day`` — per meter and day: measured intervals, intervals outside ANSI C84.1 Range A and
  Range B (durations = intervals × 15 min), min/avg/max voltage, status;
* ``class_day`` — consumption by customer class; ``completeness_day`` — meters and readings received vs
  expected, reporting latency (ingested − interval end) percentiles.

Feeder and substation load, peak and load factor are aggregated from ``transformer_hour`` at query time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from fluxops.ami.thermal import ThermalParams, hot_spot
from fluxops.ami.weather import WeatherParams, temperature_c

# ANSI C84.1 service voltage ranges, 120 V base (domain facts §6.3).
RANGE_A_V: tuple[float, float] = (114.0, 126.0)
RANGE_B_V: tuple[float, float] = (110.0, 127.0)
VOLTAGE_STATUSES: tuple[str, ...] = ("normal", "warning", "critical")  # in A / in B only / outside B
LOADING_WARNING_PCT = 100.0  # above nameplate
LOADING_CRITICAL_PCT = (
    130.0  # planned-beyond-nameplate ceiling (C57.91 loading guidance ~120-130 °C hot spot)
)


@dataclass(frozen=True)
class AnalyticsParams:
    weather: WeatherParams = field(default_factory=WeatherParams)
    thermal: ThermalParams = field(default_factory=ThermalParams)
    default_power_factor: float = 0.95


def voltage_status(
    outside_a: npt.NDArray[np.int64], outside_b: npt.NDArray[np.int64]
) -> npt.NDArray[np.object_]:
    out: npt.NDArray[np.object_] = np.where(
        outside_b > 0, "critical", np.where(outside_a > 0, "warning", "normal")
    )
    return out.astype(object)


def add_thermal(
    hours: pa.Table,
    prev_top_oil: dict[str, float],
    params: AnalyticsParams,
) -> tuple[pa.Table, dict[str, float]]:
    """Add ambient, top-oil rise, hot spot and aging to a transformer-hour table of one day.

    ``hours`` needs ``transformer_id``, ``hour_utc`` and ``loading_pct``. Missing hours of a transformer
    count as no load. Returns the table (sorted by transformer, hour) and each transformer's final state."""
    if hours.num_rows == 0:
        extra = {
            "ambient_c": pa.array([], pa.float64()),
            "top_oil_rise_c": pa.array([], pa.float64()),
            "hot_spot_c": pa.array([], pa.float64()),
            "aging_factor": pa.array([], pa.float64()),
        }
        for name, col in extra.items():
            hours = hours.append_column(name, col)
        return hours, {}
    t = hours.sort_by([("transformer_id", "ascending"), ("hour_utc", "ascending")])
    xf = t["transformer_id"].to_numpy(zero_copy_only=False).astype(object)
    hr_s = pc.cast(t["hour_utc"], pa.int64()).to_numpy(zero_copy_only=False) // 1_000_000
    ids, xi = np.unique(xf, return_inverse=True)
    day0 = int(hr_s.min()) // 86_400 * 86_400
    hi = ((hr_s - day0) // 3600).astype(np.int64)
    n_h = int(hi.max()) + 1
    k = np.zeros((ids.size, n_h))
    k[xi, hi] = np.nan_to_num(t["loading_pct"].to_numpy(zero_copy_only=False)) / 100.0
    hours_s = day0 + 3600 * np.arange(n_h, dtype=np.int64) + 1800
    amb = temperature_c(hours_s, params.weather)
    init = np.array([prev_top_oil.get(str(i), np.nan) for i in ids], dtype=np.float64)
    res0 = hot_spot(k, amb, step_h=1.0, params=params.thermal)
    if np.isfinite(init).any():  # continue from yesterday where known; steady state elsewhere
        start = np.where(np.isfinite(init), init, res0.top_oil_rise_c[:, 0])
        res = hot_spot(k, amb, step_h=1.0, params=params.thermal, initial_top_oil_rise_c=start)
    else:
        res = res0
    out = (
        t.append_column("ambient_c", pa.array(amb[hi]))
        .append_column("top_oil_rise_c", pa.array(res.top_oil_rise_c[xi, hi]))
        .append_column("hot_spot_c", pa.array(res.hot_spot_c[xi, hi]))
        .append_column("aging_factor", pa.array(res.aging_factor[xi, hi]))
    )
    final = {str(i): float(v) for i, v in zip(ids, res.final_top_oil_rise_c, strict=True)}
    return out, final
