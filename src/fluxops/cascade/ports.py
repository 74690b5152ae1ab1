"""What the cascade domain needs stored: runs (Monte Carlo, N-1 sweeps, single cascades) with inputs.

Why store inputs next to outputs: the seed's "precomputed" table held hand-written JSON; ours holds the
exact scenario, engine config, seed, patient zeros and grid hash that produced each result, so any stored
run can be reproduced and compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class StoredRun:
    run_id: str
    kind: str  # cascade | montecarlo | screening | hardening
    name: str
    created_utc: datetime
    grid_name: str
    grid_hash: str
    inputs: dict[str, Any]  # scenario, config, seed, patient zeros, ...
    summary: dict[str, Any]  # headline figures for listings
    result: dict[str, Any]


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    kind: str
    name: str
    created_utc: datetime
    grid_name: str
    summary: dict[str, Any]


class CascadeRunStore(Protocol):
    def ensure_tables(self) -> None: ...

    def save_run(self, run: StoredRun) -> None: ...

    def get_run(self, run_id: str) -> StoredRun | None: ...

    def list_runs(self, *, kind: str | None = None, limit: int = 10) -> list[RunSummary]: ...
