"""IEEE C57.91 clause 7 hot-spot model: ultimate and transient hot spot, time to reach a limit.

Why not a plain current limit: a transformer tolerates overload for a while; what trips it (or destroys
its insulation) is winding hot-spot temperature, which lags load through the top-oil (hours) and winding
(minutes) time constants and depends on ambient. Equations from domain-facts §6.2:

    θ_H = θ_A + Δθ_TO + Δθ_H
    Δθ_TO,U = Δθ_TO,R · ((K²R + 1)/(R + 1))ⁿ          Δθ_H,U = Δθ_H,R · K^(2m)
    Δθ(t)   = (Δθ_U − Δθ_i)(1 − e^(−t/τ)) + Δθ_i
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from fluxops.ami.thermal import ThermalParams, aging_factor, steady_top_oil_rise
from fluxops.cascade.config import ThermalConfig

FloatArray = npt.NDArray[np.float64]


def _params(cfg: ThermalConfig) -> ThermalParams:
    """The same C57.91 constants in the AMI thermal model's terms (one implementation of the equations)."""
    return ThermalParams(
        top_oil_rise_rated_c=cfg.top_oil_rise_rated_c,
        hot_spot_gradient_rated_c=cfg.hot_spot_gradient_rated_c,
        loss_ratio_r=cfg.loss_ratio,
        exponent_n=cfg.n_exp,
        exponent_m=cfg.m_exp,
        tau_top_oil_h=cfg.tau_top_oil_min / 60.0,
    )


def ultimate_rises(cfg: ThermalConfig, k: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """(top-oil rise, hot-spot gradient) at steady state for per-unit load ``k``."""
    kk = np.maximum(np.asarray(k, np.float64), 0.0)
    to = steady_top_oil_rise(kk, _params(cfg))
    hs = cfg.hot_spot_gradient_rated_c * kk ** (2.0 * cfg.m_exp)
    return np.asarray(to, np.float64), np.asarray(hs, np.float64)


def steady_hot_spot_c(cfg: ThermalConfig, ambient_c: float, k: npt.ArrayLike) -> FloatArray:
    to, hs = ultimate_rises(cfg, k)
    return np.asarray(ambient_c + to + hs, np.float64)


def time_to_limit_min(
    cfg: ThermalConfig, ambient_c: float, k_initial: npt.ArrayLike, k_new: npt.ArrayLike, limit_c: float
) -> FloatArray:
    """Minutes after a load step ``k_initial → k_new`` until the hot spot reaches ``limit_c``.

    Starts from the steady state at ``k_initial``. ``inf`` when the limit is not reached within
    ``cfg.horizon_min``; ``0`` when already at or above the limit. Vectorized over transformers: a
    0.5-minute grid over the horizon (the hot spot is monotone after a step, so the first crossing is it).
    """
    k0 = np.atleast_1d(np.asarray(k_initial, np.float64))
    k1 = np.atleast_1d(np.asarray(k_new, np.float64))
    to0, hs0 = ultimate_rises(cfg, k0)
    to1, hs1 = ultimate_rises(cfg, k1)
    out = np.full(k1.shape, np.inf)
    now = ambient_c + to0 + hs0
    out[now >= limit_c] = 0.0
    reach = (ambient_c + to1 + hs1 >= limit_c) & ~(now >= limit_c)
    if not reach.any():
        return out
    t = np.arange(0.5, cfg.horizon_min + 0.5, 0.5)[None, :]
    idx = np.flatnonzero(reach)
    th = (
        ambient_c
        + (to1[idx, None] - to0[idx, None]) * (1.0 - np.exp(-t / cfg.tau_top_oil_min))
        + to0[idx, None]
        + (hs1[idx, None] - hs0[idx, None]) * (1.0 - np.exp(-t / cfg.tau_winding_min))
        + hs0[idx, None]
    )
    hit = th >= limit_c
    first = np.where(hit.any(axis=1), hit.argmax(axis=1), -1)
    out[idx] = np.where(first >= 0, t[0, np.maximum(first, 0)], np.inf)
    return out


def aging_acceleration(hot_spot_c: npt.ArrayLike) -> FloatArray:
    """F_AA for thermally upgraded paper (=1 at 110 °C, doubling every ~6 °C)."""
    return aging_factor(np.asarray(hot_spot_c, np.float64))
