"""Read-only SQL for the assistant (`fluxops.assistant.ports.SqlPort`): a sandbox, never the store.

Each query runs in a fresh in-memory DuckDB that holds only the documented views:

- the asset model, from the loaded grid's tables (Arrow/pandas registered, zero-copy);
- ``outages``, ``work_orders``, ``crews``: a snapshot read from the store (either backend) just before;
- the AMI lake: ``ami_readings`` (raw interval readings), ``transformer_hour`` and ``voltage_meter_day``
  (the derived datasets), over the files the lake's manifests list (``read_parquet``).

After the views exist, external access is switched off (files only under the lake's own directory, which
the views read) and the configuration locked, so ``read_csv('/etc/passwd')``, ``ATTACH`` or ``SET``
cannot get out. The store's database is never attached: whatever a query does, it cannot write there,
on DuckDB or PostgreSQL. The queries therefore use DuckDB SQL on both backends.

Accepted: exactly one statement that DuckDB's parser types as SELECT, serializes as a SELECT
(``json_serialize_sql``, which refuses PRAGMA, CALL, COPY, DML and DDL) and starts with SELECT, WITH,
FROM, VALUES or a parenthesis. A row limit, and a statement timeout (``interrupt()`` from a timer).
A name that does not exist is refused with the nearest real names (difflib).
"""

from __future__ import annotations

import difflib
import json
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from fluxops.core.errors import InvalidInputError
from fluxops.grid.models import Grid

GRID_VIEWS: dict[str, str] = {
    "substations": "substations",
    "substation_transformers": "substation_transformers",
    "feeders": "feeders",
    "line_segments": "line_segments",
    "devices": "devices",
    "poles": "poles",
    "transformers": "transformers",
    "meters": "meters",
    "customers": "customers",
}
VIEW_DOCS: dict[str, str] = {
    "substations": "one row per substation (id, name, lon/lat, HV/LV kV)",
    "substation_transformers": "power transformers (rating_mva, impedance) feeding bus sections",
    "feeders": "feeders with their substation, power transformer, head bus and head breaker",
    "line_segments": "primary line segments: construction, conductor, length_km, impedance, ampacity_a",
    "devices": "breakers, reclosers, sectionalizers, fuses, switches, tie switches, bus ties; "
    "normal_state/state",
    "poles": "poles with material, height_m, install_year",
    "transformers": "distribution transformers: rating_kva, phase, mounting, feeder, substation",
    "meters": "meters (one per customer premise): transformer, feeder, substation, address, zip_code",
    "customers": "customers: class, critical flag and type, peak_kw, annual_kwh, PV",
    "outages": "OMS outage records (status proposed/confirmed/restored/merged, customers, customer_minutes)",
    "work_orders": "work orders (type, priority, status, asset, outage, crew, times)",
    "crews": "field crews (status, substation base, skills)",
    "ami_readings": "raw 15-minute interval readings: meter_id, interval_start_utc, kwh_delivered, "
    "kwh_received, voltage_v, quality",
    "transformer_hour": "derived: hourly load per distribution transformer (kw_avg, kw_peak_15, loading_pct, "
    "hot_spot_c, aging_factor)",
    "voltage_meter_day": "derived: per meter and day, intervals outside ANSI C84.1 range A/B, "
    "v_min/v_avg/v_max",
}
_FIRST_WORD = re.compile(r"^\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*(\(|[A-Za-z]+)", re.DOTALL)
_ALLOWED_FIRST = {"(", "select", "with", "from", "values"}
_MISSING_COLUMN = re.compile(r'column "?([^"\s]+)"? not found|Referenced column "([^"]+)"', re.IGNORECASE)
_MISSING_TABLE = re.compile(r'Table with name "?([^"\s]+?)"? does not exist', re.IGNORECASE)


def check_select(sql: str) -> str:
    """``sql`` without trailing semicolons if it is one read query (see the module docstring), else
    `InvalidInputError` (field ``sql``)."""
    text = sql.strip().rstrip(";").strip()
    if not text:
        raise InvalidInputError("sql is empty", field="sql")
    try:
        statements = duckdb.extract_statements(text)
    except duckdb.Error as exc:
        raise InvalidInputError(f"sql does not parse: {_first_line(exc)}", field="sql") from None
    if len(statements) != 1:
        raise InvalidInputError(f"one statement only ({len(statements)} given)", field="sql")
    if statements[0].type != duckdb.StatementType.SELECT:
        raise InvalidInputError(f"only SELECT is allowed ({statements[0].type.name} given)", field="sql")
    m = _FIRST_WORD.match(text)
    if m is None or m.group(1).lower() not in _ALLOWED_FIRST:
        raise InvalidInputError("only SELECT / WITH queries are allowed", field="sql")
    with duckdb.connect(":memory:") as con:
        row = con.execute("SELECT json_serialize_sql(?)", [text]).fetchone()
    ast = json.loads(row[0]) if row else {"error": True}
    if ast.get("error"):
        raise InvalidInputError(f"only SELECT is allowed: {ast.get('error_message', '')}", field="sql")
    return text


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]


class SqlSandbox:
    """`SqlPort` over a grid, a store snapshot and the lake's files (see the module docstring)."""

    def __init__(
        self,
        grid: Grid,
        *,
        ops_tables: Callable[[], dict[str, pa.Table]] | None = None,
        lake_files: Callable[[], dict[str, list[Path]]] | None = None,
        lake_dir: Path | None = None,
        timeout_s: float = 10.0,
        memory_limit: str = "1GB",
    ) -> None:
        self.grid = grid
        self.ops_tables = ops_tables
        self.lake_files = lake_files
        self.lake_dir = lake_dir
        self.timeout_s = timeout_s
        self.memory_limit = memory_limit

    def _connect(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(
            ":memory:",
            config={
                "threads": 1,
                "memory_limit": self.memory_limit,
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
            },
        )
        con.execute("SET TimeZone = 'UTC'")
        for view, table in GRID_VIEWS.items():
            df: pd.DataFrame = getattr(self.grid, table)
            df = df.drop(columns=[c for c in ("geometry_wkb",) if c in df.columns])
            con.register(f"_src_{view}", df)
            con.execute(f"CREATE VIEW {view} AS SELECT * FROM _src_{view}")
        if self.ops_tables is not None:
            for name, table in self.ops_tables().items():
                con.register(f"_src_{name}", table)
                con.execute(f"CREATE VIEW {name} AS SELECT * FROM _src_{name}")
        if self.lake_files is not None:
            for name, files in self.lake_files().items():
                if files:
                    listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
                    con.execute(
                        f"CREATE VIEW {name} AS SELECT * FROM "
                        f"read_parquet([{listed}], hive_partitioning = false)"
                    )
        if self.lake_dir is not None:
            con.execute("SET allowed_directories = ?", [[str(self.lake_dir)]])
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        return con

    def views(self) -> dict[str, list[str]]:
        con = self._connect()
        try:
            rows = con.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = 'main' AND table_name NOT LIKE '\\_src\\_%' ESCAPE '\\' "
                "ORDER BY table_name, ordinal_position"
            ).fetchall()
        finally:
            con.close()
        out: dict[str, list[str]] = {}
        for t, c in rows:
            out.setdefault(str(t), []).append(str(c))
        return out

    def run(self, sql: str, *, limit: int) -> tuple[pa.Table, bool]:
        text = check_select(sql)
        con = self._connect()
        timer = threading.Timer(self.timeout_s, con.interrupt)
        timer.start()
        try:
            reader = con.execute(text).to_arrow_reader(min(limit + 1, 10_000))
            batches: list[pa.RecordBatch] = []
            n = 0
            for batch in reader:
                batches.append(batch)
                n += batch.num_rows
                if n > limit:
                    break
            table = pa.Table.from_batches(batches, schema=reader.schema)
        except duckdb.InterruptException:
            raise InvalidInputError(
                f"the query ran past the {self.timeout_s:g} s statement timeout",
                field="sql",
                details={"timeout_s": self.timeout_s},
            ) from None
        except (duckdb.BinderException, duckdb.CatalogException) as exc:
            raise self._unknown_name(exc) from None
        except duckdb.PermissionException as exc:
            raise InvalidInputError(f"not allowed: {_first_line(exc)}", field="sql") from None
        except duckdb.Error as exc:
            raise InvalidInputError(f"query failed: {_first_line(exc)}", field="sql") from None
        finally:
            timer.cancel()
            con.close()
        return table.slice(0, limit), table.num_rows > limit

    def _unknown_name(self, exc: duckdb.Error) -> InvalidInputError:
        msg = _first_line(exc)
        views = self.views()
        if m := _MISSING_COLUMN.search(str(exc)):
            name = m.group(1) or m.group(2)
            columns = sorted({c for cols in views.values() for c in cols})
            nearest = difflib.get_close_matches(name.split(".")[-1], columns, n=5, cutoff=0.5)
            where = sorted(v for v, cols in views.items() if nearest and nearest[0] in cols)
            return InvalidInputError(
                f"unknown column {name!r}; nearest real columns: {', '.join(nearest) or 'none'}"
                + (f" (in {', '.join(where)})" if where else ""),
                field="sql",
                details={"unknown": name, "nearest": nearest, "views": where},
            )
        if m := _MISSING_TABLE.search(str(exc)):
            name = m.group(1)
            nearest = difflib.get_close_matches(name, list(views), n=5, cutoff=0.4)
            return InvalidInputError(
                f"unknown view {name!r}; nearest: {', '.join(nearest) or 'none'}; views: {', '.join(views)}",
                field="sql",
                details={"unknown": name, "nearest": nearest},
            )
        return InvalidInputError(f"query failed: {msg}", field="sql")


def store_ops_tables(store: Any) -> Callable[[], dict[str, pa.Table]]:
    """A snapshot reader of the ops tables from either store (absent tables are left out)."""

    def read() -> dict[str, pa.Table]:
        out: dict[str, pa.Table] = {}
        for name in ("outages", "work_orders", "crews"):
            try:
                out[name] = store.query_arrow(f"SELECT * FROM {name}")
            except Exception:  # not created yet (no ops runtime in this process): no such view
                continue
        return out

    return read


def lake_files_of(analytics: Any) -> Callable[[], dict[str, list[Path]]]:
    """The lake's live files by view (`fluxops.storage.ami_analytics.AmiAnalytics`)."""

    def read() -> dict[str, list[Path]]:
        return {
            "ami_readings": list(analytics.lake.readings.files()),
            "transformer_hour": analytics.derived_files("transformer_hour"),
            "voltage_meter_day": analytics.derived_files("voltage_meter_day"),
        }

    return read
