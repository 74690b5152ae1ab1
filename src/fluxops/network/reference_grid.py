"""A hand-built two-substation grid small enough to work out on paper.

Why in the package: golden tests of the network kernels and the cascade engine, and docs examples,
need one grid whose every number can be checked by hand; the synthetic generator is too big for that.

Substation S1 (one 10 MVA transformer T1 on bus section SB1) feeds feeder F1:
    SB1 -BRK1- B1 -L1- B2 -L2- B3 -REC1- B4 -L3- B5
                        B2 -FUSE1- B6 -L4- B7           (lateral)
Substation S2 (transformer T2 on SB2) feeds feeder F2:
    SB2 -BRK2- C1 -M1- C2 -M2- C3
Tie TIE1 (normally open) joins B5 and C3.
Each load bus carries one distribution transformer with `n` customers of `kw` each (pf 0.95).
C2 serves a hospital (critical).
"""

from __future__ import annotations

import pandas as pd
import shapely

from fluxops.grid.models import Grid, GridMeta, grid_from_tables

KV = 12.47


def _bus(bid: str, sub: str, feeder: str | None, kind: str, x: float) -> dict[str, object]:
    return {
        "bus_id": bid,
        "bus_type": kind,
        "feeder_id": feeder,
        "substation_id": sub,
        "lon": -95.0 + x / 100,
        "lat": 29.7,
        "v_nom_kv": KV,
    }


def build_reference_grid() -> Grid:
    """The grid drawn in the module docstring (12 buses, 6 segments, 5 devices, 70 customers)."""
    buses = [
        _bus("SB1", "S1", None, "substation", 0),
        *[
            _bus(b, "S1", "F1", "junction", i + 1)
            for i, b in enumerate(["B1", "B2", "B3", "B4", "B5", "B6", "B7"])
        ],
        _bus("SB2", "S2", None, "substation", 20),
        *[_bus(b, "S2", "F2", "junction", 19 - i) for i, b in enumerate(["C1", "C2", "C3"])],
    ]
    wkb = shapely.to_wkb(shapely.LineString([(0, 0), (1, 1)]))
    seg_rows = [
        ("L1", "F1", "S1", "B1", "B2", 1.0),
        ("L2", "F1", "S1", "B2", "B3", 1.5),
        ("L3", "F1", "S1", "B4", "B5", 2.0),
        ("L4", "F1", "S1", "B6", "B7", 0.8),
        ("M1", "F2", "S2", "C1", "C2", 1.2),
        ("M2", "F2", "S2", "C2", "C3", 1.0),
    ]
    segments = pd.DataFrame(
        [
            {
                "segment_id": s,
                "feeder_id": f,
                "substation_id": sub,
                "from_bus_id": a,
                "to_bus_id": b,
                "construction": "overhead",
                "conductor": "336 ACSR",
                "length_km": km,
                "r_ohm_per_km": 0.19,
                "x_ohm_per_km": 0.38,
                "ampacity_a": 530.0,
                "install_year": 1990,
                "geometry_wkb": wkb,
            }
            for s, f, sub, a, b, km in seg_rows
        ]
    )
    dev_rows = [
        ("BRK1", "breaker", "F1", "S1", "SB1", "B1", "closed", 600.0, None),
        ("REC1", "recloser", "F1", "S1", "B3", "B4", "closed", 400.0, None),
        ("FUSE1", "fuse", "F1", "S1", "B2", "B6", "closed", 100.0, None),
        ("BRK2", "breaker", "F2", "S2", "SB2", "C1", "closed", 600.0, None),
        ("TIE1", "tie_switch", "F1", "S1", "B5", "C3", "open", 400.0, "F2"),
    ]
    devices = pd.DataFrame(
        [
            {
                "device_id": d,
                "device_type": t,
                "feeder_id": f,
                "substation_id": sub,
                "from_bus_id": a,
                "to_bus_id": b,
                "lon": -95.0,
                "lat": 29.7,
                "normal_state": st,
                "state": st,
                "rating_a": r,
                "tie_feeder_id": tf,
            }
            for d, t, f, sub, a, b, st, r, tf in dev_rows
        ]
    )
    substations = pd.DataFrame(
        [
            {"substation_id": s, "name": s, "lon": -95.0, "lat": 29.7, "v_hv_kv": 138.0, "v_lv_kv": KV}
            for s in ("S1", "S2")
        ]
    )
    sub_xf = pd.DataFrame(
        [
            {
                "transformer_id": t,
                "substation_id": s,
                "bus_id": b,
                "rating_mva": 10.0,
                "z_pct": 8.0,
                "x_r_ratio": 10.0,
                "install_year": 2000,
            }
            for t, s, b in (("T1", "S1", "SB1"), ("T2", "S2", "SB2"))
        ]
    )
    feeders = pd.DataFrame(
        [
            {
                "feeder_id": "F1",
                "name": "F1",
                "substation_id": "S1",
                "transformer_id": "T1",
                "head_bus_id": "B1",
                "head_device_id": "BRK1",
                "v_nom_kv": KV,
            },
            {
                "feeder_id": "F2",
                "name": "F2",
                "substation_id": "S2",
                "transformer_id": "T2",
                "head_bus_id": "C1",
                "head_device_id": "BRK2",
                "v_nom_kv": KV,
            },
        ]
    )
    # (bus, feeder, substation, customers, kW each)
    loads = [
        ("B2", "F1", "S1", 10, 50.0),
        ("B3", "F1", "S1", 20, 40.0),
        ("B5", "F1", "S1", 15, 60.0),
        ("B7", "F1", "S1", 5, 30.0),
        ("C2", "F2", "S2", 8, 100.0),
        ("C3", "F2", "S2", 12, 50.0),
    ]
    xf_rows: list[dict[str, object]] = []
    meter_rows: list[dict[str, object]] = []
    cust_rows: list[dict[str, object]] = []
    pole_rows: list[dict[str, object]] = []
    for bus, f, sub, n, kw in loads:
        xid = f"X-{bus}"
        xf_rows.append(
            {
                "transformer_id": xid,
                "feeder_id": f,
                "substation_id": sub,
                "bus_id": bus,
                "lon": -95.0,
                "lat": 29.7,
                "rating_kva": 1000.0,
                "phase": "ABC",
                "mounting": "pad",
                "z_pct": 5.0,
                "install_year": 2000,
            }
        )
        for k in range(n):
            mid, cid = f"M-{bus}-{k}", f"C-{bus}-{k}"
            critical = bus == "C2" and k == 0
            meter_rows.append(
                {
                    "meter_id": mid,
                    "customer_id": cid,
                    "transformer_id": xid,
                    "feeder_id": f,
                    "substation_id": sub,
                    "lon": -95.0,
                    "lat": 29.7,
                    "service_v": 240.0,
                }
            )
            cust_rows.append(
                {
                    "customer_id": cid,
                    "meter_id": mid,
                    "name": cid,
                    "customer_class": "commercial" if critical else "residential",
                    "is_critical": critical,
                    "critical_type": "hospital" if critical else None,
                    "peak_kw": kw,
                    "power_factor": 0.95,
                    "annual_kwh": kw * 3000,
                    "has_pv": False,
                    "pv_kw": 0.0,
                }
            )
    pole_refs: tuple[tuple[str | None, str | None], ...] = (("L2", None), (None, "B4"))
    for seg_id, pole_bus in pole_refs:
        pole_rows.append(
            {
                "pole_id": f"P-{seg_id or pole_bus}",
                "feeder_id": "F1",
                "substation_id": "S1",
                "bus_id": pole_bus,
                "segment_id": seg_id,
                "lon": -95.0,
                "lat": 29.7,
                "material": "wood",
                "height_m": 12.0,
                "install_year": 1990,
            }
        )
    tables = {
        "substations": substations,
        "substation_transformers": sub_xf,
        "feeders": feeders,
        "buses": pd.DataFrame(buses),
        "line_segments": segments,
        "devices": devices,
        "poles": pd.DataFrame(pole_rows),
        "transformers": pd.DataFrame(xf_rows),
        "meters": pd.DataFrame(meter_rows),
        "customers": pd.DataFrame(cust_rows),
    }
    return grid_from_tables(GridMeta(name="reference", source="synthetic"), tables)
