"""Use cases behind the cascade API and CLI: parse inputs, run the model, store runs, start jobs.

Why a service: the HTTP routes and the CLI offer the same operations; both go through here so a run is
parsed, validated, computed and stored the same way. It takes its ports (the run store, the job runner)
as arguments and never imports the web framework or a storage backend.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from fluxops.cascade.config import CascadeConfig, ScenarioConfig, config_from_dict, config_to_dict
from fluxops.cascade.context import EngineContext
from fluxops.cascade.economics import EconomicsConfig, economic_impact
from fluxops.cascade.engine import run_cascade
from fluxops.cascade.hardening import HardeningConfig, evaluate_hardening
from fluxops.cascade.jobs import Job, JobRunner, Progress
from fluxops.cascade.models import CascadeResult, jsonable
from fluxops.cascade.montecarlo import MonteCarloConfig, run_monte_carlo
from fluxops.cascade.playbook import build_playbook
from fluxops.cascade.ports import CascadeRunStore, RunSummary, StoredRun
from fluxops.cascade.repair import plan_for
from fluxops.cascade.restoration import RestorationConfig, RestorationPlan
from fluxops.cascade.scenarios import resolve_scenario
from fluxops.cascade.screening import ScreeningConfig, run_screening
from fluxops.core.clock import utc_now
from fluxops.core.errors import InvalidInputError, NotFoundError

INPUT_FIELDS = frozenset(
    {
        "patient_zero",
        "initial_failure_node",
        "scenario",
        "scenario_name",
        "overrides",
        "temperature_c",
        "load_multiplier",
        "config",
        "restoration",
        "crews",
        "seed",
        "save",
        "name",
        "economics",
        "failure_threshold",
    }
)


@dataclass(frozen=True)
class SimulationInputs:
    patient_zero: tuple[str, ...]
    scenario: ScenarioConfig
    config: CascadeConfig
    restoration: RestorationConfig
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient_zero": list(self.patient_zero),
            "scenario": config_to_dict(self.scenario),
            "config": config_to_dict(self.config),
            "restoration": config_to_dict(self.restoration),
            "seed": self.seed,
        }


def parse_inputs(
    body: dict[str, Any] | None, *, allowed_extra: frozenset[str] = frozenset()
) -> SimulationInputs:
    """Inputs from a request body. Accepts the seed's names (``scenario_name``, ``initial_failure_node``,
    ``temperature_c``, ``load_multiplier``) next to ours; every error names its field."""
    body = dict(body or {})
    unknown = sorted(set(body) - INPUT_FIELDS - allowed_extra)
    if unknown:
        raise InvalidInputError(f"unknown field {unknown[0]!r}", field=unknown[0])
    if body.get("failure_threshold") is not None:
        raise InvalidInputError(
            "failure_threshold is not a model input: elements fail by protection, ampacity and "
            "hot-spot limits; "
            "use scenario overrides or config instead",
            field="failure_threshold",
        )
    pz = body.get("patient_zero", body.get("initial_failure_node"))
    if pz is None:
        pz_list: list[str] = []
    elif isinstance(pz, str):
        pz_list = [pz]
    elif isinstance(pz, list) and all(isinstance(x, str) for x in pz):
        pz_list = list(pz)
    else:
        raise InvalidInputError("patient_zero must be an id or a list of ids", field="patient_zero")
    name = body.get("scenario", body.get("scenario_name", "normal"))
    if not isinstance(name, str):
        raise InvalidInputError("scenario must be a preset name", field="scenario")
    overrides = body.get("overrides") or {}
    if not isinstance(overrides, dict):
        raise InvalidInputError("overrides must be an object", field="overrides")
    overrides = dict(overrides)
    if body.get("temperature_c") is not None:
        overrides["ambient_temp_c"] = body["temperature_c"]
    if body.get("load_multiplier") is not None:
        overrides["load_multiplier"] = body["load_multiplier"]
    scenario = resolve_scenario(name, overrides)
    config = config_from_dict(CascadeConfig, body.get("config"), prefix="config").validate()
    rdict = dict(body.get("restoration") or {})
    if body.get("crews") is not None:
        rdict["crews"] = body["crews"]
    restoration = config_from_dict(RestorationConfig, rdict, prefix="restoration").validate()
    seed = body.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidInputError("seed must be a non-negative integer", field="seed")
    if not pz_list and scenario.wind_speed_mps <= 0:
        raise InvalidInputError(
            "name the patient zero (or run a hurricane scenario, whose wind damage starts the cascade)",
            field="patient_zero",
        )
    return SimulationInputs(tuple(pz_list), scenario, config, restoration, seed)


class CascadeService:
    def __init__(self, runs: CascadeRunStore, jobs: JobRunner) -> None:
        self.runs = runs
        self.jobs = jobs

    # --- single cascades -------------------------------------------------------------------------
    def run(self, ctx: EngineContext, inp: SimulationInputs, **kw: Any) -> CascadeResult:
        return run_cascade(
            ctx,
            patient_zero=inp.patient_zero,
            scenario=inp.scenario,
            config=inp.config,
            restoration=inp.restoration,
            seed=inp.seed,
            **kw,
        )

    def simulate(
        self,
        ctx: EngineContext,
        grid_hash: str,
        inp: SimulationInputs,
        *,
        save: bool = False,
        name: str | None = None,
        **kw: Any,
    ) -> dict[str, Any]:
        result = self.run(ctx, inp, **kw)
        out: dict[str, Any] = jsonable(result.to_dict())
        if save:
            out["run_id"] = self._store(
                "cascade",
                name or f"{inp.scenario.name}: {', '.join(inp.patient_zero) or 'storm'}",
                ctx,
                grid_hash,
                inp.to_dict(),
                _summary(result),
                out,
            )
        return out

    def plan(self, ctx: EngineContext, result: CascadeResult, inp: SimulationInputs) -> RestorationPlan:
        return plan_for(ctx, result, inp.restoration)

    def restoration_sequence(self, ctx: EngineContext, inp: SimulationInputs) -> dict[str, Any]:
        result = self.run(ctx, inp)
        plan = self.plan(ctx, result, inp)
        return {"inputs": inp.to_dict(), "cascade": _summary(result), "plan": jsonable(plan)}

    def economic_impact(
        self, ctx: EngineContext, inp: SimulationInputs, economics: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        econ = config_from_dict(EconomicsConfig, economics, prefix="economics")
        result = self.run(ctx, inp)
        plan = self.plan(ctx, result, inp)
        impact = economic_impact(result, plan, cfg=econ)
        return {"inputs": inp.to_dict(), "cascade": _summary(result), "impact": jsonable(impact)}

    def mitigation_actions(self, ctx: EngineContext, inp: SimulationInputs) -> dict[str, Any]:
        result = self.run(ctx, inp)
        plan = self.plan(ctx, result, inp)
        book = build_playbook(
            ctx, result, plan, scenario=inp.scenario, config=inp.config, restoration=inp.restoration
        )
        return {"inputs": inp.to_dict(), "cascade": _summary(result), "playbook": jsonable(book)}

    def compare_mitigations(
        self,
        ctx: EngineContext,
        grid_hash: str,
        node_ids: list[str],
        budget_usd: float,
        scenario: ScenarioConfig,
        hardening: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        ids = list(node_ids)
        source = "request"
        if not ids:
            stored = self.latest("screening", grid_hash, scenario.name)
            if stored is None:
                raise InvalidInputError(
                    "name the elements to protect, or run an N-1 screening first "
                    "(POST /api/cascade/screening)",
                    field="node_ids",
                )
            ids = [c["element_id"] for c in stored.result["candidates"][:10]]
            source = f"screening run {stored.run_id}"
        hc = config_from_dict(HardeningConfig, hardening, prefix="hardening")
        res = evaluate_hardening(ctx, element_ids=ids, scenario=scenario, budget_usd=budget_usd, hardening=hc)
        return {
            "elements_from": source,
            "scenario": config_to_dict(scenario),
            "config": config_to_dict(hc),
            "result": jsonable(res),
        }

    # --- stored runs and jobs --------------------------------------------------------------------
    def _store(
        self,
        kind: str,
        name: str,
        ctx: EngineContext,
        grid_hash: str,
        inputs: dict[str, Any],
        summary: dict[str, Any],
        result: dict[str, Any],
    ) -> str:
        run_id = f"{kind}-{uuid.uuid4().hex[:12]}"
        self.runs.save_run(
            StoredRun(
                run_id,
                kind,
                name,
                utc_now(),
                ctx.grid.meta.name,
                grid_hash,
                jsonable(inputs),
                jsonable(summary),
                result,
            )
        )
        return run_id

    def list_runs(self, kind: str | None, limit: int) -> list[RunSummary]:
        return self.runs.list_runs(kind=kind, limit=limit)

    def get_run(self, run_id: str) -> StoredRun:
        run = self.runs.get_run(run_id)
        if run is None:
            raise NotFoundError(f"no stored run {run_id!r}", details={"run_id": run_id})
        return run

    def latest(self, kind: str, grid_hash: str, scenario_name: str | None = None) -> StoredRun | None:
        for s in self.runs.list_runs(kind=kind, limit=50):
            run = self.runs.get_run(s.run_id)
            if run is None or run.grid_hash != grid_hash:
                continue
            if scenario_name is None or run.inputs.get("scenario", {}).get("name") == scenario_name:
                return run
        return None

    def start_monte_carlo(
        self, ctx: EngineContext, grid_hash: str, inp: SimulationInputs, mc: MonteCarloConfig
    ) -> Job:
        mc.validate()

        def work(progress: Progress) -> str:
            res = run_monte_carlo(
                ctx,
                patient_zero=inp.patient_zero,
                scenario=inp.scenario,
                mc=dataclasses.replace(mc, seed=mc.seed),
                config=inp.config,
                restoration=inp.restoration,
                progress=progress,
            )
            d = jsonable(res)
            summary = {k: {"p50": v["p50"], "p90": v["p90"]} for k, v in d["distributions"].items()}
            return self._store(
                "montecarlo",
                f"Monte Carlo {inp.scenario.name}: {', '.join(inp.patient_zero)}",
                ctx,
                grid_hash,
                {**inp.to_dict(), "montecarlo": config_to_dict(mc)},
                summary,
                d,
            )

        return self.jobs.submit("montecarlo", work)

    def start_screening(
        self,
        ctx: EngineContext,
        grid_hash: str,
        scenario: ScenarioConfig,
        config: CascadeConfig | None = None,
    ) -> Job:
        def work(progress: Progress) -> str:
            res = run_screening(
                ctx, scenario=scenario, config=config, screening=ScreeningConfig(), progress=progress
            )
            d = jsonable(res)
            top = d["candidates"][:5]
            summary = {
                "elements_screened": res.elements_screened,
                "cascades_run": res.cascades_run,
                "top": [c["element_id"] for c in top],
            }
            return self._store(
                "screening",
                f"N-1 screening {scenario.name}",
                ctx,
                grid_hash,
                {"scenario": config_to_dict(scenario)},
                summary,
                d,
            )

        return self.jobs.submit("screening", work, key=screening_key(grid_hash, scenario, config))


def screening_key(grid_hash: str, scenario: ScenarioConfig, config: CascadeConfig | None) -> str:
    """One N-1 screening job per (grid configuration, scenario, engine config): later requests join it."""
    cfg = {"scenario": config_to_dict(scenario), "config": None if config is None else config_to_dict(config)}
    digest = hashlib.sha256(json.dumps(cfg, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"screening:{grid_hash}:{digest}"


def _summary(r: CascadeResult) -> dict[str, Any]:
    t = r.totals
    return {
        "patient_zero": r.patient_zero,
        "scenario": r.scenario["name"],
        "customers_out": t.customers_out,
        "peak_customers_out": t.peak_customers_out,
        "critical_out": t.critical_out,
        "mwh_unserved": t.mwh_unserved,
        "customer_minutes": t.customer_minutes,
        "waves": t.waves,
        "load_source": r.load_source,
    }
