"""AMI analytics over the Parquet lake with DuckDB: incremental derived datasets and query answers.

The domain (`fluxops.ami.analytics`) says what is computed; this module holds the SQL. Derived datasets
live next to the raw data (``<lake>/derived/<name>/date=YYYY-MM-DD/data-<generation>.parquet``, the
newest generation of a date being the current one) so Spark or any Parquet engine reads them too. A
refresh writes a new generation instead of replacing the file in place: a query reading while the refresher
works (they run concurrently) opens a file more than once, and a file swapped under it reads as corrupt. A
superseded generation is deleted once ``DERIVED_GRACE_S`` have passed since it was superseded.
`AmiAnalytics.refresh` finds the date partitions holding files newer than the stored watermark (file
names carry the batch sequence, so no data is scanned to find them), recomputes only those dates and
advances the watermark.

Readings as queried (``readings`` view): originals, minus keys that have an explicit correction, plus
the latest correction per key. Dimension tables (``meter_dim``, ``transformer_dim``) are written from the
grid by `write_dims`.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import threading
import time
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from fluxops.ami.analytics import RANGE_A_V, RANGE_B_V, AnalyticsParams, add_thermal
from fluxops.ami.weather import WeatherParams, WeatherScenario
from fluxops.core.errors import InvalidInputError, NotFoundError, StorageError
from fluxops.grid.models import Grid
from fluxops.storage.lake import AmiLake, _seq_of
from fluxops.storage.lake_manifest import quarantine_records

DERIVED = ("transformer_hour", "voltage_meter_day", "class_day", "completeness_day")
DERIVED_GRACE_S = 120.0  # a superseded derived file stays readable this long (for queries that listed it)

# Readings as queried: originals minus keys with an explicit correction, plus the latest correction per
# key. Corrections are rare, so the anti join's hash table is small; with none, the view is the files.
_READINGS_VIEW = """
CREATE OR REPLACE TEMP VIEW readings AS
WITH raw AS (SELECT * FROM read_parquet({files}, hive_partitioning = false)),
corr AS (
  SELECT * FROM raw WHERE is_correction
  QUALIFY row_number() OVER (PARTITION BY meter_id, interval_start_utc ORDER BY batch_seq DESC) = 1
)
SELECT r.* FROM raw r
ANTI JOIN corr c ON c.meter_id = r.meter_id AND c.interval_start_utc = r.interval_start_utc
WHERE NOT r.is_correction
UNION ALL SELECT * FROM corr
"""
_PLAIN_VIEW = (
    "CREATE OR REPLACE TEMP VIEW readings AS SELECT * FROM read_parquet({files}, hive_partitioning = false)"
)
_HAS_CORRECTIONS = "SELECT count(*) FROM read_parquet({files}, hive_partitioning = false) WHERE is_correction"

# Per refreshed day: one join+group for transformer loads (readings × meter → transformer, interval), one
# group by meter (no join) that every other daily dataset derives from, and one scan for latency quantiles.
_METER_DAY = f"""
CREATE OR REPLACE TEMP TABLE meter_day AS
SELECT meter_id, count(*)::BIGINT AS readings,
  sum(kwh_delivered) AS kwh_delivered, sum(kwh_received) AS kwh_received,
  count_if(quality = 'outage')::BIGINT AS outage_intervals,
  count(voltage_v)::BIGINT AS intervals_measured,
  count_if(voltage_v < {RANGE_A_V[0]} OR voltage_v > {RANGE_A_V[1]})::BIGINT AS intervals_outside_a,
  count_if(voltage_v < {RANGE_B_V[0]} OR voltage_v > {RANGE_B_V[1]})::BIGINT AS intervals_outside_b,
  count_if(voltage_v < {RANGE_A_V[0]})::BIGINT AS intervals_low_a,
  count_if(voltage_v > {RANGE_A_V[1]})::BIGINT AS intervals_high_a,
  min(voltage_v) AS v_min, avg(voltage_v) AS v_avg, max(voltage_v) AS v_max
FROM readings GROUP BY meter_id
"""

_DERIVED_SQL: dict[str, str] = {
    "transformer_hour": """
WITH iv AS (
  SELECT d.xfmr_idx, r.interval_start_utc AS t, sum(r.kwh_delivered - r.kwh_received) * 4 AS kw, count(*) AS n
  FROM readings r JOIN meter_dim d USING (meter_id) GROUP BY ALL
)
SELECT any_value(x.transformer_id) AS transformer_id, $day::DATE AS date, date_trunc('hour', t) AS hour_utc,
       sum(kw) / 4 AS kwh_net, sum(kw) / 4 AS kw_avg, max(kw) AS kw_peak_15,
       sum(n)::BIGINT AS readings, any_value(x.rating_kva) AS rating_kva,
       100 * (sum(kw) / 4) / any_value(x.power_factor) / any_value(x.rating_kva) AS loading_pct,
       any_value(x.feeder_id) AS feeder_id, any_value(x.substation_id) AS substation_id
FROM iv JOIN transformer_dim x USING (xfmr_idx)
GROUP BY iv.xfmr_idx, hour_utc
""",
    "voltage_meter_day": """
SELECT meter_id, $day::DATE AS date, intervals_measured, intervals_outside_a, intervals_outside_b,
  intervals_low_a, intervals_high_a, v_min, v_avg, v_max
FROM meter_day
""",
    "class_day": """
SELECT d.customer_class, $day::DATE AS date, count(*)::BIGINT AS meters,
  sum(m.readings)::BIGINT AS readings, sum(m.kwh_delivered) AS kwh_delivered,
  sum(m.kwh_received) AS kwh_received,
  sum(m.kwh_delivered) / nullif(sum(m.readings), 0) AS kwh_per_interval_avg
FROM meter_day m JOIN meter_dim d USING (meter_id) GROUP BY d.customer_class
""",
    "completeness_day": """
WITH lat AS (
  SELECT approx_quantile(epoch(ingested_utc) - epoch(interval_start_utc) - 900, 0.5) AS latency_p50_s,
         approx_quantile(epoch(ingested_utc) - epoch(interval_start_utc) - 900, 0.95) AS latency_p95_s,
         max(epoch(ingested_utc) - epoch(interval_start_utc) - 900) AS latency_max_s
  FROM readings
), m AS (
  SELECT count(*)::BIGINT AS meters_reporting, coalesce(sum(readings), 0)::BIGINT AS readings,
         coalesce(sum(outage_intervals), 0)::BIGINT AS outage_intervals
  FROM meter_day WHERE meter_id IN (SELECT meter_id FROM meter_dim)
)
SELECT $day::DATE AS date, (SELECT count(*) FROM meter_dim)::BIGINT AS meters_expected,
  m.meters_reporting, m.readings, ((SELECT count(*) FROM meter_dim) * 96)::BIGINT AS readings_expected,
  100.0 * m.readings / nullif((SELECT count(*) FROM meter_dim) * 96, 0) AS completeness_pct,
  m.outage_intervals, lat.latency_p50_s, lat.latency_p95_s, lat.latency_max_s
FROM m, lat
""",
}


@dataclass(frozen=True)
class RefreshReport:
    dates: list[date]
    watermark: int
    seconds: float


# A bound on DuckDB's memory for the analytics (issue 8 §5, memory flat under a live feed). DuckDB's
# default is 80 % of the machine, and it keeps what it took: a refresh that redoes its whole day needs
# more as the day fills up, and every raw file read was kept in its external file cache — files that
# compaction rewrites every minute, so the cache held dead copies (the OS page cache already keeps the
# live ones). Past the limit a refresh spills to the lake's temporary directory instead of growing.
DUCKDB_MEMORY_LIMIT = "1GB"


def _duckdb_config(root: Path) -> dict[str, str | bool | int | float | list[str]]:
    return {
        "memory_limit": DUCKDB_MEMORY_LIMIT,
        "enable_external_file_cache": False,
        "temp_directory": str(root / ".duckdb_tmp"),
    }


def _sql_list(files: list[Path]) -> str:
    return "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"


class AmiAnalytics:
    """DuckDB over the lake. Thread-safe: one refresh at a time; queries use their own cursors."""

    def __init__(self, lake: AmiLake, params: AnalyticsParams | None = None) -> None:
        self.lake = lake
        self.dir = lake.root / "derived"
        self.dim_dir = lake.root / "dim"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dim_dir.mkdir(parents=True, exist_ok=True)
        self.params = params or AnalyticsParams(weather=self.read_weather())
        self._con = duckdb.connect(config=_duckdb_config(lake.root))
        self._con.execute("SET TimeZone = 'UTC'")
        self._refresh_lock = threading.Lock()

    # --- weather the data was generated under (ambient for the thermal model) ---------------------

    def write_weather(self, weather: WeatherParams) -> None:
        """Record the weather (seed, scenario overlays) a backfill used, so C57.91 ambient matches it."""
        doc = {
            "seed": weather.seed,
            "scenarios": [
                {
                    "kind": sc.kind,
                    "start_utc": sc.start_utc.isoformat(),
                    "days": sc.days,
                    "delta_c": sc.delta_c,
                }
                for sc in weather.scenarios
            ],
        }
        tmp = self.dim_dir / "weather.json.tmp"
        tmp.write_text(json.dumps(doc))
        os.replace(tmp, self.dim_dir / "weather.json")
        self.params = replace(self.params, weather=weather)

    def read_weather(self) -> WeatherParams:
        p = self.dim_dir / "weather.json"
        if not p.exists():
            return WeatherParams()
        doc = json.loads(p.read_text())
        scenarios = tuple(
            WeatherScenario(sc["kind"], datetime.fromisoformat(sc["start_utc"]), sc["days"], sc["delta_c"])
            for sc in doc.get("scenarios", [])
        )
        return WeatherParams(seed=int(doc.get("seed", 0)), scenarios=scenarios)

    # --- dimensions -----------------------------------------------------------------------------

    def write_dims(self, grid: Grid) -> None:
        """Meter and transformer dimension tables from the grid (class, pf, ratings, topology ids)."""
        cu = grid.customers.set_index("meter_id")
        me = grid.meters
        cls = cu["customer_class"].reindex(me["meter_id"]).fillna("residential").to_numpy(object)
        pf = cu["power_factor"].reindex(me["meter_id"]).fillna(self.params.default_power_factor).to_numpy()
        meter_dim = pa.table(
            {
                "meter_id": me["meter_id"].astype(str).to_numpy(object),
                "transformer_id": me["transformer_id"].astype(str).to_numpy(object),
                "feeder_id": me["feeder_id"].astype(str).to_numpy(object),
                "substation_id": me["substation_id"].astype(str).to_numpy(object),
                "customer_class": cls,
                "meter_idx": np.arange(len(me), dtype=np.int32),
            }
        )
        xf = grid.transformers
        pos = pd.Index(xf["transformer_id"].astype(str)).get_indexer(
            pd.Index(me["transformer_id"].astype(str))
        )
        ok = pos >= 0
        count = np.bincount(pos[ok], minlength=len(xf))
        pf_sum = np.bincount(pos[ok], weights=pf[ok], minlength=len(xf))
        pf_x = np.where(count > 0, pf_sum / np.maximum(count, 1), self.params.default_power_factor)
        transformer_dim = pa.table(
            {
                "transformer_id": xf["transformer_id"].astype(str).to_numpy(object),
                "feeder_id": xf["feeder_id"].astype(str).to_numpy(object),
                "substation_id": xf["substation_id"].astype(str).to_numpy(object),
                "rating_kva": xf["rating_kva"].to_numpy(np.float64),
                "power_factor": pf_x,
                "meters": count.astype(np.int64),
                "xfmr_idx": np.arange(len(xf), dtype=np.int32),
            }
        )
        meter_dim = meter_dim.append_column("xfmr_idx", pa.array(pos.astype(np.int32)))
        for name, t in (("meter_dim", meter_dim), ("transformer_dim", transformer_dim)):
            _atomic_write(t, self.dim_dir / f"{name}.parquet")

    def _session(
        self, files: list[Path] | None, *, materialize_dims: bool = False
    ) -> duckdb.DuckDBPyConnection:
        cur = self._con.cursor()
        cur.execute("SET TimeZone = 'UTC'")
        for name in ("meter_dim", "transformer_dim"):
            p = self.dim_dir / f"{name}.parquet"
            if not p.exists():
                raise NotFoundError(
                    "no grid dimensions in the lake: load a grid first", details={"table": name}
                )
            kind = "TABLE" if materialize_dims else "VIEW"  # a table joins faster; a view costs nothing
            cur.execute(f"CREATE OR REPLACE TEMP {kind} {name} AS SELECT * FROM read_parquet('{p}')")
        if files is not None:
            if files:
                fl = _sql_list(files)
                has_corr = cur.execute(_HAS_CORRECTIONS.format(files=fl)).fetchone()
                view = _READINGS_VIEW if has_corr is not None and has_corr[0] else _PLAIN_VIEW
                cur.execute(view.format(files=fl))
            else:  # no readings yet (a fresh lake; no refresh has run to write the empty file)
                empty = self.dim_dir / "empty_readings.parquet"
                if not empty.exists():
                    _atomic_write(self.lake.readings.schema.empty_table(), empty)
                cur.execute(f"CREATE OR REPLACE TEMP VIEW readings AS SELECT * FROM read_parquet('{empty}')")
        return cur

    # --- incremental refresh ---------------------------------------------------------------------

    def derived_files(self, name: str) -> list[Path]:
        """The current (newest) generation of every date of a derived dataset."""
        out = []
        for day_dir in sorted((self.dir / name).glob("date=*")):
            gens = _generations(day_dir)
            if gens:
                out.append(gens[-1])
        return out

    def _purge_superseded(self) -> None:
        """Delete generations superseded more than ``DERIVED_GRACE_S`` ago (the next generation's write
        time is when a file was superseded; stateless, so any process may run it)."""
        cutoff = time.time() - DERIVED_GRACE_S
        for name in DERIVED:
            for day_dir in (self.dir / name).glob("date=*"):
                gens = _generations(day_dir)
                for old, newer in itertools.pairwise(gens):
                    try:
                        if newer.stat().st_mtime < cutoff:
                            old.unlink(missing_ok=True)
                    except FileNotFoundError:
                        continue

    def _state(self) -> dict[str, Any]:
        p = self.dir / "_state.json"
        return json.loads(p.read_text()) if p.exists() else {"watermark": 0, "top_oil": {}}

    def refresh(self) -> RefreshReport:
        """Recompute derived datasets for every date that received readings since the watermark."""
        with self._refresh_lock:
            t0 = time.perf_counter()
            state = self._state()
            wm = int(state["watermark"])
            high = self.lake.readings.last_seq
            changed = {
                date.fromisoformat(f.parent.name[5:])
                for f in self.lake.readings.files()
                if _seq_of(f.name) > wm
            }
            # Dates that lost a quarantined file since the last refresh: their derived rows must go too.
            lost = [r for r in quarantine_records(self.lake.root) if r.get("dataset") == "readings"]
            if len(lost) != state.get("quarantined", 0):
                changed |= {date.fromisoformat(str(r["date"])) for r in lost if "date" in r}
            dates = sorted(changed)
            empty = self.dim_dir / "empty_readings.parquet"
            if not empty.exists():
                _atomic_write(self.lake.readings.schema.empty_table(), empty)
            top_oil: dict[str, dict[str, float]] = state.get("top_oil", {})
            for d in dates:
                self._refresh_date(d, top_oil)
            state = {
                "watermark": max(high, wm),
                "top_oil": {k: top_oil[k] for k in sorted(top_oil)[-3:]},
                "quarantined": len(lost),
            }
            tmp = self.dir / "_state.json.tmp"
            tmp.write_text(json.dumps(state))
            os.replace(tmp, self.dir / "_state.json")
            self._purge_superseded()
            return RefreshReport(dates, state["watermark"], time.perf_counter() - t0)

    def _refresh_date(self, d: date, top_oil: dict[str, dict[str, float]]) -> None:
        for _ in range(8):
            files = self.lake.readings.files(d, d)
            try:
                return self._refresh_files(d, files, top_oil)
            except (duckdb.IOException, duckdb.InvalidInputException) as exc:
                self._heal(exc, files, [])
        raise StorageError(f"the lake keeps changing under the refresh of {d}; try again")

    def _refresh_files(self, d: date, files: list[Path], top_oil: dict[str, dict[str, float]]) -> None:
        cur = self._session(files, materialize_dims=True)
        try:
            cur.execute(_METER_DAY)
            for name, sql in _DERIVED_SQL.items():
                t = cur.execute(sql, {"day": d}).arrow() if "$day" in sql else cur.execute(sql).arrow()
                if isinstance(t, pa.RecordBatchReader):
                    t = t.read_all()
                if name == "transformer_hour":
                    prev = top_oil.get((d - timedelta(days=1)).isoformat(), {})
                    t, final = add_thermal(t, prev, self.params)
                    top_oil[d.isoformat()] = final
                _atomic_write(
                    t, self.dir / name / f"date={d.isoformat()}" / f"data-{time.time_ns():020d}.parquet"
                )
            cur.execute("DROP TABLE meter_day")
        finally:
            cur.close()

    # --- queries ---------------------------------------------------------------------------------

    def query(
        self,
        sql: str,
        params: dict[str, Any] | None = None,
        *,
        raw_days: int | None = None,
        raw_range: tuple[date, date] | None = None,
        raw_files: list[Path] | None = None,
    ) -> pa.Table:
        """Run SQL with views ``readings`` (raw data of the UTC days ``raw_range`` = (first, last), or of
        the last ``raw_days`` stored days, or of the lake files ``raw_files``; none = no raw view),
        ``events``, the dims and every derived dataset (``d_<name>``). Files come from the lake's
        manifests; a damaged one is quarantined and the query runs again over the rest, so one bad file
        never fails every read."""
        for _ in range(8):
            files = None
            if raw_files is not None:  # those still there (a quarantined one is moved away)
                files = [f for f in raw_files if f.exists()]
            elif raw_range is not None:
                files = self.lake.readings.files(*raw_range)
            elif raw_days is not None:
                parts = self.lake.readings.partitions()
                start = parts[-1] - timedelta(days=raw_days - 1) if parts else None
                files = self.lake.readings.files(start, None)
            efiles = self.lake.events.files()
            try:
                return self._query_once(sql, params, files, efiles)
            except (duckdb.IOException, duckdb.InvalidInputException) as exc:
                self._heal(exc, files or [], efiles)
        raise StorageError("the lake keeps changing under the query; try again")

    def _heal(self, exc: duckdb.Error, rfiles: list[Path], efiles: list[Path]) -> None:
        """Quarantine the lake file a DuckDB error names (every page checked); when it names none, any
        listed file whose size, footer or row count is wrong. Raises when nothing was found."""
        msg = str(exc)
        bad_r = [f for f in rfiles if str(f) in msg]
        bad_e = [f for f in efiles if str(f) in msg]
        if bad_r or bad_e:
            healed = self.lake.readings.heal(bad_r) | self.lake.events.heal(bad_e)
        else:
            healed = self.lake.readings.heal(rfiles, deep=False) | self.lake.events.heal(efiles, deep=False)
        if not healed:
            raise StorageError(f"lake read failed: {msg}") from exc

    def _query_once(
        self, sql: str, params: dict[str, Any] | None, files: list[Path] | None, efiles: list[Path]
    ) -> pa.Table:
        cur = self._session(files)
        try:
            for name in DERIVED:
                dfiles = self.derived_files(name)
                if dfiles:
                    src_sql = f"SELECT * FROM read_parquet({_sql_list(dfiles)}, hive_partitioning = false)"
                    cur.execute(f"CREATE OR REPLACE TEMP VIEW d_{name} AS {src_sql}")
            src = _sql_list(efiles) if efiles else f"'{self.dim_dir / 'empty_events.parquet'}'"
            if not efiles and not (self.dim_dir / "empty_events.parquet").exists():
                _atomic_write(self.lake.events.schema.empty_table(), self.dim_dir / "empty_events.parquet")
            ev_sql = f"SELECT * FROM read_parquet({src}, hive_partitioning = false)"
            cur.execute(f"CREATE OR REPLACE TEMP VIEW events AS {ev_sql}")
            res = cur.execute(sql, params or {}).arrow()
            return _plain_numbers(res.read_all() if isinstance(res, pa.RecordBatchReader) else res)
        except duckdb.CatalogException as exc:
            # A derived dataset with no files yet (no readings ingested for any day) is an empty
            # answer, not an error; any other missing name is a bug and stays loud.
            missing = re.search(r"name (\w+) does not exist", str(exc))
            if missing and missing.group(1) in {f"d_{n}" for n in DERIVED} | {"readings"}:
                return pa.table({})
            raise NotFoundError(
                "no analytics yet: ingest readings first", details={"dataset": missing and missing.group(1)}
            ) from exc
        except duckdb.BinderException as exc:
            raise InvalidInputError(f"query failed: {exc}", field="sql") from exc
        finally:
            cur.close()


def _generation(f: Path) -> int:
    """``data-<ns>.parquet`` → ns; a pre-generation ``data.parquet`` is the oldest."""
    stem = f.stem
    return int(stem[5:]) if stem.startswith("data-") and stem[5:].isdigit() else -1


def _generations(day_dir: Path) -> list[Path]:
    return sorted(day_dir.glob("data*.parquet"), key=_generation)


def _plain_numbers(t: pa.Table) -> pa.Table:
    """DuckDB sums of integers come back as DECIMAL(38,0) (HUGEINT); make them int64 / float64."""
    fields = []
    for f in t.schema:
        if pa.types.is_decimal(f.type):
            f = f.with_type(pa.int64() if f.type.scale == 0 else pa.float64())
        fields.append(f)
    return t.cast(pa.schema(fields))


def _atomic_write(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as fh:
        pq.write_table(table, fh, compression="zstd")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
