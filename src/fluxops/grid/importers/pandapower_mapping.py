"""The table-by-table mapping pandapower → asset model (see `fluxops.grid.importers.pandapower`).

Sizes here are SimBench/pandapower scale (≤ ~20K rows); joins are vectorized with pandas, and the only
Python loops are over GeoJSON strings (unavoidable parsing) and over substations/feeders.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from fluxops.core.errors import ImportDataError

IntArray = npt.NDArray[np.int64]
# German low-voltage nominal (DIN EN 60038: 230/400 V): service voltage of an aggregate MV/LV load point.
LV_SERVICE_V = 400.0
# Short-circuit impedance of oil distribution transformers when the source data has none:
# IEC 60076-5 Table 1 minimum values, 4.0 % up to 630 kVA, 5.0 % up to 1250 kVA, 6.25 % above.
_DIST_XFMR_Z_PCT = ((630.0, 4.0), (1250.0, 5.0), (np.inf, 6.25))
# X/R cap for transformers given with vkr_percent = 0 (lossless data): keeps R finite and tiny.
_MAX_X_R = 1e4


@dataclass(frozen=True)
class ImportReport:
    """What the import kept, approximated or dropped, for the CLI and the cross-validation."""

    source_v_pu: dict[str, float]  # per substation transformer id: ext_grid vm_pu folded with tap ratio
    synthesized_breakers: int
    dropped: dict[str, int] = field(default_factory=dict)  # e.g. {"gen": 2}: not in the model
    carried: dict[str, int] = field(default_factory=dict)  # e.g. {"sgen (PV, wind)": 121}
    notes: list[str] = field(default_factory=list)
    # loop_edges (closed in normal operation), deenergized_buses (behind open switches), ideal_sources
    # (ext_grid straight at distribution voltage), unrated_devices (no rating in the source)
    topology: dict[str, list[str]] = field(default_factory=dict)


def fail(element: str, index: Any, fld: str, why: str) -> ImportDataError:
    """An `ImportDataError` naming the pandapower element (table + index) and field."""
    return ImportDataError(
        f"{element} {index}: {fld} {why}", details={"element": element, "index": str(index), "field": fld}
    )


def in_service(df: pd.DataFrame) -> pd.DataFrame:
    """The rows in service (all when the table has no ``in_service`` column)."""
    if "in_service" in df.columns:
        return df[df["in_service"].fillna(True).astype(bool)]
    return df


def bus_id(idx: Any) -> str:
    """Our bus id for a pandapower bus index."""
    return f"BUS-{idx}"


def components(n: int, a: IntArray, b: IntArray) -> IntArray:
    g = sparse.coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    return np.asarray(csgraph.connected_components(g, directed=False)[1], dtype=np.int64)


def parse_point(geo: Any, index: Any) -> tuple[float, float]:
    try:
        obj = json.loads(geo) if isinstance(geo, str) else geo
        lon, lat = obj["coordinates"][:2]
        return float(lon), float(lat)
    except (TypeError, ValueError, KeyError, IndexError) as exc:
        raise fail("bus", index, "geo", "is not a GeoJSON Point") from exc


def line_geometry_wkb(
    geo: list[Any], a_lonlat: npt.NDArray[np.float64], b_lonlat: npt.NDArray[np.float64]
) -> list[bytes]:
    """WKB LineStrings: the line's own GeoJSON geometry when present, else straight bus-to-bus."""
    straight = shapely.linestrings(np.stack([a_lonlat, b_lonlat], axis=1))
    out: list[bytes] = []
    for k, g in enumerate(geo):
        shape: Any = straight[k]
        if isinstance(g, str) and g:
            try:
                obj = json.loads(g)
                if obj.get("type") == "LineString" and len(obj["coordinates"]) >= 2:
                    shape = shapely.LineString([c[:2] for c in obj["coordinates"]])
            except (ValueError, KeyError, TypeError):
                pass
        out.append(shapely.to_wkb(shape))
    return out


def dist_xfmr_z_pct(rating_kva: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    limits = np.array([x[0] for x in _DIST_XFMR_Z_PCT])
    values = np.array([x[1] for x in _DIST_XFMR_Z_PCT])
    return np.asarray(values[np.searchsorted(limits, rating_kva, side="left")], dtype=np.float64)


def customer_class(profile: pd.Series, ltype: pd.Series) -> npt.NDArray[np.object_]:
    """SimBench profile names: H0 (household) and lv_* (aggregated LV grids, mostly households) →
    residential; G* (trade), L* (agriculture), BL (storage heating) → commercial; mv_* and others →
    industrial. pandapower 'MV/LV Station' loads (no profile) → residential (aggregate LV grid)."""
    p = profile.fillna("").astype(str).str.lower()
    t = ltype.fillna("").astype(str).str.lower()
    out = np.full(len(p), "industrial", dtype=object)
    out[(p.str.startswith(("g", "l", "bl")) & ~p.str.startswith("lv_")).to_numpy()] = "commercial"
    out[
        (p.str.startswith(("h", "lv_")) | ((p == "") & t.str.contains("mv/lv|lv load|household"))).to_numpy()
    ] = "residential"
    out[((p == "") & ~t.str.contains("mv/lv|lv load|household")).to_numpy()] = "commercial"
    return out
