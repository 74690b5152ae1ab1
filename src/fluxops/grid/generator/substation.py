"""Substation layout: how many feeders, their quadrant slots, and the power transformers.

Why here: feeder count follows the customers a substation serves (1-10 feeders of ~1,000-2,000
customers), and transformer count and size follow the feeders' peak (10-40 MVA units, one bus
section each, joined by normally open bus ties).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fluxops.grid.generator import catalog as cat
from fluxops.grid.generator.feeder import FeederSpec
from fluxops.grid.generator.params import GeneratorParams

_SUB_LOADING = 0.8  # size a power transformer for its feeders' coincident peak at <= 80 %


@dataclass(frozen=True)
class TransformerPlan:
    n: int
    rating_mva: list[float]
    section_of_feeder: list[int]


def feeder_specs(
    p: GeneratorParams,
    rng: np.random.Generator,
    *,
    lon: float,
    lat: float,
    customers: int,
    density_pct: float,
    era: int,
) -> list[FeederSpec]:
    """Specs for a substation's feeders in a pinwheel: feeder j goes to quadrant j % 4, stack j // 4."""
    lo, hi = p.customers_per_feeder
    mean_cpf = (lo + hi) / 2
    f_lo, f_hi = p.feeders_per_substation
    n_f = int(np.clip(round(customers / mean_cpf), f_lo, f_hi))
    per = np.clip(customers / n_f * rng.uniform(0.9, 1.1, n_f), lo, hi).round().astype(int)
    sparse = 1.0 - density_pct
    l_lo, l_hi = p.lateral_sites
    n_l = round(l_lo + (l_hi - l_lo) * sparse)
    lot_m = 14.0 + 14.0 * sparse  # lot frontage: ~14 m in the dense core, ~28 m at the edge
    h_lo, h_hi = p.homes_per_transformer
    sp = lot_m * (h_lo + h_hi) / 2 / 2  # homes on both sides of the street
    block = 110.0 + 70.0 * sparse
    half_w = n_l * sp + sp / 2
    p_ug = float(np.clip(p.underground_share + (era - 1990) / 80.0, 0.02, 0.98))
    specs = []
    for j in range(n_f):
        specs.append(
            FeederSpec(
                sub_lon=lon,
                sub_lat=lat,
                direction=j % 4,
                v_centre_m=-(2 * (j // 4) + 1) * half_w,
                site_spacing_m=sp,
                lateral_sites=n_l,
                block_m=block,
                target_customers=int(per[j]),
                era_year=era,
                p_underground=p_ug,
                underground_trunk=bool(era >= 2005 and rng.random() < 0.5),
            )
        )
    return specs


def plan_transformers(feeder_peak_kva: list[float]) -> TransformerPlan:
    """One unit for one feeder, two for 2-6 feeders, three beyond; more if 40 MVA units can't carry it."""
    n_f = len(feeder_peak_kva)
    n = 1 if n_f == 1 else 2 if n_f <= 6 else 3
    n = max(n, math.ceil(sum(feeder_peak_kva) / 1000.0 / (cat.SUBSTATION_MVA[-1] * _SUB_LOADING)))
    n = min(n, n_f)
    section = [j % n for j in range(n_f)]
    ratings = []
    for s in range(n):
        need = (
            sum(kva for kva, sec in zip(feeder_peak_kva, section, strict=True) if sec == s)
            / 1000.0
            / _SUB_LOADING
        )
        fits = [m for m in cat.SUBSTATION_MVA if m >= need]
        ratings.append(fits[0] if fits else cat.SUBSTATION_MVA[-1])
    return TransformerPlan(n=n, rating_mva=ratings, section_of_feeder=section)
