"""Phase sets as arrays: A/B/C membership of each element and the design load each phase carries.

Why here: the generator, the three-phase power-flow adapter, the AMI voltages and the cascade all need
"which phases is this element on" as numbers, not strings; one vectorized conversion keeps them equal.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from fluxops.grid.models import PHASE_MASK, Grid

BoolMatrix = npt.NDArray[np.bool_]


def phase_matrix(phases: pd.Series | npt.ArrayLike) -> BoolMatrix:
    """(n, 3) membership of phases A, B, C; unknown (null or not a phase set) → all three, as the
    balanced model assumes (callers that must tell unknown apart check for nulls themselves)."""
    codes = pd.Series(np.asarray(phases, dtype=object)).map(PHASE_MASK).fillna(7).to_numpy(np.int64)
    out: BoolMatrix = (codes[:, None] >> np.arange(3)[None, :]) & 1 == 1
    return out


def transformer_phase_share(grid: Grid) -> npt.NDArray[np.float64]:
    """(transformers, 3): the share of each transformer's load on phases A, B, C (a single-phase unit
    1 on its phase; two-phase 1/2 each; three-phase 1/3 each)."""
    m = phase_matrix(grid.transformers["phase"]).astype(np.float64)
    out: npt.NDArray[np.float64] = m / m.sum(axis=1, keepdims=True)
    return out


def feeder_phase_kw(grid: Grid) -> pd.DataFrame:
    """Design peak kW per feeder and phase (customers' ``peak_kw`` through their transformer's phases)
    and the phase-load unbalance: (largest phase − mean) / mean, in %."""
    xf = grid.transformers
    kw = (
        grid.customers.set_index("meter_id")["peak_kw"]
        .reindex(grid.meters["meter_id"].to_numpy())
        .fillna(0.0)
        .to_numpy(np.float64)
    )
    xf_pos = pd.Index(xf["transformer_id"]).get_indexer(grid.meters["transformer_id"])
    ok = xf_pos >= 0
    xf_kw = np.bincount(xf_pos[ok], weights=kw[ok], minlength=len(xf))
    per_phase = transformer_phase_share(grid) * xf_kw[:, None]
    df = pd.DataFrame(per_phase, columns=["kw_a", "kw_b", "kw_c"])
    df["feeder_id"] = xf["feeder_id"].to_numpy()
    out = df.groupby("feeder_id", sort=True)[["kw_a", "kw_b", "kw_c"]].sum()
    vals = out.to_numpy()
    mean = vals.mean(axis=1)
    out["unbalance_pct"] = np.where(
        mean > 0, (vals.max(axis=1) - mean) / np.where(mean > 0, mean, 1) * 100, 0.0
    )
    return out.reset_index()
