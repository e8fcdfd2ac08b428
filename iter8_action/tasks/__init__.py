"""The task registry: every module in this package that defines `TASK` is a task.

Dispatch is a lookup by name; adding a task is adding a module named after the
task (and its `$defs` entry in `schemas/experiment.schema.json`).

The names come from the package's file list, without importing a task module:
checking an experiment's task names must not load grpc, SciPy or uvloop. A task's
module is imported when the task is looked up (`task(name)`), and task modules
import their heavy libraries inside the functions that use them.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import Any

from iter8_action.documents.validation import suggest
from iter8_action.tasks.base import TaskType

__all__ = ["known_names", "registry", "suggest", "task"]

_NOT_TASKS = frozenset({"base"})


@cache
def known_names() -> list[str]:
    """Every task name an experiment may use (one module per task, none imported)."""
    return sorted(
        info.name
        for info in pkgutil.iter_modules(__path__)
        if not info.name.startswith("_") and info.name not in _NOT_TASKS
    )


class _Loaded:
    """The tasks whose modules are imported so far; `registry()` completes the set."""

    def __init__(self) -> None:
        self.tasks: dict[str, TaskType[Any]] = {}
        self.complete = False


_LOADED = _Loaded()


def task(name: str) -> TaskType[Any] | None:
    """The task called `name`, its module imported now; None for an unknown name."""
    if name in _LOADED.tasks or _LOADED.complete:
        return _LOADED.tasks.get(name)
    if name not in known_names():
        return None
    found = getattr(importlib.import_module(f"{__name__}.{name}"), "TASK", None)
    if not isinstance(found, TaskType) or found.name != name:
        raise RuntimeError(f"the module tasks/{name}.py must define TASK named {name!r}")
    _LOADED.tasks[name] = found
    return found


def registry() -> dict[str, TaskType[Any]]:
    """Every available task by name, sorted (imports every task module). The engine and
    the loader look tasks up here, so a task added to this dict is run like any other."""
    if not _LOADED.complete:
        for name in known_names():
            task(name)
        ordered = sorted(_LOADED.tasks.items())
        _LOADED.tasks.clear()
        _LOADED.tasks.update(ordered)
        _LOADED.complete = True
    return _LOADED.tasks
