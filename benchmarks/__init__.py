"""Benchmark scripts for cleanlab_pdiff; run them with ``python -m benchmarks.<name>``."""
