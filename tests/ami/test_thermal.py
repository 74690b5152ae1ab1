"""IEEE C57.91 figures: F_AA = 1 at 110 °C and doubles every ~6 °C; steady hot spot at rated load and
30 °C ambient is 110 °C; top oil follows a load step with the oil time constant."""

from __future__ import annotations

import numpy as np

from fluxops.ami.thermal import ThermalParams, aging_factor, hot_spot, loss_of_life_pct


def test_aging_factor_reference_points() -> None:
    f = aging_factor(np.array([110.0, 116.0, 122.0, 104.0]))
    assert np.isclose(f[0], 1.0)
    # The "doubling every 6-7 °C" rule of thumb: 116 °C ≈ 1.8, 122 °C ≈ 3.3, 104 °C ≈ 0.54 by the formula.
    assert 1.75 < f[1] < 2.1 and 3.0 < f[2] < 4.2 and 0.45 < f[3] < 0.6


def test_rated_load_at_30c_gives_110c_steady_hot_spot() -> None:
    p = ThermalParams()
    res = hot_spot(np.ones((1, 48)), np.full(48, 30.0), step_h=1.0, params=p)
    assert np.allclose(res.hot_spot_c, 110.0)
    assert np.allclose(res.aging_factor, 1.0)
    assert np.isclose(loss_of_life_pct(res.aging_factor, 1.0, p)[0], 48 * 100 / 180_000)


def test_top_oil_responds_with_time_constant() -> None:
    p = ThermalParams()
    k = np.concatenate([np.full(1, 0.5), np.full(30, 1.5)])[None, :]
    res = hot_spot(k, np.full(31, 30.0), step_h=1.0, params=p)
    ult_hi = 55.0 * ((1.5**2 * 4.5 + 1) / 5.5) ** 0.8
    ult_lo = 55.0 * ((0.25 * 4.5 + 1) / 5.5) ** 0.8
    after_tau = res.top_oil_rise_c[0, 3]  # 3 h = one time constant after the step
    expected = ult_hi + (ult_lo - ult_hi) * np.exp(-1.0)
    assert np.isclose(after_tau, expected)
    assert res.hot_spot_c[0, -1] > 140.0  # 150 % load: long-time emergency territory
