"""What the custommetrics acceptance tests share: the context the engine would give the task."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from iter8_action.result import Result, TaskRecord
from iter8_action.tasks.base import TaskContext


def task_context(
    tmp_path: Path, result: Result | None = None, *, index: int | None = None
) -> TaskContext:
    """A context for the custommetrics task, whose record goes last in `result`.

    `index` is the task's place in the experiment (messages name it); by
    default, the next free place in `result`.
    """
    result = result or Result()
    index = len(result.tasks) if index is None else index
    result.tasks.append(TaskRecord(index=index, task="custommetrics"))
    return TaskContext(
        index=index,
        name="custommetrics",
        result=result,
        base_dir=tmp_path,
        tempdir=tmp_path,
        result_path=tmp_path / "result.yaml",
        stop=threading.Event(),
        log=logging.getLogger("iter8.task"),
        started_monotonic=time.monotonic(),
    )
