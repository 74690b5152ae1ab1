"""Hypothesis strategies shared by the tests (one module, with its own test: test_strategies.py).

Small generator parameters: 1-3 substations and a few hundred meters in a few-km box, so every
drawn grid builds in well under a second while exercising the same rules as the big presets.
"""

from __future__ import annotations

from dataclasses import replace

import pyarrow as pa
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


# --- AMI bodies: NDJSON records as a head-end (or an attacker) might send them ---------------------------

AMI_FIELDS = ("meter_id", "interval_start_utc", "kwh_delivered", "kwh_received", "voltage_v", "quality")
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["MTR-0001", "2026-03-01T00:15:00Z", "0001-01-01T00:00:00Z", "9999-12-31", "1e400"])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)


@st.composite
def ami_ndjson_bodies(draw: st.DrawFn) -> bytes:
    """NDJSON bodies: records over the reading columns plus odd keys, values of any JSON shape (nested
    ones included), and now and then a line of raw bytes."""
    import json

    lines: list[bytes] = []
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        if draw(st.integers(min_value=0, max_value=9)) == 0:
            lines.append(draw(st.binary(max_size=20)).replace(b"\n", b" "))
            continue
        keys = draw(st.lists(st.sampled_from(AMI_FIELDS) | st.text(max_size=5), max_size=7, unique=True))
        values = json_scalars if draw(st.booleans()) else json_values
        lines.append(json.dumps({k: draw(values) for k in keys}).encode())
    return b"\n".join(lines) + b"\n"


AMI_COLUMNS = (*AMI_FIELDS, "event_type", "event_time_utc", "value")
ARROW_TYPES = (
    pa.int8(), pa.uint64(), pa.int64(), pa.float16(), pa.float64(), pa.bool_(),
    pa.string(), pa.large_string(),
    pa.binary(), pa.binary(3), pa.large_binary(), pa.string_view(), pa.null(), pa.date32(), pa.date64(),
    pa.time32("s"), pa.duration("s"), pa.decimal128(10, 2), pa.month_day_nano_interval(),
    pa.timestamp("s"), pa.timestamp("ms", tz="UTC"), pa.timestamp("ns", tz="America/Chicago"),
    pa.dictionary(pa.int8(), pa.string()), pa.dictionary(pa.int16(), pa.int64()),
    pa.list_(pa.int64()), pa.struct([("a", pa.int64())]),
)  # fmt: skip


@st.composite
def ami_arrow_tables(draw: st.DrawFn) -> pa.Table:
    """Tables over the AMI column names with any Arrow type per column (nested and exotic ones too) and
    extreme integers cast into it."""
    n = draw(st.integers(min_value=0, max_value=5))
    cols: dict[str, pa.Array] = {}
    for name in draw(st.lists(st.sampled_from(AMI_COLUMNS), min_size=1, max_size=9, unique=True)):
        typ = draw(st.sampled_from(ARROW_TYPES))
        raw = draw(st.lists(st.integers(-(2**63), 2**63 - 1) | st.none(), min_size=n, max_size=n))
        try:
            cols[name] = pa.array(raw, pa.int64()).cast(typ, safe=False)
        except (pa.ArrowException, ValueError):
            try:
                cols[name] = pa.array([None if v is None else str(v) for v in raw]).cast(typ, safe=False)
            except (pa.ArrowException, ValueError):
                cols[name] = pa.nulls(n, typ)
    return pa.table(cols)
