"""Vegetation near overhead spans: a generated tree inventory, grow-in (months until a crown reaches the
required clearance) and fall-in exposure per span.

Why two quantities: 85-98 % of tree-caused outages are failures and fall-ins, not grow-ins (T&D World
2013, geo-anchors.md §3.1); a risk layer keeps the clearance-decay clock (grow-in, what a trim cycle
manages) apart from the geometry of trees tall enough to strike the line.

Sources of every number (geo-anchors.md §3.1 unless said; the tags there say how firm each is):
* required clearance by voltage: California PRC 4293, 4 ft at 2.4-72 kV, 6 ft at 72-110 kV, 10 ft at
  >= 110 kV; or GO 95 Rule 35's minimum at all times, 18 in for 750 V-22.5 kV (`ClearanceRegime`);
* clearance left at the last trim: GO 95 Appendix E (2009) time-of-trim guideline, case 14: 6.5 ft at
  2.4-72 kV, 10 ft at 72-110 kV, 20 ft at >= 110 kV;
* trim cycles of 3-5 years (each feeder's cycle drawn in that range, its phase uniform);
* height growth by species group, ft/yr: hybrid poplar 5-8, willow 3-8, Leyland cypress 3-4, silver
  maple > 3 (taken as 3), pin oak 2.5, red maple 1-1.5 (arborist pages: low-authority; replace with a
  regional utility species table when one is available). No regional mix is known: groups are drawn
  uniformly;
* tree heights (3-8 / 8-15 / 15-25 / 25-35 m with probabilities .30 / .35 / .25 / .10) and crown radii
  (0.4 h below 5 m, 0.35 h below 15 m, else 0.3 h): the reference demo's synthetic canopy (seed
  inventory §3.14 c), not a measurement;
* conductor height: pole length minus its setting depth (10 % of the length plus 2 ft, the common
  embedment rule); sag is not modelled;
* trees per km of overhead span and the corridor width are scenario inputs (`VegetationParams`), not
  measured figures; they are stored with every generated inventory.

Model assumptions, stated: a crown is a vertical cylinder (radius r, height h); a crown grows sideways
as fast as the tree grows in height; a trim cuts crowns back to the time-of-trim clearance and removes
trees whose trunk stands inside it; a falling tree pivots at its base in a uniformly random direction.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd
import shapely

from fluxops.core.errors import InvalidInputError
from fluxops.geo.spatial import EARTH_RADIUS_M
from fluxops.grid.models import Grid

FT = 0.3048
HORIZON_MONTHS = 240.0  # beyond 20 years a grow-in date means nothing: reported as None

ClearanceRegime = Literal["prc4293", "go95_minimum"]


@dataclass(frozen=True)
class SpeciesGroup:
    name: str
    growth_ft_per_yr: tuple[float, float]  # published range (low, high)


SPECIES: tuple[SpeciesGroup, ...] = (
    SpeciesGroup("hybrid poplar", (5.0, 8.0)),
    SpeciesGroup("willow", (3.0, 8.0)),
    SpeciesGroup("Leyland cypress", (3.0, 4.0)),
    SpeciesGroup("silver maple", (3.0, 3.0)),
    SpeciesGroup("pin oak", (2.5, 2.5)),
    SpeciesGroup("red maple", (1.0, 1.5)),
)
HEIGHT_BANDS_M: tuple[tuple[float, float, float], ...] = (
    (3, 8, 0.30),
    (8, 15, 0.35),
    (15, 25, 0.25),
    (25, 35, 0.10),
)


def required_clearance_m(v_kv: np.ndarray, regime: ClearanceRegime) -> np.ndarray:
    """Minimum conductor-to-vegetation clearance at all times, by nominal voltage."""
    v = np.asarray(v_kv, dtype=np.float64)
    if regime == "go95_minimum":
        if ((v < 0.75) | (v > 22.5)).any():
            raise InvalidInputError("GO 95's 18 in minimum covers 750 V-22.5 kV only", field="regime")
        return np.full(v.shape, 18 * 0.0254)
    return np.select([v < 72, v < 110], [4 * FT, 6 * FT], 10 * FT)


def time_of_trim_clearance_m(v_kv: np.ndarray) -> np.ndarray:
    """GO 95 Appendix E (2009) case 14 clearance left at a trim."""
    v = np.asarray(v_kv, dtype=np.float64)
    return np.select([v < 72, v < 110], [6.5 * FT, 10 * FT], 20 * FT)


def conductor_height_m(pole_length_m: np.ndarray) -> np.ndarray:
    length = np.asarray(pole_length_m, dtype=np.float64)
    return length - (0.1 * length + 2 * FT)


@dataclass(frozen=True)
class VegetationParams:
    """Scenario inputs of a generated inventory (stored with it, so it can be reproduced)."""

    seed: int = 0
    as_of: date = field(default_factory=lambda: date(2026, 1, 1))
    trees_per_km: float = 30.0  # per km of overhead span, both sides together
    corridor_m: float = 30.0  # trees are placed up to this far from the conductor
    trim_cycle_years: tuple[float, float] = (3.0, 5.0)
    regime: ClearanceRegime = "prc4293"

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["as_of"] = self.as_of.isoformat()
        return out


TREE_COLUMNS = (
    "tree_id",
    "segment_id",
    "feeder_id",
    "lon",
    "lat",
    "species_group",
    "height_m",
    "crown_radius_m",
    "growth_m_per_yr",
    "offset_m",
    "last_trim_date",
)


def _crown_radius(h: np.ndarray) -> np.ndarray:
    return np.where(h < 5, 0.4 * h, np.where(h < 15, 0.35 * h, 0.3 * h))


def span_context(grid: Grid) -> pd.DataFrame:
    """Per overhead span: feeder, nominal kV, conductor height (mean of its poles, else its feeder's,
    else the grid's), and geometry."""
    seg = grid.line_segments[grid.line_segments.construction == "overhead"]
    kv = seg.feeder_id.map(grid.feeders.set_index("feeder_id").v_nom_kv)
    poles = grid.poles
    by_seg = poles.groupby("segment_id").height_m.mean()
    by_fdr = poles.groupby("feeder_id").height_m.mean()
    overall = float(poles.height_m.mean()) if len(poles) else 12.2  # 40 ft class, the lateral pole
    length = seg.segment_id.map(by_seg).fillna(seg.feeder_id.map(by_fdr)).fillna(overall)
    return pd.DataFrame(
        {
            "segment_id": seg.segment_id.to_numpy(),
            "feeder_id": seg.feeder_id.to_numpy(),
            "v_kv": kv.to_numpy(dtype=np.float64),
            "conductor_height_m": conductor_height_m(length.to_numpy()),
            "length_km": seg.length_km.to_numpy(),
            "geometry_wkb": seg.geometry_wkb.to_numpy(),
        }
    )


def generate_trees(grid: Grid, params: VegetationParams) -> pd.DataFrame:
    """A tree inventory along every overhead span, columns `TREE_COLUMNS` (vectorized, seeded)."""
    rng = np.random.default_rng(params.seed)
    spans = span_context(grid)
    counts = rng.poisson(params.trees_per_km * spans.length_km.to_numpy())
    idx = np.repeat(np.arange(len(spans)), counts)
    n = len(idx)
    # each feeder's trim cycle and phase: the last trim lies within one cycle before as_of
    feeders = spans.feeder_id.unique()
    cycle = rng.uniform(*params.trim_cycle_years, len(feeders))
    phase = rng.uniform(0, 1, len(feeders)) * cycle
    years_since = pd.Series(phase, index=feeders).reindex(spans.feeder_id.to_numpy()[idx]).to_numpy()
    # species and heights now
    group = rng.integers(0, len(SPECIES), n)
    lo = np.array([s.growth_ft_per_yr[0] for s in SPECIES])[group]
    hi = np.array([s.growth_ft_per_yr[1] for s in SPECIES])[group]
    growth = rng.uniform(lo, hi) * FT
    bands = np.array(HEIGHT_BANDS_M)
    band = rng.choice(len(bands), n, p=bands[:, 2])
    height = rng.uniform(bands[band, 0], bands[band, 1])
    offset = rng.uniform(0, params.corridor_m, n)
    v = spans.v_kv.to_numpy()[idx]
    hc = spans.conductor_height_m.to_numpy()[idx]
    # the last trim: crowns cut back to the time-of-trim clearance, trunks inside it removed
    trim = time_of_trim_clearance_m(v)
    height_then = np.maximum(1.0, height - growth * years_since)
    keep = ~((offset < trim) & (height_then >= hc - trim))
    natural = _crown_radius(height)
    crown_then = np.minimum(_crown_radius(height_then), np.maximum(0.0, offset - trim))
    crown = np.minimum(natural, crown_then + growth * years_since)
    # positions: a point along the span, offset perpendicular to it
    geoms = shapely.from_wkb(spans.geometry_wkb.to_numpy())[idx]
    u = rng.uniform(0, 1, n)
    p0 = shapely.get_coordinates(
        shapely.line_interpolate_point(geoms, np.clip(u - 1e-3, 0, 1), normalized=True)
    )
    p1 = shapely.get_coordinates(
        shapely.line_interpolate_point(geoms, np.clip(u + 1e-3, 0, 1), normalized=True)
    )
    mid = shapely.get_coordinates(shapely.line_interpolate_point(geoms, u, normalized=True))
    kx = np.radians(1.0) * EARTH_RADIUS_M * np.cos(np.radians(mid[:, 1]))
    ky = np.radians(1.0) * EARTH_RADIUS_M
    dx, dy = (p1[:, 0] - p0[:, 0]) * kx, (p1[:, 1] - p0[:, 1]) * ky
    norm = np.hypot(dx, dy)
    norm[norm == 0] = 1.0
    side = rng.choice([-1.0, 1.0], n)
    lon = mid[:, 0] + side * (-dy / norm) * offset / kx
    lat = mid[:, 1] + side * (dx / norm) * offset / ky
    trim_date = [params.as_of - timedelta(days=round(y * 365.25)) for y in years_since]
    frame = pd.DataFrame(
        {
            "tree_id": [f"TREE-{i:07d}" for i in range(n)],
            "segment_id": spans.segment_id.to_numpy()[idx],
            "feeder_id": spans.feeder_id.to_numpy()[idx],
            "lon": lon,
            "lat": lat,
            "species_group": np.array([s.name for s in SPECIES], dtype=object)[group],
            "height_m": np.round(height, 2),
            "crown_radius_m": np.round(crown, 2),
            "growth_m_per_yr": np.round(growth, 4),
            "offset_m": np.round(offset, 2),
            "last_trim_date": trim_date,
        }
    )
    out = frame[keep].reset_index(drop=True)
    out["tree_id"] = [f"TREE-{i:07d}" for i in range(len(out))]
    result: pd.DataFrame = out.loc[:, list(TREE_COLUMNS)]
    return result


def clearance_m(offset: np.ndarray, crown: np.ndarray, height: np.ndarray, hc: np.ndarray) -> np.ndarray:
    """Distance from the conductor (height ``hc``, ``offset`` away) to a cylinder crown."""
    out: np.ndarray = np.hypot(np.maximum(0.0, offset - crown), np.maximum(0.0, hc - height))
    return out


def months_to_encroachment(
    offset: np.ndarray,
    crown: np.ndarray,
    height: np.ndarray,
    growth: np.ndarray,
    hc: np.ndarray,
    need: np.ndarray,
) -> np.ndarray:
    """Months until the clearance falls to ``need`` (0 when it already has; inf past `HORIZON_MONTHS`).

    Clearance shrinks monotonically as the crown widens and rises at ``growth`` m/yr, so a vectorized
    bisection on time finds the crossing (to 0.01 month)."""

    def gap(months: np.ndarray) -> np.ndarray:
        g = growth * months / 12.0
        left: np.ndarray = clearance_m(offset, crown + g, height + g, hc) - need
        return left

    lo = np.zeros(len(offset))
    hi = np.full(len(offset), HORIZON_MONTHS)
    now = gap(lo) <= 0
    never = gap(hi) > 0
    for _ in range(int(math.log2(HORIZON_MONTHS / 0.01)) + 1):
        mid = (lo + hi) / 2
        reached = gap(mid) <= 0
        hi = np.where(reached, mid, hi)
        lo = np.where(reached, lo, mid)
    out = np.where(now, 0.0, hi)
    return np.where(never & ~now, np.inf, out)


def fall_in_reach(height: np.ndarray, offset: np.ndarray, hc: np.ndarray) -> np.ndarray:
    """The chance that a tree falling in a uniformly random direction strikes the conductor.

    Pivoting at its base, a tree of height h reaches the conductor's height hc at a horizontal distance
    L = sqrt(h² - hc²); it strikes the (long, straight) line when L cos(θ) >= offset, i.e. for
    |θ| <= arccos(offset / L): a share arccos(offset / L) / π of directions."""
    reach = np.sqrt(np.maximum(0.0, height**2 - hc**2))
    ratio = np.divide(offset, reach, out=np.full(len(offset), np.inf), where=reach > 0)
    return np.where(ratio < 1, np.arccos(np.clip(ratio, -1, 1)) / np.pi, 0.0)


def span_exposure(trees: pd.DataFrame, spans: pd.DataFrame, regime: ClearanceRegime) -> pd.DataFrame:
    """Per span with trees: required clearance, trees, least clearance now, months until the first
    encroachment (None: not within `HORIZON_MONTHS`), trees encroaching now, strike-capable trees and
    fall-in exposure (the expected strikes if every tree fell once, in a random direction)."""
    ctx = spans.set_index("segment_id").loc[trees.segment_id.to_numpy()]
    hc = ctx.conductor_height_m.to_numpy()
    need = required_clearance_m(ctx.v_kv.to_numpy(), regime)
    off, crown, h, g = (
        trees[c].to_numpy(dtype=np.float64)
        for c in ("offset_m", "crown_radius_m", "height_m", "growth_m_per_yr")
    )
    clear = clearance_m(off, crown, h, hc)
    months = months_to_encroachment(off, crown, h, g, hc, need)
    strike = fall_in_reach(h, off, hc)
    per = pd.DataFrame(
        {
            "segment_id": trees.segment_id.to_numpy(),
            "clear": clear,
            "months": months,
            "now": months == 0,
            "capable": strike > 0,
            "strike": strike,
        }
    )
    agg = per.groupby("segment_id", sort=True).agg(
        trees=("clear", "size"),
        min_clearance_m=("clear", "min"),
        months_to_encroachment=("months", "min"),
        encroaching_now=("now", "sum"),
        strike_capable_trees=("capable", "sum"),
        fall_in_exposure=("strike", "sum"),
    )
    ctx_span = spans.set_index("segment_id").loc[agg.index]
    agg.insert(0, "feeder_id", ctx_span.feeder_id.to_numpy())
    agg.insert(1, "v_kv", ctx_span.v_kv.to_numpy())
    agg.insert(2, "conductor_height_m", np.round(ctx_span.conductor_height_m.to_numpy(), 2))
    agg.insert(3, "required_clearance_m", np.round(required_clearance_m(ctx_span.v_kv.to_numpy(), regime), 3))
    agg["min_clearance_m"] = agg.min_clearance_m.round(3)
    agg["months_to_encroachment"] = agg.months_to_encroachment.round(1).replace(np.inf, np.nan)
    agg["fall_in_exposure"] = agg.fall_in_exposure.round(4)
    return agg.reset_index()


# One definition of a span's vegetation risk, used by the map layer, the trim plan and the API.
# Weights from the outage shares (geo-anchors.md §3.1): 85-98 % of tree-caused outages are fall-ins,
# 0-2 % (good programmes) to ~15 % grow-ins: fall-in 0.9, grow-in 0.1.
RISK_WEIGHT_FALL_IN = 0.9
RISK_WEIGHT_GROW_IN = 0.1
GROW_IN_SCALE_MONTHS = 12.0  # a span encroaching within about a year scores near the full grow-in term


def span_risk(months_to_encroachment: np.ndarray, fall_in_exposure: np.ndarray) -> np.ndarray:
    """Vegetation risk of spans, 0-1: ``0.9 (1 - exp(-fall-in exposure)) + 0.1 exp(-months / 12)``.

    The fall-in term is the chance of at least one strike if the exposure were a Poisson mean; the
    grow-in term decays with the months left before a crown reaches the required clearance (a span
    with no encroachment within 20 years, NaN, scores 0 there)."""
    months = np.asarray(months_to_encroachment, dtype=np.float64)
    grow = np.where(np.isnan(months), 0.0, np.exp(-np.maximum(months, 0.0) / GROW_IN_SCALE_MONTHS))
    fall = 1.0 - np.exp(-np.maximum(np.asarray(fall_in_exposure, dtype=np.float64), 0.0))
    out: np.ndarray = RISK_WEIGHT_FALL_IN * fall + RISK_WEIGHT_GROW_IN * grow
    return out
