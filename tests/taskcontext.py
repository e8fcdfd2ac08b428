"""The context the engine gives a task, for tests that run one task directly."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from iter8_action.model import Experiment
from iter8_action.result import Result
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
