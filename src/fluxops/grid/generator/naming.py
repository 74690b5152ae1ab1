"""Stable string ids and human names for generated elements, built vectorized.

Why a module: ids are the contract every other part keys on (SUB-0012, FDR-0012-03, MTR-00000042).
They are formatted from integer positions in one place so their widths never drift.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

_OBJ = npt.NDArray[np.object_]


def id_parts(*parts: tuple[npt.ArrayLike, int]) -> _OBJ:
    """``<p1>-<p2>...`` with each integer part zero-padded to its width (vectorized)."""
    out: pd.Series | None = None
    for values, width in parts:
        s = pd.Series(np.asarray(values, dtype=np.int64)).astype(str).str.zfill(width)
        out = s if out is None else out + "-" + s
    if out is None:
        raise ValueError("id_parts() needs at least one part")
    return np.asarray(out.to_numpy(dtype=object), dtype=object)


def ids(prefix: str, *parts: tuple[npt.ArrayLike, int]) -> _OBJ:
    """``prefix-<p1>-<p2>...`` (see `id_parts`)."""
    return np.asarray(prefix + "-" + id_parts(*parts), dtype=object)


_FIRST = (
    "Bayou",
    "Cypress",
    "Post Oak",
    "Magnolia",
    "Willow",
    "Cedar",
    "Pecan",
    "Live Oak",
    "Prairie",
    "Gulf",
    "Bluebonnet",
    "Heights",
    "Meadow",
    "Spring",
    "Lake",
    "River",
    "Mill",
    "Hickory",
    "Pine",
    "Sycamore",
)
_SECOND = (
    "Park",
    "Ridge",
    "Creek",
    "Hollow",
    "Bend",
    "Grove",
    "Point",
    "Crossing",
    "Hills",
    "Glen",
    "Field",
    "Brook",
    "Run",
    "Vale",
)
_STREETS = (
    "Elm",
    "Maple",
    "Birch",
    "Ash",
    "Aspen",
    "Laurel",
    "Dogwood",
    "Holly",
    "Juniper",
    "Mesquite",
    "Sage",
    "Poplar",
    "Redbud",
    "Alder",
    "Hawthorn",
    "Linden",
    "Myrtle",
    "Olive",
    "Palm",
    "Spruce",
    "Tupelo",
    "Walnut",
    "Yaupon",
)
_STREET_KINDS = ("St", "Dr", "Ln", "Ct", "Way", "Trl", "Cir")
_ARTERIALS = (
    "Westheimer",
    "Bellaire",
    "Richmond",
    "Bissonnet",
    "Gessner",
    "Kirby",
    "Wilcrest",
    "Telge",
    "Barker Cypress",
    "Airline",
    "Aldine",
    "Antoine",
    "Fondren",
    "Hillcroft",
    "Almeda",
    "Cullen",
    "Wayside",
    "Mykawa",
)

PLACE_WORDS: tuple[str, ...] = (*_FIRST, *_ARTERIALS)
"""Local place words (neighbourhood and arterial names) for business and facility names."""


def substation_names(n: int, rng: np.random.Generator) -> list[str]:
    """Distinct place-like names; a number is appended once the pool is exhausted."""
    pool = [f"{a} {b}" for a in _FIRST for b in _SECOND]
    order = rng.permutation(len(pool))
    return [
        pool[order[i % len(pool)]] + ("" if i < len(pool) else f" {i // len(pool) + 1}") for i in range(n)
    ]


def street_names(feeder: npt.NDArray[np.int64], street: npt.NDArray[np.int64]) -> _OBJ:
    """Street of each customer: code 0 is the feeder's arterial, others the lateral's cross street."""
    lat_pool = np.array([f"{a} {k}" for k in _STREET_KINDS for a in _STREETS], dtype=object)
    art_pool = np.array([f"{a} Rd" for a in _ARTERIALS], dtype=object)
    lateral = lat_pool[(feeder * 31 + street) % len(lat_pool)]
    arterial = art_pool[feeder % len(art_pool)]
    return np.asarray(np.where(street == 0, arterial, lateral), dtype=object)
