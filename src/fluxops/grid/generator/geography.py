"""Where customers live and where substations go.

Why this order: utilities site distribution substations at the load centres of the neighbourhoods
they serve. So we first sample a population-density field (neighbourhood clusters: dense around the
urban core, suburban towns spread over the box), then place substations at density-weighted
centres (k-means over customer samples), and give each substation the customers of its cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from fluxops.grid.generator.params import GeneratorParams

M_PER_DEG_LAT = 111_320.0  # metres per degree of latitude (WGS84, mean)
_SAMPLES_PER_SUBSTATION = 40
_KMEANS_ITERATIONS = 12
_DENSITY_EXPONENT = 1.0


@dataclass(frozen=True)
class SubstationSites:
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    customers: npt.NDArray[np.int64]  # customers each substation is planned to serve
    density_pct: npt.NDArray[np.float64]  # 0 = sparsest, 1 = densest (by samples per cluster area)
    era_year: npt.NDArray[np.int64]  # when the neighbourhood was built out (older near the core)


def m_per_deg_lon(lat: float | npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Metres per degree of longitude at a latitude (spherical approximation)."""
    return np.asarray(M_PER_DEG_LAT * np.cos(np.radians(lat)), dtype=np.float64)


def place_substations(params: GeneratorParams, rng: np.random.Generator) -> SubstationSites:
    """Density-weighted substation sites inside the box, with customers and era per site."""
    p = params
    n = p.n_substations
    half_w, half_h = p.extent_lon_deg / 2.0, p.extent_lat_deg / 2.0
    lo_lon, hi_lon = p.center_lon - half_w, p.center_lon + half_w
    lo_lat, hi_lat = p.center_lat - half_h, p.center_lat + half_h
    core_lon = min(max(p.core_lon, lo_lon), hi_lon)
    core_lat = min(max(p.core_lat, lo_lat), hi_lat)

    # Neighbourhood clusters: core ones normal around the core, suburban towns uniform in the box.
    n_clusters = max(4, n // 2)
    is_core = rng.random(n_clusters) < p.core_share
    c_lon = np.where(
        is_core,
        rng.normal(core_lon, 0.12 * p.extent_lon_deg, n_clusters),
        rng.uniform(lo_lon, hi_lon, n_clusters),
    )
    c_lat = np.where(
        is_core,
        rng.normal(core_lat, 0.12 * p.extent_lat_deg, n_clusters),
        rng.uniform(lo_lat, hi_lat, n_clusters),
    )
    weight = rng.lognormal(0.0, 0.6, n_clusters) * np.where(is_core, 1.6, 1.0)
    spread = np.where(is_core, 0.04, 0.025) * max(p.extent_lon_deg, p.extent_lat_deg)

    m = max(n * _SAMPLES_PER_SUBSTATION, 64)
    which = rng.choice(n_clusters, size=m, p=weight / weight.sum())
    s_lon = np.clip(rng.normal(c_lon[which], spread[which]), lo_lon, hi_lon)
    s_lat = np.clip(rng.normal(c_lat[which], spread[which]), lo_lat, hi_lat)
    kx = m_per_deg_lon(p.center_lat)
    pts = np.column_stack([(s_lon - p.center_lon) * kx, (s_lat - p.center_lat) * M_PER_DEG_LAT])

    # k-means (Lloyd) with deterministic initialisation from the samples: centres = load centres.
    centres = pts[rng.choice(m, size=n, replace=False)]
    label = np.zeros(m, dtype=np.int64)
    for _ in range(_KMEANS_ITERATIONS):
        _, label = cKDTree(centres).query(pts)
        counts = np.bincount(label, minlength=n).astype(np.float64)
        sx = np.bincount(label, weights=pts[:, 0], minlength=n)
        sy = np.bincount(label, weights=pts[:, 1], minlength=n)
        filled = counts > 0
        centres[filled] = np.column_stack([sx[filled] / counts[filled], sy[filled] / counts[filled]])
    counts = np.bincount(label, minlength=n).astype(np.float64)
    counts = np.maximum(counts, 1.0)  # an empty cluster still gets one feeder's worth of samples

    # Density: samples per cluster over the squared mean distance to the centre.
    d2 = ((pts - centres[label]) ** 2).sum(axis=1)
    mean_d2 = np.bincount(label, weights=d2, minlength=n) / counts + 1e4
    density = counts / mean_d2
    density_pct = (np.argsort(np.argsort(density)) + 0.5) / n

    # Dense neighbourhoods get bigger stations (more feeders per site, land is scarce); sparse ones
    # smaller: weight the cluster's sample share by relative density^_DENSITY_EXPONENT.
    share = counts * (density / np.median(density)) ** _DENSITY_EXPONENT
    customers = _calibrated_customers(p, share / share.sum())
    lon = p.center_lon + centres[:, 0] / kx
    lat = p.center_lat + centres[:, 1] / M_PER_DEG_LAT
    # Era: built out from the core outwards (1955 at the core to ~2020 at the box edge) with noise.
    dist = np.hypot((lon - core_lon) * kx, (lat - core_lat) * M_PER_DEG_LAT)
    span = max(float(dist.max()), 1.0)
    era = np.clip(np.round(1955 + 65 * dist / span + rng.normal(0, 6, n)), 1950, 2022).astype(np.int64)
    # Order substations west->east, south->north in bands so ids read geographically.
    order = np.lexsort((lon, np.floor((lat - lo_lat) / max(p.extent_lat_deg / 8.0, 1e-9))))
    return SubstationSites(
        lon=lon[order],
        lat=lat[order],
        customers=customers[order],
        density_pct=density_pct[order],
        era_year=era[order],
    )


def _calibrated_customers(p: GeneratorParams, share: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Customers per substation such that, after feeder sizes are clipped to their range, the
    planned total matches ``target_meters`` (small stations round up to one full feeder)."""
    lo, hi = p.customers_per_feeder
    f_lo, f_hi = p.feeders_per_substation
    scale = float(p.target_meters)
    for _ in range(8):
        c = scale * share
        n_f = np.clip(np.round(c / ((lo + hi) / 2)), f_lo, f_hi)
        planned = float((n_f * np.clip(c / n_f, lo, hi)).sum())
        scale *= p.target_meters / max(planned, 1.0)
    return np.maximum(np.round(scale * share), 1).astype(np.int64)
