"""Substation voltage regulation: an on-load tap changer (LTC) with line-drop compensation (LDC).

Why: our sources are ideal voltages, but no North American utility holds its 12.47 kV bus at exactly
1.00 pu. The LTC sits at a light-load set point (~1.025 pu, ≈123 V on a 120 V base) and LDC raises the
bus as load grows so the far end of each feeder stays near a target, capped so the first customer is
not pushed over ANSI C84.1 Range A (1.05 pu). Without it a whole-grid flow at a hot hour reads a
quarter of the transformers as low-voltage, which real feeders would not be.

Modelled per source (substation transformer bus section): run the flow at ``v_set_pu``, take the
lowest energized bus voltage the source feeds, and raise the source by
``clip(ldc_target_min_pu − v_min, 0, v_max_pu − v_set_pu)``. Callers either re-run the flow at the
regulated set points (exact) or shift the source's buses by the same Δ (first-order, what the AMI
synthesizer does for its 96 daily flows).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fluxops.core.errors import InvalidInputError

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SubstationRegulation:
    v_set_pu: float = 1.025  # LTC set point at light load
    v_max_pu: float = 1.05  # LTC upper limit (Range A top at the first customer)
    ldc_target_min_pu: float = 1.0  # LDC aims the lowest primary voltage here

    def __post_init__(self) -> None:
        if not 0.9 <= self.v_set_pu <= self.v_max_pu <= 1.1:
            raise InvalidInputError("need 0.9 ≤ v_set_pu ≤ v_max_pu ≤ 1.1", field="v_set_pu")


def ldc_boost_pu(
    vm_pu: npt.ArrayLike, bus_source: npt.ArrayLike, n_source: int, reg: SubstationRegulation
) -> FloatArray:
    """Per source, the voltage rise the LDC adds above ``reg.v_set_pu``.

    ``vm_pu``: per-bus voltage magnitude from a flow at ``v_set_pu`` (NaN where de-energized);
    ``bus_source``: per bus the feeding source position (−1 where de-energized). Sources feeding
    nothing get 0."""
    vm = np.asarray(vm_pu, dtype=np.float64)
    src = np.asarray(bus_source)
    live = (src >= 0) & np.isfinite(vm)
    v_min = np.full(n_source, np.inf)
    np.minimum.at(v_min, src[live], vm[live])
    boost = np.clip(reg.ldc_target_min_pu - v_min, 0.0, reg.v_max_pu - reg.v_set_pu)
    return np.where(np.isfinite(v_min), boost, 0.0)
