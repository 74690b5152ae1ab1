"""Hypothesis strategies shared by the tests (one module, with its own test: test_strategies.py).

Small generator parameters: 1-3 substations and a few hundred meters in a few-km box, so every
drawn grid builds in well under a second while exercising the same rules as the big presets.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import strategies as st

from fluxops.grid.generator import PRESETS, GeneratorParams

seeds = st.integers(min_value=0, max_value=2**31 - 1)


@st.composite
def generator_params(draw: st.DrawFn) -> GeneratorParams:
    """Small but varied `GeneratorParams` (valid by construction)."""
    cpf_lo = draw(st.integers(40, 160))
    cpf_hi = cpf_lo + draw(st.integers(0, 120))
    f_hi = draw(st.integers(1, 5))
    lat_lo = draw(st.integers(1, 4))
    homes_lo = draw(st.integers(1, 6))
    extent = draw(st.floats(0.02, 0.1))
    return replace(
        PRESETS["tiny"],
        n_substations=draw(st.integers(1, 3)),
        target_meters=draw(st.integers(50, 700)),
        extent_lon_deg=extent,
        extent_lat_deg=extent,
        core_share=draw(st.floats(0.0, 1.0)),
        customers_per_feeder=(cpf_lo, cpf_hi),
        feeders_per_substation=(1, f_hi),
        lateral_sites=(lat_lo, lat_lo + draw(st.integers(0, 3))),
        homes_per_transformer=(homes_lo, homes_lo + draw(st.integers(0, 4))),
        commercial_share=draw(st.floats(0.0, 0.4)),
        industrial_per_feeder=draw(st.floats(0.0, 1.0)),
        critical_per_feeder=draw(st.floats(0.0, 3.0)),
        underground_share=draw(st.floats(0.0, 1.0)),
        pv_share=draw(st.floats(0.0, 0.5)),
        pole_span_m=draw(st.floats(35.0, 70.0)),
        max_tie_m=draw(st.floats(0.0, 3000.0)),
        ties_per_feeder=draw(st.integers(0, 4)),
    )
