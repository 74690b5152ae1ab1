"""Geo feature layers beside the asset layers: water, flood zones, buildings, canopy and vegetation
spans. One stored shape for all of them (`FEATURE_COLUMNS`) so that generation, import, export and
vector tiles share one path; each layer names which generic column carries which of its properties.

Why generic columns: an imported layer must land in the same table as a generated one, and a tile query
must not be written five times per store. A layer's properties are few (a kind, a name, one or two
references, up to three numbers), so ``kind``, ``name``, ``ref_id``, ``ref2_id``, ``num_a..num_c`` hold
them and `GeoLayer.props` maps them to their public names (``bfe_ft``, ``meter_id``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import shapely

from fluxops.core.errors import InvalidInputError
from fluxops.geo.tiles import TileLayer

GeoGeometry = Literal["line", "polygon", "mixed"]

FEATURE_COLUMNS = (
    "layer",
    "feature_id",
    "kind",
    "name",
    "ref_id",
    "ref2_id",
    "num_a",
    "num_b",
    "num_c",
    "min_zoom",
    "min_lon",
    "min_lat",
    "max_lon",
    "max_lat",
    "geometry_wkb",
)
GENERIC = ("kind", "name", "ref_id", "ref2_id", "num_a", "num_b", "num_c")


@dataclass(frozen=True)
class GeoLayer:
    name: str
    description: str
    geometry: GeoGeometry
    min_zoom: int
    # (public property name, generic column, description)
    props: tuple[tuple[str, str, str], ...]
    generated_by: str  # the command that generates it for a synthetic grid

    def column_of(self, prop: str) -> str:
        for name, column, _ in self.props:
            if name == prop:
                return column
        raise InvalidInputError(
            f"layer {self.name} has no property {prop!r}; properties: {', '.join(self.prop_names)}",
            field="mapping",
        )

    @property
    def prop_names(self) -> tuple[str, ...]:
        return tuple(p[0] for p in self.props)

    def tile_layer(self) -> TileLayer:
        """The layer as the tile module's `TileLayer` (for TileJSON and the layer list)."""
        return TileLayer(
            self.name,
            self.description,
            self.geometry,
            (),
            min_zoom=self.min_zoom,
            fields=(("id", "Feature id"), *((p, d) for p, _, d in self.props)),
        )


GEO_LAYERS: dict[str, GeoLayer] = {
    layer.name: layer
    for layer in (
        GeoLayer(
            "water",
            "Hydrography: bayous, creeks and rivers (lines), reservoirs, lakes and bay (polygons)",
            "mixed",
            8,
            (
                ("kind", "kind", "bayou, creek, river, reservoir, lake or bay"),
                ("name", "name", "Water body name"),
                ("width_m", "num_a", "Channel width, m (lines)"),
            ),
            "fluxops geo generate",
        ),
        GeoLayer(
            "flood_zones",
            "Flood zones: 1 % annual chance (AE, with base flood elevation) and 0.2 % (X500)",
            "polygon",
            9,
            (
                ("zone", "kind", "AE (1 % annual chance) or X500 (0.2 %)"),
                ("name", "name", "The stream or water body flooding it"),
                ("bfe_ft", "num_a", "Base flood elevation (1 % annual chance) of the reach, ft NAVD88"),
                ("annual_chance_pct", "num_b", "Annual chance of flooding, %"),
                ("flood_elev_ft", "num_c", "Water surface at the zone's annual chance, ft NAVD88"),
            ),
            "fluxops geo generate",
        ),
        GeoLayer(
            "buildings",
            "Building footprints of customer premises, linked to their meter",
            "polygon",
            15,
            (
                ("use", "kind", "residential, commercial or industrial"),
                ("meter_id", "ref_id", "The premise's meter"),
                ("customer_id", "ref2_id", "The premise's customer"),
                ("area_m2", "num_a", "Footprint area, m²"),
                ("units", "num_b", "Meters (premises) in the building"),
            ),
            "fluxops geo generate",
        ),
        GeoLayer(
            "canopy",
            "Tree canopy cover per square cell, by land use",
            "polygon",
            11,
            (
                ("land_use", "kind", "urban core, commercial, residential or open"),
                ("density", "num_a", "Tree canopy cover, share of the cell 0-1"),
            ),
            "fluxops geo generate",
        ),
        GeoLayer(
            "vegetation",
            "Overhead spans with trees: months to encroachment, fall-in exposure and vegetation risk",
            "line",
            12,
            (
                ("feeder_id", "ref_id", "Feeder id"),
                ("months_to_encroachment", "num_a", "Months until a crown reaches the required clearance"),
                ("fall_in_exposure", "num_b", "Expected strikes if every tree fell once"),
                ("risk", "num_c", "Vegetation risk of the span, 0-1 (fluxops.geo.vegetation.span_risk)"),
            ),
            "fluxops geo vegetation generate",
        ),
    )
}
IMPORTABLE = ("water", "flood_zones", "buildings", "canopy")


def get_geo_layer(name: str) -> GeoLayer:
    layer = GEO_LAYERS.get(name)
    if layer is None:
        raise InvalidInputError(
            f"no geo layer {name!r}; layers: {', '.join(GEO_LAYERS)}",
            field="layer",
            details={"layers": list(GEO_LAYERS)},
        )
    return layer


def feature_frame(layer: str, ids: np.ndarray, geoms: np.ndarray, **columns: object) -> pd.DataFrame:
    """The stored rows of ``layer``: ids, shapely geometries (lon/lat) and generic columns by name;
    bounds and WKB computed here, rows sorted along a Z-order curve so that a box scan reads few row
    groups (DuckDB's zone maps)."""
    n = len(ids)
    bounds = shapely.bounds(geoms) if n else np.zeros((0, 4))
    frame = pd.DataFrame(
        {
            "layer": np.full(n, layer, dtype=object),
            "feature_id": np.asarray(ids, dtype=object),
            **{c: _column(columns.get(c), n, c) for c in GENERIC},
            "min_zoom": np.asarray(columns.get("min_zoom", np.zeros(n)), dtype=np.int32),
            "min_lon": bounds[:, 0],
            "min_lat": bounds[:, 1],
            "max_lon": bounds[:, 2],
            "max_lat": bounds[:, 3],
            "geometry_wkb": shapely.to_wkb(geoms) if n else np.zeros(0, dtype=object),
        }
    )
    if n:
        frame = frame.iloc[np.argsort(_zorder(frame), kind="stable")].reset_index(drop=True)
    return frame


def _column(value: object, n: int, name: str) -> np.ndarray:
    if value is None:
        return np.full(n, None if not name.startswith("num_") else np.nan, dtype=object)
    return np.asarray(value)


def _zorder(frame: pd.DataFrame) -> np.ndarray:
    cx = ((frame.min_lon + frame.max_lon) / 2).to_numpy()
    cy = ((frame.min_lat + frame.max_lat) / 2).to_numpy()
    span = max(float(np.ptp(cx)), float(np.ptp(cy)), 1e-9)
    ix = np.clip(((cx - cx.min()) / span * 65535).astype(np.uint64), 0, 65535)
    iy = np.clip(((cy - cy.min()) / span * 65535).astype(np.uint64), 0, 65535)
    key = np.zeros(len(cx), dtype=np.uint64)
    for bit in range(16):
        key |= ((ix >> np.uint64(bit)) & np.uint64(1)) << np.uint64(2 * bit)
        key |= ((iy >> np.uint64(bit)) & np.uint64(1)) << np.uint64(2 * bit + 1)
    return key
