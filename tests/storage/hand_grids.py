"""Small hand-built grids for storage tests: two distinct grids (for swap tests) and awkward values
(quotes in ids, nulls, empty strings, binary geometry) that a generated grid may not contain."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from fluxops.grid.models import Grid, GridMeta, grid_from_tables


def hand_grid(tag: str = "A", feeders: int = 2, per_feeder: int = 5, seed: int = 0) -> Grid:
    """One substation, ``feeders`` feeders, each a chain of ``per_feeder`` buses with a transformer,
    a pole, a meter and a customer per bus. Ids carry ``tag`` so two grids never share an id."""
    rng = np.random.default_rng(seed)
    sub = f"SUB-{tag}'1"  # a quote in an id: parameterization must carry it
    lon0, lat0 = -95.37, 29.76
    t = {
        "substations": pd.DataFrame(
            {
                "substation_id": [sub],
                "name": [f"Sub {tag}"],
                "lon": [lon0],
                "lat": [lat0],
                "v_hv_kv": [138.0],
                "v_lv_kv": [12.47],
            }
        ),
        "substation_transformers": pd.DataFrame(
            {
                "transformer_id": [f"STX-{tag}"],
                "substation_id": [sub],
                "bus_id": [f"BUS-{tag}-S"],
                "rating_mva": [28.0],
                "z_pct": [8.5],
                "x_r_ratio": [20.0],
                "install_year": [1998],
            }
        ),
    }
    buses = [
        {
            "bus_id": f"BUS-{tag}-S",
            "bus_type": "substation",
            "feeder_id": None,
            "substation_id": sub,
            "lon": lon0,
            "lat": lat0,
            "v_nom_kv": 12.47,
        }
    ]
    fdrs, segs, devs, poles, xfmrs, meters, custs = [], [], [], [], [], [], []
    for f in range(feeders):
        fid = f"FDR-{tag}-{f}"
        fdrs.append(
            {
                "feeder_id": fid,
                "name": f"Feeder {f}",
                "substation_id": sub,
                "transformer_id": f"STX-{tag}",
                "head_bus_id": f"BUS-{tag}-{f}-0",
                "head_device_id": f"BRK-{tag}-{f}",
                "v_nom_kv": 12.47,
            }
        )
        devs.append(
            {
                "device_id": f"BRK-{tag}-{f}",
                "device_type": "breaker",
                "feeder_id": fid,
                "substation_id": sub,
                "from_bus_id": f"BUS-{tag}-S",
                "to_bus_id": f"BUS-{tag}-{f}-0",
                "lon": lon0,
                "lat": lat0,
                "normal_state": "closed",
                "state": "closed",
                "rating_a": 600.0,
                "tie_feeder_id": None,
            }
        )
        prev = (lon0, lat0)
        for i in range(per_feeder):
            bid = f"BUS-{tag}-{f}-{i}"
            # f == 0 runs due east (a horizontal segment: degenerate bbox in latitude)
            lon = prev[0] + 0.004 + (rng.uniform(0, 0.002) if f else 0.0)
            lat = prev[1] + (0.0 if f == 0 else 0.003 * (1 if f % 2 else -1))
            buses.append(
                {
                    "bus_id": bid,
                    "bus_type": "junction",
                    "feeder_id": fid,
                    "substation_id": sub,
                    "lon": lon,
                    "lat": lat,
                    "v_nom_kv": 12.47,
                }
            )
            frm = f"BUS-{tag}-S" if i == 0 else f"BUS-{tag}-{f}-{i - 1}"
            segs.append(
                {
                    "segment_id": f"SEG-{tag}-{f}-{i}",
                    "feeder_id": fid,
                    "substation_id": sub,
                    "from_bus_id": frm,
                    "to_bus_id": bid,
                    "construction": "overhead" if i % 2 else "underground",
                    "conductor": "" if i == 1 else "336 ACSR",
                    "length_km": 0.45 + i / 7,
                    "r_ohm_per_km": 0.1901,
                    "x_ohm_per_km": 0.3838,
                    "ampacity_a": 530.0,
                    "install_year": 2001,
                    "geometry_wkb": shapely.to_wkb(shapely.LineString([prev, (lon, lat)])),
                }
            )
            poles.append(
                {
                    "pole_id": f"POL-{tag}-{f}-{i}",
                    "feeder_id": fid,
                    "substation_id": sub,
                    "bus_id": bid if i % 2 else None,
                    "segment_id": f"SEG-{tag}-{f}-{i}",
                    "lon": lon,
                    "lat": lat,
                    "material": "wood",
                    "height_m": 12.2,
                    "install_year": 1990 + i,
                }
            )
            xid, mid, cid = f"XFMR-{tag}-{f}-{i}", f"MTR-{tag}-{f}-{i}", f"CUS-{tag}-{f}-{i}"
            xfmrs.append(
                {
                    "transformer_id": xid,
                    "feeder_id": fid,
                    "substation_id": sub,
                    "bus_id": bid,
                    "lon": lon + 0.0001,
                    "lat": lat,
                    "rating_kva": 50.0,
                    "phase": "A",
                    "mounting": "pole",
                    "z_pct": 2.0,
                    "install_year": 2005,
                }
            )
            meters.append(
                {
                    "meter_id": mid,
                    "customer_id": cid,
                    "transformer_id": xid,
                    "feeder_id": fid,
                    "substation_id": sub,
                    "lon": lon + 0.0002,
                    "lat": lat + 0.0001,
                    "service_v": 240.0,
                }
            )
            custs.append(
                {
                    "customer_id": cid,
                    "meter_id": mid,
                    "name": f'Home "{i}"',
                    "customer_class": "residential",
                    "is_critical": i == 0,
                    "critical_type": "hospital" if i == 0 else None,
                    "peak_kw": float(rng.uniform(3, 8)),
                    "power_factor": 0.95,
                    "annual_kwh": 1 / 3 * 36000,
                    "has_pv": i == 2,
                    "pv_kw": 6.5 if i == 2 else 0.0,
                }
            )
            prev = (lon, lat)
    t.update(
        {
            "feeders": pd.DataFrame(fdrs),
            "buses": pd.DataFrame(buses),
            "line_segments": pd.DataFrame(segs),
            "devices": pd.DataFrame(devs),
            "poles": pd.DataFrame(poles),
            "transformers": pd.DataFrame(xfmrs),
            "meters": pd.DataFrame(meters),
            "customers": pd.DataFrame(custs),
        }
    )
    return grid_from_tables(
        GridMeta(name=f"hand-{tag}", source="test", params={"feeders": feeders, "tag": tag}), t
    )
