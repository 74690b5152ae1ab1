"""Street and neighbourhood labels from the generator's street grid (`fluxops.geo.basemap`)."""

from __future__ import annotations

import pandas as pd

from fluxops.geo import basemap
from fluxops.grid.models import Grid


def test_streets_come_from_the_premise_addresses(tiny_grid: Grid) -> None:
    t = basemap.street_table(tiny_grid.meters)
    assert len(t) > 0
    # every name is an address with the house number (and unit) taken off
    names = set(tiny_grid.meters["address"].str.replace(r"^\d+\s+", "", regex=True))
    assert set(t["name"]) <= {n.split(" Unit ")[0].split(" Ste ")[0] for n in names}
    assert not t["name"].str.match(r"^\d").any()
    # premises add up to the addressed meters
    assert t["premises"].sum() == tiny_grid.meters["address"].notna().sum()
    # each stretch's ends bound its centre
    assert (
        (t["lon"] >= t[["lon0", "lon1"]].min(axis=1) - 1e-6)
        & (t["lon"] <= t[["lon0", "lon1"]].max(axis=1) + 1e-6)
    ).all()


def test_a_street_runs_along_its_longer_extent() -> None:
    meters = pd.DataFrame(
        {
            "address": ["101 Elm St", "103 Elm St", "105 Elm St Unit 2", "7 Oak Ave", "9 Oak Ave"],
            "feeder_id": ["F1", "F1", "F1", "F1", "F1"],
            "lon": [-95.0, -94.99, -94.98, -95.0, -95.0],
            "lat": [29.0, 29.0, 29.0, 29.0, 29.01],
        }
    )
    t = basemap.street_table(meters).set_index("name")
    assert t.loc["Elm St", "premises"] == 3
    assert t.loc["Elm St", "lat0"] == t.loc["Elm St", "lat1"]  # east-west
    assert t.loc["Oak Ave", "lon0"] == t.loc["Oak Ave", "lon1"]  # north-south
    total, rows = basemap.streets_in(basemap.street_table(meters), (-95.001, 28.99, -94.995, 29.02), 10)
    assert total == 1 and rows[0]["name"] == "Oak Ave" and rows[0]["path"][0] == [-95.0, 29.0]


def test_no_addresses_no_labels() -> None:
    meters = pd.DataFrame({"feeder_id": ["F1"], "lon": [0.0], "lat": [0.0]})
    assert basemap.street_table(meters).empty
    assert basemap.streets_in(basemap.street_table(meters), None, 5) == (0, [])


def test_neighbourhoods_are_the_substation_names(tiny_grid: Grid) -> None:
    hoods = basemap.neighbourhood_labels(tiny_grid.substations)
    assert [h.name for h in hoods] == list(tiny_grid.substations["name"])
