"""Benchmarks run by `make bench`: figures printed as ratios against /healthz on the same server."""
