"""A hand-built one-substation grid whose cascades are worked out on paper in the tests.

    T1 ─ SB1 ─BRK1─ A1 ─L1─ A2 ─SW1─ A3 ─L2─ A4 ┐
          │BT (bus tie, open)                    TIE (open)
    T2 ─ SB2 ─BRK2─ C1 ─M1─ C2 ──────────────────┘

Every junction bus (A1..A4, C1, C2) carries one distribution transformer with 10 residential
customers of 5 kW design peak each (pf 1.0): 60 customers, 300 kW. T1 and T2 are 0.25 MVA.
"""

from __future__ import annotations

import pandas as pd
import shapely

from fluxops.grid.models import Grid, GridMeta, grid_from_tables

KV = 12.47
JUNCTIONS = ("A1", "A2", "A3", "A4", "C1", "C2")


def build_golden(sub_rating_mva: float = 0.25) -> Grid:
    buses = [
        {
            "bus_id": b,
            "bus_type": "substation",
            "feeder_id": None,
            "substation_id": "S1",
            "lon": -95.0,
            "lat": 29.70,
            "v_nom_kv": KV,
        }
        for b in ("SB1", "SB2")
    ] + [
        {
            "bus_id": b,
            "bus_type": "junction",
            "feeder_id": "F1" if b[0] == "A" else "F2",
            "substation_id": "S1",
            "lon": -95.0 + 0.01 * (i + 1),
            "lat": 29.70,
            "v_nom_kv": KV,
        }
        for i, b in enumerate(JUNCTIONS)
    ]
    wkb = shapely.to_wkb(shapely.LineString([(0, 0), (1, 1)]))
    segs = [("L1", "F1", "A1", "A2"), ("L2", "F1", "A3", "A4"), ("M1", "F2", "C1", "C2")]
    segments = pd.DataFrame(
        [
            {
                "segment_id": s,
                "feeder_id": f,
                "substation_id": "S1",
                "from_bus_id": a,
                "to_bus_id": b,
                "construction": "overhead",
                "conductor": "336 ACSR",
                "length_km": 1.0,
                "r_ohm_per_km": 0.19,
                "x_ohm_per_km": 0.38,
                "ampacity_a": 530.0,
                "install_year": 1990,
                "geometry_wkb": wkb,
            }
            for s, f, a, b in segs
        ]
    )
    devs = [
        ("BRK1", "breaker", "F1", "SB1", "A1", "closed", None),
        ("SW1", "switch", "F1", "A2", "A3", "closed", None),
        ("BRK2", "breaker", "F2", "SB2", "C1", "closed", None),
        ("TIE", "tie_switch", "F1", "A4", "C2", "open", "F2"),
        ("BT", "bus_tie", None, "SB1", "SB2", "open", None),
    ]
    devices = pd.DataFrame(
        [
            {
                "device_id": d,
                "device_type": t,
                "feeder_id": f,
                "substation_id": "S1",
                "from_bus_id": a,
                "to_bus_id": b,
                "lon": -95.0,
                "lat": 29.70,
                "normal_state": st,
                "state": st,
                "rating_a": 600.0,
                "tie_feeder_id": tf,
            }
            for d, t, f, a, b, st, tf in devs
        ]
    )
    substations = pd.DataFrame(
        [{"substation_id": "S1", "name": "S1", "lon": -95.0, "lat": 29.70, "v_hv_kv": 138.0, "v_lv_kv": KV}]
    )
    sub_xf = pd.DataFrame(
        [
            {
                "transformer_id": t,
                "substation_id": "S1",
                "bus_id": b,
                "rating_mva": sub_rating_mva,
                "z_pct": 6.0,
                "x_r_ratio": 5.0,
                "install_year": 2000,
            }
            for t, b in (("T1", "SB1"), ("T2", "SB2"))
        ]
    )
    feeders = pd.DataFrame(
        [
            {
                "feeder_id": "F1",
                "name": "F1",
                "substation_id": "S1",
                "transformer_id": "T1",
                "head_bus_id": "A1",
                "head_device_id": "BRK1",
                "v_nom_kv": KV,
            },
            {
                "feeder_id": "F2",
                "name": "F2",
                "substation_id": "S1",
                "transformer_id": "T2",
                "head_bus_id": "C1",
                "head_device_id": "BRK2",
                "v_nom_kv": KV,
            },
        ]
    )
    xf = pd.DataFrame(
        [
            {
                "transformer_id": f"X{b}",
                "feeder_id": "F1" if b[0] == "A" else "F2",
                "substation_id": "S1",
                "bus_id": b,
                "lon": -95.0,
                "lat": 29.70,
                "rating_kva": 75.0,
                "phase": "ABC",
                "mounting": "pad",
                "z_pct": 2.0,
                "install_year": 2000,
            }
            for b in JUNCTIONS
        ]
    )
    meters, customers = [], []
    for b in JUNCTIONS:
        for k in range(10):
            mid, cid = f"M{b}{k}", f"C{b}{k}"
            meters.append(
                {
                    "meter_id": mid,
                    "customer_id": cid,
                    "transformer_id": f"X{b}",
                    "feeder_id": "F1" if b[0] == "A" else "F2",
                    "substation_id": "S1",
                    "lon": -95.0,
                    "lat": 29.70,
                    "service_v": 240.0,
                }
            )
            customers.append(
                {
                    "customer_id": cid,
                    "meter_id": mid,
                    "name": cid,
                    "customer_class": "residential",
                    "is_critical": False,
                    "critical_type": None,
                    "peak_kw": 5.0,
                    "power_factor": 1.0,
                    "annual_kwh": 12000.0,
                    "has_pv": False,
                    "pv_kw": 0.0,
                }
            )
    return grid_from_tables(
        GridMeta(name="golden", source="synthetic"),
        {
            "buses": pd.DataFrame(buses),
            "line_segments": segments,
            "devices": devices,
            "substations": substations,
            "substation_transformers": sub_xf,
            "feeders": feeders,
            "transformers": xf,
            "meters": pd.DataFrame(meters),
            "customers": pd.DataFrame(customers),
            "poles": pd.DataFrame(
                columns=[
                    "pole_id",
                    "feeder_id",
                    "substation_id",
                    "bus_id",
                    "segment_id",
                    "lon",
                    "lat",
                    "material",
                    "height_m",
                    "install_year",
                ]
            ),
        },
    )
