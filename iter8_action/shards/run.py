"""`iter8 run --shard`: this machine's shard of an experiment."""

from __future__ import annotations

from collections.abc import Mapping

from iter8_action.engine.runner import StandIn
from iter8_action.experiment.model import Experiment
from iter8_action.shards import SHARD_TASKS
from iter8_action.shards.partial import ShardRun
from iter8_action.shards.spec import (
    check_wait,
    default_start,
    experiment_hash,
    parse_instant,
    resolve_shard,
)
from iter8_action.tasks.base import TaskContext

AT_MERGE = "runs once, at the merge (iter8 merge)"


def plan(
    experiment: Experiment, *, shard: str, start_at: str | None, env: Mapping[str, str]
) -> ShardRun:
    """The shard to run (`I/N`, or `auto` from the CI system) and its common start
    (`start_at`, or the default the CI system's pipeline gives every job)."""
    spec = resolve_shard(shard, env)
    start = parse_instant(start_at) if start_at else default_start(env)
    check_wait(start)
    return ShardRun(spec, experiment_hash(experiment.to_document()), start)


def stand_ins(experiment: Experiment) -> dict[int, StandIn]:
    """The tasks a shard leaves to the merge: all but `SHARD_TASKS`."""
    return {t.index: _at_merge for t in experiment.tasks if t.name not in SHARD_TASKS}


def _at_merge(ctx: TaskContext) -> str:
    return AT_MERGE
