"""Flood exposure of substations and pad-mounted equipment: the zone a site lies in, its flood
elevation and its freeboard (pad elevation minus the flood elevation), tiered as geo-anchors.md §3.2
suggests (Con Edison's post-Sandy "FEMA + 3 ft" design level): freeboard < 0 ft high, 0-3 ft medium,
>= 3 ft low.

The flood elevation of a site is its zone's water surface at the zone's own annual chance: the base
flood elevation (1 %) in an AE zone, the 0.2 % elevation in an X500 zone. A site in several zone
polygons takes the AE one if any, then the highest elevation.

Ground elevation: the synthetic terrain (`fluxops.geo.hydrography.ground_elev_ft`) when the flood zones
were generated with it; for imported zones no terrain is known, so ground, pad and freeboard are None
(unknown, never a number) and the tier is "unknown". Pad heights above ground (`PAD_HEIGHT_FT`) are
assumptions: a substation yard graded 1 ft above the surrounding ground, a transformer pad of 6 in.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import shapely

FREEBOARD_MEDIUM_FT = 3.0  # below FEMA + 3 ft: medium (geo-anchors.md §3.2)
PAD_HEIGHT_FT = {"substation": 1.0, "transformer": 0.5}
Tier = Literal["high", "medium", "low", "unknown"]
EXPOSURE_COLUMNS = (
    "asset_id",
    "asset_type",
    "lon",
    "lat",
    "zone",
    "zone_id",
    "stream",
    "annual_chance_pct",
    "bfe_ft",
    "flood_elev_ft",
    "ground_elev_ft",
    "pad_elev_ft",
    "freeboard_ft",
    "tier",
)


def tier_of(freeboard_ft: np.ndarray) -> np.ndarray:
    fb = np.asarray(freeboard_ft, dtype=np.float64)
    return np.where(
        np.isnan(fb),
        "unknown",
        np.where(fb < 0, "high", np.where(fb < FREEBOARD_MEDIUM_FT, "medium", "low")),
    )


def exposure(sites: pd.DataFrame, zones: pd.DataFrame, ground_ft: np.ndarray | None) -> pd.DataFrame:
    """Sites (``asset_id``, ``asset_type``, ``lon``, ``lat``) inside any flood zone, with
    `EXPOSURE_COLUMNS`. ``zones``: stored flood-zone rows (``feature_id``, ``kind``, ``name``,
    ``num_a`` BFE, ``num_b`` annual chance, ``num_c`` flood elevation, ``geometry_wkb``);
    ``ground_ft``: the ground elevation of every site, or None when unknown."""
    if sites.empty or zones.empty:
        return pd.DataFrame({c: [] for c in EXPOSURE_COLUMNS})
    polys = shapely.from_wkb(zones.geometry_wkb.to_numpy())
    tree = shapely.STRtree(polys)
    pts = shapely.points(sites.lon.to_numpy(), sites.lat.to_numpy())
    site_i, zone_i = tree.query(pts, predicate="intersects")
    if len(site_i) == 0:
        return pd.DataFrame({c: [] for c in EXPOSURE_COLUMNS})
    z = zones.reset_index(drop=True)
    pairs = pd.DataFrame(
        {
            "site": site_i,
            "is_ae": z.kind.to_numpy()[zone_i] == "AE",
            "elev": z.num_c.to_numpy(dtype=np.float64)[zone_i],
            "zone": zone_i,
        }
    ).sort_values(["site", "is_ae", "elev"], ascending=[True, False, False])
    best = pairs.drop_duplicates("site")
    s = sites.reset_index(drop=True).iloc[best.site.to_numpy()]
    zi = best.zone.to_numpy()
    flood = z.num_c.to_numpy(dtype=np.float64)[zi]
    if ground_ft is None:
        ground = np.full(len(s), np.nan)
    else:
        ground = np.asarray(ground_ft, dtype=np.float64)[best.site.to_numpy()]
    pad = ground + s.asset_type.map(PAD_HEIGHT_FT).fillna(0.0).to_numpy(dtype=np.float64)
    freeboard = pad - flood
    out = pd.DataFrame(
        {
            "asset_id": s.asset_id.to_numpy(),
            "asset_type": s.asset_type.to_numpy(),
            "lon": s.lon.to_numpy(),
            "lat": s.lat.to_numpy(),
            "zone": z.kind.to_numpy()[zi],
            "zone_id": z.feature_id.to_numpy()[zi],
            "stream": z.name.to_numpy()[zi],
            "annual_chance_pct": z.num_b.to_numpy(dtype=np.float64)[zi],
            "bfe_ft": z.num_a.to_numpy(dtype=np.float64)[zi],
            "flood_elev_ft": flood,
            "ground_elev_ft": np.round(ground, 2),
            "pad_elev_ft": np.round(pad, 2),
            "freeboard_ft": np.round(freeboard, 2),
            "tier": tier_of(freeboard),
        }
    )
    return out.sort_values(["freeboard_ft", "asset_id"], na_position="last").reset_index(drop=True)


def flooded(exposed: pd.DataFrame, *, above_bfe_ft: float) -> np.ndarray:
    """Asset ids whose pad is under water when a storm's flood stands ``above_bfe_ft`` over each
    zone's flood elevation (0: exactly the 1 % / 0.2 % flood). Unknown freeboards never count."""
    fb = exposed.freeboard_ft.to_numpy(dtype=np.float64)
    hit = ~np.isnan(fb) & (fb < above_bfe_ft)
    return np.asarray(exposed.asset_id.to_numpy()[hit], dtype=object)
