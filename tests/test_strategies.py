"""The shared hypothesis strategies draw valid, small inputs."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings

from fluxops.grid.generator import GeneratorParams
from strategies import AMI_COLUMNS, ami_arrow_tables, ami_ndjson_bodies, generator_params, seeds


@settings(max_examples=30, deadline=None)
@given(params=generator_params(), seed=seeds)
def test_generator_params_are_valid_and_small(params: GeneratorParams, seed: int) -> None:
    assert params.validated() is params
    assert params.target_meters <= 700
    assert params.n_substations <= 3
    assert params.customers_per_feeder[0] <= params.customers_per_feeder[1]
    assert 0 <= seed < 2**31


@settings(max_examples=30, deadline=None)
@given(body=ami_ndjson_bodies())
def test_ami_ndjson_bodies_are_newline_terminated_lines(body: bytes) -> None:
    lines = body.split(b"\n")
    assert body.endswith(b"\n") and 2 <= len(lines) <= 7


@settings(max_examples=30, deadline=None)
@given(table=ami_arrow_tables())
def test_ami_arrow_tables_use_ami_column_names(table: pa.Table) -> None:
    assert table.num_columns >= 1 and set(table.column_names) <= set(AMI_COLUMNS)
