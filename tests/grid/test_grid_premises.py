"""Premises of the generated utility: addresses unique within a ZIP, ZIPs by street-grid cell,
customer names by class, ten-digit account numbers; deterministic for the seed."""

from __future__ import annotations

import numpy as np

from fluxops.grid.generator import generate_grid
from fluxops.grid.generator.premises import (
    ZIP_CELL_DEG,
    account_numbers,
    customer_names,
    premise_addresses,
    zip_codes,
)
from fluxops.grid.models import Grid


def test_generated_premises(tiny_grid: Grid) -> None:
    m, c = tiny_grid.meters, tiny_grid.customers
    assert m.address.notna().all() and m.zip_code.notna().all() and c.account_id.notna().all()
    assert not (m.address + "|" + m.zip_code).duplicated().any()
    assert m.zip_code.str.fullmatch(r"77[0-2][0-9]{2}").all()
    assert m.address.str.fullmatch(
        r"[0-9]+ [A-Za-z ]+ (St|Dr|Ln|Ct|Way|Trl|Cir|Rd)( (Ste|Unit) [0-9]+)?"
    ).all()
    assert c.account_id.str.fullmatch(r"41[0-9]{8}").all() and c.account_id.is_unique
    klass = c.set_index("customer_id").customer_class
    homes = c[c.customer_class == "residential"]
    assert homes.name.str.fullmatch(r"[A-Z]\. [A-Z][a-z]+").all()
    business = c[c.customer_class != "residential"]
    assert not business.name.str.fullmatch(r"[A-Z]\. [A-Z][a-z]+").any()
    crit = c[c.is_critical]
    assert crit.name.str.contains("Hospital|Water Plant|Fire/EMS Station|Telecom Hub").all()
    assert set(klass.index) == set(m.customer_id)


def test_premises_are_deterministic_and_seeded() -> None:
    a = generate_grid("tiny", seed=5)
    b = generate_grid("tiny", seed=5)
    other = generate_grid("tiny", seed=6)
    assert a.meters.address.tolist() == b.meters.address.tolist()
    assert a.customers.name.tolist() == b.customers.name.tolist()
    assert a.customers.name.tolist() != other.customers.name.tolist()


def test_zip_cells_and_numbering() -> None:
    lon = np.array([-95.40, -95.40 + ZIP_CELL_DEG / 4, -95.40 + ZIP_CELL_DEG * 1.5])
    lat = np.full(3, 29.70 + ZIP_CELL_DEG / 2)
    z = zip_codes(lon, lat)
    assert z[0] == z[1] != z[2]
    # one street name on two stretches (two feeders) in one ZIP: the second continues a block up
    feeder = np.array([0, 0, 161, 161])  # (feeder * 31 + street) % 161 gives both the same name
    street = np.array([1, 1, 1, 1])
    house = np.array([101, 103, 101, 103])
    address, zips = premise_addresses(
        feeder, street, house, np.full(4, -95.4), np.full(4, 29.7), np.zeros(4, int)
    )
    assert len(set(zips)) == 1
    assert address[0].split()[1:] == address[2].split()[1:]
    assert [a.split()[0] for a in address] == ["101", "103", "1101", "1103"]
    # two premises at one number (one strip centre): suites
    same, _ = premise_addresses(
        np.array([0, 0]),
        np.array([0, 0]),
        np.array([301, 301]),
        np.full(2, -95.4),
        np.full(2, 29.7),
        np.ones(2, int),
    )
    assert same[0] + " Ste 2" == same[1]
    assert account_numbers([1, 23])[1] == "4100000023"
    names = customer_names(np.array([0, 1, 2, 1]), np.array([-1, -1, -1, 0]), seed=1)
    assert names[3].endswith("Hospital") and names[0][1:3] == ". "
