"""Phase-aware protection for the cascade (issue 11 §2): single-pole fuses and customers out per phase.

Why: North American laterals are protected by fuse cutouts, one per phase. A single-line-to-ground
fault — most distribution faults — on a two- or three-phase fused tap blows only the faulted phase's
fuse: customers on the other phases stay in service. Reclosers, breakers and sectionalizers here are
gang-operated (all phases trip together), so a fault they clear takes every phase out.

Rules (applied in wave 0 by `fluxops.cascade.engine`):

* a fault's phases are the faulted element's phases, narrowed to ``CascadeConfig.fault_phases`` when
  given (e.g. "A" for an A-to-ground fault on a three-phase segment); a single-phase element's fault is
  always on its own phase;
* when the operating device is a fuse that carries phases the fault does not touch, only the faulted
  phases open ("single-pole"): the faulted segment stays in service on its healthy phases, and every
  distribution transformer downstream that needs an opened phase goes out (a single-phase unit on that
  phase, and a two- or three-phase unit, which is single-phased — counted out as an interruption);
* anything else clears as before: the device opens all its phases.

The balanced power flow of later waves sees those transformers' load removed (their customers are out);
it does not model the unbalance the open phase leaves on the healthy ones (the thermal waves use the
balanced solver, docs/physics.md §Phases).
"""

from __future__ import annotations

import weakref

import numpy as np
import numpy.typing as npt

from fluxops.cascade.context import EngineContext
from fluxops.cascade.protection import find_protective, upstream_bus_of_edge
from fluxops.cascade.recorder import WaveRecorder
from fluxops.cascade.state import CascadeState
from fluxops.core.errors import InvalidInputError
from fluxops.grid.models import PHASE_MASK
from fluxops.grid.phases import phase_matrix
from fluxops.network.compiled import CompiledGrid
from fluxops.network.energization import energize
from fluxops.network.threephase.from_grid import edge_phases

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ALL = 7
_BITS = np.array([1, 2, 4], dtype=np.int64)
_MASKS: weakref.WeakKeyDictionary[CompiledGrid, tuple[IntArray, IntArray]] = weakref.WeakKeyDictionary()


def phase_masks(ctx: EngineContext) -> tuple[IntArray, IntArray]:
    """(per edge, per distribution transformer) phase bit masks A=1, B=2, C=4; cached per compiled grid."""
    hit = _MASKS.get(ctx.cg)
    if hit is None:
        edge = (edge_phases(ctx.grid, ctx.cg) @ _BITS).astype(np.int64)
        xf = ctx.grid.transformers.set_index("transformer_id")["phase"]
        xf = xf[~xf.index.duplicated()].reindex(ctx.cg.xfmr_ids.astype(object))
        xmask = (phase_matrix(xf.to_numpy(dtype=object)) @ _BITS).astype(np.int64)
        hit = _MASKS[ctx.cg] = (edge, xmask)
    return hit


def parse_fault_phases(value: str) -> int:
    """ "" → 0 (the element's own phases), else the mask of a phase set ("A", "BC", ...)."""
    if not value:
        return 0
    key = "".join(sorted(value.strip().upper()))
    if key not in PHASE_MASK:
        raise InvalidInputError(
            f"config.fault_phases must be one of {sorted(PHASE_MASK)} or empty", field="config.fault_phases"
        )
    return PHASE_MASK[key]


def fault_mask(ctx: EngineContext, edge: int, wanted: int) -> int:
    """The phases a fault on ``edge`` involves: its own, narrowed to ``wanted`` where they overlap."""
    own = int(phase_masks(ctx)[0][edge]) or ALL
    narrowed = own & wanted
    return narrowed if narrowed else own


def single_pole(ctx: EngineContext, device: int, mask: int) -> bool:
    """True when ``device`` is a fuse carrying phases outside ``mask`` (only ``mask`` opens)."""
    if str(ctx.cg.device_type[device]) != "fuse":
        return False
    dev_mask = int(phase_masks(ctx)[0][device]) or ALL
    return bool(dev_mask & ~mask) and bool(dev_mask & mask)


def phase_lost_transformers(ctx: EngineContext, downstream: BoolArray, mask: int) -> IntArray:
    """Distribution transformers on ``downstream`` buses that need a phase in ``mask``."""
    xmask = phase_masks(ctx)[1]
    hit = downstream[ctx.cg.xfmr_bus] & ((xmask & mask) != 0)
    return np.flatnonzero(hit).astype(np.int64)


def customers_out_by_phase(
    ctx: EngineContext, bus_energized: BoolArray, xfmr_out: BoolArray
) -> dict[str, int]:
    """Customers out per phase: those served from a transformer on that phase (a three-phase customer
    counts on each of its phases, so the three figures can add up to more than the customers out)."""
    cg = ctx.cg
    out = (~bus_energized[cg.xfmr_bus]) | xfmr_out
    xmask = phase_masks(ctx)[1]
    cust = np.asarray(cg.xfmr_customer_count, np.int64) * out
    return {ph: int(cust[(xmask & bit) != 0].sum()) for ph, bit in zip("ABC", (1, 2, 4), strict=True)}


def single_pole_clear(
    ctx: EngineContext,
    st: CascadeState,
    rec: WaveRecorder,
    pe0: npt.NDArray[np.int64],
    ps0: npt.NDArray[np.int64],
    e: int,
    wanted: int,
) -> bool:
    """A fault on part of ``e``'s phases cleared by a single-pole fuse (`fluxops.cascade.phases`): only
    the faulted phases open; transformers downstream on them go out. False: clear it the usual way."""
    cg = ctx.cg
    if cg.is_protective[e] or st.en is None:
        return False
    mask = fault_mask(ctx, e, wanted)
    op = find_protective(ctx, pe0, ps0, upstream_bus_of_edge(ctx, pe0, e, st.en), st.closed)
    if op.edge < 0 or not single_pole(ctx, op.edge, mask):
        return False
    closed = st.closed.copy()
    closed[op.edge] = False
    cut = energize(
        cg,
        closed=closed,
        failed_edges=st.failed_edges,
        failed_buses=st.failed_buses,
        failed_sources=st.failed_sources,
    )
    lost = phase_lost_transformers(ctx, st.en.bus_energized & ~cut.bus_energized, mask)
    lost = lost[~st.failed_xfmr[lost]]
    st.failed_xfmr[lost] = True
    rec.phase_faults.append((e, op.edge, tuple(int(x) for x in lost)))
    names = "".join(ph for ph, bit in zip("ABC", (1, 2, 4), strict=True) if mask & bit)
    rec.event(
        str(cg.edge_ids[op.edge]),
        "fuse",
        "protection",
        f"fuse operated on phase {names} only (single-pole): {len(lost)} transformer(s) on it out, "
        "the other phases stay in service",
        0.0,
    )
    return True
