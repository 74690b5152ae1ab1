"""The repair model: how long one repair takes, what material it uses, and where the crews start.

Why one module: the cascade (``simulate``), the restoration plan, the economic impact and the hardening
ROI all price the same repair. When each looked the construction up on its own, only ``simulate`` knew
that a cable was underground (24 h) while the others planned an overhead repair (5 h, overhead material)
— 4.8× apart in customer-minutes for one underground fault. Now the construction is fixed once, on the
`OutageGroup` (`construction_of_edge`, called by `fluxops.cascade.groups.build_groups`), and every caller
prices it with `repair_hours` / `material_usd` from here, and starts the crews from `crew_depots`.

Figures and their sources are on `RestorationConfig` (hours) and `EconomicsConfig` (material); this
module only chooses which figure applies to an (element type, repair kind, construction).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fluxops.network.compiled import EDGE_LINE

if TYPE_CHECKING:
    from fluxops.cascade.context import EngineContext
    from fluxops.cascade.economics import EconomicsConfig
    from fluxops.cascade.models import CascadeResult, OutageGroup
    from fluxops.cascade.restoration import RestorationConfig, RestorationPlan

OVERHEAD = "overhead"
UNDERGROUND = "underground"
CONSTRUCTIONS: tuple[str, ...] = (OVERHEAD, UNDERGROUND, "")  # "" = not a conductor


def construction_of_edge(ctx: EngineContext, e: int) -> str:
    """``overhead`` / ``underground`` for a line segment (the asset table's ``construction``), else ``""``."""
    if int(ctx.cg.edge_kind[e]) != EDGE_LINE:
        return ""
    return OVERHEAD if bool(ctx.edge_overhead[e]) else UNDERGROUND


def repair_hours(cfg: RestorationConfig, element_type: str, repair_kind: str, construction: str) -> float:
    """Hours on site for one repair by element type and construction (sources on `RestorationConfig`).

    A line segment takes the underground cable time when ``construction`` is ``underground`` (fault
    location, excavation, splice), the overhead time otherwise; a pole is overhead plant by definition.
    Re-closing a device that tripped on overload or was opened to isolate takes ``reclose_h``.
    """
    if repair_kind == "reclose":
        return cfg.reclose_h
    if element_type == "line_segment":
        return cfg.repair_h_underground_line if construction == UNDERGROUND else cfg.repair_h_overhead_line
    table = {
        "transformer": cfg.repair_h_transformer,
        "fuse": cfg.repair_h_fuse,
        "substation_transformer": cfg.repair_h_substation_transformer,
        "substation": cfg.repair_h_substation,
        "bus": cfg.repair_h_bus,
        "pole": cfg.repair_h_overhead_line,
    }
    return table.get(element_type, cfg.repair_h_device)


def material_usd(cfg: EconomicsConfig, element_type: str, repair_kind: str, construction: str) -> float:
    """Replacement material for one repair, by element type and construction (figures on `EconomicsConfig`).

    A re-close uses none; an underground segment is priced as cable, an overhead one (and a pole or a
    bus section) as overhead conductor and hardware.
    """
    if repair_kind == "reclose":
        return 0.0
    if element_type == "line_segment":
        return (
            cfg.material_usd_underground_line
            if construction == UNDERGROUND
            else cfg.material_usd_line_segment
        )
    table = {
        "transformer": cfg.material_usd_transformer,
        "fuse": cfg.material_usd_fuse,
        "substation_transformer": cfg.material_usd_substation_transformer,
        "substation": cfg.material_usd_substation,
        "pole": cfg.material_usd_line_segment,
        "bus": cfg.material_usd_line_segment,
    }
    return table.get(element_type, cfg.material_usd_device)


def crew_depots(ctx: EngineContext, groups: list[OutageGroup], crews: int = 1) -> list[tuple[float, float]]:
    """(lon, lat) where the crews start: the substations nearest the outage groups.

    Why substations: the grid model has no service centres, and the operations roster keeps its line
    crews at substations (`fluxops.ops.dispatch.DispatchService.seed_demo_crews`: one per substation).
    The depots are the distinct substations nearest each group, taken in order of customers out
    (largest first), at most ``crews`` of them; `plan_restoration` assigns crew ``c`` to depot
    ``c mod len(depots)``. A single fault therefore sends every crew from the substation nearest it.
    """
    cg = ctx.cg
    if not groups or len(ctx.substation_lon) == 0 or not np.isfinite(ctx.substation_lon).any():
        return [(float(ctx.bus_lon[0]), float(ctx.bus_lat[0]))] if cg.n_bus else [(0.0, 0.0)]
    order = sorted(range(len(groups)), key=lambda i: -groups[i].customers)
    coslat = np.cos(np.radians(float(np.nanmean(ctx.substation_lat))))
    out: list[tuple[float, float]] = []
    seen: set[int] = set()
    for i in order:
        g = groups[i]
        d = ((ctx.substation_lon - g.lon) * coslat) ** 2 + (ctx.substation_lat - g.lat) ** 2
        s = int(np.nanargmin(d))
        if s in seen:
            continue
        seen.add(s)
        out.append((float(ctx.substation_lon[s]), float(ctx.substation_lat[s])))
        if len(out) >= max(crews, 1):
            break
    return out


def depots_of(result: CascadeResult) -> list[tuple[float, float]] | None:
    """The depots the cascade's own restoration plan used (recorded by the engine), if any."""
    raw = result.extras.get("restoration", {}).get("depots_lonlat")
    if not raw:
        return None
    return [(float(lon), float(lat)) for lon, lat in raw]


def plan_for(ctx: EngineContext, result: CascadeResult, cfg: RestorationConfig) -> RestorationPlan:
    """The restoration plan of ``result`` — the same one its cascade made when ``cfg`` is its config.

    Starts from the depots the engine recorded (so a plan made on the whole grid matches the one made on
    the local sub-grid the cascade ran on), else from `crew_depots`.
    """
    from fluxops.cascade.restoration import plan_restoration

    depots = depots_of(result) or crew_depots(ctx, result.outage_groups, cfg.crews)
    return plan_restoration(result.outage_groups, cfg=cfg, depots=depots)
