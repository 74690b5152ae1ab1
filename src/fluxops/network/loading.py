"""Whole-grid loading for the map: per line segment loading and current, per bus and per distribution
transformer voltage, from one power flow at measured (AMI) or design-peak load.

Why a separate module: the map colours every feeder segment by its own loading and marks voltage
violations; both need a whole-grid power flow (≈ 70 ms on the demo grid, docs/physics.md), fed with
the latest hour of AMI transformer demand when there is one. Mapping transformer kW onto buses and
shaping the result is pure NumPy/Arrow here; the API route only fetches inputs and caches.

Transformers without an AMI figure for the hour keep their design-peak kW scaled by the measured /
design ratio of the transformers that do have one, so a partial feed does not read as a load drop.
Reactive power keeps each bus's design power factor (``cg.bus_q_kvar / cg.bus_p_kw``).

Reverse flow is a normal state, not an error: a transformer behind rooftop PV that exports reads a
net-negative kW in its hour, and the sweep takes negative loads as injections. Such a bus keeps no
reactive demand (PV inverters run at unity power factor by default, IEEE 1547-2018 §5.3), and each
segment row says the direction of its flow (``p_from_kw`` < 0 and ``reverse_flow``: power flowing
from the customers' side back towards the substation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from fluxops.core.errors import InvalidInputError
from fluxops.network.compiled import EDGE_LINE, BoolArray, CompiledGrid, FloatArray
from fluxops.network.energization import energize
from fluxops.network.powerflow import PowerFlowResult, SweepPlan, run_powerflow
from fluxops.network.regulation import SubstationRegulation, ldc_boost_pu

DEFAULT_REGULATION = SubstationRegulation()

KIND_SEGMENT = "line_segment"
KIND_BUS = "bus"
KIND_TRANSFORMER = "transformer"

LOADING_SCHEMA = pa.schema(
    [
        pa.field("asset_id", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("loading_pct", pa.float64()),
        pa.field("i_a", pa.float64()),
        pa.field("v_pu", pa.float64()),
        pa.field("voltage_violation", pa.bool_()),
        # segments: real power leaving the end nearer the substation (kW); negative = reverse flow
        pa.field("p_from_kw", pa.float64()),
        pa.field("reverse_flow", pa.bool_()),
    ]
)


@dataclass(frozen=True)
class VoltageLimits:
    """Service voltage band. Default: ANSI C84.1-2020 Range A, ±5 % of nominal (0.95–1.05 pu).
    Applied to the MV bus of each distribution transformer as a proxy for its customers' service
    voltage (the power flow stops at the MV bus; see docs/physics.md)."""

    v_min_pu: float = 0.95
    v_max_pu: float = 1.05


@dataclass(frozen=True)
class BusDemand:
    """Per-bus load for the flow and how much of it was measured."""

    p_kw: FloatArray
    q_kvar: FloatArray
    measured_transformers: int  # transformers with an AMI figure that matched the grid
    scale_unmeasured: float  # factor applied to the design peak of transformers without a figure


@dataclass(frozen=True)
class GridLoading:
    """The flow's answer shaped for the map (`LOADING_SCHEMA` rows) plus its convergence facts."""

    table: pa.Table
    converged: bool
    iterations: int
    max_loading_pct: float
    min_v_pu: float
    max_v_pu: float
    violations: int  # transformers outside the limits
    reverse_flow_segments: int = 0  # segments carrying power back towards the substation


def bus_demand_from_transformers(
    cg: CompiledGrid, transformer_ids: npt.ArrayLike, p_kw: npt.ArrayLike
) -> BusDemand:
    """Sum transformer kW onto their buses (vectorized). Unknown transformer ids are ignored; duplicate
    ids are summed. A negative kW is a net export (PV behind the meter) and is kept as an injection.
    Raises `InvalidInputError` on mismatched lengths or a non-finite kW."""
    ids = np.asarray(transformer_ids, dtype=object)
    kw = np.asarray(p_kw, dtype=np.float64)
    if ids.shape != kw.shape:
        raise InvalidInputError("transformer_ids and p_kw differ in length", field="p_kw")
    if kw.size and not np.all(np.isfinite(kw)):
        raise InvalidInputError("transformer kW must be finite", field="p_kw")
    pos = pd.Index(cg.xfmr_ids).get_indexer(pd.Index(ids))
    ok = pos >= 0
    n_xf = len(cg.xfmr_ids)
    measured = np.zeros(n_xf, dtype=bool)
    measured[pos[ok]] = True
    xf_kw = np.bincount(pos[ok], weights=kw[ok], minlength=n_xf).astype(np.float64)
    design = cg.xfmr_p_kw
    design_measured = float(design[measured].sum())
    # The measured/design ratio scales transformers without a figure; when the measured ones export
    # on net (midday PV), the unmeasured are taken at zero demand rather than made to export too.
    scale = max(0.0, float(xf_kw[measured].sum()) / design_measured) if design_measured > 0 else 1.0
    xf_kw = np.where(measured, xf_kw, design * scale)
    bus_p = np.bincount(cg.xfmr_bus, weights=xf_kw, minlength=cg.n_bus).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        q_per_p = np.where(cg.bus_p_kw > 0, cg.bus_q_kvar / cg.bus_p_kw, 0.0)
    return BusDemand(
        p_kw=bus_p,
        q_kvar=np.maximum(bus_p, 0.0) * q_per_p,  # exporting buses at unity power factor
        measured_transformers=int(measured.sum()),
        scale_unmeasured=scale,
    )


def _nullable(x: FloatArray) -> pa.Array:
    return pa.array(x, type=pa.float64(), mask=~np.isfinite(x))


def shape_loading(cg: CompiledGrid, pf: PowerFlowResult, limits: VoltageLimits) -> GridLoading:
    """Rows per line segment (loading_pct, i_a), per bus and per transformer (v_pu, violation)."""
    seg = np.flatnonzero(cg.edge_kind == EDGE_LINE)
    n_seg, n_bus, n_xf = len(seg), cg.n_bus, len(cg.xfmr_ids)
    i_seg = np.where(pf.edge_energized[seg], pf.i_edge_a[seg], np.nan)
    load_seg = np.where(pf.edge_energized[seg], pf.loading_pct[seg], np.nan)
    p_seg = np.where(pf.edge_energized[seg], pf.p_from_kw[seg], np.nan)
    reverse = np.isfinite(p_seg) & (p_seg < 0)
    v_bus = pf.vm_pu
    v_xf = v_bus[cg.xfmr_bus]
    viol_bus: BoolArray = np.isfinite(v_bus) & ((v_bus < limits.v_min_pu) | (v_bus > limits.v_max_pu))
    viol_xf = viol_bus[cg.xfmr_bus]
    nan_bus_xf = np.full(n_bus + n_xf, np.nan)
    table = pa.table(
        {
            "asset_id": pa.array(
                np.concatenate([cg.edge_ids[seg], cg.bus_ids, cg.xfmr_ids]).astype(str), pa.string()
            ),
            "kind": pa.array(
                [KIND_SEGMENT] * n_seg + [KIND_BUS] * n_bus + [KIND_TRANSFORMER] * n_xf, pa.string()
            ),
            "loading_pct": _nullable(np.concatenate([load_seg, nan_bus_xf])),
            "i_a": _nullable(np.concatenate([i_seg, nan_bus_xf])),
            "v_pu": _nullable(np.concatenate([np.full(n_seg, np.nan), v_bus, v_xf])),
            "voltage_violation": pa.array(np.concatenate([np.zeros(n_seg, bool), viol_bus, viol_xf])),
            "p_from_kw": _nullable(np.concatenate([p_seg, nan_bus_xf])),
            "reverse_flow": pa.array(np.concatenate([reverse, np.zeros(n_bus + n_xf, bool)])),
        },
        schema=LOADING_SCHEMA,
    )
    finite_load = load_seg[np.isfinite(load_seg)]
    finite_v = v_bus[np.isfinite(v_bus)]
    return GridLoading(
        table=table,
        converged=pf.converged,
        iterations=pf.iterations,
        max_loading_pct=float(finite_load.max()) if finite_load.size else float("nan"),
        min_v_pu=float(finite_v.min()) if finite_v.size else float("nan"),
        max_v_pu=float(finite_v.max()) if finite_v.size else float("nan"),
        violations=int(viol_xf.sum()),
        reverse_flow_segments=int(reverse.sum()),
    )


def grid_loading(
    cg: CompiledGrid,
    demand: BusDemand | None,
    *,
    plan: SweepPlan | None = None,
    limits: VoltageLimits | None = None,
    regulation: SubstationRegulation | None = DEFAULT_REGULATION,
) -> GridLoading:
    """Run the flow at ``demand`` (None → design peak) on ``plan`` (the normal configuration when
    given; else energized from the devices' last known states) and shape the result.

    With ``regulation`` (the default), each substation bus is first held at the LTC set point, then
    raised by its line-drop compensation and the flow re-run at those set points (exact, two flows);
    ``None`` keeps the grid's own source voltages."""
    p = None if demand is None else demand.p_kw
    q = None if demand is None else demand.q_kvar
    if regulation is None:
        pf = run_powerflow(cg, p_kw=p, q_kvar=q, plan=plan)
    else:
        first = run_powerflow(cg, p_kw=p, q_kvar=q, plan=plan, v_source_pu=regulation.v_set_pu)
        bus_source = (plan.energization if plan is not None else energize(cg)).bus_source
        boost = ldc_boost_pu(first.vm_pu, bus_source, cg.n_source, regulation)
        pf = run_powerflow(cg, p_kw=p, q_kvar=q, plan=plan, v_source_pu=regulation.v_set_pu + boost)
    return shape_loading(cg, pf, limits or VoltageLimits())
