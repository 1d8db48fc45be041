"""Data the benchmarks and load tests make on demand: the opening rush and a year of trade (`flask
market rush`, `flask market year-data`)."""
