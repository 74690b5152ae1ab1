"""Turn per-feeder arrays into the model's tables (`fluxops.grid.models.TABLES`), vectorized.

Why separate from the layout: the layout works in small per-feeder integer frames; here every
array is concatenated once, global indices are offset, ties and poles are derived over the whole
grid, and string ids are formatted once per table (never per row).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from fluxops.grid.generator import catalog as cat
from fluxops.grid.generator.feeder import SEG, FeederArrays
from fluxops.grid.generator.geography import M_PER_DEG_LAT, m_per_deg_lon
from fluxops.grid.generator.naming import id_parts, ids
from fluxops.grid.generator.substation import TransformerPlan
from fluxops.grid.models import PHASES

_FI = npt.NDArray[np.int64]
_FF = npt.NDArray[np.float64]
_OBJ = npt.NDArray[np.object_]
_DEVICE_PREFIX = {1: "BRK", 2: "RCL", 3: "SEC", 4: "FUS", 5: "SW"}
_DEVICE_TYPE = {1: "breaker", 2: "recloser", 3: "sectionalizer", 4: "fuse", 5: "switch"}
PHASE_NAMES = np.asarray(PHASES, dtype=object)


@dataclass(frozen=True)
class Nodes:
    """All feeders' buses concatenated (global index = position)."""

    lon: _FF
    lat: _FF
    parent: _FI  # global; -1 = the feeder's substation bus section
    kind: npt.NDArray[np.int8]
    conductor: npt.NDArray[np.int8]
    rating_a: _FF
    year: _FI
    feeder: _FI  # global feeder index
    local: _FI  # 1-based number within the feeder (the id suffix)
    bus_id: _OBJ
    via_lon: _FF  # corner point of the edge into the node (nan: straight from the parent)
    via_lat: _FF
    phases: npt.NDArray[np.int8]  # phase set of the edge into the node (index into PHASES)


def concat_nodes(feeders: list[FeederArrays], sub_no: _FI, feeder_no: _FI) -> tuple[Nodes, _FI]:
    """Concatenate node arrays; returns the nodes and each feeder's node offset."""
    sizes = np.array([len(f.lon) for f in feeders], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    fidx = np.repeat(np.arange(len(feeders)), sizes)
    parent_local = np.concatenate([f.parent for f in feeders])
    parent = np.where(parent_local >= 0, parent_local + offsets[fidx], -1)
    local = np.arange(int(sizes.sum())) - offsets[fidx] + 1
    nodes = Nodes(
        lon=np.concatenate([f.lon for f in feeders]),
        lat=np.concatenate([f.lat for f in feeders]),
        parent=parent,
        kind=np.concatenate([f.kind for f in feeders]),
        conductor=np.concatenate([f.conductor for f in feeders]),
        rating_a=np.concatenate([f.device_rating_a for f in feeders]),
        year=np.concatenate([f.install_year for f in feeders]),
        feeder=fidx,
        local=local,
        bus_id=ids("BUS", (sub_no[fidx], 4), (feeder_no[fidx], 2), (local, 5)),
        via_lon=np.full(len(fidx), np.nan),
        via_lat=np.full(len(fidx), np.nan),
        phases=np.concatenate([f.phases for f in feeders]),
    )
    return nodes, offsets


def length_m(lon0: _FF, lat0: _FF, lon1: _FF, lat1: _FF) -> _FF:
    """Equirectangular distance in metres (exact enough over a feeder's few km)."""
    mid = (lat0 + lat1) / 2.0
    return np.asarray(
        np.hypot((lon1 - lon0) * m_per_deg_lon(mid), (lat1 - lat0) * M_PER_DEG_LAT), dtype=np.float64
    )


def segments_table(
    nodes: Nodes, feeder_ids: _OBJ, sub_ids_of_feeder: _OBJ, sub_no: _FI, feeder_no: _FI
) -> pd.DataFrame:
    seg = np.flatnonzero(nodes.kind == SEG)
    par = nodes.parent[seg]
    code = nodes.conductor[seg].astype(np.int64)
    cond = cat.CONDUCTORS
    lon0, lat0, lon1, lat1 = nodes.lon[par], nodes.lat[par], nodes.lon[seg], nodes.lat[seg]
    vlon, vlat = nodes.via_lon[seg], nodes.via_lat[seg]
    bent = ~np.isnan(vlon)
    # Straight segments: 2 points; L-shaped ones (tie runs): 3 points via the corner.
    n_pts = np.where(bent, 3, 2)
    first = np.cumsum(n_pts) - n_pts
    xs = np.empty(int(n_pts.sum()))
    ys = np.empty_like(xs)
    xs[first], ys[first] = lon0, lat0
    xs[first + 1], ys[first + 1] = np.where(bent, vlon, lon1), np.where(bent, vlat, lat1)
    xs[first[bent] + 2], ys[first[bent] + 2] = lon1[bent], lat1[bent]
    geom = shapely.to_wkb(shapely.linestrings(xs, ys, indices=np.repeat(np.arange(len(seg)), n_pts)))
    straight = length_m(lon0, lat0, lon1, lat1)
    elbow = length_m(lon0, lat0, vlon, vlat) + length_m(vlon, vlat, lon1, lat1)
    seg_len = np.where(bent, elbow, straight)
    f = nodes.feeder[seg]
    return pd.DataFrame(
        {
            "segment_id": ids("SEG", (sub_no[f], 4), (feeder_no[f], 2), (nodes.local[seg], 5)),
            "feeder_id": feeder_ids[f],
            "substation_id": sub_ids_of_feeder[f],
            "from_bus_id": nodes.bus_id[par],
            "to_bus_id": nodes.bus_id[seg],
            "construction": np.array([c.construction for c in cond], dtype=object)[code],
            "conductor": np.array([c.name for c in cond], dtype=object)[code],
            "length_km": np.round(seg_len / 1000.0, 5),
            "r_ohm_per_km": np.round(np.array([c.r_ohm_per_km for c in cond])[code], 4),
            "x_ohm_per_km": np.round(np.array([c.x_ohm_per_km for c in cond])[code], 4),
            "ampacity_a": np.array([c.ampacity_a for c in cond])[code],
            "install_year": nodes.year[seg].astype(np.int32),
            "geometry_wkb": geom,
            "phases": PHASE_NAMES[nodes.phases[seg]],
        }
    )


def feeder_devices_table(
    nodes: Nodes,
    feeder_ids: _OBJ,
    sub_ids_of_feeder: _OBJ,
    section_bus_of_feeder: _OBJ,
    sub_no: _FI,
    feeder_no: _FI,
) -> pd.DataFrame:
    dev = np.flatnonzero(nodes.kind != SEG)
    kind = nodes.kind[dev].astype(np.int64)
    f = nodes.feeder[dev]
    par = nodes.parent[dev]
    prefix = np.array(["", *(_DEVICE_PREFIX[k] for k in range(1, 6))], dtype=object)[kind]
    dtype = np.array(["", *(_DEVICE_TYPE[k] for k in range(1, 6))], dtype=object)[kind]
    body = id_parts((sub_no[f], 4), (feeder_no[f], 2), (nodes.local[dev], 5))
    brk = ids("BRK", (sub_no[f], 4), (feeder_no[f], 2))
    device_id = np.where(kind == 1, brk, prefix + "-" + body)
    from_bus = np.where(par >= 0, nodes.bus_id[np.maximum(par, 0)], section_bus_of_feeder[f])
    return pd.DataFrame(
        {
            "device_id": device_id,
            "device_type": dtype,
            "feeder_id": feeder_ids[f],
            "substation_id": sub_ids_of_feeder[f],
            "from_bus_id": from_bus,
            "to_bus_id": nodes.bus_id[dev],
            "lon": nodes.lon[dev],
            "lat": nodes.lat[dev],
            "normal_state": "closed",
            "state": "closed",
            "rating_a": nodes.rating_a[dev],
            "tie_feeder_id": None,
            "phases": PHASE_NAMES[nodes.phases[dev]],
        }
    )


def substation_tables(
    plans: list[TransformerPlan],
    sub_ids: _OBJ,
    sub_lon: _FF,
    sub_lat: _FF,
    era: _FI,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Bus sections, power transformers and normally-open bus ties of every substation."""
    n_tx = np.array([pl.n for pl in plans], dtype=np.int64)
    s = np.repeat(np.arange(len(plans)), n_tx)
    sec = np.arange(len(s)) - np.repeat(np.cumsum(n_tx) - n_tx, n_tx) + 1
    sub_no = s + 1
    bus_ids = ids("BUS", (sub_no, 4)) + "-S" + sec.astype(str).astype(object)
    lon = sub_lon[s] + (sec - 1) * 0.0001
    lat = sub_lat[s]
    rating = np.concatenate([pl.rating_mva for pl in plans]) if len(s) else np.zeros(0)
    buses = pd.DataFrame(
        {
            "bus_id": bus_ids,
            "bus_type": "substation",
            "feeder_id": None,
            "substation_id": sub_ids[s],
            "lon": lon,
            "lat": lat,
            "v_nom_kv": cat.V_PRIMARY_KV,
        }
    )
    # Impedance 7.5-10 % on own base and X/R rising with size (IEEE C57.12.10 typical ranges).
    stx = pd.DataFrame(
        {
            "transformer_id": ids("STX", (sub_no, 4)) + "-" + sec.astype(str).astype(object),
            "substation_id": sub_ids[s],
            "bus_id": bus_ids,
            "rating_mva": rating,
            "z_pct": np.round(rng.uniform(7.5, 10.0, len(s)), 2),
            "x_r_ratio": np.round(12.0 + 0.4 * rating + rng.uniform(-2.0, 2.0, len(s)), 1),
            "install_year": np.clip(era[s] + rng.integers(0, 30, len(s)), 1950, 2025).astype(np.int32),
        }
    )
    tie = np.flatnonzero(sec > 1)
    bus_ties = pd.DataFrame(
        {
            "device_id": ids("BT", (sub_no[tie], 4)) + "-" + (sec[tie] - 1).astype(str).astype(object),
            "device_type": "bus_tie",
            "feeder_id": None,
            "substation_id": sub_ids[s[tie]],
            "from_bus_id": bus_ids[tie - 1],
            "to_bus_id": bus_ids[tie],
            "lon": (lon[tie - 1] + lon[tie]) / 2,
            "lat": lat[tie],
            "normal_state": "open",
            "state": "open",
            "rating_a": 2000.0,
            "tie_feeder_id": None,
            "phases": "ABC",
        }
    )
    return buses, stx, bus_ties
