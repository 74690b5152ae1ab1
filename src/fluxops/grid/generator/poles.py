"""Poles along overhead spans.

Why along segments: every overhead primary span is carried by poles at most ``pole_span_m`` apart
(40-60 m is usual for 12.47 kV distribution). A segment of length L gets ceil(L / span) spans; the
pole at its far end carries the segment's downstream bus, the others are mid-span poles.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from fluxops.grid.generator.naming import ids

_OBJ = npt.NDArray[np.object_]


def poles_table(segments: pd.DataFrame, span_m: float, rng: np.random.Generator) -> pd.DataFrame:
    """One row per pole, spaced evenly along each overhead segment's geometry."""
    oh = np.flatnonzero(segments["construction"].to_numpy() == "overhead")
    length_m = segments["length_km"].to_numpy()[oh] * 1000.0
    spans = np.maximum(1, np.ceil(length_m / span_m - 1e-9)).astype(np.int64)
    seg = np.repeat(oh, spans)
    rank = np.arange(len(seg)) - np.repeat(np.cumsum(spans) - spans, spans) + 1
    frac = rank / np.repeat(spans, spans)
    geom = shapely.from_wkb(segments["geometry_wkb"].to_numpy()[seg])
    xy = shapely.get_coordinates(shapely.line_interpolate_point(geom, frac, normalized=True))
    is_end = rank == np.repeat(spans, spans)
    n = len(seg)
    trunk = np.isin(segments["conductor"].to_numpy()[seg], ["336.4 kcmil ACSR", "477 kcmil ACSR"])
    # Material: southern yellow pine dominates US distribution; some concrete/steel on arterials.
    u = rng.random(n)
    material = np.where(trunk & (u < 0.15), "concrete", np.where(trunk & (u < 0.22), "steel", "wood"))
    # Heights: 45 ft (13.7 m) class on the trunk, 40 ft (12.2 m) on laterals.
    height = np.where(trunk, 13.7, 12.2)
    return pd.DataFrame(
        {
            "pole_id": ids("POLE", (np.arange(1, n + 1), 7)),
            "feeder_id": segments["feeder_id"].to_numpy()[seg],
            "substation_id": segments["substation_id"].to_numpy()[seg],
            "bus_id": np.where(is_end, segments["to_bus_id"].to_numpy()[seg], np.full(n, None, dtype=object)),
            "segment_id": segments["segment_id"].to_numpy()[seg],
            "lon": xy[:, 0],
            "lat": xy[:, 1],
            "material": material,
            "height_m": height,
            "install_year": segments["install_year"].to_numpy()[seg],
        }
    )
