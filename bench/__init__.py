"""Benchmarks for synth and policy check (`make bench`); not part of the test suite."""
