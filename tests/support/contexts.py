"""The context the engine gives a task, for tests that run one task directly."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from iter8_action.experiment.model import Experiment
from iter8_action.results.model import Result, TaskRecord
from iter8_action.tasks.base import TaskContext


def task_context(
    name: str,
    base_dir: Path,
    *,
    result: Result | None = None,
    index: int = 0,
    logger: str | None = None,
    level: int | None = None,
    experiment: Experiment | None = None,
    result_path: Path | None = None,
) -> TaskContext:
    """Task `index` of an experiment in `base_dir`; it logs to `logger` (set to `level`)."""
    log = logging.getLogger(logger or f"iter8.task.{name}")
    if level is not None:
        log.setLevel(level)
    return TaskContext(
        index=index,
        name=name,
        result=Result() if result is None else result,
        base_dir=base_dir,
        tempdir=base_dir,
        result_path=result_path or base_dir / "result.yaml",
        stop=threading.Event(),
        log=log,
        started_monotonic=time.monotonic(),
        experiment=experiment,
        # the test process's environment, live: a test's monkeypatch.setenv is seen
        env=os.environ,
    )


def custommetrics_context(
    tmp_path: Path, result: Result | None = None, *, index: int | None = None
) -> TaskContext:
    """A context for the custommetrics task, whose record goes last in `result`.

    `index` is the task's place in the experiment (messages name it); by
    default, the next free place in `result`.
    """
    result = result or Result()
    index = len(result.tasks) if index is None else index
    result.tasks.append(TaskRecord(index=index, task="custommetrics"))
    return task_context("custommetrics", tmp_path, result=result, index=index, logger="iter8.task")


def experiment_context(
    result: Result, tmp_path: Path, *, name: str = "rollout-demo", task: str = "notify"
) -> TaskContext:
    """Task 2 (`task`) of an experiment called `name`, after a run that left `result`."""
    experiment = Experiment(
        tasks=(), source="experiment.yaml", base_dir=tmp_path, metadata={"name": name}
    )
    return task_context(task, tmp_path, result=result, index=2, experiment=experiment)
