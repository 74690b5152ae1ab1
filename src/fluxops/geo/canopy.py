"""A tree-canopy layer consistent with the generator's geography: square cells over the grid's box,
each with a land use read from the premises in it and a canopy cover drawn around that land use's
typical share.

Land use per cell (from the generated meters and customer classes, so it follows the generator's
neighbourhoods): "open" with fewer than `OPEN_MAX_PREMISES` premises, "urban core" where premises are
in the densest decile of cells and at least `COMMERCIAL_SHARE` of them are commercial or industrial,
"commercial" where that share holds elsewhere, else "residential".

Canopy cover by land use (`COVER_BY_LAND_USE`, mean and spread): modelling choices, not measurements;
they are set around the roughly one-third citywide tree cover that urban canopy assessments report for
Houston, lower where buildings and pavement dominate. A real canopy raster is imported per cell with
`fluxops geo import` (layer ``canopy``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from fluxops.geo.layers import feature_frame
from fluxops.geo.spatial import EARTH_RADIUS_M
from fluxops.grid.models import Grid

CELL_M = 1000.0
OPEN_MAX_PREMISES = 5
COMMERCIAL_SHARE = 0.3
COVER_BY_LAND_USE = {
    "urban core": (0.10, 0.04),
    "commercial": (0.15, 0.05),
    "residential": (0.35, 0.08),
    "open": (0.45, 0.12),
}


def generate_canopy(grid: Grid, *, seed: int = 0, cell_m: float = CELL_M) -> pd.DataFrame:
    """Feature rows of layer "canopy": one cell per `cell_m` square over the meters' box."""
    rng = np.random.default_rng([seed, 15])
    m = grid.meters.merge(grid.customers.loc[:, ["customer_id", "customer_class"]], on="customer_id")
    if m.empty:
        return feature_frame("canopy", np.zeros(0, dtype=object), np.zeros(0, dtype=object))
    lat0 = float(m.lat.mean())
    dlon = cell_m / (np.radians(1.0) * EARTH_RADIUS_M * np.cos(np.radians(lat0)))
    dlat = cell_m / (np.radians(1.0) * EARTH_RADIUS_M)
    lon0, lat_lo = float(m.lon.min()), float(m.lat.min())
    nx = int((m.lon.max() - lon0) / dlon) + 1
    ny = int((m.lat.max() - lat_lo) / dlat) + 1
    ix = ((m.lon.to_numpy() - lon0) / dlon).astype(np.int64)
    iy = ((m.lat.to_numpy() - lat_lo) / dlat).astype(np.int64)
    cell = iy * nx + ix
    premises = np.bincount(cell, minlength=nx * ny)
    business = np.bincount(
        cell, weights=(m.customer_class != "residential").to_numpy(float), minlength=nx * ny
    )
    share = np.divide(business, premises, out=np.zeros(nx * ny), where=premises > 0)
    occupied = premises[premises >= OPEN_MAX_PREMISES]
    dense = float(np.percentile(occupied, 90)) if len(occupied) else np.inf
    land = np.where(
        premises < OPEN_MAX_PREMISES,
        "open",
        np.where(
            share >= COMMERCIAL_SHARE,
            np.where(premises >= dense, "urban core", "commercial"),
            "residential",
        ),
    ).astype(object)
    mean = np.array([COVER_BY_LAND_USE[u][0] for u in land])
    spread = np.array([COVER_BY_LAND_USE[u][1] for u in land])
    density = np.clip(rng.normal(mean, spread), 0.0, 0.95)
    jj, ii = np.divmod(np.arange(nx * ny), nx)
    geoms = shapely.box(
        lon0 + ii * dlon, lat_lo + jj * dlat, lon0 + (ii + 1) * dlon, lat_lo + (jj + 1) * dlat
    )
    return feature_frame(
        "canopy",
        np.array([f"CAN-{j:04d}-{i:04d}" for j, i in zip(jj, ii, strict=True)], dtype=object),
        geoms,
        kind=land,
        num_a=np.round(density, 3),
    )
