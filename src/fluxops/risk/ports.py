"""What the risk domain needs stored (implemented by `fluxops.storage.risk_files`)."""

from __future__ import annotations

from typing import Any, Protocol

import pandas as pd

from fluxops.risk.history import History


class RiskStore(Protocol):
    def save_history(self, grid_hash: str, history: History) -> None:
        """Replace the grid's failure history (failures and assets; the truth in a separate file)."""

    def load_history(self, grid_hash: str) -> History | None:
        """The stored history with its truth (for training and evaluation only), or None."""

    def history_meta(self, grid_hash: str) -> dict[str, Any] | None: ...

    def load_failures(self, grid_hash: str) -> pd.DataFrame | None:
        """The failure records only (never the truth): what the UI and API may show."""

    def save_model(
        self,
        grid_hash: str,
        model_id: str,
        *,
        card: dict[str, Any],
        artifact: str,
        scores: pd.DataFrame,
        drivers: pd.DataFrame,
    ) -> None:
        """Write a model's files, then make it the served one (an atomic pointer swap)."""

    def current_model_id(self, grid_hash: str) -> str | None: ...

    def model_card(self, grid_hash: str, model_id: str) -> dict[str, Any] | None: ...

    def list_models(self, grid_hash: str) -> list[dict[str, Any]]: ...

    def load_scores(self, grid_hash: str, model_id: str) -> pd.DataFrame: ...

    def load_drivers(self, grid_hash: str, model_id: str) -> pd.DataFrame: ...

    def save_consequence(self, grid_hash: str, key: str, table: pd.DataFrame, meta: dict[str, Any]) -> None:
        """Cache the simulated consequence of every asset under ``key`` (configuration + scenario)."""

    def load_consequence(self, grid_hash: str, key: str) -> tuple[pd.DataFrame, dict[str, Any]] | None:
        """(consequence table, its meta) cached under ``key``, or None."""

    def load_asset_columns(self, grid_hash: str, columns: list[str]) -> pd.DataFrame | None:
        """Some columns of the history's asset table (never the truth), or None without a history."""
