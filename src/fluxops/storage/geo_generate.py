"""Generating and reading the geo layers of a stored grid: the glue between the pure generators
(`fluxops.geo.hydrography`, `buildings`, `canopy`, `vegetation`) and `geo_layers_store`, shared by the
CLI and the API so both do the same thing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from fluxops.core.errors import InvalidInputError, NotFoundError
from fluxops.geo import buildings, canopy, flood, hydrography, vegetation
from fluxops.geo.layers import feature_frame
from fluxops.grid.models import Grid
from fluxops.storage import geo_layers_store, vegetation_store

GENERATED = ("water", "flood_zones", "buildings", "canopy")
SYNTHETIC_NOTE = {
    "water": "synthetic, modelled on Houston's bayous and reservoirs (approximate courses), not NHD",
    "flood_zones": "synthetic 1 % (AE) / 0.2 % (X500) zones along the synthetic streams, not FEMA's NFHL",
    "buildings": "synthetic footprints, one per customer site, sized by customer class",
    "canopy": "synthetic canopy cover per 1 km cell, by land use read from the premises",
    "vegetation": "spans of the generated tree inventory with their vegetation risk",
}


def generate_layers(
    store: Any, grid: Grid, *, grid_hash: str, layers: tuple[str, ...], seed: int
) -> dict[str, int]:
    """Generate and store ``layers`` (each replaced whole); returns features per layer."""
    unknown = sorted(set(layers) - set(GENERATED))
    if unknown:
        raise InvalidInputError(
            f"cannot generate {unknown}; generated layers: {', '.join(GENERATED)}", field="layers"
        )
    out: dict[str, int] = {}
    bounds = (
        float(grid.buses.lon.min()),
        float(grid.buses.lat.min()),
        float(grid.buses.lon.max()),
        float(grid.buses.lat.max()),
    )
    params = {"seed": seed}
    if "water" in layers or "flood_zones" in layers:
        hydro = hydrography.generate_hydrography(bounds, seed=seed)
        for name, frame in (("water", hydro.water), ("flood_zones", hydro.flood_zones)):
            if name in layers:
                out[name] = geo_layers_store.save_layer(
                    store,
                    name,
                    frame,
                    source="generated",
                    source_name="fluxops geo generate",
                    grid_hash=None,
                    note=SYNTHETIC_NOTE[name],
                    params={**params, "terrain": "synthetic-houston"},
                )
    if "buildings" in layers:
        frame, shrunk = buildings.generate_buildings(grid, seed=seed)
        out["buildings"] = geo_layers_store.save_layer(
            store,
            "buildings",
            frame,
            source="generated",
            source_name="fluxops geo generate",
            grid_hash=grid_hash,
            note=SYNTHETIC_NOTE["buildings"],
            params={**params, "shrunk_to_fit": shrunk},
        )
    if "canopy" in layers:
        out["canopy"] = geo_layers_store.save_layer(
            store,
            "canopy",
            canopy.generate_canopy(grid, seed=seed),
            source="generated",
            source_name="fluxops geo generate",
            grid_hash=grid_hash,
            note=SYNTHETIC_NOTE["canopy"],
            params=params,
        )
    return out


def vegetation_span_table(
    trees: pd.DataFrame, spans: pd.DataFrame, regime: vegetation.ClearanceRegime
) -> pd.DataFrame:
    """Per span with trees: `vegetation.span_exposure` plus ``risk`` (`vegetation.span_risk`)."""
    table = vegetation.span_exposure(trees, spans, regime)
    table["risk"] = np.round(
        vegetation.span_risk(table.months_to_encroachment.to_numpy(), table.fall_in_exposure.to_numpy()), 4
    )
    return table


def save_vegetation_layer(store: Any, grid: Grid, *, grid_hash: str) -> int:
    """Materialize the vegetation spans (risk per span) as the ``vegetation`` tile layer."""
    meta = vegetation_store.get_meta(store)
    if meta is None:
        raise NotFoundError("no vegetation inventory: run `fluxops geo vegetation generate`")
    trees = vegetation_store.read_trees(store)
    spans = vegetation.span_context(grid)
    table = vegetation_span_table(trees, spans, meta["params"]["regime"]) if len(trees) else None
    if table is None or table.empty:
        frame = feature_frame("vegetation", np.zeros(0, dtype=object), np.zeros(0, dtype=object))
    else:
        wkb = spans.set_index("segment_id").geometry_wkb.loc[table.segment_id.to_numpy()].to_numpy()
        frame = feature_frame(
            "vegetation",
            table.segment_id.to_numpy(dtype=object),
            shapely.from_wkb(wkb),
            ref_id=table.feeder_id.to_numpy(dtype=object),
            num_a=table.months_to_encroachment.to_numpy(dtype=np.float64),
            num_b=table.fall_in_exposure.to_numpy(dtype=np.float64),
            num_c=table.risk.to_numpy(dtype=np.float64),
        )
    return geo_layers_store.save_layer(
        store,
        "vegetation",
        frame,
        source="generated",
        source_name="fluxops geo vegetation generate",
        grid_hash=grid_hash,
        note=SYNTHETIC_NOTE["vegetation"],
        params=meta["params"],
    )


def exposure_sites(grid: Grid) -> pd.DataFrame:
    """Substations and pad-mounted transformers: (asset_id, asset_type, lon, lat)."""
    subs = grid.substations
    pads = grid.transformers[grid.transformers.mounting == "pad"]
    return pd.concat(
        [
            pd.DataFrame(
                {"asset_id": subs.substation_id, "asset_type": "substation", "lon": subs.lon, "lat": subs.lat}
            ),
            pd.DataFrame(
                {
                    "asset_id": pads.transformer_id,
                    "asset_type": "transformer",
                    "lon": pads.lon,
                    "lat": pads.lat,
                }
            ),
        ],
        ignore_index=True,
    )


def flood_exposure(store: Any, grid: Grid) -> tuple[pd.DataFrame, dict[str, Any]]:
    """(every exposed site, the flood layer's meta). Ground elevation from the synthetic terrain only
    when the zones were generated with it; for imported zones it is unknown (None)."""
    meta = geo_layers_store.get_meta(store, "flood_zones")
    if meta is None:
        raise NotFoundError(
            "no flood zones stored: run `fluxops geo generate` or import them",
            details={"field": "flood_zones"},
        )
    zones = geo_layers_store.read_layer(store, "flood_zones")
    sites = exposure_sites(grid)
    ground = None
    if meta["params"].get("terrain") == "synthetic-houston":
        ground = hydrography.ground_elev_ft(
            sites.lon.to_numpy(), sites.lat.to_numpy(), seed=int(meta["params"].get("seed", 0))
        )
    return flood.exposure(sites, zones, ground), meta


def flood_freeboard(store: Any, grid: Grid) -> dict[str, float]:
    """Freeboard (ft) of every site in a flood zone whose freeboard is known: what the cascade's
    hurricane scenario needs (`EngineContext.flood_freeboard_ft`). Empty when no flood zones are stored."""
    if geo_layers_store.get_meta(store, "flood_zones") is None:
        return {}
    table, _ = flood_exposure(store, grid)
    known = table[table.freeboard_ft.notna()]
    return dict(zip(known.asset_id.astype(str), known.freeboard_ft.astype(float), strict=True))
