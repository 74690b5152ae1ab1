"""Premise addresses, ZIP codes, customer names and account numbers for generated customers.

Why: an engineer looks a customer up by the address on a trouble call, the account number on a bill
or the customer's name; the generator's customers need all three. Everything is vectorized and drawn
from its own generator seeded by ``(seed, 9)``, so adding it never shifts the grid's other draws.

* **Address**: house number along the lateral (or arterial) and the street name
  (`fluxops.grid.generator.naming.street_names`), e.g. ``1203 Elm St``. Street names repeat across
  feeders, so where one name runs on several laterals (or trunks) in one ZIP, each further stretch is
  numbered from the next thousand (ten thousand on arterials): ``101 Elm St``, ``1101 Elm St``. Premises
  still sharing a number (two pad-mounts at one strip centre) get ``Ste 2`` (homes: ``Unit 2``).
* **ZIP code**: synthetic 770xx-772xx codes, one per cell of `ZIP_CELL_DEG` (≈ 4.4 km) of the
  street grid, so neighbours share a code and adjacent cells differ. They are not real ZIP
  boundaries (a real code is a postal delivery area).
* **Customer name**: homes get a neutral generated personal name (an initial and one of the most
  common US surnames, US Census 2010 surname list); commercial and industrial customers a business-like
  name (a local place word and a trade); critical facilities a place word and their kind.
* **Account number**: ten digits, ``41`` and the customer's sequence number, unique per grid.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from fluxops.grid.generator.naming import PLACE_WORDS, street_names

_OBJ = npt.NDArray[np.object_]
ZIP_CELL_DEG = 0.04  # ~4.4 km north-south, ~3.9 km east-west at Houston's latitude
ZIP_FIRST = 77001
ZIP_COUNT = 299  # 77001..77299
# A street that appears on several laterals / feeders in one ZIP continues: each further stretch is
# numbered from the next block of this size (laterals hold <= 7 sites of 100 numbers, trunks <= ~60 blocks).
LATERAL_BLOCK = 1000
ARTERIAL_BLOCK = 10000

# The 40 most frequent surnames of the US Census 2010 surname file (frequency order).
_SURNAMES = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
)
_INITIALS = tuple("ABCDEFGHJKLMNPRSTVW")
_TRADES = (
    "Dental Clinic",
    "Auto Repair",
    "Market",
    "Laundromat",
    "Pharmacy",
    "Cafe",
    "Hardware",
    "Fitness",
    "Bakery",
    "Insurance Agency",
    "Veterinary Clinic",
    "Print Shop",
    "Salon",
    "Tire & Lube",
    "Daycare",
    "Grill",
    "Office Suites",
    "Self Storage",
)
_INDUSTRIES = (
    "Manufacturing",
    "Cold Storage",
    "Plastics",
    "Fabrication",
    "Distribution Center",
    "Machine Works",
)
_CRITICAL_KIND = ("Hospital", "Water Plant", "Fire/EMS Station", "Telecom Hub")


def _pool(*parts: tuple[str, ...], sep: str = " ") -> _OBJ:
    """Every combination of the parts' words, joined (row-major: the last part varies fastest)."""
    out = np.array([""], dtype=object)
    for i, words in enumerate(parts):
        w = np.asarray(words, dtype=object)
        out = (out[:, None] + (sep if i else "") + w[None, :]).ravel()
    return out


_ZIP_TEXT = np.array([str(ZIP_FIRST + i) for i in range(ZIP_COUNT)], dtype=object)
_PERSONS = _pool(tuple(f"{c}." for c in _INITIALS), _SURNAMES)
_BUSINESSES = _pool(PLACE_WORDS, _TRADES)
_PLANTS = _pool(PLACE_WORDS, _INDUSTRIES)
# kind-major: index = kind * len(PLACE_WORDS) + place, e.g. "Cypress Hospital"
_FACILITIES = np.array([f"{place} {kind}" for kind in _CRITICAL_KIND for place in PLACE_WORDS], dtype=object)


def zip_codes(lon: npt.ArrayLike, lat: npt.ArrayLike) -> _OBJ:
    """A 5-digit ZIP per point: one code per `ZIP_CELL_DEG` cell (see the module doc)."""
    ix = np.floor((np.asarray(lon, dtype=np.float64) + 180.0) / ZIP_CELL_DEG).astype(np.int64)
    iy = np.floor((np.asarray(lat, dtype=np.float64) + 90.0) / ZIP_CELL_DEG).astype(np.int64)
    return np.asarray(_ZIP_TEXT[(ix * 37 + iy * 11) % ZIP_COUNT], dtype=object)


def account_numbers(seq: npt.ArrayLike) -> _OBJ:
    """Ten-digit account numbers ``41`` + the zero-padded sequence number (unique per grid)."""
    return np.array([f"41{int(i):08d}" for i in np.asarray(seq, dtype=np.int64)], dtype=object)


def customer_names(klass: npt.NDArray[np.int64], critical: npt.NDArray[np.int64], seed: int) -> _OBJ:
    """Names by class (0 residential, 1 commercial, 2 industrial) and critical kind (-1: none)."""
    n = len(klass)
    rng = np.random.default_rng([seed, 9])
    person = _PERSONS[rng.integers(0, len(_PERSONS), n)]
    business = _BUSINESSES[rng.integers(0, len(_BUSINESSES), n)]
    plant = _PLANTS[rng.integers(0, len(_PLANTS), n)]
    place = rng.integers(0, len(PLACE_WORDS), n)
    facility = _FACILITIES[np.maximum(critical, 0) * len(PLACE_WORDS) + place]
    name = np.where(
        critical >= 0, facility, np.where(klass == 0, person, np.where(klass == 2, plant, business))
    )
    return np.asarray(name, dtype=object)


def premise_addresses(
    feeder: npt.NDArray[np.int64],
    street: npt.NDArray[np.int64],
    house_no: npt.NDArray[np.int64],
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    klass: npt.NDArray[np.int64],
) -> tuple[_OBJ, _OBJ]:
    """(address, zip_code) per customer, unique within a ZIP (see the module doc). ``feeder`` is the
    feeder's global index, ``street`` its lateral number (0: the arterial)."""
    name = street_names(feeder, street)
    zip_code = zip_codes(lon, lat)
    name_idx = pd.factorize(pd.Series(name, dtype=object))[0].astype(np.int64)
    zip_idx = pd.factorize(pd.Series(zip_code, dtype=object))[0].astype(np.int64)
    group = name_idx * (ZIP_COUNT + 1) + zip_idx
    stretch = np.asarray(feeder, dtype=np.int64) * 100_000 + np.asarray(street, dtype=np.int64)
    pairs, inverse = np.unique(group * (1 << 32) + stretch, return_inverse=True)
    pair_group = pairs >> 32
    starts = np.flatnonzero(np.r_[True, pair_group[1:] != pair_group[:-1]])
    first = np.repeat(starts, np.diff(np.r_[starts, len(pairs)]))
    rank = (np.arange(len(pairs)) - first)[inverse.ravel()]
    number = np.asarray(house_no, dtype=np.int64) + rank * np.where(
        street == 0, ARTERIAL_BLOCK, LATERAL_BLOCK
    )
    # premises still sharing (number, street, ZIP): the 2nd, 3rd... get a unit / suite number
    same = (group * 1_000_000 + number) if len(number) else number
    order = np.argsort(same, kind="stable")
    s_sorted = same[order]
    run_start = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]]) if len(same) else np.zeros(0, int)
    dup_rank = np.empty(len(same), dtype=np.int64)
    dup_rank[order] = np.arange(len(same)) - np.repeat(run_start, np.diff(np.r_[run_start, len(same)]))
    # format each distinct (number, street) once
    numbered, idx = np.unique(name_idx * 1_000_000 + number, return_inverse=True)
    names_u = pd.unique(pd.Series(name, dtype=object))
    text = np.array([f"{int(k % 1_000_000)} {names_u[int(k // 1_000_000)]}" for k in numbered], dtype=object)
    address = text[idx.ravel()]
    dup = np.flatnonzero(dup_rank > 0)
    if len(dup):
        unit = np.where(np.asarray(klass)[dup] == 0, " Unit ", " Ste ")
        address[dup] = [f"{a}{u}{r + 1}" for a, u, r in zip(address[dup], unit, dup_rank[dup], strict=True)]
    return np.asarray(address, dtype=object), zip_code
