"""Benchmarks (`make bench`): never timed assertions, always figures with the machine's own limits."""
