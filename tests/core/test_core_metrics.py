"""The metrics registry renders the Prometheus text format a scraper parses: escaped labels, cumulative
histogram buckets ending in +Inf with _sum and _count, one family per name."""

from __future__ import annotations

import pytest

from fluxops.core.metrics import Counter, Gauge, Histogram, Registry


def test_counter_renders_labels_escaped_and_only_goes_up() -> None:
    reg = Registry()
    c = reg.register(Counter("x_rows_total", "Rows", ("dataset", "reason")))
    assert isinstance(c, Counter)
    c.inc(2, dataset="readings", reason='bad "quote"\\n')
    c.inc(dataset="readings", reason='bad "quote"\\n')
    text = reg.render()
    assert "# HELP x_rows_total Rows\n# TYPE x_rows_total counter\n" in text
    assert 'x_rows_total{dataset="readings",reason="bad \\"quote\\"\\\\n"} 3.0\n' in text
    with pytest.raises(ValueError, match="only goes up"):
        c.inc(-1, dataset="readings", reason="x")
    with pytest.raises(ValueError, match="takes labels"):
        c.inc(dataset="readings")


def test_histogram_buckets_are_cumulative_with_inf_sum_and_count() -> None:
    h = Histogram("x_seconds", "Latency", ("route",), buckets=(0.1, 1.0))
    for v in (0.05, 0.5, 0.7, 3.0):
        h.observe(v, route="/a/{id}")
    lines = h.render().splitlines()
    assert lines[2:] == [
        'x_seconds_bucket{route="/a/{id}",le="0.1"} 1',
        'x_seconds_bucket{route="/a/{id}",le="1.0"} 3',
        'x_seconds_bucket{route="/a/{id}",le="+Inf"} 4',
        'x_seconds_sum{route="/a/{id}"} 4.25',
        'x_seconds_count{route="/a/{id}"} 4',
    ]
    assert h.count(route="/a/{id}") == 4


def test_registry_keeps_one_metric_per_name_and_renders_extra_gauges() -> None:
    reg = Registry()
    first = reg.register(Counter("x_total", "X"))
    assert reg.register(Counter("x_total", "X")) is first  # a module imported twice
    with pytest.raises(ValueError, match="registered differently"):
        reg.register(Gauge("x_total", "X"))
    g = Gauge("x_files", "Files", ("partition",))
    g.set(4, partition="2026-01-02")
    text = reg.render([g])
    assert "# TYPE x_total counter\n# HELP x_files Files\n# TYPE x_files gauge\n" in text
    assert 'x_files{partition="2026-01-02"} 4.0' in text
