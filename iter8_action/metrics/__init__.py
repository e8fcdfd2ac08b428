"""Metrics: the store every task writes, canonical names, and the backends they come from."""
