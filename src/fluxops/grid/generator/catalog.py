"""Equipment and load figures the generator draws from, each with its source (docs/grid-generator.md).

Why a catalog: every electrical figure in a generated grid (impedance, ampacity, kVA size, kWh) must
be traceable to a published table, not invented per call. Indices into these tuples are the codes
the generator passes around in its NumPy arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# 60 Hz positive-sequence reactance of a three-phase line, simplified Carson / GMD-GMR form:
# x = 2*pi*f * 2e-7 * ln(Deq/GMR) ohm/m = 0.07539 * ln(Deq/GMR) ohm/km (Kersting, Distribution System
# Modeling and Analysis, 4th ed., eq. 4.xx; 0.12134 ohm/mile).
_X_PER_KM_PER_LN = 2.0 * math.pi * 60.0 * 2e-7 * 1000.0
# Equivalent spacing: overhead 12.47 kV crossarm with 2.5/4.5/7.0 ft phase spacing (Kersting's
# configuration 500, IEEE 13-node feeder): Deq = (2.5*4.5*7)^(1/3) = 4.24 ft. Underground: three
# single-conductor cables in a trench 6 in apart, third at 12 in: Deq = (0.5*0.5*1.0)^(1/3) = 0.63 ft.
DEQ_OVERHEAD_FT = (2.5 * 4.5 * 7.0) ** (1.0 / 3.0)
DEQ_UNDERGROUND_FT = (0.5 * 0.5 * 1.0) ** (1.0 / 3.0)
MILE_KM = 1.609344


@dataclass(frozen=True)
class Conductor:
    name: str
    construction: str  # overhead | underground
    r_ohm_per_mile: float  # AC resistance at 50 C (Kersting App. A conductor data)
    gmr_ft: float  # geometric mean radius (Kersting App. A)
    ampacity_a: float  # overhead: Kersting App. A; underground: typical 15 kV direct-buried rating

    @property
    def r_ohm_per_km(self) -> float:
        return self.r_ohm_per_mile / MILE_KM

    @property
    def x_ohm_per_km(self) -> float:
        deq = DEQ_OVERHEAD_FT if self.construction == "overhead" else DEQ_UNDERGROUND_FT
        return _X_PER_KM_PER_LN * math.log(deq / self.gmr_ft)


# Codes 0..7. Overhead ACSR data: Kersting App. A (r at 50 C, GMR, ampacity). Underground: aluminium
# conductor data from the same table (AA), ampacity of 15 kV cable direct-buried in one circuit, rounded
# from manufacturer tables (Southwire/Okonite 15 kV URD and feeder cable ampacities, 90 C conductor).
CONDUCTORS: tuple[Conductor, ...] = (
    Conductor("336.4 kcmil ACSR", "overhead", 0.306, 0.0244, 530.0),
    Conductor("477 kcmil ACSR", "overhead", 0.1859, 0.0290, 670.0),
    Conductor("4/0 ACSR", "overhead", 0.592, 0.00814, 340.0),
    Conductor("1/0 ACSR", "overhead", 1.12, 0.00446, 230.0),
    Conductor("1/0 AL URD cable", "underground", 0.97, 0.0111, 200.0),
    Conductor("4/0 AL URD cable", "underground", 0.484, 0.0158, 280.0),
    Conductor("500 kcmil AL cable", "underground", 0.206, 0.0260, 420.0),
    Conductor("1000 kcmil AL cable", "underground", 0.104, 0.0367, 620.0),
)
OH_TRUNK: tuple[int, ...] = (0, 1)  # smallest first; chosen by feeder peak current
UG_TRUNK: tuple[int, ...] = (6, 7)
OH_LATERAL = 3
OH_BIG_LATERAL = 2  # three-phase laterals behind a sectionalizer
UG_LATERAL = 4
UG_BIG_LATERAL = 5
GETAWAY = 7  # substation exit cable

# Primary voltage: 12.47 kV (7.2 kV L-N), the most common North American class (domain-facts 6.4).
V_PRIMARY_KV = 12.47
V_PHASE_KV = V_PRIMARY_KV / math.sqrt(3.0)
V_TRANSMISSION_KV = 138.0  # CenterPoint's sub-transmission/transmission class feeding distribution subs

# Standard distribution transformer kVA ratings (ANSI/IEEE C57.12.20 overhead single-phase,
# C57.12.34 pad-mounted three-phase).
SINGLE_PHASE_KVA: tuple[float, ...] = (25.0, 37.5, 50.0, 75.0, 100.0, 167.0)
THREE_PHASE_KVA: tuple[float, ...] = (75.0, 112.5, 150.0, 225.0, 300.0, 500.0, 750.0, 1000.0, 1500.0, 2500.0)
# Substation power transformers: 10-40 MVA (CRC Electric Power Engineering Handbook ch. 20).
SUBSTATION_MVA: tuple[float, ...] = (10.0, 15.0, 20.0, 25.0, 30.0, 40.0)

# Customer load figures. Residential: Texas average 1,262 kWh/month = 15,144 kWh/yr (EIA via
# ami-generator-inventory 8). Commercial: US average ~6,000 kWh/month (EIA-861 sales/customers).
# Industrial: sites of a few GWh/yr. Load factors (average/peak demand) are typical planning values:
# residential 0.40 (AC-driven summer peak), commercial 0.55, industrial 0.70.
RES_ANNUAL_KWH_MEAN = 1262.0 * 12.0
COM_ANNUAL_KWH_MEDIAN = 60_000.0
IND_ANNUAL_KWH_MEDIAN = 2_000_000.0
LOAD_FACTOR: tuple[float, float, float] = (0.40, 0.55, 0.70)
# Diversity (issue 9 calibration): a customer's ``peak_kw`` is its share of the diversified peak of a
# large group (a feeder's design peak is their sum). A small group peaks higher than the sum of its
# shares because its members' peaks need not coincide. Coincident peak of N customers, relative to the
# sum of their shares, in Rusck's form (coincidence factor c(N) = c_inf + (1 - c_inf)/sqrt(N), Rusck 1956,
# as used in Willis, Power Distribution Planning Reference Book, ch. 3) normalised to the large group:
#   u(N) = c(N) / c_inf = 1 + (DF_inf - 1) / sqrt(N),  DF_inf = 1 / c_inf.
# DF_inf = 1.5 for summer-peaking, air-conditioned homes and shops: AC duty cycles coincide on a hot
# afternoon, so the diversity is much smaller than the ~3 of old non-AC tables (Arvidson's EEI tables as
# reproduced in Kersting ch. 2 go to ~3.2 at 70 customers; quoted from memory, not checked against a
# stored copy). 1.5 is also what the AMI synthesizer's load model gives (median single-home 15-min
# peak / its share of the feeder peak = 1.45 on the design day; docs/ami.md §Calibration): the two
# use the same figure. Industrial sites have their own transformer and their own measured peak: 1.0.
DIVERSITY_INF: tuple[float, float, float] = (1.5, 1.5, 1.0)


def coincident_peak_factor(
    n_customers: npt.NDArray[np.int64], klass: npt.NDArray[np.int8]
) -> npt.NDArray[np.float64]:
    """u(N) above: the coincident 15-min peak of N customers of class ``klass`` over the sum of their
    ``peak_kw`` (1 for a large group; 1.20 for 6 homes, 1.5 for a single home)."""
    df_inf = np.asarray(DIVERSITY_INF)[np.asarray(klass, dtype=np.int64)]
    n = np.maximum(np.asarray(n_customers, dtype=np.float64), 1.0)
    out: npt.NDArray[np.float64] = 1.0 + (df_inf - 1.0) / np.sqrt(n)
    return out


HOURS_PER_YEAR = 8760.0
# Residential PV: median system 6.4 kW (LBNL Tracking the Sun, 2018 installs, as reported by Axios).
PV_KW_MEDIAN = 6.4
