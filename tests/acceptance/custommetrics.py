"""What the custommetrics acceptance tests share: the context the engine would give the task."""

from __future__ import annotations

from pathlib import Path

from iter8_action.result import Result, TaskRecord
from iter8_action.tasks.base import TaskContext
from tests import taskcontext


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
    return taskcontext.task_context(
        "custommetrics", tmp_path, result=result, index=index, logger="iter8.task"
    )
