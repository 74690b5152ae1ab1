"""Benchmarks: plain scripts, outside the test run. `make bench` runs them all and merges figures."""
