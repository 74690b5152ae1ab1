"""Three-phase unbalanced power flow (issue 11 §2): per-phase model, nodal admittance, fixed-point solve.

``model`` holds the per-phase network description (lines with their line codes, transformers, wye/delta
loads, capacitors, step-voltage regulators, a Thevenin source); ``linecodes`` converts line-code matrices
to per-segment 3×3 (or 2×2, 1×1) series impedance and shunt admittance; ``ybus`` assembles the sparse
three-phase nodal admittance matrix; ``solver`` solves it by current injection on a factorized Y
(OpenDSS's own normal-mode iteration); ``regulators`` runs the step-voltage regulator controllers (band +
line-drop compensation) around it. Pure numpy/scipy: no I/O, inputs never mutated.
"""

from fluxops.network.threephase.model import (
    Capacitor,
    FeederModel,
    Line,
    LineCode,
    Load,
    Regulator,
    Source,
    Transformer,
    Winding,
)
from fluxops.network.threephase.regulators import RegulatorResult, solve_with_regulators
from fluxops.network.threephase.solver import (
    ScenarioResult,
    ThreePhaseResult,
    solve_scenarios,
    solve_threephase,
)

__all__ = [
    "Capacitor",
    "FeederModel",
    "Line",
    "LineCode",
    "Load",
    "Regulator",
    "RegulatorResult",
    "ScenarioResult",
    "Source",
    "ThreePhaseResult",
    "Transformer",
    "Winding",
    "solve_scenarios",
    "solve_threephase",
    "solve_with_regulators",
]
