"""Benchmarks that print figures (run from the repo root: python -m bench.<name>)."""
