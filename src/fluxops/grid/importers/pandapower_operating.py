"""The source case as imported: per-bus net injections, and which pandapower elements were carried.

Why: the asset model holds design quantities (customers' peak, installed PV); a pandapower or SimBench
net also holds one operating point — loads and static generators at ``p_mw·scaling``, storage units
charging or discharging, shunts, transformer iron losses. The "as imported" power flow must reproduce
that case, so it travels in ``grid.meta.params['operating_point']`` (per bus id, kW / kvar, three-phase):

* ``bus_p_kw`` / ``bus_q_kvar``: net demand = loads − static generators + storage (pandapower sign:
  positive charges) + shunts (their rated P/Q at nominal voltage, i.e. constant power — exact at 1 pu)
  + substation-transformer iron losses (``pfe_kw`` and the magnetizing ``i0_percent`` at the LV bus);
* ``bus_gen_kw``: the static generators' part of it (PV, wind), for scenarios that scale demand alone.

Every electrical element table that is not empty is either carried (`ImportReport.carried`) or named
as dropped with its in-service count (`ImportReport.dropped`): nothing disappears without a word.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fluxops.grid.importers.pandapower_mapping import ImportReport

# pandapower electrical element tables the asset model has no place for (named in the report)
_NOT_MODELLED = (
    "gen",
    "ward",
    "xward",
    "impedance",
    "trafo3w",
    "dcline",
    "motor",
    "asymmetric_load",
    "asymmetric_sgen",
    "svc",
    "tcsc",
    "ssc",
    "vsc",
    "bus_dc",
    "line_dc",
    "source_dc",
    "load_dc",
)


def _on(df: pd.DataFrame) -> pd.DataFrame:
    if "in_service" in df.columns:
        return df[df["in_service"].fillna(True).astype(bool)]
    return df


def _table(net: Any, name: str) -> pd.DataFrame | None:
    if name in net and isinstance(net[name], pd.DataFrame) and len(net[name]):
        return _on(net[name])
    return None


def _scaled(df: pd.DataFrame, col: str) -> np.ndarray:  # type: ignore[type-arg]
    scaling = df["scaling"].fillna(1.0).to_numpy(float) if "scaling" in df.columns else 1.0
    if col not in df.columns:
        return np.zeros(len(df))
    return np.asarray(df[col].fillna(0.0).to_numpy(float) * scaling * 1000.0, dtype=np.float64)


def report_element_coverage(net: Any, report: ImportReport) -> None:
    """Fill ``report.carried`` and name every element table the model drops, with counts."""
    for name, label in (
        ("load", "load (aggregate load points)"),
        ("sgen", "sgen (PV, wind: installed pv_kw + operating point)"),
        ("storage", "storage (operating point only: p/q as in the source)"),
        ("shunt", "shunt (operating point only: rated P/Q as constant power)"),
        ("switch", "switch"),
        ("line", "line"),
    ):
        df = _table(net, name)
        if df is not None:
            report.carried[label] = len(df)
    for name in _NOT_MODELLED:
        df = _table(net, name)
        if df is not None:
            report.dropped[name] = len(df)
    st = _table(net, "storage")
    if st is not None:
        p_mw = float(_scaled(st, "p_mw").sum() / 1000.0)
        report.notes.append(
            f"{len(st)} storage unit(s) ({p_mw:+.2f} MW as imported, positive = charging) are carried in the "
            "as-imported operating point only: the asset model has no storage element"
        )


def operating_point(net: Any, tables: dict[str, pd.DataFrame]) -> dict[str, dict[str, float]]:
    """Per-bus net demand of the source case (see the module docstring)."""
    bus_ids = set(tables["buses"]["bus_id"].astype(str))
    p: dict[str, float] = {}
    q: dict[str, float] = {}
    gen: dict[str, float] = {}

    def add(target: dict[str, float], buses: Any, values: np.ndarray) -> None:  # type: ignore[type-arg]
        for b, v in zip(buses, values, strict=True):
            key = f"BUS-{b}"
            if key in bus_ids and v != 0.0:
                target[key] = target.get(key, 0.0) + float(v)

    for name, sign in (("load", 1.0), ("sgen", -1.0), ("storage", 1.0)):
        df = _table(net, name)
        if df is None:
            continue
        add(p, df["bus"], sign * _scaled(df, "p_mw"))
        add(q, df["bus"], sign * _scaled(df, "q_mvar"))
        if name == "sgen":
            add(gen, df["bus"], _scaled(df, "p_mw"))
    sh = _table(net, "shunt")
    if sh is not None:
        step = sh["step"].fillna(1).to_numpy(float) if "step" in sh.columns else 1.0
        vn_bus = net.bus["vn_kv"].loc[sh["bus"]].to_numpy(float)
        vn_sh = sh["vn_kv"].fillna(0).to_numpy(float) if "vn_kv" in sh.columns else vn_bus
        ratio2 = np.where(vn_sh > 0, (vn_bus / np.where(vn_sh > 0, vn_sh, 1.0)) ** 2, 1.0)
        add(p, sh["bus"], sh["p_mw"].fillna(0.0).to_numpy(float) * step * ratio2 * 1000.0)
        add(q, sh["bus"], sh["q_mvar"].fillna(0.0).to_numpy(float) * step * ratio2 * 1000.0)
    stx = tables["substation_transformers"]
    tr = _table(net, "trafo")
    if tr is not None and len(stx):
        ids = stx["transformer_id"].astype(str)
        real = ids.str.match(r"^STX-\d+$")
        idx = ids[real].str[4:].astype(int).to_numpy()
        t = tr.loc[tr.index.intersection(pd.Index(idx))]
        par = t["parallel"].fillna(1).to_numpy(float) if "parallel" in t else 1.0
        sn = t["sn_mva"].to_numpy(float) * par
        pfe = t["pfe_kw"].fillna(0.0).to_numpy(float) if "pfe_kw" in t else np.zeros(len(t))
        i0 = t["i0_percent"].fillna(0.0).to_numpy(float) if "i0_percent" in t else np.zeros(len(t))
        s_mag = i0 / 100.0 * sn * 1000.0
        q_mag = np.sqrt(np.maximum(s_mag**2 - pfe**2, 0.0))
        add(p, t["lv_bus"], pfe)
        add(q, t["lv_bus"], q_mag)
    return {"bus_p_kw": p, "bus_q_kvar": q, "bus_gen_kw": gen}
