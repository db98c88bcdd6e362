"""The benchmark: `make bench` (see README, "Benchmark", and bench/run.py)."""
