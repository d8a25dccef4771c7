"""Benchmarks: run them as modules (``python -m bench.menu``); see ``bench/README.md``."""
