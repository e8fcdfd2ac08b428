"""What a task is, and what it is given when it runs.

A task is one module under `iter8_action.tasks` that defines `TASK`, a
`TaskType` with its name, a one-line summary, a `run` function and, when its
inputs can hold credentials, a `secrets` function naming them (the loader
registers them all before the first task runs, see `iter8_action.secrets`). Its input
schema is `$defs/<name>` in `schemas/experiment.schema.json`; the loader has
validated `with:` against it before `run` is called, so `run` may rely on its
shape. A task reports failure by raising `TaskFailed` with a reason in the
user's terms; anything else it raises is a bug and is reported as one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from iter8_action.errors import Interrupted
from iter8_action.metrics import MetricStore
from iter8_action.progress import Progress
from iter8_action.result import Result

if TYPE_CHECKING:
    from iter8_action.model import Experiment
    from iter8_action.shards.partial import ShardRun


@dataclass
class TaskContext:
    """Everything a running task may use; tasks touch no global state."""

    index: int
    name: str
    result: Result
    base_dir: Path
    """Relative paths in the experiment resolve against this directory."""
    tempdir: Path
    """A scratch directory for this run, removed afterwards."""
    result_path: Path
    stop: threading.Event
    """Set when the run is interrupted: long tasks check it and return promptly."""
    log: logging.Logger
    started_monotonic: float
    """`time.monotonic()` at the experiment's start (for `elapsedTimeSeconds`)."""
    experiment: Experiment | None = None
    """The experiment being run (its canonical document is `experiment.to_document()`)."""
    extras: dict[str, Any] = field(default_factory=dict)
    shard: ShardRun | None = None
    """This run is one shard of the load (`iter8 run --shard I/N`): load tasks send their share."""

    def document(self) -> dict[str, Any]:
        """The result file's content as it stands: the experiment and its result so far."""
        base = self.experiment.to_document() if self.experiment is not None else {}
        return {**base, "result": self.result.to_dict()}

    @property
    def store(self) -> MetricStore:
        return self.result.store

    def path(self, relative: str) -> Path:
        """A path from the experiment, resolved against its directory."""
        p = Path(relative).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    def progress(self, label: str | None = None) -> Progress:
        return Progress(label or f"task {self.index} ({self.name})")

    def check_stop(self) -> None:
        """Raise `Interrupted` if the run was asked to stop."""
        if self.stop.is_set():
            raise Interrupted(getattr(self.stop, "signal_name", None))


TaskRun = Callable[[Mapping[str, Any], TaskContext], None]
TaskSecrets = Callable[[Mapping[str, Any], Mapping[str, str]], Iterable[str]]
"""The secrets in a task's (canonical, valid) inputs, and in the environment variables they name."""


def no_secrets(inputs: Mapping[str, Any], env: Mapping[str, str]) -> Iterable[str]:
    return ()


@dataclass(frozen=True)
class TaskType:
    name: str
    summary: str
    run: TaskRun
    secrets: TaskSecrets = no_secrets
