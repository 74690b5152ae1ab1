"""Use cases: generate a grid's failure history, train (evaluate, choose, serve) a model, read scores.

Training runs as a background job (`fluxops.cascade.jobs.JobRunner`) keyed by the grid, so a second
request joins the running one. A model is served only after its files are written and only if no model
beat the oracle (`fluxops.risk.models.oracle_violations`); otherwise the job fails and the previous model
keeps serving.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import datetime
from time import perf_counter
from typing import Any

import numpy as np
import pandas as pd

from fluxops.cascade.config import ScenarioConfig, config_to_dict
from fluxops.cascade.context import EngineContext
from fluxops.cascade.jobs import Job, JobRunner
from fluxops.core.clock import utc_now
from fluxops.core.errors import ConflictError, FluxOpsError, NotFoundError
from fluxops.grid.models import Grid
from fluxops.risk.assets import risk_assets
from fluxops.risk.consequence import asset_consequences, attach_risk
from fluxops.risk.hazard import HazardParams
from fluxops.risk.history import History, generate_history
from fluxops.risk.models import (
    LightGBMModel,
    TrainConfig,
    _RateTable,
    evaluate,
    fit_served,
)
from fluxops.risk.models import (
    drivers as risk_drivers,
)
from fluxops.risk.paging import ScoredView
from fluxops.risk.ports import RiskStore
from fluxops.risk.transformer_card import fit_transformer_model, transformer_evaluation

Progress = Callable[[float, str], None]
NO_HISTORY = (
    "no failure history for this grid: generate one first (`fluxops risk history` or POST /api/risk/history)"
)
CONSEQUENCE_METHOD = (
    "cascade engine, one cascade per line section / device / substation transformer (protection, FLISR, "
    "thermal waves) with its restoration plan and DOE/LBNL ICE cost; distribution transformers: own "
    "customers for the replacement time"
)
SURROGATE_STATUS = (
    "not built: every consequence served is simulated (no surrogate model predicts screening results)"
)
NO_MODEL = "no risk model trained for this grid yet (`fluxops risk train` or POST /api/risk/train)"


class OracleCeilingError(FluxOpsError):
    """A model scored significantly above the oracle: a leak or a bug; it is not served."""

    code = "oracle_ceiling"


def _artifact(model: Any) -> str:
    if getattr(model, "kind", "") == "gnn":
        text_gnn: str = model.artifact()
        return text_gnn
    if isinstance(model, LightGBMModel):
        text: str = model.booster.model_to_string()
        return text
    assert isinstance(model, _RateTable) and model.table is not None and model.type_rate is not None
    edges = {str(k): v.tolist() for k, v in getattr(model, "edges", {}).items()}
    return json.dumps(
        {
            "kind": model.kind,
            "table": {str(k): float(v) for k, v in model.table.items()},
            "type_rate": {str(k): float(v) for k, v in model.type_rate.items()},
            "age_edges": edges,
        }
    )


class RiskService:
    def __init__(self, store: RiskStore, jobs: JobRunner | None = None) -> None:
        self.store = store
        self.jobs = jobs or JobRunner(max_workers=1)
        self._last: dict[str, str] = {}  # "<kind>:<grid hash>" -> job id
        # the served model's tables, read once per (grid, model): models are immutable once written
        self._cache: dict[tuple[str, str], tuple[pd.DataFrame, pd.DataFrame]] = {}
        self._cache_lock = threading.Lock()
        self._conseq: dict[tuple[str, str], tuple[pd.DataFrame, dict[str, Any]]] = {}
        self._scored: dict[tuple[str, str], pd.DataFrame] = {}
        self._views: dict[tuple[str, str], ScoredView] = {}
        self._cards: dict[tuple[str, str], dict[str, Any]] = {}

    def _tables(self, grid_hash: str, model_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(scores, drivers indexed by asset id) of a model."""
        key = (grid_hash, model_id)
        with self._cache_lock:
            hit = self._cache.get(key)
        if hit is None:
            d = self.store.load_drivers(grid_hash, model_id).set_index("asset_id").sort_index()
            hit = (self.store.load_scores(grid_hash, model_id), d)
            with self._cache_lock:
                self._cache = {key: hit}  # one model per service is enough: the served one
        return hit

    def _submit(self, kind: str, other: str, grid_hash: str, work: Callable[[Progress], str]) -> Job:
        """One job per (kind, grid): a second submission joins it; the other kind running for the
        same grid (history vs training) is a conflict, not a race on the history files."""
        busy = self._last.get(f"{other}:{grid_hash}")
        if busy is not None and self.jobs.get(busy).state in ("queued", "running"):
            raise ConflictError(
                f"a {other} job is running for this grid; retry when it ends",
                details={"job_id": busy, "grid_hash": grid_hash},
            )
        job = self.jobs.submit(kind, work, key=f"{kind}:{grid_hash}")
        self._last[f"{kind}:{grid_hash}"] = job.job_id
        return job

    # --- history ---------------------------------------------------------------------------------------

    def generate_history(
        self,
        grid: Grid,
        grid_hash: str,
        *,
        end_utc: datetime | None = None,
        years: int = 5,
        seed: int = 0,
        params: HazardParams | None = None,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        h = generate_history(
            risk_assets(grid),
            end_utc=end_utc or utc_now(),
            years=years,
            seed=seed,
            params=params,
            progress=progress,
        )
        self.store.save_history(grid_hash, h)
        return h.meta()

    def start_history(
        self, grid: Grid, grid_hash: str, *, years: int, seed: int, end_utc: datetime | None
    ) -> Job:
        def work(progress: Progress) -> str:
            self.generate_history(grid, grid_hash, end_utc=end_utc, years=years, seed=seed, progress=progress)
            return grid_hash

        return self._submit("risk_history", "risk_train", grid_hash, work)

    def require_history(self, grid_hash: str) -> History:
        h = self.store.load_history(grid_hash)
        if h is None:
            raise ConflictError(NO_HISTORY, details={"grid_hash": grid_hash})
        return h

    # --- training --------------------------------------------------------------------------------------

    def train(self, grid_hash: str, cfg: TrainConfig, progress: Progress | None = None) -> str:
        report = progress or (lambda _f, _m: None)
        history = self.require_history(grid_hash)
        ev = evaluate(history, cfg, lambda f, m: report(0.8 * f, m))
        if ev["oracle_violations"]:
            raise OracleCeilingError(
                "a model scored above the oracle (a leak or a bug); nothing was served",
                details={"violations": ev["oracle_violations"]},
            )
        kind = ev["chosen"]
        model, x_now, p = fit_served(history, kind, cfg)
        report(0.9, "served model fitted")
        a = history.assets
        scores = pd.DataFrame(
            {
                "asset_id": a["asset_id"].to_numpy(object),
                "asset_type": a["asset_type"].to_numpy(object),
                "feeder_id": a["feeder_id"].to_numpy(object),
                "substation_id": a["substation_id"].to_numpy(object),
                "probability": p,
                "customers_affected": a["customers_affected"].to_numpy(np.int64),
                "past_failures": x_now["fail_all"].to_numpy(np.int64),
                "age_y": x_now["age_y"].to_numpy(np.float64),
            }
        )
        scores["rank"] = scores["probability"].rank(ascending=False, method="first").astype(np.int64)
        xf_card = transformer_evaluation(history, cfg)
        scores["transformer_probability"] = fit_transformer_model(history, xf_card["chosen"], cfg)
        report(0.95, "transformer model fitted")
        drivers = risk_drivers(model, x_now)
        model_id = f"{utc_now():%Y%m%dT%H%M%S}-{kind}-{uuid.uuid4().hex[:6]}"
        card = {
            "model_id": model_id,
            "kind": kind,
            "grid_hash": grid_hash,
            "trained_utc": utc_now().isoformat(),
            "task": "P(asset fails at least once in the 12 months after the history)",
            "history": {k: v for k, v in history.meta().items() if k != "params"},
            "served_fit": {"years": [1, history.years - 1], "substations": "all"},
            "evaluation": finite_json(ev),
            "transformer_card": finite_json(xf_card),
            "gnn": "evaluated" if cfg.gnn else "not evaluated (TrainConfig.gnn; needs torch)",
            "train_config": asdict(cfg),
        }
        self.store.save_model(
            grid_hash, model_id, card=card, artifact=_artifact(model), scores=scores, drivers=drivers
        )
        report(1.0, "served")
        return model_id

    def start_training(self, grid_hash: str, cfg: TrainConfig) -> Job:
        self.require_history(grid_hash)  # 409 now, not a failed job later
        return self._submit(
            "risk_train", "risk_history", grid_hash, lambda progress: self.train(grid_hash, cfg, progress)
        )

    # --- consequence and risk ----------------------------------------------------------------------------

    def start_consequence(
        self,
        ctx: EngineContext,
        grid: Grid,
        grid_hash: str,
        config_hash: str,
        scenario: ScenarioConfig,
        *,
        force: bool = False,
    ) -> Job:
        """Simulate every asset's consequence under ``scenario`` (`fluxops.risk.consequence`) as a
        background job; cached per (grid configuration, scenario): a cached one is not simulated again
        unless ``force`` (the job ends at once); a second request joins the running one."""
        key = consequence_key(config_hash, scenario.name)
        if not force and self.store.load_consequence(grid_hash, key) is not None:
            return self.jobs.submit(
                "risk_consequence", lambda _p: key, key=f"risk_consequence:{grid_hash}:{key}"
            )

        def work(progress: Progress) -> str:
            t0 = perf_counter()
            table = asset_consequences(ctx, risk_assets(grid), scenario, progress=progress)
            meta = {
                "key": key,
                "scenario": config_to_dict(scenario),
                "config_hash": config_hash,
                "computed_utc": utc_now().isoformat(),
                "compute_s": round(perf_counter() - t0, 1),
                "assets": len(table),
                "assets_without_consequence": int(table["customer_minutes"].isna().sum()),
                "method": CONSEQUENCE_METHOD,
                "surrogate": SURROGATE_STATUS,
            }
            self.store.save_consequence(grid_hash, key, table, meta)
            with self._cache_lock:
                self._conseq.pop((grid_hash, key), None)
            return key

        return self.jobs.submit("risk_consequence", work, key=f"risk_consequence:{grid_hash}:{key}")

    def consequence(
        self, grid_hash: str, config_hash: str, scenario_name: str
    ) -> tuple[pd.DataFrame | None, dict[str, Any]]:
        """The cached consequence of (configuration, scenario), or (None, what to do)."""
        key = consequence_key(config_hash, scenario_name)
        with self._cache_lock:
            hit = self._conseq.get((grid_hash, key))
        if hit is None:
            got = self.store.load_consequence(grid_hash, key)
            if got is None:
                return None, {
                    "status": "none",
                    "scenario": scenario_name,
                    "message": "no simulated consequence for this grid configuration and scenario: an "
                    "operator starts one (POST /api/risk/consequence); risk fields are null until then",
                }
            hit = got
            with self._cache_lock:
                self._conseq = {(grid_hash, key): hit}
        return hit[0], {"status": "computed", **hit[1]}

    def scored(
        self, grid_hash: str, config_hash: str, scenario_name: str
    ) -> tuple[str, pd.DataFrame, dict[str, Any]]:
        """(model id, scores with consequence and risk columns, the consequence's meta)."""
        mid, s = self.scores(grid_hash)
        table, meta = self.consequence(grid_hash, config_hash, scenario_name)
        key = (grid_hash, f"{mid}|{consequence_key(config_hash, scenario_name)}|{meta.get('computed_utc')}")
        with self._cache_lock:
            hit = self._scored.get(key)
        if hit is None:
            hit = attach_risk(s, table)
            where = self.store.load_asset_columns(grid_hash, ["asset_id", "lon", "lat"])
            if where is not None:  # positions for maps: the history's asset table
                pos = where.set_index("asset_id").reindex(hit["asset_id"].to_numpy(object))
                hit["lon"], hit["lat"] = pos["lon"].to_numpy(), pos["lat"].to_numpy()
            with self._cache_lock:
                self._scored = {key: hit}  # one (model, consequence) at a time is what serves
                self._views = {key: ScoredView(hit)}
        return mid, hit, meta

    def page(
        self,
        grid_hash: str,
        config_hash: str,
        scenario_name: str,
        *,
        filters: dict[str, str | None],
        sort: str,
        offset: int,
        limit: int,
    ) -> tuple[str, int, pd.DataFrame, dict[str, Any]]:
        """(model id, rows passing ``filters``, the page in ``sort`` order, the consequence's meta)."""
        mid, hit, meta = self.scored(grid_hash, config_hash, scenario_name)
        key = (grid_hash, f"{mid}|{consequence_key(config_hash, scenario_name)}|{meta.get('computed_utc')}")
        with self._cache_lock:
            view = self._views.get(key)
        if view is None:
            view = ScoredView(hit)
            with self._cache_lock:
                self._views = {key: view}
        total, rows = view.page(filters, sort, offset, limit)
        return mid, total, rows, meta

    def ranked_risk(
        self, grid_hash: str, config_hash: str, scenario_name: str
    ) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
        """Assets by expected customer-minutes a year (likelihood × simulated consequence), in the
        shape of the N-1 screening's candidates (``element_id``, ``likelihood`` in failures/yr,
        ``customers_out``, ``customer_minutes``, ``risk_customer_minutes``) plus the risk fields; and
        ``risk_source`` naming the model. Raises `ConflictError` without a model or a consequence."""
        mid, s, meta = self.scored(grid_hash, config_hash, scenario_name)
        if meta["status"] != "computed":
            raise ConflictError(meta["message"], details={"scenario": scenario_name})
        _, card = self.current(grid_hash)
        s = s[s["risk_customer_minutes_per_y"].notna()]
        s = s.sort_values(["risk_customer_minutes_per_y", "asset_id"], ascending=[False, True], kind="stable")
        source = (
            f"asset risk model {mid} ({card['kind']}, chosen by validation) × consequence simulated by the "
            f"cascade engine ({scenario_name})"
        )
        out = pd.DataFrame(
            {
                "element_id": s["asset_id"],
                "element_type": s["asset_type"],
                "feeder_id": s["feeder_id"],
                "likelihood": s["expected_failures_per_y"],
                "probability": s["probability"],
                "customers_out": s["customers_interrupted"],
                "customer_minutes": s["customer_minutes"],
                "risk_customer_minutes": s["risk_customer_minutes_per_y"],
                "risk_usd_per_y": s["risk_usd_per_y"],
                "lon": s.get("lon"),
                "lat": s.get("lat"),
            }
        )
        rows = [_jsonable(r) for r in out.to_dict("records")]
        return source, {"model_id": mid, "model_kind": card["kind"], "consequence": meta}, rows

    # --- reading ---------------------------------------------------------------------------------------

    def current(self, grid_hash: str) -> tuple[str, dict[str, Any]]:
        mid = self.store.current_model_id(grid_hash)
        card = self._card(grid_hash, mid) if mid else None
        if mid is None or card is None:
            if self.store.history_meta(grid_hash) is None:
                raise ConflictError(NO_HISTORY, details={"grid_hash": grid_hash})
            raise ConflictError(NO_MODEL, details={"grid_hash": grid_hash})
        return mid, card

    def _card(self, grid_hash: str, model_id: str) -> dict[str, Any] | None:
        """A model's card, read once (cards are immutable once their model is written)."""
        with self._cache_lock:
            hit = self._cards.get((grid_hash, model_id))
        if hit is None:
            hit = self.store.model_card(grid_hash, model_id)
            if hit is not None:
                with self._cache_lock:
                    self._cards = {(grid_hash, model_id): hit}
        return hit

    def scores(self, grid_hash: str) -> tuple[str, pd.DataFrame]:
        mid, _ = self.current(grid_hash)
        return mid, self._tables(grid_hash, mid)[0]

    def asset(self, grid_hash: str, asset_id: str) -> dict[str, Any]:
        mid, card = self.current(grid_hash)
        s, drv = self._tables(grid_hash, mid)
        row = s[s["asset_id"] == asset_id]
        if row.empty:
            raise NotFoundError(f"no scored asset {asset_id!r}", details={"asset_id": asset_id})
        d = drv.loc[[asset_id]].reset_index().sort_values("rank")
        f = self.store.load_failures(grid_hash)
        past = f[f["asset_id"] == asset_id] if f is not None else pd.DataFrame()
        rec = row.iloc[0].to_dict()
        return {
            "model_id": mid,
            "model_kind": card["kind"],
            "asset": _jsonable(rec),
            "drivers": [_jsonable(r) for r in d.drop(columns=["asset_id"]).to_dict("records")],
            "past_failures": [
                _jsonable(r)
                for r in past[
                    ["failure_id", "start_utc", "duration_h", "protective_device_id", "customers_affected"]
                ].to_dict("records")
            ]
            if len(past)
            else [],
        }


def consequence_key(config_hash: str, scenario_name: str) -> str:
    """Cache key of a consequence table: the scenario and the grid configuration it ran on."""
    return f"{scenario_name}-{config_hash[:24]}"


def finite_json(obj: Any) -> Any:
    """``obj`` with every non-finite float as None (JSON has no NaN; a metric with no positives is NaN)."""
    if isinstance(obj, dict):
        return {k: finite_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite_json(v) for v in obj]
    if isinstance(obj, float | np.floating):
        f = float(obj)
        return f if np.isfinite(f) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def _jsonable(rec: Mapping[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in rec.items():
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, float) and not np.isfinite(v):
            v = None
        if isinstance(v, pd.Timestamp):
            v = v.isoformat()
        out[str(k)] = v
    return out
