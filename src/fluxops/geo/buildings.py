"""Generated building footprints: one per customer site, commercial and industrial larger; meters at
one position (within ~1 m) are units of one building, linked to the first meter (``units`` counts them).

SYNTHETIC: rectangles centred on the meter's location, sized by customer class (`FOOTPRINT_M2`: median
footprint and lognormal spread, modelling choices: a ~190 m² house, a ~900 m² shop or office, a
~5,000 m² plant or warehouse), aspect 1-1.6, turned to one street angle per feeder. A footprint never
overlaps its neighbour's: it is shrunk until its half-diagonal is at most `MAX_NEIGHBOUR_SHARE` of the
distance to the nearest other site (the generator's premises can stand a few metres apart, so some
footprints are small; `shrunk` counts them). Real footprints (Microsoft / Overture, geo-anchors.md §3.3)
are imported with `fluxops geo import`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from fluxops.geo.layers import feature_frame
from fluxops.geo.spatial import EARTH_RADIUS_M
from fluxops.grid.models import Grid

FOOTPRINT_M2 = {"residential": (190.0, 0.30), "commercial": (900.0, 0.6), "industrial": (5000.0, 0.5)}
MAX_NEIGHBOUR_SHARE = 0.5


def generate_buildings(grid: Grid, *, seed: int = 0) -> tuple[pd.DataFrame, int]:
    """(feature rows of layer "buildings", how many footprints were shrunk to fit)."""
    rng = np.random.default_rng([seed, 14])
    m = grid.meters.merge(
        grid.customers.loc[:, ["customer_id", "customer_class"]], on="customer_id", how="left"
    )
    # meters at one position (~1 m) are one site: units of one building, linked to the first meter
    site = np.round(m.lon.to_numpy() * 1e5).astype(np.int64) * 10**8 + np.round(
        m.lat.to_numpy() * 1e5
    ).astype(np.int64)
    m = m.assign(site=site, units=pd.Series(site).map(pd.Series(site).value_counts()).to_numpy())
    m = m.sort_values(["site", "meter_id"]).drop_duplicates("site").sort_values("meter_id")
    n = len(m)
    use = m.customer_class.fillna("residential").to_numpy(dtype=object)
    median = np.array([FOOTPRINT_M2.get(u, FOOTPRINT_M2["residential"])[0] for u in use])
    sigma = np.array([FOOTPRINT_M2.get(u, FOOTPRINT_M2["residential"])[1] for u in use])
    area = median * np.exp(rng.normal(0.0, 1.0, n) * sigma)
    aspect = rng.uniform(1.0, 1.6, n)
    a = np.sqrt(area * aspect)  # long side, m
    b = area / a
    lat0 = float(m.lat.mean()) if n else 0.0
    kx = np.radians(1.0) * EARTH_RADIUS_M * np.cos(np.radians(lat0))
    ky = np.radians(1.0) * EARTH_RADIUS_M
    x, y = m.lon.to_numpy() * kx, m.lat.to_numpy() * ky
    if n > 1:
        d, _ = cKDTree(np.column_stack([x, y])).query(np.column_stack([x, y]), k=2)
        nearest = d[:, 1]
    else:
        nearest = np.full(n, np.inf)
    half_diag = np.hypot(a, b) / 2
    scale = np.minimum(1.0, MAX_NEIGHBOUR_SHARE * nearest / np.maximum(half_diag, 1e-9))
    shrunk = int((scale < 1.0).sum())
    a, b = a * scale, b * scale
    feeders = m.feeder_id.astype("category")
    angle = rng.uniform(0, np.pi / 2, len(feeders.cat.categories))[feeders.cat.codes.to_numpy()]
    angle = angle + rng.normal(0, 0.05, n)
    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5]])
    dx = corners[None, :, 0] * a[:, None]
    dy = corners[None, :, 1] * b[:, None]
    c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
    lon = (x[:, None] + dx * c - dy * s) / kx
    lat = (y[:, None] + dx * s + dy * c) / ky
    geoms = shapely.polygons(np.stack([lon, lat], axis=-1)) if n else np.zeros(0, dtype=object)
    frame = feature_frame(
        "buildings",
        np.array([f"BLD-{mid[4:]}" if mid.startswith("MTR-") else f"BLD-{mid}" for mid in m.meter_id]),
        geoms,
        kind=use,
        ref_id=m.meter_id.to_numpy(dtype=object),
        ref2_id=m.customer_id.to_numpy(dtype=object),
        num_a=np.round(a * b, 1),
        num_b=m.units.to_numpy(dtype=np.float64),
    )
    return frame, shrunk
