"""Line codes to per-segment impedance: unit conversion and the π-section primitive admittance."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from fluxops.core.errors import InvalidInputError
from fluxops.network.threephase.model import Line, LineCode

ComplexMatrix = npt.NDArray[np.complex128]

# metres per unit, as the DSS ``units`` property spells them
METRES_PER_UNIT: dict[str, float] = {
    "none": 1.0,
    "mi": 1609.344,
    "kft": 304.8,
    "km": 1000.0,
    "m": 1.0,
    "ft": 0.3048,
    "in": 0.0254,
    "cm": 0.01,
    "mm": 0.001,
}


def length_in_code_units(line: Line) -> float:
    """The line's length expressed in its line code's length unit (DSS: ``none`` means the code's unit)."""
    code_units = line.linecode.units.lower()
    units = line.length_units.lower()
    if units == "none" or code_units == "none" or units == code_units:
        return line.length
    try:
        return line.length * METRES_PER_UNIT[units] / METRES_PER_UNIT[code_units]
    except KeyError as exc:  # pragma: no cover - guarded by the reader
        raise InvalidInputError(f"line {line.name}: unknown length unit {exc.args[0]!r}") from exc


def series_impedance_ohm(line: Line) -> ComplexMatrix:
    """Total series impedance matrix (ohm) of a segment."""
    code: LineCode = line.linecode
    ell = length_in_code_units(line)
    z: ComplexMatrix = ((code.r_ohm_per_unit + 1j * code.x_ohm_per_unit) * ell).astype(np.complex128)
    return z


def shunt_admittance_s(line: Line, frequency_hz: float) -> ComplexMatrix:
    """Total shunt admittance matrix (siemens) of a segment (half at each end in the π model)."""
    ell = length_in_code_units(line)
    y: ComplexMatrix = (1j * 2.0 * np.pi * frequency_hz * line.linecode.c_nf_per_unit * 1e-9 * ell).astype(
        np.complex128
    )
    return y


def line_yprim(line: Line, frequency_hz: float) -> ComplexMatrix:
    """2n×2n primitive admittance ``[[Y+Yc/2, -Y], [-Y, Y+Yc/2]]`` over (nodes1, nodes2)."""
    z = series_impedance_ohm(line)
    y = np.linalg.inv(z)
    yc = shunt_admittance_s(line, frequency_hz) / 2.0
    return np.block([[y + yc, -y], [-y, y + yc]])
