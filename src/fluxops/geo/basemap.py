"""Street and neighbourhood labels for the offline basemap, from the generator's own street grid.

Why: an operator must be able to say where a thing is ("the fuse on Elm St, Live Oak Hollow") with no
internet basemap. The generator lays customers along straight streets (a feeder's arterial and its
laterals' cross streets) and writes each premise's address; a street's label is the stretch its
premises span on one feeder, named from the address with the house number and unit taken off.
Neighbourhoods are the substations' service areas, named as the generator names the substation.
Imported networks without addresses have no street labels (an empty list, never invented names).
A page is at most a few thousand labels (the client asks per view), so the records are built per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

# "1203 Elm St", "101 Maple St Unit 2", "4410 Oak Ave Ste 3" -> "Elm St", "Maple St", "Oak Ave"
_NUMBER = r"^\s*\d+[A-Za-z]?\s+"
_UNIT = r"\s+(Unit|Ste|Apt|#)\s*\S+$"


@dataclass(frozen=True)
class NeighbourhoodLabel:
    name: str
    substation_id: str
    lon: float
    lat: float


STREET_COLUMNS = ("name", "feeder_id", "lon0", "lat0", "lon1", "lat1", "lon", "lat", "premises")


def street_table(meters: pd.DataFrame) -> pd.DataFrame:
    """One row per (feeder, street) stretch, longest first: its name, its two ends along its longer
    extent (``lon0, lat0`` to ``lon1, lat1``), its centre and its premises. Grouped, no per-row loop."""
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in STREET_COLUMNS})
    if "address" not in meters.columns or meters.empty:
        return empty
    m = meters[["address", "feeder_id", "lon", "lat"]].dropna(subset=["address", "lon", "lat"])
    street = m["address"].astype(str).str.replace(_NUMBER, "", regex=True).str.replace(_UNIT, "", regex=True)
    m = m.assign(name=street.str.strip(), feeder_id=m["feeder_id"].fillna(""))
    m = m[m["name"] != ""]
    if m.empty:
        return empty
    g = (
        m.groupby(["feeder_id", "name"], sort=False)
        .agg(
            x0=("lon", "min"),
            x1=("lon", "max"),
            y0=("lat", "min"),
            y1=("lat", "max"),
            lon=("lon", "mean"),
            lat=("lat", "mean"),
            premises=("lon", "size"),
        )
        .reset_index()
    )
    # the street runs along its longer extent (a degree of longitude is cos(lat) shorter)
    dx = (g["x1"] - g["x0"]) * np.cos(np.radians(g["lat"]))
    dy = g["y1"] - g["y0"]
    ew = dx >= dy
    out = pd.DataFrame(
        {
            "name": g["name"],
            "feeder_id": g["feeder_id"].replace("", None),
            "lon0": np.where(ew, g["x0"], g["lon"]),
            "lat0": np.where(ew, g["lat"], g["y0"]),
            "lon1": np.where(ew, g["x1"], g["lon"]),
            "lat1": np.where(ew, g["lat"], g["y1"]),
            "lon": g["lon"],
            "lat": g["lat"],
            "premises": g["premises"].astype(int),
            "_len": np.hypot(dx, dy),
        }
    )
    out = out.sort_values(["_len", "name"], ascending=[False, True], kind="stable").drop(columns="_len")
    return out.round({c: 6 for c in ("lon0", "lat0", "lon1", "lat1", "lon", "lat")}).reset_index(drop=True)


def streets_in(
    table: pd.DataFrame, box: tuple[float, float, float, float] | None, limit: int
) -> tuple[int, list[dict[str, Any]]]:
    """The stretches whose centre lies in ``box`` (all when None): how many, and the first ``limit``
    (longest first) as records with their path."""
    t = table
    if box is not None:
        t = t[(t["lon"] >= box[0]) & (t["lon"] <= box[2]) & (t["lat"] >= box[1]) & (t["lat"] <= box[3])]
    page = t.head(limit)
    rows: list[dict[str, Any]] = [
        {
            "name": r.name,
            "feeder_id": r.feeder_id,
            "path": [[r.lon0, r.lat0], [r.lon1, r.lat1]],
            "lon": r.lon,
            "lat": r.lat,
            "premises": r.premises,
        }
        for r in page.itertuples(index=False)
    ]
    return len(t), rows


def neighbourhood_labels(substations: pd.DataFrame) -> list[NeighbourhoodLabel]:
    """One label per substation service area, at the substation, with the generator's place name."""
    s = substations.dropna(subset=["lon", "lat"])
    names = s["name"].fillna(s["substation_id"]).astype(str) if "name" in s.columns else s["substation_id"]
    return [
        NeighbourhoodLabel(name=str(n), substation_id=str(i), lon=round(float(x), 6), lat=round(float(y), 6))
        for n, i, x, y in zip(names, s["substation_id"], s["lon"], s["lat"], strict=True)
    ]
