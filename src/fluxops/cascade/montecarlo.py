"""Monte Carlo cascades: distributions (P10/P50/P90) of outcomes over uncertain load, weather and damage.

Why these draws: the deterministic cascade answers "what if exactly these conditions"; operators plan with
ranges. Each run draws (i) a system load multiplier around the scenario's, lognormal with
``load_sigma`` (day-ahead load forecast error, typically a few percent; 0.08 is a conservative
*assumption*), (ii) ambient temperature ± ``ambient_sigma_c`` (normal, *assumption*), and (iii) for
hurricanes a fresh wind-damage draw. Run ``i`` uses seed ``seed·1_000_003 + i``, so the whole ensemble is
reproducible.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import numpy as np

from fluxops.cascade.config import CascadeConfig, ScenarioConfig, config_to_dict
from fluxops.cascade.context import EngineContext
from fluxops.cascade.engine import run_cascade
from fluxops.cascade.restoration import RestorationConfig
from fluxops.core.errors import InvalidInputError

METRICS: tuple[str, ...] = (
    "customers_out",
    "peak_customers_out",
    "critical_out",
    "mwh_unserved",
    "customer_minutes",
    "elements_lost",
    "waves",
)


@dataclass(frozen=True)
class MonteCarloConfig:
    runs: int = 200
    load_sigma: float = 0.08
    ambient_sigma_c: float = 2.0
    seed: int = 0

    def validate(self) -> MonteCarloConfig:
        if not (1 <= self.runs <= 100_000):
            raise InvalidInputError("runs must be within [1, 100000]", field="runs")
        if not (0 <= self.load_sigma <= 1):
            raise InvalidInputError("load_sigma must be within [0, 1]", field="load_sigma")
        if not (0 <= self.ambient_sigma_c <= 20):
            raise InvalidInputError("ambient_sigma_c must be within [0, 20]", field="ambient_sigma_c")
        return self


@dataclass(frozen=True)
class Distribution:
    mean: float
    p10: float
    p50: float
    p90: float
    max: float
    histogram_edges: list[float]
    histogram_counts: list[int]


@dataclass(frozen=True)
class MonteCarloResult:
    runs: int
    patient_zero: list[str]
    scenario: dict[str, Any]
    config: dict[str, Any]
    mc: dict[str, Any]
    distributions: dict[str, Distribution]
    samples: dict[str, list[float]]
    p_cascade_beyond_first_wave: float  # share of runs where later waves lost more customers
    compute_s: float


def _dist(x: np.ndarray) -> Distribution:
    counts, edges = np.histogram(x, bins=min(20, max(1, len(np.unique(x)))))
    return Distribution(
        mean=round(float(x.mean()), 4),
        p10=round(float(np.percentile(x, 10)), 4),
        p50=round(float(np.percentile(x, 50)), 4),
        p90=round(float(np.percentile(x, 90)), 4),
        max=round(float(x.max()), 4),
        histogram_edges=[round(float(e), 4) for e in edges],
        histogram_counts=[int(c) for c in counts],
    )


def run_monte_carlo(
    ctx: EngineContext,
    *,
    patient_zero: Sequence[str],
    scenario: ScenarioConfig,
    mc: MonteCarloConfig,
    config: CascadeConfig | None = None,
    restoration: RestorationConfig | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> MonteCarloResult:
    mc.validate()
    scenario.validate()
    config = config or CascadeConfig()
    t0 = perf_counter()
    rng = np.random.default_rng(mc.seed)
    mult = (
        scenario.load_multiplier * rng.lognormal(0.0, mc.load_sigma, mc.runs)
        if mc.load_sigma
        else np.full(mc.runs, scenario.load_multiplier)
    )
    amb = scenario.ambient_temp_c + rng.normal(0.0, mc.ambient_sigma_c, mc.runs)
    samples = {m: np.zeros(mc.runs) for m in METRICS}
    beyond = 0
    step = max(1, min(20, mc.runs // 50))  # progress (and a cancelled job's stop) every <= 20 runs
    for i in range(mc.runs):
        sc = dataclasses.replace(
            scenario, load_multiplier=float(np.clip(mult[i], 0.0, 5.0)), ambient_temp_c=float(amb[i])
        )
        r = run_cascade(
            ctx,
            patient_zero=patient_zero,
            scenario=sc,
            config=config,
            restoration=restoration,
            seed=mc.seed * 1_000_003 + i,
        )
        t = r.totals
        for m in METRICS:
            samples[m][i] = float(getattr(t, m))
        if any(w.customers_out_new > 0 for w in r.waves[1:]):
            beyond += 1
        if progress is not None and (i % step == 0 or i == mc.runs - 1):
            progress((i + 1) / mc.runs, f"{i + 1}/{mc.runs} runs")
    return MonteCarloResult(
        runs=mc.runs,
        patient_zero=list(patient_zero),
        scenario=config_to_dict(scenario),
        config=config_to_dict(config),
        mc=config_to_dict(mc),
        distributions={m: _dist(v) for m, v in samples.items()},
        samples={m: [round(float(x), 4) for x in v] for m, v in samples.items()},
        p_cascade_beyond_first_wave=round(beyond / mc.runs, 4),
        compute_s=round(perf_counter() - t0, 3),
    )
