"""Sharded load: one experiment's load spread over N machines, merged exactly.

The engines that run the shards are the user's own (a CI matrix, GitLab's
`parallel:`, a Kubernetes Indexed Job); iter8 adds no coordinator. Data flows
one way::

    spec (which shard, which start)  ->  divide (each load stream's share)
        -> partial (what a shard writes: counts, histograms, series, the hash)
        -> merge (N partial results -> one result; the deciding tasks run once)

A shard runs the tasks that make load or wait for it (`SHARD_TASKS`); every
other task decides or acts on the whole load (assess, custommetrics, run,
notifications, rollout, traffic) and runs once, at the merge.
"""

from __future__ import annotations

SHARD_TASKS = frozenset({"ready", "http", "grpc"})
"""Tasks each shard runs; the others run once, on the merged result."""
LOAD_TASKS = frozenset({"http", "grpc"})
