"""Cached pages equal sorting and filtering the whole table (ties by asset id, missing values last)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fluxops.risk.paging import ScoredView


def test_pages_equal_a_full_sort() -> None:
    rng = np.random.default_rng(0)
    n = 500
    f = pd.DataFrame(
        {
            "asset_id": [f"A{i:04d}" for i in rng.permutation(n)],
            "asset_type": rng.choice(["transformer", "pole"], n),
            "feeder_id": rng.choice(["F1", "F2", "F3"], n),
            "probability": rng.choice([0.1, 0.2, 0.3], n),  # many ties
            "risk": np.where(rng.random(n) < 0.3, np.nan, rng.random(n)),
        }
    )
    view = ScoredView(f)
    for sort in ("-probability", "probability", "-risk", "asset_id"):
        col, asc = (sort[1:], False) if sort.startswith("-") else (sort, True)
        for filt in (
            {},
            {"asset_type": "pole"},
            {"asset_type": "pole", "feeder_id": "F2"},
            {"feeder_id": "F9"},
        ):
            want = f
            for k, v in filt.items():
                want = want[want[k] == v]
            want = want.sort_values(
                [col, "asset_id"], ascending=[asc, True], kind="stable", na_position="last"
            )
            total, page = view.page({**filt, "substation_id": None}, sort, 7, 50)
            assert total == len(want)
            assert list(page["asset_id"]) == list(want["asset_id"].iloc[7:57]), (sort, filt)
