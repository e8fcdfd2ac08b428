"""The task registry: every module in this package that defines `TASK` is a task.

Dispatch is a lookup by name; adding a task is adding a module (and its
`$defs` entry in `schemas/experiment.schema.json`).
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from functools import cache

from iter8_action.tasks.base import TaskType


@cache
def registry() -> dict[str, TaskType]:
    """Every available task by name."""
    found: dict[str, TaskType] = {}
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name.startswith("_") or module_info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        task = getattr(module, "TASK", None)
        if isinstance(task, TaskType):
            if task.name in found:
                raise RuntimeError(f"two modules register the task {task.name!r}")
            found[task.name] = task
    return dict(sorted(found.items()))


def known_names() -> list[str]:
    """Every task name an experiment may use."""
    return sorted(registry())


def suggest(name: str, candidates: list[str]) -> str | None:
    """The nearest candidate to a mistyped name, if one is close."""
    matches = difflib.get_close_matches(name.lower(), candidates, n=1, cutoff=0.6)
    return matches[0] if matches else None
