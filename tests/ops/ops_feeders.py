"""A hand-built substation whose protection hierarchy is known by construction, for OMS trace tests.

    SB1 ─BRK1─ B1 ─ B2 ─REC1─ B3 ─ B4 ─FUS1─ B5 ─ B6 ┄┄TIE1 (open)┄┄ C1
           │T1(4)    │T2(4)    ├─SW1─ B7 ─ B8 ─FUS2─ B9     │T3(4) │T4(4)
                               │            │T5(4)   │T6(4)
    SB1 ─BRK2─ C1 (feeder 2)  T7(4)

Tn(k): transformer n with k meters. Meters are named M<n>-<i> (transformer n, customer i).
Customer M3-0 is critical (hospital).
"""

from __future__ import annotations

import pandas as pd
import shapely

from fluxops.grid.models import Grid, GridMeta, grid_from_tables

METERS_PER_TRANSFORMER = 4
# transformer -> bus
TRANSFORMER_BUS = {"T1": "B1", "T2": "B4", "T3": "B5", "T4": "B6", "T5": "B8", "T6": "B9", "T7": "C1"}
BUS_FEEDER = {b: "F1" for b in ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9")} | {"C1": "F2"}


def meters_of(*transformers: str, per: int = METERS_PER_TRANSFORMER) -> list[str]:
    """Meter ids of transformers; a transformer id may carry a copy suffix (``T3_7``)."""
    out = []
    for t in transformers:
        base, _, copy = t.partition("_")
        out += [f"M{base[1:]}-{i}" + (f"_{copy}" if copy else "") for i in range(per)]
    return out


def build_feeders(copies: int = 1, per: int = METERS_PER_TRANSFORMER) -> Grid:
    """``copies`` independent substations of the layout above (ids of copy k>0 end in ``_k``)."""
    parts = [_one_copy(k, per) for k in range(copies)]
    tables = {name: pd.concat([p[name] for p in parts], ignore_index=True) for name in parts[0]}
    return grid_from_tables(GridMeta(name="ops-hand", source="test", params={"copies": copies}), tables)


def _one_copy(k: int, per: int) -> dict[str, pd.DataFrame]:
    x = "" if k == 0 else f"_{k}"
    SUB = f"SUB-1{x}"
    lon0, lat0 = -95.37 + 0.05 * k, 29.76
    buses = [{"bus_id": "SB1" + x, "bus_type": "substation", "feeder_id": None}] + [
        {"bus_id": b + x, "bus_type": "junction", "feeder_id": f + x} for b, f in BUS_FEEDER.items()
    ]
    for i, b in enumerate(buses):
        b.update(
            {"substation_id": SUB, "lon": lon0 + 0.002 * i, "lat": lat0 + 0.001 * (i % 3), "v_nom_kv": 12.47}
        )
    pos = {b["bus_id"]: (b["lon"], b["lat"]) for b in buses}
    seg_pairs = [(u + x, v + x) for u, v in (("B1", "B2"), ("B3", "B4"), ("B5", "B6"), ("B7", "B8"))]
    segs = [
        {
            "segment_id": f"S-{u}-{v}",
            "feeder_id": BUS_FEEDER[u.removesuffix(x) if x else u] + x,
            "substation_id": SUB,
            "from_bus_id": u,
            "to_bus_id": v,
            "construction": "overhead",
            "conductor": "336 ACSR",
            "length_km": 0.5,
            "r_ohm_per_km": 0.19,
            "x_ohm_per_km": 0.38,
            "ampacity_a": 530.0,
            "install_year": 2001,
            "geometry_wkb": shapely.to_wkb(shapely.LineString([pos[u], pos[v]])),
        }
        for u, v in seg_pairs
    ]
    dev_rows0 = [
        ("BRK1", "breaker", "F1", "SB1", "B1", "closed", None),
        ("REC1", "recloser", "F1", "B2", "B3", "closed", None),
        ("FUS1", "fuse", "F1", "B4", "B5", "closed", None),
        ("SW1", "switch", "F1", "B3", "B7", "closed", None),
        ("FUS2", "fuse", "F1", "B8", "B9", "closed", None),
        ("BRK2", "breaker", "F2", "SB1", "C1", "closed", None),
        ("TIE1", "tie_switch", "F1", "B6", "C1", "open", "F2"),
    ]
    dev_rows = [
        (d + x, t, f + x, u + x, v + x, s, None if tie is None else tie + x)
        for d, t, f, u, v, s, tie in dev_rows0
    ]
    devs = [
        {
            "device_id": d,
            "device_type": t,
            "feeder_id": f,
            "substation_id": SUB,
            "from_bus_id": u,
            "to_bus_id": v,
            "lon": pos[v][0],
            "lat": pos[v][1],
            "normal_state": s,
            "state": s,
            "rating_a": 400.0,
            "tie_feeder_id": tie,
        }
        for d, t, f, u, v, s, tie in dev_rows
    ]
    xfmrs, meters, custs = [], [], []
    for t0, b0 in TRANSFORMER_BUS.items():
        t, b, fdr = t0 + x, b0 + x, BUS_FEEDER[b0] + x
        xfmrs.append(
            {
                "transformer_id": t,
                "feeder_id": fdr,
                "substation_id": SUB,
                "bus_id": b,
                "lon": pos[b][0],
                "lat": pos[b][1],
                "rating_kva": 50.0,
                "phase": "A",
                "mounting": "pole",
                "z_pct": 2.0,
                "install_year": 2005,
            }
        )
        for m in meters_of(t, per=per):
            meters.append(
                {
                    "meter_id": m,
                    "customer_id": f"C-{m}",
                    "transformer_id": t,
                    "feeder_id": fdr,
                    "substation_id": SUB,
                    "lon": pos[b][0],
                    "lat": pos[b][1],
                    "service_v": 240.0,
                }
            )
            crit = m == "M3-0" + x
            custs.append(
                {
                    "customer_id": f"C-{m}",
                    "meter_id": m,
                    "name": m,
                    "customer_class": "residential",
                    "is_critical": crit,
                    "critical_type": "hospital" if crit else None,
                    "peak_kw": 5.0,
                    "power_factor": 0.95,
                    "annual_kwh": 15000.0,
                    "has_pv": False,
                    "pv_kw": 0.0,
                }
            )
    tables = {
        "substations": pd.DataFrame(
            [
                {
                    "substation_id": SUB,
                    "name": SUB,
                    "lon": lon0,
                    "lat": lat0,
                    "v_hv_kv": 138.0,
                    "v_lv_kv": 12.47,
                }
            ]
        ),
        "substation_transformers": pd.DataFrame(
            [
                {
                    "transformer_id": "STX1" + x,
                    "substation_id": SUB,
                    "bus_id": "SB1" + x,
                    "rating_mva": 28.0,
                    "z_pct": 8.5,
                    "x_r_ratio": 20.0,
                    "install_year": 1998,
                }
            ]
        ),
        "feeders": pd.DataFrame(
            [
                {
                    "feeder_id": f + x,
                    "name": f + x,
                    "substation_id": SUB,
                    "transformer_id": "STX1" + x,
                    "head_bus_id": h + x,
                    "head_device_id": d + x,
                    "v_nom_kv": 12.47,
                }
                for f, h, d in (("F1", "B1", "BRK1"), ("F2", "C1", "BRK2"))
            ]
        ),
        "buses": pd.DataFrame(buses),
        "line_segments": pd.DataFrame(segs),
        "devices": pd.DataFrame(devs),
        "transformers": pd.DataFrame(xfmrs),
        "meters": pd.DataFrame(meters),
        "customers": pd.DataFrame(custs),
    }
    return tables
