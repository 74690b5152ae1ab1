"""Risk history and models as files under ``<data_dir>/risk/<grid hash>/`` (`fluxops.risk.ports.RiskStore`).

Layout::

    history/assets, failures, inspections, ami_years, ami_events (.parquet), history.json   the observable
                                                                              history
    truth/truth.parquet                                        the hidden truth (evaluation only)
    models/<model_id>/card.json, model.txt|model.json, scores.parquet, drivers.parquet
    current.json                                               {"model_id": ...}, replaced atomically

Why files: a history is a few MB of Parquet, models are LightGBM text dumps; the grid's content hash keys
the directory, so a re-generated grid never meets another grid's history. A model is written completely
before ``current.json`` is swapped to it (``os.replace``), so a training that fails midway leaves the
previous model serving.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from fluxops.core.errors import InvalidInputError
from fluxops.risk.ami_signals import empty_ami
from fluxops.risk.hazard import HazardParams
from fluxops.risk.history import History
from fluxops.risk.inspection import InspectionParams, empty_inspections

_SCALAR_PARAMS = {k for k, v in HazardParams().__dict__.items() if isinstance(v, float | int)}


def _read_or(path: Path, empty: pd.DataFrame) -> pd.DataFrame:
    """A history table, or ``empty`` for a history stored before that table existed."""
    return pd.read_parquet(path) if path.exists() else empty


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class RiskFileStore:
    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir) / "risk"

    def _dir(self, grid_hash: str) -> Path:
        h = "".join(c for c in grid_hash if c.isalnum() or c in "-_:")[:64].replace(":", "_")
        if not h:
            raise InvalidInputError("empty grid hash", field="grid_hash")
        return self.root / h

    # --- history ---------------------------------------------------------------------------------------

    def save_history(self, grid_hash: str, history: History) -> None:
        d = self._dir(grid_hash)
        self.root.mkdir(
            parents=True, exist_ok=True
        )  # staging beside the target: os.replace stays on one disk
        staging = Path(tempfile.mkdtemp(dir=self.root, prefix=".hist-"))
        try:
            (staging / "history").mkdir()
            (staging / "truth").mkdir()
            history.assets.to_parquet(staging / "history" / "assets.parquet", index=False)
            history.failures.to_parquet(staging / "history" / "failures.parquet", index=False)
            history.inspections.to_parquet(staging / "history" / "inspections.parquet", index=False)
            history.ami_years.to_parquet(staging / "history" / "ami_years.parquet", index=False)
            history.ami_events.to_parquet(staging / "history" / "ami_events.parquet", index=False)
            history.truth.to_parquet(staging / "truth" / "truth.parquet", index=False)
            (staging / "history" / "history.json").write_text(json.dumps(history.meta(), indent=1))
            d.mkdir(parents=True, exist_ok=True)
            for sub in ("history", "truth"):
                old = d / sub
                if old.exists():
                    shutil.rmtree(old)
                os.replace(staging / sub, old)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def history_meta(self, grid_hash: str) -> dict[str, Any] | None:
        p = self._dir(grid_hash) / "history" / "history.json"
        if not p.exists():
            return None
        meta: dict[str, Any] = json.loads(p.read_text())
        return meta

    def load_failures(self, grid_hash: str) -> pd.DataFrame | None:
        p = self._dir(grid_hash) / "history" / "failures.parquet"
        return pd.read_parquet(p) if p.exists() else None

    def load_history(self, grid_hash: str) -> History | None:
        meta = self.history_meta(grid_hash)
        if meta is None:
            return None
        d = self._dir(grid_hash)
        scalars = {k: v for k, v in meta["params"].items() if k in _SCALAR_PARAMS}
        params = HazardParams(**scalars, inspection=InspectionParams(**meta["params"].get("inspection", {})))
        insp = d / "history" / "inspections.parquet"  # absent in a history stored before inspections
        return History(
            assets=pd.read_parquet(d / "history" / "assets.parquet"),
            failures=pd.read_parquet(d / "history" / "failures.parquet"),
            truth=pd.read_parquet(d / "truth" / "truth.parquet"),
            start_utc=datetime.fromisoformat(meta["start_utc"]),
            n_days=int(meta["n_days"]),
            years=int(meta["years"]),
            seed=int(meta["seed"]),
            params=params,
            inspections=pd.read_parquet(insp) if insp.exists() else empty_inspections(),
            ami_years=_read_or(d / "history" / "ami_years.parquet", empty_ami()[0]),
            ami_events=_read_or(d / "history" / "ami_events.parquet", empty_ami()[1]),
        )

    # --- models ----------------------------------------------------------------------------------------

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
        d = self._dir(grid_hash) / "models" / model_id
        d.mkdir(parents=True, exist_ok=False)
        name = "model.txt" if str(card.get("kind")).startswith("lightgbm") else "model.json"
        (d / name).write_text(artifact)
        scores.to_parquet(d / "scores.parquet", index=False)
        drivers.to_parquet(d / "drivers.parquet", index=False)
        _atomic_write(d / "card.json", json.dumps(card, indent=1, default=str))
        _atomic_write(self._dir(grid_hash) / "current.json", json.dumps({"model_id": model_id}))

    def current_model_id(self, grid_hash: str) -> str | None:
        p = self._dir(grid_hash) / "current.json"
        if not p.exists():
            return None
        mid: str = json.loads(p.read_text())["model_id"]
        return mid

    def model_card(self, grid_hash: str, model_id: str) -> dict[str, Any] | None:
        p = self._dir(grid_hash) / "models" / model_id / "card.json"
        if not p.exists():
            return None
        card: dict[str, Any] = json.loads(p.read_text())
        return card

    def list_models(self, grid_hash: str) -> list[dict[str, Any]]:
        root = self._dir(grid_hash) / "models"
        if not root.exists():
            return []
        cards = [c for c in (self.model_card(grid_hash, p.name) for p in root.iterdir()) if c is not None]
        return sorted(cards, key=lambda c: str(c.get("trained_utc", "")), reverse=True)

    def load_scores(self, grid_hash: str, model_id: str) -> pd.DataFrame:
        return pd.read_parquet(self._dir(grid_hash) / "models" / model_id / "scores.parquet")

    def load_drivers(self, grid_hash: str, model_id: str) -> pd.DataFrame:
        return pd.read_parquet(self._dir(grid_hash) / "models" / model_id / "drivers.parquet")

    # --- consequence (cached per grid configuration and scenario) ---------------------------------------

    def save_consequence(self, grid_hash: str, key: str, table: pd.DataFrame, meta: dict[str, Any]) -> None:
        """``consequence/<key>.parquet`` then its ``.json`` (written last: a reader sees both or neither)."""
        d = self._dir(grid_hash) / "consequence"
        d.mkdir(parents=True, exist_ok=True)
        safe = "".join(c for c in key if c.isalnum() or c in "-_")[:120]
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=".parquet")
        os.close(fd)
        table.to_parquet(tmp, index=False)
        os.replace(tmp, d / f"{safe}.parquet")
        _atomic_write(d / f"{safe}.json", json.dumps(meta, indent=1, default=str))

    def load_consequence(self, grid_hash: str, key: str) -> tuple[pd.DataFrame, dict[str, Any]] | None:
        d = self._dir(grid_hash) / "consequence"
        safe = "".join(c for c in key if c.isalnum() or c in "-_")[:120]
        meta_p = d / f"{safe}.json"
        if not meta_p.exists():
            return None
        meta: dict[str, Any] = json.loads(meta_p.read_text())
        return pd.read_parquet(d / f"{safe}.parquet"), meta

    def load_asset_columns(self, grid_hash: str, columns: list[str]) -> pd.DataFrame | None:
        """Some columns of the history's asset table (never the truth), or None without a history."""
        p = self._dir(grid_hash) / "history" / "assets.parquet"
        return pd.read_parquet(p, columns=columns) if p.exists() else None
