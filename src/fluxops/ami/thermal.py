"""Distribution-transformer thermal model per IEEE C57.91 clause 7 (domain facts §6.2).

Why: a transformer's load % alone does not say whether it is aging; the insulation hot spot does, and it
depends on ambient temperature and on the load history (top oil responds over hours). For each
transformer and hour: K = load / rating, ultimate top-oil rise Δθ_TO,U = Δθ_TO,R·[(K²R+1)/(R+1)]ⁿ,
exponential response with τ_TO, hot-spot gradient Δθ_H = Δθ_H,R·K^(2m) (the winding constant, 5-10 min,
is short against an hour, so the gradient is taken at its ultimate value), hot spot θ_H = θ_A + Δθ_TO +
Δθ_H, aging acceleration F_AA = exp(15000/383 − 15000/(θ_H + 273)), F_AA = 1 at 110 °C.
Vectorized over transformers; the loop runs over time steps only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ThermalParams:
    """ONAN 65 °C-rise distribution transformer defaults (C57.91 clause 7; domain facts §6.2)."""

    top_oil_rise_rated_c: float = 55.0
    hot_spot_gradient_rated_c: float = 25.0
    loss_ratio_r: float = 4.5  # load loss / no-load loss at rated load (typ. 3-8)
    exponent_n: float = 0.8  # ONAN
    exponent_m: float = 0.8  # ONAN
    tau_top_oil_h: float = 3.0  # ONAN
    normal_life_h: float = 180_000.0  # distribution transformer functional life test (20.55 yr)
    reference_hot_spot_c: float = 110.0


@dataclass(frozen=True)
class ThermalResult:
    top_oil_rise_c: F64  # (n_transformers, n_steps), at the end of each step
    hot_spot_c: F64
    aging_factor: F64  # F_AA per step
    final_top_oil_rise_c: F64  # (n_transformers,) state to continue from


def steady_top_oil_rise(k: F64, p: ThermalParams) -> F64:
    r = p.loss_ratio_r
    out: F64 = p.top_oil_rise_rated_c * ((k**2 * r + 1.0) / (r + 1.0)) ** p.exponent_n
    return out


def aging_factor(hot_spot_c: F64) -> F64:
    out: F64 = np.exp(15000.0 / 383.0 - 15000.0 / (hot_spot_c + 273.0))
    return out


def hot_spot(
    k_load: F64,
    ambient_c: F64,
    *,
    step_h: float,
    params: ThermalParams,
    initial_top_oil_rise_c: F64 | None = None,
) -> ThermalResult:
    """``k_load``: per-unit load (transformers × steps, NaN = no data → treated as 0); ``ambient_c``:
    (steps,) or same shape. Initial top-oil rise defaults to steady state at the first step's load."""
    k = np.nan_to_num(np.maximum(np.asarray(k_load, dtype=np.float64), 0.0))
    amb = np.broadcast_to(np.asarray(ambient_c, dtype=np.float64), k.shape)
    n, steps = k.shape
    ult = steady_top_oil_rise(k, params)
    state = ult[:, 0].copy() if initial_top_oil_rise_c is None else np.asarray(initial_top_oil_rise_c).copy()
    decay = float(np.exp(-step_h / params.tau_top_oil_h))
    to = np.empty((n, steps))
    for s in range(steps):
        state = ult[:, s] + (state - ult[:, s]) * decay
        to[:, s] = state
    grad = params.hot_spot_gradient_rated_c * k ** (2.0 * params.exponent_m)
    hs = amb + to + grad
    return ThermalResult(to, hs, aging_factor(hs), state)


def loss_of_life_pct(aging: F64, step_h: float, params: ThermalParams) -> F64:
    """% loss of life over the steps (last axis): F_EQA·t·100 / normal life."""
    out: F64 = np.nansum(aging, axis=-1) * step_h * 100.0 / params.normal_life_h
    return out
