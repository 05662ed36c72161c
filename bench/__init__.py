"""Benchmarks: each `bench/bench_*.py` runs alone and appends its tables to docs/benchmarks.md.

`make bench` (= `.venv/bin/python -m bench.run_all`) runs them all. Benchmarks never assert a
speed; tests never time anything.
"""
