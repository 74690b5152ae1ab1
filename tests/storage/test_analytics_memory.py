"""The AMI analytics' DuckDB is bounded (issue 8 §5, memory flat under a live feed): a memory limit far
below DuckDB's default of 80 % of the machine, spilling to the lake's temporary directory past it, and no
external file cache (compaction rewrites the raw files every minute; the cache kept the dead copies)."""

from __future__ import annotations

from pathlib import Path

from fluxops.storage.ami_analytics import AmiAnalytics
from fluxops.storage.lake import AmiLake


def _setting(a: AmiAnalytics, name: str) -> str:
    row = a._con.execute("SELECT value FROM duckdb_settings() WHERE name = ?", [name]).fetchone()
    assert row is not None
    return str(row[0])


def test_the_analytics_connection_is_bounded(tmp_path: Path) -> None:
    a = AmiAnalytics(AmiLake(tmp_path / "lake"))
    limit = _setting(a, "memory_limit")
    assert limit.endswith("MiB") and float(limit.split()[0]) <= 1024
    assert _setting(a, "enable_external_file_cache") == "false"
    assert Path(_setting(a, "temp_directory")) == tmp_path / "lake" / ".duckdb_tmp"
