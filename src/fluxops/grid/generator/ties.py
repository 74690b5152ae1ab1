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
_FALLBACK_NEIGHBOURS = 160  # a feeder has up to ~100 ends of its own
_TIE_SETBACK_M = 3.0  # the tie bus sits this far short of the other feeder's bus


@dataclass(frozen=True)
class Ties:
    a_node: _FI  # global node (feeder A end)
    b_node: _FI  # global node (feeder B)
    lon: _FF  # tie bus / switch position
    lat: _FF
    via_lon: _FF  # corner of the L-shaped tie run (nan: straight)
    via_lat: _FF


def _nearest_pairs(
    q: _FI, leaf: _FI, xy: _FF, tree: cKDTree, feeder: _FI, k: int, max_m: float
) -> pd.DataFrame:
    """For each query leaf position q (into ``leaf``), its nearest leaf on another feeder within max_m."""
    k = min(k, len(leaf))
    dist, nb = tree.query(xy[q], k=k)
    dist, nb = dist.reshape(len(q), k), nb.reshape(len(q), k)
    fa = feeder[leaf[q]][:, None]
    ok = (feeder[leaf[nb]] != fa) & (dist <= max_m) & (dist >= 10.0)
    rows = np.flatnonzero(ok.any(axis=1))
    first = np.argmax(ok, axis=1)[rows]
    cand = pd.DataFrame({"a": leaf[q[rows]], "b": leaf[nb[rows, first]], "d": dist[rows, first]})
    cand["fa"], cand["fb"] = feeder[cand["a"].to_numpy()], feeder[cand["b"].to_numpy()]
    cand["lo"], cand["hi"] = np.minimum(cand["fa"], cand["fb"]), np.maximum(cand["fa"], cand["fb"])
    return cand


def find_ties(
    leaf: _FI, lon: _FF, lat: _FF, feeder: _FI, *, max_m: float, per_feeder: int, fallback_m: float
) -> Ties:
    """Tie pairs among the candidate nodes ``leaf`` (global node indices into lon/lat/feeder).

    First pass: feeder ends within ``max_m`` of another feeder. Second pass: a feeder left without
    any tie gets a tie line to the nearest other feeder within ``fallback_m`` (as utilities build
    between isolated stations for backup)."""
    empty = Ties(*(np.zeros(0, np.int64),) * 2, *(np.zeros(0),) * 4)
    if len(leaf) < 2 or per_feeder == 0 or len(np.unique(feeder[leaf])) < 2:
        return empty
    lat0 = float(np.mean(lat[leaf]))
    xy = np.column_stack([lon[leaf] * m_per_deg_lon(lat0), lat[leaf] * M_PER_DEG_LAT])
    tree = cKDTree(xy)
    cand = _nearest_pairs(np.arange(len(leaf)), leaf, xy, tree, feeder, _NEIGHBOURS, max_m)
    cand = cand.sort_values(["d", "a"], kind="stable").drop_duplicates(["lo", "hi"])
    cand = cand[(cand.groupby("fa").cumcount() < per_feeder) & (cand.groupby("fb").cumcount() < per_feeder)]
    tied = np.union1d(cand["fa"].to_numpy(), cand["fb"].to_numpy())
    lonely = np.flatnonzero(~np.isin(feeder[leaf], tied))
    if len(lonely) and fallback_m > max_m:
        extra = _nearest_pairs(lonely, leaf, xy, tree, feeder, _FALLBACK_NEIGHBOURS, fallback_m)
        extra = (
            extra.sort_values(["d", "a"], kind="stable").drop_duplicates(["fa"]).drop_duplicates(["lo", "hi"])
        )
        cand = pd.concat([cand, extra], ignore_index=True)
    cand = cand.sort_values(["fa", "a"], kind="stable")
    a, b = cand["a"].to_numpy(), cand["b"].to_numpy()
    # L-shaped run: along the street (east-west) to the corner, then north-south to the tie bus.
    kx = m_per_deg_lon(lat0)
    leg2 = np.abs(lat[b] - lat[a]) * M_PER_DEG_LAT
    leg1 = np.abs(lon[b] - lon[a]) * kx
    bend = (leg2 >= 2 * _TIE_SETBACK_M) & (leg1 >= 1.0)
    via_lon = np.where(bend, lon[b], np.nan)
    via_lat = np.where(bend, lat[a], np.nan)
    start_lon = np.where(bend, lon[b], lon[a])
    start_lat = np.where(bend, lat[a], lat[a])
    run = np.maximum(np.hypot((lon[b] - start_lon) * kx, (lat[b] - start_lat) * M_PER_DEG_LAT), 1e-9)
    t = np.clip(1.0 - _TIE_SETBACK_M / run, 0.0, 1.0)
    return Ties(
        a_node=a,
        b_node=b,
        lon=start_lon + (lon[b] - start_lon) * t,
        lat=start_lat + (lat[b] - start_lat) * t,
        via_lon=via_lon,
        via_lat=via_lat,
    )
