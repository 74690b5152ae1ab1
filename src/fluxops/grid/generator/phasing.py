"""Which phases each lateral, transformer site and node of a generated feeder is on (issue 11 §2).

North American feeders are three-phase on the trunk and mostly single-phase on the laterals; the
planner spreads the single-phase laterals over A/B/C, but laterals differ in size and are added over
decades, so the phases never carry equal load. Model: the single-phase laterals follow the planner's
A-B-C rotation (random start), except a share ``phase_reassign_share`` tapped later, off the rotation,
which pick a phase from the feeder's own preference ``w ∝ exp(σ·z)`` (``z`` standard normal per phase,
``σ = phase_unbalance_sigma``). A share of the larger laterals (behind sectionalizers)
is two-phase (``two_phase_lateral_share``), the rest three-phase with single-phase transformer sites
rotated over the phases.

Target (docs/physics.md §Phases): the phase-load unbalance of a feeder — (largest phase kVA − mean) /
mean — in the range of the IEEE test feeders, which are built to be typical: 11.0 % (IEEE 13),
12.3 % (IEEE 34) and 20.3 % (IEEE 123), computed from their DSS load lists in
``shared/data/ieee-test-feeders``. Defaults (σ 0.5, 30 % off rotation) give, over 20 feeders of a
30,000-meter grid, a median of 10.8 % (quartiles 7.7-16 %, 95th percentile 28 %); with the rotation
alone it would be 3.8 % — lateral sizes alone balance too well. Two-phase segments: 3 of 12 lines
in IEEE 13, 3 of 126 in IEEE 123.

Draws come from their own generator (seeded by seed, substation, feeder): adding phases shifted no
other draw of the layout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# Indices into fluxops.grid.models.PHASES ("A", "B", "C", "AB", "AC", "BC", "ABC").
PH_A, PH_B, PH_C, PH_AB, PH_AC, PH_BC, PH_ABC = range(7)
_TWO_PHASE = np.array([PH_AB, PH_AC, PH_BC], dtype=np.int8)
_PAIR_MEMBERS = np.array([[PH_A, PH_B], [PH_A, PH_C], [PH_B, PH_C]], dtype=np.int8)
_I8 = npt.NDArray[np.int8]


@dataclass(frozen=True)
class LateralPhases:
    lateral: _I8  # per lateral (2·n_t, row-major (k, side)): its phase set
    site: _I8  # per transformer site (lateral, site): the single phase it is tapped from


def draw_lateral_phases(
    rng: np.random.Generator,
    big: npt.NDArray[np.bool_],
    n_sites: int,
    *,
    sigma: float,
    reassign_share: float,
    two_phase_share: float,
) -> LateralPhases:
    """Phase sets of the laterals (``big``: three/two-phase laterals) and of their transformer sites."""
    n_lat = len(big)
    w = np.exp(sigma * rng.standard_normal(3))
    rotated = (rng.integers(0, 3) + np.cumsum(~big) - 1) % 3  # the planner's A, B, C, A, ... rotation
    moved = rng.random(n_lat) < reassign_share  # laterals tapped later, off the rotation
    single = np.where(moved, rng.choice(3, size=n_lat, p=w / w.sum()), rotated).astype(np.int8)
    two = rng.random(n_lat) < two_phase_share
    pair = rng.integers(0, 3, n_lat)
    offset = rng.integers(0, 3, n_lat)
    lateral = np.where(big, np.where(two, _TWO_PHASE[pair], PH_ABC), single).astype(np.int8)
    i = np.arange(n_sites)[None, :]
    rotate3 = ((offset[:, None] + i) % 3).astype(np.int8)
    rotate2 = _PAIR_MEMBERS[pair][np.arange(n_lat)[:, None], (offset[:, None] + i) % 2]
    site = np.where(
        big[:, None], np.where(two[:, None], rotate2, rotate3), np.repeat(single[:, None], n_sites, axis=1)
    ).astype(np.int8)
    return LateralPhases(lateral=lateral, site=site)


def phase_unbalance_pct(phase_kva: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """(largest phase − mean) / mean in %, over the last axis (phases A, B, C)."""
    mean = phase_kva.mean(axis=-1)
    out: npt.NDArray[np.float64] = np.where(
        mean > 0, (phase_kva.max(axis=-1) - mean) / np.where(mean > 0, mean, 1.0) * 100.0, 0.0
    )
    return out
