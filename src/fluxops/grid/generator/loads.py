"""Customer loads by class: annual energy, diversified peak, power factor, rooftop PV.

Why drawn per customer: feeder and transformer sizing in the generator follows the loads (a
transformer is the smallest standard size that carries its customers' peak), so the loads come
first. Figures and sources: `catalog` and docs/grid-generator.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fluxops.grid.generator import catalog as cat

RES, COM, IND = 0, 1, 2
_RES_SIGMA = 0.35  # lognormal spread of household consumption
_COM_SIGMA = 0.9  # small shops to large stores
_IND_SIGMA = 0.5


@dataclass(frozen=True)
class CustomerLoads:
    peak_kw: npt.NDArray[np.float64]
    power_factor: npt.NDArray[np.float64]
    annual_kwh: npt.NDArray[np.float64]
    has_pv: npt.NDArray[np.bool_]
    pv_kw: npt.NDArray[np.float64]

    @property
    def kva(self) -> npt.NDArray[np.float64]:
        return np.asarray(self.peak_kw / self.power_factor, dtype=np.float64)


def draw_loads(rng: np.random.Generator, klass: npt.NDArray[np.int8], pv_share: float) -> CustomerLoads:
    """Loads for customers of the given classes (RES/COM/IND codes), vectorized."""
    n = len(klass)
    res, com, ind = klass == RES, klass == COM, klass == IND
    z = rng.standard_normal(n)
    annual = np.empty(n)
    # Residential: lognormal with mean 15,144 kWh/yr -> median = mean / exp(sigma^2 / 2).
    annual[res] = cat.RES_ANNUAL_KWH_MEAN / np.exp(_RES_SIGMA**2 / 2) * np.exp(_RES_SIGMA * z[res])
    annual[com] = np.clip(cat.COM_ANNUAL_KWH_MEDIAN * np.exp(_COM_SIGMA * z[com]), 6_000.0, 1_500_000.0)
    annual[ind] = np.clip(cat.IND_ANNUAL_KWH_MEDIAN * np.exp(_IND_SIGMA * z[ind]), 500_000.0, 6_000_000.0)
    lf_centre = np.asarray(cat.LOAD_FACTOR)[klass]
    load_factor = lf_centre * rng.uniform(0.85, 1.15, n)
    peak = annual / cat.HOURS_PER_YEAR / load_factor
    pf = np.select(
        [res, com], [rng.uniform(0.95, 0.98, n), rng.uniform(0.88, 0.95, n)], rng.uniform(0.85, 0.92, n)
    )
    has_pv = (rng.random(n) < pv_share) & res
    pv_kw = np.where(
        has_pv, np.round(np.clip(cat.PV_KW_MEDIAN * np.exp(0.35 * rng.standard_normal(n)), 2.0, 20.0), 1), 0.0
    )
    return CustomerLoads(
        peak_kw=np.round(peak, 2),
        power_factor=np.round(pf, 3),
        annual_kwh=np.round(annual, 0),
        has_pv=has_pv,
        pv_kw=pv_kw,
    )
