"""`asset_index`: one row per addressable asset, with type, name, location and bounding box.

Why: the API's asset search (type, feeder, substation, bbox) and the store's spatially indexed
``assets`` table need every element type in one shape. Points have a degenerate bbox; feeders sit
at their head bus with the bbox of their segments; line segments sit at their midpoint with the
bbox of their geometry. Vectorized over every table (no per-row Python).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from fluxops.grid.models import Grid

ASSET_INDEX_COLUMNS: tuple[str, ...] = (
    "asset_id",
    "asset_type",
    "name",
    "feeder_id",
    "substation_id",
    "lon",
    "lat",
    "min_lon",
    "min_lat",
    "max_lon",
    "max_lat",
)
_DEVICE_LABEL = {
    "breaker": "Breaker",
    "recloser": "Recloser",
    "sectionalizer": "Sectionalizer",
    "fuse": "Fuse",
    "switch": "Switch",
    "tie_switch": "Tie switch",
    "bus_tie": "Bus tie",
}


def _fmt(values: pd.Series) -> pd.Series:
    """Numbers as short text (25.0 -> '25', 37.5 -> '37.5')."""
    return values.map("{:g}".format)


def _frame(
    asset_id: pd.Series,
    asset_type: str | pd.Series,
    name: pd.Series,
    feeder_id: pd.Series | None,
    substation_id: pd.Series,
    lon: pd.Series | np.ndarray,
    lat: pd.Series | np.ndarray,
    bbox: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> pd.DataFrame:
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    mn_lon, mn_lat, mx_lon, mx_lat = bbox if bbox is not None else (lon_a, lat_a, lon_a, lat_a)
    return pd.DataFrame(
        {
            "asset_id": np.asarray(asset_id, dtype=object),
            "asset_type": asset_type if isinstance(asset_type, str) else np.asarray(asset_type, dtype=object),
            "name": np.asarray(name, dtype=object),
            "feeder_id": None if feeder_id is None else np.asarray(feeder_id, dtype=object),
            "substation_id": np.asarray(substation_id, dtype=object),
            "lon": lon_a,
            "lat": lat_a,
            "min_lon": np.asarray(mn_lon, dtype=np.float64),
            "min_lat": np.asarray(mn_lat, dtype=np.float64),
            "max_lon": np.asarray(mx_lon, dtype=np.float64),
            "max_lat": np.asarray(mx_lat, dtype=np.float64),
        }
    )


def asset_index(grid: Grid) -> pd.DataFrame:
    """Every asset of every type in `ASSET_TYPES`, columns `ASSET_INDEX_COLUMNS`, grouped by table."""
    subs = grid.substations
    sub_name = subs.set_index("substation_id")["name"]
    feeder_name = grid.feeders.set_index("feeder_id")["name"]
    bus_xy = grid.buses.set_index("bus_id")[["lon", "lat"]]
    parts: list[pd.DataFrame] = []

    parts.append(
        _frame(subs.substation_id, "substation", subs.name, None, subs.substation_id, subs.lon, subs.lat)
    )

    stx = grid.substation_transformers
    at = bus_xy.reindex(stx.bus_id)
    stx_name = stx.substation_id.map(sub_name) + " power transformer " + _fmt(stx.rating_mva) + " MVA"
    parts.append(
        _frame(
            stx.transformer_id,
            "substation_transformer",
            stx_name,
            None,
            stx.substation_id,
            at.lon.to_numpy(),
            at.lat.to_numpy(),
        )
    )

    seg = grid.line_segments
    geom = shapely.from_wkb(seg.geometry_wkb.to_numpy())
    bounds = shapely.bounds(geom)
    mid = shapely.get_coordinates(shapely.line_interpolate_point(geom, 0.5, normalized=True))
    seg_name = seg.conductor + " " + seg.construction + " " + _fmt((seg.length_km * 1000).round(0)) + " m"
    parts.append(
        _frame(
            seg.segment_id,
            "line_segment",
            seg_name,
            seg.feeder_id,
            seg.substation_id,
            mid[:, 0],
            mid[:, 1],
            (bounds[:, 0], bounds[:, 1], bounds[:, 2], bounds[:, 3]),
        )
    )

    fdr = grid.feeders
    head = bus_xy.reindex(fdr.head_bus_id)
    fb = pd.DataFrame(
        {
            "feeder_id": seg.feeder_id.to_numpy(),
            "a": bounds[:, 0],
            "b": bounds[:, 1],
            "c": bounds[:, 2],
            "d": bounds[:, 3],
        }
    )
    agg = (
        fb.groupby("feeder_id")
        .agg(a=("a", "min"), b=("b", "min"), c=("c", "max"), d=("d", "max"))
        .reindex(fdr.feeder_id)
    )
    hl, hb = head.lon.to_numpy(), head.lat.to_numpy()
    parts.append(
        _frame(
            fdr.feeder_id,
            "feeder",
            fdr.name,
            fdr.feeder_id,
            fdr.substation_id,
            hl,
            hb,
            (
                np.fmin(agg.a.to_numpy(), hl),
                np.fmin(agg.b.to_numpy(), hb),
                np.fmax(agg.c.to_numpy(), hl),
                np.fmax(agg.d.to_numpy(), hb),
            ),
        )
    )

    dev = grid.devices
    where = dev.feeder_id.map(feeder_name).fillna(dev.substation_id.map(sub_name))
    dev_name = dev.device_type.map(_DEVICE_LABEL) + " (" + dev.state + "), " + where
    parts.append(
        _frame(dev.device_id, dev.device_type, dev_name, dev.feeder_id, dev.substation_id, dev.lon, dev.lat)
    )

    pole = grid.poles
    pole_name = pole.material.str.capitalize() + " pole, " + _fmt(pole.height_m) + " m"
    parts.append(
        _frame(pole.pole_id, "pole", pole_name, pole.feeder_id, pole.substation_id, pole.lon, pole.lat)
    )

    xf = grid.transformers
    xf_name = _fmt(xf.rating_kva) + " kVA " + xf.mounting + "-mount transformer, phase " + xf.phase
    parts.append(
        _frame(xf.transformer_id, "transformer", xf_name, xf.feeder_id, xf.substation_id, xf.lon, xf.lat)
    )

    mtr = grid.meters
    cust = grid.customers.set_index("customer_id")
    # Homes by their address (the premise); businesses by name and address; imported networks
    # without addresses by the customer's name, else the meter id.
    name_of = mtr.customer_id.map(cust["name"])
    home = mtr.customer_id.map(cust["customer_class"]).eq("residential").to_numpy()
    with_name = (name_of + ", " + mtr.address).to_numpy(dtype=object)
    mtr_name = pd.Series(np.where(home, mtr.address, with_name), index=mtr.index)
    mtr_name = mtr_name.fillna(mtr.address).fillna(name_of).fillna(mtr.meter_id)
    parts.append(_frame(mtr.meter_id, "meter", mtr_name, mtr.feeder_id, mtr.substation_id, mtr.lon, mtr.lat))

    out = pd.concat([p for p in parts if len(p)], ignore_index=True)
    return out.loc[:, list(ASSET_INDEX_COLUMNS)]
