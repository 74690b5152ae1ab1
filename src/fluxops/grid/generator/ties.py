"""Normally-open tie switches between neighbouring feeders (same or different substations).

Why derived after layout: a tie exists where two feeders' lines come close (lateral ends of
adjacent feeders, trunk ends meeting a neighbour). For every feeder end we look up the nearest
bus of another feeder (KD-tree over all tie candidates), keep the shortest link per feeder pair and
at most ``ties_per_feeder`` per feeder. The tie is a short line from feeder A's end to a tie bus,
then an open switch to feeder B's bus.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

from fluxops.grid.generator.geography import M_PER_DEG_LAT, m_per_deg_lon

_FI = npt.NDArray[np.int64]
_FF = npt.NDArray[np.float64]
_NEIGHBOURS = 12
_TIE_SETBACK_M = 3.0  # the tie bus sits this far short of the other feeder's bus


@dataclass(frozen=True)
class Ties:
    a_node: _FI  # global node (feeder A end)
    b_node: _FI  # global node (feeder B)
    lon: _FF  # tie bus / switch position
    lat: _FF


def find_ties(leaf: _FI, lon: _FF, lat: _FF, feeder: _FI, *, max_m: float, per_feeder: int) -> Ties:
    """Tie pairs among the candidate nodes ``leaf`` (global node indices into lon/lat/feeder)."""
    empty = Ties(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
    if len(leaf) < 2 or per_feeder == 0 or len(np.unique(feeder[leaf])) < 2:
        return empty
    lat0 = float(np.mean(lat[leaf]))
    xy = np.column_stack([lon[leaf] * m_per_deg_lon(lat0), lat[leaf] * M_PER_DEG_LAT])
    k = min(_NEIGHBOURS, len(leaf))
    dist, nb = cKDTree(xy).query(xy, k=k)
    fa = feeder[leaf][:, None]
    fb = feeder[leaf][nb]
    ok = (fb != fa) & (dist <= max_m) & (dist >= 10.0)
    has = ok.any(axis=1)
    first = np.argmax(ok, axis=1)
    rows = np.flatnonzero(has)
    if len(rows) == 0:
        return empty
    cand = pd.DataFrame({"a": leaf[rows], "b": leaf[nb[rows, first[rows]]], "d": dist[rows, first[rows]]})
    cand["fa"], cand["fb"] = feeder[cand["a"].to_numpy()], feeder[cand["b"].to_numpy()]
    cand["lo"], cand["hi"] = np.minimum(cand["fa"], cand["fb"]), np.maximum(cand["fa"], cand["fb"])
    cand = cand.sort_values(["d", "a"], kind="stable").drop_duplicates(["lo", "hi"])
    cand = cand[(cand.groupby("fa").cumcount() < per_feeder) & (cand.groupby("fb").cumcount() < per_feeder)]
    cand = cand.sort_values(["fa", "a"], kind="stable")
    a, b = cand["a"].to_numpy(), cand["b"].to_numpy()
    d = np.maximum(cand["d"].to_numpy(), 1e-9)
    t = np.clip(1.0 - _TIE_SETBACK_M / d, 0.0, 1.0)
    return Ties(a_node=a, b_node=b, lon=lon[a] + (lon[b] - lon[a]) * t, lat=lat[a] + (lat[b] - lat[a]) * t)
