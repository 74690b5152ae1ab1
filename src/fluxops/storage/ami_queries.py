# ruff: noqa: E501  (SQL text reads better unwrapped)
"""The questions asked of the AMI analytics: API endpoints and the seed's sample queries, as SQL over
the views `fluxops.storage.ami_analytics.AmiAnalytics.query` sets up (``readings``, ``events``, the
dims and the derived datasets ``d_<name>``). Values travel as bound parameters, never in SQL text."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pyarrow as pa

from fluxops.ami.analytics import RANGE_A_V, RANGE_B_V
from fluxops.core.errors import InvalidInputError, NotFoundError
from fluxops.storage.ami_analytics import AmiAnalytics

# --- the questions (API endpoints and the seed's sample queries) ------------------------------------

# "Latest" transformer loading (`AmiQueries.transformer_latest`). Policy values, not measurements:
# a day of data is searched for a complete hour (a feed stalled longer than that has no "latest"); an
# hour counts as complete at 95 % of the best hour's meter-intervals (tolerates the ~0.5 % of readings
# never delivered — CenterPoint's 99.5 % read rate, the AMI synthesizer's `missing_share` — and
# rejects the newest hour while its last interval is still arriving: 75 % plus the arrived share of
# that interval); below half its meter-intervals a transformer's scaled load would be more
# extrapolation than measurement, so it is left out.
LATEST_LOOKBACK_H = 24
LATEST_MIN_HOUR_COMPLETENESS = 0.95
LATEST_MIN_TRANSFORMER_COMPLETENESS = 0.5

_FEEDER_HOUR = """
SELECT {key}, hour_utc, sum(kw_avg) AS kw, sum(kw_peak_15) AS kw_peak_15_sum, count(*) AS transformers
FROM d_transformer_hour WHERE hour_utc >= $start AND hour_utc < $end GROUP BY {key}, hour_utc
"""

_SUMMARY = """
WITH h AS ({hourly})
SELECT {key}, max(kw) AS peak_kw, arg_max(hour_utc, kw) AS peak_hour_utc, avg(kw) AS avg_kw,
       avg(kw) / nullif(max(kw), 0) AS load_factor, sum(kw) AS energy_kwh, count(*) AS hours
FROM h GROUP BY {key} ORDER BY peak_kw DESC LIMIT $limit
"""

# The seed generator's validation/sample queries (reference/ami-generator-inventory.md §4), over the
# raw readings of the last ``days`` days. Numbered as in the inventory.
CHECKS: dict[str, str] = {
    "load_summary": """SELECT count(*) AS total_rows, count(DISTINCT meter_id) AS distinct_meters,
        min(interval_start_utc) AS first_reading_utc, max(interval_start_utc) AS last_reading_utc,
        count(DISTINCT interval_start_utc::DATE) AS days_covered,
        (SELECT count(*) FROM meter_dim) * 96 * count(DISTINCT interval_start_utc::DATE) AS expected_rows
        FROM readings""",
    "null_counts": """SELECT count_if(r.meter_id IS NULL) AS meter_id_nulls,
        count_if(r.interval_start_utc IS NULL) AS interval_start_nulls,
        count_if(r.kwh_delivered IS NULL) AS kwh_nulls, count_if(d.customer_class IS NULL) AS class_nulls,
        count_if(r.voltage_v IS NULL) AS voltage_nulls_outage_intervals
        FROM readings r LEFT JOIN meter_dim d USING (meter_id)""",
    "class_share": """SELECT customer_class, count(*) AS meters,
        round(100.0 * count(*) / sum(count(*)) OVER (), 2) AS pct FROM meter_dim GROUP BY 1 ORDER BY 2 DESC""",
    "minute_histogram": """SELECT minute(interval_start_utc) AS minute, count(*) AS readings
        FROM readings GROUP BY 1 ORDER BY 1""",
    "kwh_stats_by_class": """SELECT d.customer_class, min(kwh_delivered) AS kwh_min, avg(kwh_delivered) AS kwh_avg,
        max(kwh_delivered) AS kwh_max, stddev(kwh_delivered) AS kwh_stddev, count(*) AS readings
        FROM readings r JOIN meter_dim d USING (meter_id) GROUP BY 1 ORDER BY 1""",
    "voltage_histogram": """SELECT floor(voltage_v)::INT AS volt_bucket, count(*) AS readings
        FROM readings WHERE voltage_v IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 10""",
    "quality_mix": """SELECT quality, count(*) AS readings, round(100.0 * count(*) / sum(count(*)) OVER (), 3) AS pct
        FROM readings GROUP BY 1 ORDER BY 2 DESC""",
    "service_areas": """SELECT count(DISTINCT substation_id) AS substations, count(DISTINCT feeder_id) AS feeders,
        count(DISTINCT transformer_id) AS transformers FROM meter_dim""",
    "hourly_rollup_24h": """SELECT date_trunc('hour', interval_start_utc) AS hour_utc, count(*) AS readings,
        avg(kwh_delivered) AS kwh_avg, avg(voltage_v) AS voltage_avg, count_if(quality = 'outage') AS outage_readings
        FROM readings WHERE interval_start_utc >= (SELECT max(interval_start_utc) FROM readings) - INTERVAL 24 HOUR
        GROUP BY 1 ORDER BY 1""",
    "usage_by_class": """SELECT d.customer_class, count(DISTINCT meter_id) AS meters, avg(kwh_delivered) AS kwh_avg,
        sum(kwh_delivered) AS kwh_total, sum(kwh_received) AS kwh_received_total
        FROM readings r JOIN meter_dim d USING (meter_id) GROUP BY 1 ORDER BY 1""",
    "recent": """SELECT * FROM readings ORDER BY ingested_utc DESC, batch_seq DESC LIMIT 10""",
    "rows_per_minute_last_hour": """SELECT date_trunc('minute', ingested_utc) AS minute_utc, count(*) AS readings
        FROM readings WHERE ingested_utc >= (SELECT max(ingested_utc) FROM readings) - INTERVAL 1 HOUR
        GROUP BY 1 ORDER BY 1""",
    "latency": """SELECT quantile_cont(epoch(ingested_utc) - epoch(interval_start_utc) - 900, 0.5) AS p50_s,
        quantile_cont(epoch(ingested_utc) - epoch(interval_start_utc) - 900, 0.95) AS p95_s,
        max(epoch(ingested_utc) - epoch(interval_start_utc) - 900) AS max_s,
        max(ingested_utc) AS last_ingested_utc FROM readings
        WHERE ingested_utc >= (SELECT max(ingested_utc) FROM readings) - INTERVAL 1 HOUR""",
}


class AmiQueries:
    """Answers over `AmiAnalytics` (derived datasets refreshed first when ``auto_refresh``)."""

    def __init__(self, analytics: AmiAnalytics) -> None:
        self.a = analytics

    def _range(self, start: date | None, end: date | None) -> tuple[date, date]:
        parts = self.a.lake.readings.partitions()
        last = parts[-1] if parts else date.today()
        e = end or last
        s = start or e
        if s > e:
            raise InvalidInputError("start must not be after end", field="start")
        return s, e + timedelta(days=1)

    def transformer_hours(
        self, *, day: date | None, transformer_id: str | None, feeder_id: str | None, limit: int
    ) -> pa.Table:
        s, e = self._range(day, day)
        return self.a.query(
            """SELECT * FROM d_transformer_hour WHERE hour_utc >= $s AND hour_utc < $e
               AND ($x IS NULL OR transformer_id = $x) AND ($f IS NULL OR feeder_id = $f)
               ORDER BY transformer_id, hour_utc LIMIT $limit""",
            {"s": s, "e": e, "x": transformer_id, "f": feeder_id, "limit": limit},
        )

    def transformer_latest(
        self,
        *,
        feeder_id: str | None,
        min_loading_pct: float | None,
        limit: int,
        lookback_h: int = LATEST_LOOKBACK_H,
        min_hour_completeness: float = LATEST_MIN_HOUR_COMPLETENESS,
        min_transformer_completeness: float = LATEST_MIN_TRANSFORMER_COMPLETENESS,
    ) -> pa.Table:
        """Loading per transformer at the latest *complete* hour (for the map, ops and the risk index).

        Why not simply the newest hour: readings arrive for 15 minutes after each interval ends, so the
        newest hour is always partial and its sums count missing readings as zero load (the map read a
        median 19.2 % at 16:00:45 and 23.0 % five minutes later, issue 9 §1). One hour is chosen for
        the whole fleet, so the map and the power flows fed from it are one coherent snapshot: the
        newest hour of the last ``lookback_h`` hours of data whose fleet completeness (readings /
        4 × meters of ``transformer_dim``) is at least ``min_hour_completeness`` of the most complete
        hour in that window (relative, so meters that never report do not make every hour
        "incomplete"); ``hour_complete`` says whether it also reaches that share in absolute terms.

        Per transformer, at that hour, ``completeness_pct`` = readings / (4 × its meters). When some
        are missing, ``kw_avg`` and ``loading_pct`` are scaled up by 1 / completeness (the missing
        meter-intervals taken as the mean of those received) and ``loading_basis`` says ``scaled``
        (``measured`` when complete); ``kw_avg_measured`` keeps the unscaled sum. Below
        ``min_transformer_completeness`` the transformer is left out (unknown beats a guess).
        ``hot_spot_c`` and ``aging_factor`` are the thermal model's, computed from the measured sums.
        """
        return self.a.query(
            """WITH expected AS (SELECT transformer_id, 4 * meters AS readings_expected FROM transformer_dim),
               recent AS (
                 SELECT * FROM d_transformer_hour
                 WHERE hour_utc > (SELECT max(hour_utc) FROM d_transformer_hour) - to_hours(CAST($lb AS BIGINT))),
               hours AS (
                 SELECT hour_utc,
                        sum(readings)::DOUBLE / nullif((SELECT sum(readings_expected) FROM expected), 0) AS c
                 FROM recent GROUP BY hour_utc),
               pick AS (
                 SELECT max(hour_utc) AS hour_utc FROM hours
                 WHERE c >= $hc * (SELECT max(c) FROM hours)),
               rows AS (
                 SELECT r.transformer_id, r.feeder_id, r.substation_id, r.hour_utc, r.readings,
                        e.readings_expected,
                        100.0 * r.readings / nullif(e.readings_expected, 0) AS completeness_pct,
                        greatest(1.0, e.readings_expected::DOUBLE / nullif(r.readings, 0)) AS scale,
                        r.kw_avg AS kw_avg_measured, r.kw_peak_15, r.loading_pct AS loading_pct_measured,
                        r.hot_spot_c, r.aging_factor, r.rating_kva,
                        100.0 * h.c AS hour_completeness_pct, h.c >= $hc AS hour_complete
                 FROM recent r JOIN pick p USING (hour_utc) JOIN hours h USING (hour_utc)
                 LEFT JOIN expected e USING (transformer_id)
                 WHERE ($f IS NULL OR r.feeder_id = $f))
               SELECT transformer_id, feeder_id, substation_id, hour_utc, kw_avg_measured * scale AS kw_avg,
                      kw_avg_measured, kw_peak_15, loading_pct_measured * scale AS loading_pct,
                      CASE WHEN scale > 1.0 THEN 'scaled' ELSE 'measured' END AS loading_basis,
                      readings, readings_expected, completeness_pct, hour_completeness_pct, hour_complete,
                      hot_spot_c, aging_factor, rating_kva
               FROM rows
               WHERE completeness_pct >= 100.0 * $tc AND ($m IS NULL OR loading_pct_measured * scale >= $m)
               ORDER BY loading_pct DESC, transformer_id LIMIT $limit""",
            {
                "f": feeder_id,
                "m": min_loading_pct,
                "limit": limit,
                "lb": lookback_h,
                "hc": min_hour_completeness,
                "tc": min_transformer_completeness,
            },
        )

    def transformer_thermal(self, *, start: date | None, end: date | None, limit: int) -> pa.Table:
        s, e = self._range(start, end)
        life_h = self.a.params.thermal.normal_life_h
        return self.a.query(
            """SELECT transformer_id, feeder_id, max(loading_pct) AS max_loading_pct,
                 max(hot_spot_c) AS max_hot_spot_c, avg(aging_factor) AS equivalent_aging_factor,
                 sum(aging_factor) * 100.0 / $life AS loss_of_life_pct,
                 count_if(hot_spot_c > 110) AS hours_above_110c, count(*) AS hours
               FROM d_transformer_hour WHERE hour_utc >= $s AND hour_utc < $e
               GROUP BY transformer_id, feeder_id ORDER BY max_hot_spot_c DESC LIMIT $limit""",
            {"s": s, "e": e, "life": life_h, "limit": limit},
        )

    def transformer_aging(self) -> pa.Table:
        """Per transformer, the whole hot-spot history: hours measured and equivalent aging hours
        (Σ F_AA · 1 h, IEEE C57.91) — the input of the ops health index (`fluxops.ops.health`)."""
        return self.a.query(
            """SELECT transformer_id, count(*)::DOUBLE AS telemetry_h, sum(aging_factor) AS aging_equivalent_h
               FROM d_transformer_hour GROUP BY transformer_id"""
        )

    def group_hourly(self, level: str, *, day: date | None, limit: int) -> pa.Table:
        key = _level_key(level)
        s, e = self._range(day, day)
        return self.a.query(
            _FEEDER_HOUR.format(key=key) + f" ORDER BY {key}, hour_utc LIMIT $limit",
            {"start": s, "end": e, "limit": limit},
        )

    def group_summary(self, level: str, *, start: date | None, end: date | None, limit: int) -> pa.Table:
        key = _level_key(level)
        s, e = self._range(start, end)
        return self.a.query(
            _SUMMARY.format(key=key, hourly=_FEEDER_HOUR.format(key=key)),
            {"start": s, "end": e, "limit": limit},
        )

    def voltage_meters(self, *, day: date | None, status: str | None, limit: int) -> pa.Table:
        s, _ = self._range(day, day)
        return self.a.query(
            """SELECT *, intervals_outside_a * 15 AS minutes_outside_a, intervals_outside_b * 15 AS minutes_outside_b,
                 CASE WHEN intervals_outside_b > 0 THEN 'critical' WHEN intervals_outside_a > 0 THEN 'warning'
                      ELSE 'normal' END AS status
               FROM d_voltage_meter_day WHERE date = $d
                 AND ($st IS NULL OR (CASE WHEN intervals_outside_b > 0 THEN 'critical'
                      WHEN intervals_outside_a > 0 THEN 'warning' ELSE 'normal' END) = $st)
               ORDER BY intervals_outside_a DESC, meter_id LIMIT $limit""",
            {"d": s, "st": status, "limit": limit},
        )

    def voltage_transformers(self, *, day: date | None, limit: int) -> pa.Table:
        s, _ = self._range(day, day)
        return self.a.query(
            """SELECT d.transformer_id, any_value(d.feeder_id) AS feeder_id, count(*) AS meters,
                 count_if(v.intervals_outside_a > 0) AS meters_outside_a,
                 count_if(v.intervals_outside_b > 0) AS meters_outside_b,
                 sum(v.intervals_outside_a) * 15 AS meter_minutes_outside_a,
                 sum(v.intervals_outside_b) * 15 AS meter_minutes_outside_b,
                 min(v.v_min) AS v_min, avg(v.v_avg) AS v_avg, max(v.v_max) AS v_max
               FROM d_voltage_meter_day v JOIN meter_dim d USING (meter_id) WHERE v.date = $d
               GROUP BY d.transformer_id ORDER BY meter_minutes_outside_a DESC LIMIT $limit""",
            {"d": s, "limit": limit},
        )

    def meter_voltage_latest(self, *, limit: int) -> pa.Table:
        """Each meter's latest measured interval voltage with its ANSI status (raw data, latest day)."""
        return self.a.query(
            f"""SELECT meter_id, max(interval_start_utc) AS interval_start_utc,
                 arg_max(voltage_v, interval_start_utc) AS voltage_v,
                 CASE WHEN arg_max(voltage_v, interval_start_utc) NOT BETWEEN {RANGE_B_V[0]} AND {RANGE_B_V[1]}
                      THEN 'critical'
                      WHEN arg_max(voltage_v, interval_start_utc) NOT BETWEEN {RANGE_A_V[0]} AND {RANGE_A_V[1]}
                      THEN 'warning' ELSE 'normal' END AS status
               FROM readings WHERE voltage_v IS NOT NULL GROUP BY meter_id ORDER BY meter_id LIMIT $limit""",
            {"limit": limit},
            raw_days=1,
        )

    def class_consumption(self, *, start: date | None, end: date | None) -> pa.Table:
        s, e = self._range(start, end)
        return self.a.query(
            """SELECT customer_class, sum(meters) / count(DISTINCT date) AS meters_avg, sum(readings) AS readings,
                 sum(kwh_delivered) AS kwh_delivered, sum(kwh_received) AS kwh_received,
                 sum(kwh_delivered) / nullif(sum(meters), 0) AS kwh_per_meter_day
               FROM d_class_day WHERE date >= $s AND date < $e GROUP BY 1 ORDER BY 1""",
            {"s": s, "e": e},
        )

    def completeness(self, *, start: date | None, end: date | None) -> pa.Table:
        s, e = self._range(start, end)
        return self.a.query(
            "SELECT * FROM d_completeness_day WHERE date >= $s AND date < $e ORDER BY date", {"s": s, "e": e}
        )

    def check(self, name: str, *, days: int) -> pa.Table:
        sql = CHECKS.get(name)
        if sql is None:
            raise NotFoundError(f"unknown check {name!r}", details={"checks": sorted(CHECKS)})
        return self.a.query(sql, raw_days=days)

    def readings(self, *, meter_id: str, start: date | None, end: date | None, limit: int) -> pa.Table:
        s, e = self._range(start, end)
        return self.a.query(
            """SELECT * FROM readings WHERE meter_id = $m AND interval_start_utc >= $s AND interval_start_utc < $e
               ORDER BY interval_start_utc LIMIT $limit""",
            {"m": meter_id, "s": s, "e": e, "limit": limit},
            raw_range=(s, e - timedelta(days=1)),  # the asked dates, wherever they are in the lake
        )

    def events(self, *, since: Any, event_type: str | None, meter_id: str | None, limit: int) -> pa.Table:
        return self.a.query(
            """SELECT * FROM events WHERE ($since IS NULL OR event_time_utc >= $since)
                 AND ($t IS NULL OR event_type = $t) AND ($m IS NULL OR meter_id = $m)
               ORDER BY event_time_utc DESC LIMIT $limit""",
            {"since": since, "t": event_type, "m": meter_id, "limit": limit},
        )


def _level_key(level: str) -> str:
    if level not in ("feeder", "substation"):
        raise InvalidInputError("level must be feeder or substation", field="level")
    return f"{level}_id"
