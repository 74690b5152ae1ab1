"""What the live operations state gives a cascade or the real-time risk index: measured load and outages.

Why here and not in the API: the same inputs feed `POST /api/cascade/simulate-realtime`,
`GET /api/cascade/realtime-risk` and any other caller (CLI, assistant), so they must be computed by one
model. The live state arrives as plain columns (asset id, loading %, status code), matched to the
compiled grid by id with one vectorized index lookup.

Unknown stays unknown: a transformer without a measured loading keeps its design load (and the answer says
which share of transformers was measured, ``coverage``); a grid with no measurement at all says
``generated_peak`` rather than pretending to be live.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from fluxops.cascade.config import ScenarioConfig
from fluxops.cascade.context import EngineContext, scenario_loads
from fluxops.cascade.models import jsonable
from fluxops.cascade.risk import risk_index
from fluxops.network.powerflow import run_powerflow
from fluxops.ops.state import STATUS_CODES

FloatArray = npt.NDArray[np.float64]
OUT_CODE = STATUS_CODES.index("out")


@dataclass(frozen=True)
class LiveState:
    """Columns of the operations state (`fluxops.ops.state`): one row per asset."""

    asset_id: npt.NDArray[np.object_]
    loading_pct: FloatArray  # NaN where unknown
    status: npt.NDArray[np.int64]  # index into `STATUS_CODES`

    @classmethod
    def from_columns(cls, asset_id: Any, loading_pct: Any, status: Any) -> LiveState:
        return cls(
            np.asarray(asset_id, object), np.asarray(loading_pct, np.float64), np.asarray(status, np.int64)
        )


@dataclass(frozen=True)
class LiveScale:
    scale: FloatArray | None  # per bus; None: no measurement, design load stands
    source: str  # "ami_live" | "generated_peak"
    coverage: float  # share of distribution transformers with a measured loading


def live_load_scale(ctx: EngineContext, live: LiveState | None) -> LiveScale:
    """Per-bus load scale from measured transformer loading: measured kW / design kW of the measured
    transformers on each bus; buses without a measurement keep their design load (scale 1)."""
    if live is None or not len(live.asset_id):
        return LiveScale(None, "generated_peak", 0.0)
    cg = ctx.cg
    idx = pd.Index(live.asset_id).get_indexer(pd.Index(np.asarray(cg.xfmr_ids, object)))
    meas = np.where(idx >= 0, live.loading_pct[np.maximum(idx, 0)], np.nan)
    known = np.isfinite(meas)
    if not known.any():
        return LiveScale(None, "generated_peak", 0.0)
    live_kw = np.where(known, meas / 100.0 * cg.xfmr_rating_kva, 0.0)
    design = np.where(known, cg.xfmr_p_kw, 0.0)
    num = np.bincount(cg.xfmr_bus, weights=live_kw, minlength=cg.n_bus)
    den = np.bincount(cg.xfmr_bus, weights=design, minlength=cg.n_bus)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(den > 0, num / den, np.nan)
    scale = np.where(np.isfinite(scale), scale, 1.0)
    return LiveScale(np.asarray(scale, np.float64), "ami_live", float(known.mean()))


def customers_out(ctx: EngineContext, live: LiveState | None) -> int:
    """Meters the live state marks out (de-energized by an open outage)."""
    if live is None:
        return 0
    out_ids = pd.Index(live.asset_id[live.status == OUT_CODE])
    if not len(out_ids):
        return 0
    return int(pd.Index(np.asarray(ctx.cg.meter_ids, object)).isin(out_ids).sum())


def realtime_risk(
    ctx: EngineContext,
    scenario: ScenarioConfig,
    *,
    ambient_c: float,
    ambient_source: str,
    live: LiveState | None,
) -> dict[str, Any]:
    """The risk index from measured load where there is one (else the scenario's), one power flow, and
    each transformer's coincident peak (`cascade.coincidence`, as the cascade's thermal step uses)."""
    cg = ctx.cg
    p, q = scenario_loads(ctx, scenario.load_multiplier, scenario.residential_heating_factor)
    ls = live_load_scale(ctx, live)
    if ls.scale is not None:
        base_p, base_q = scenario_loads(ctx, 1.0, 1.0)
        p, q = base_p * ls.scale, base_q * ls.scale
    pf = run_powerflow(cg, p_kw=p, q_kvar=q)
    bus_ratio = np.where(cg.bus_p_kw > 0, p / np.maximum(cg.bus_p_kw, 1e-9), 0.0)
    xfmr_kw = cg.xfmr_p_kw * bus_ratio[cg.xfmr_bus]
    if ctx.xfmr_coincidence.size:
        xfmr_kw = xfmr_kw * ctx.xfmr_coincidence
    xfmr_loading = 100.0 * xfmr_kw / np.maximum(cg.xfmr_rating_kva, 1e-9)
    ri = risk_index(
        ctx,
        xfmr_loading_pct=xfmr_loading,
        source_loading_pct=pf.source_loading_pct,
        ambient_c=ambient_c,
        customers_out=customers_out(ctx, live),
        load_source=ls.source,
        ambient_source=ambient_source,
    )
    out: dict[str, Any] = jsonable(ri)
    out["live_coverage"] = round(ls.coverage, 4)
    out["scenario"] = scenario.name
    return out
