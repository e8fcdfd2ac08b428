"""What a task is, and what it is given when it runs.

A task is one module under `iter8_action.tasks` that defines `TASK`, a
`TaskType` with its name, a one-line summary, a `run` function, a `parse`
function and, when its inputs can hold credentials, a `secrets` function naming
them (the loader registers them all before the first task runs, see
`iter8_action.core.secrets`). Its input schema is `$defs/<name>` in
`schemas/experiment.schema.json`.

The loader validates `with:` against the schema, then hands it to `parse`, which
returns the task's frozen inputs dataclass with its defaults applied (or raises
`InputsInvalid` for a value the schema admits but the task cannot take: an
invalid experiment, exit code 2, at that field's line). `run` receives that
object: it reads typed attributes, never the mapping. What depends on the run
(a template rendered over the result, a file read, a version that must exist)
stays in `run`. A task reports failure by raising `TaskFailed` with a reason in
the user's terms; anything else it raises is a bug and is reported as one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from iter8_action.core.errors import Interrupted
from iter8_action.events.summary import summarize
from iter8_action.load.progress import ProgressLine
from iter8_action.metrics.store import MetricStore
from iter8_action.platforms import CIHost, ci_host
from iter8_action.results.model import Result

if TYPE_CHECKING:
    from iter8_action.experiment.model import Experiment
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
    env: Mapping[str, str] = field(default_factory=dict)
    """The job's environment, handed down from the command line or the CI job: tasks read
    variables here, never from the process environment."""

    def document(self) -> dict[str, Any]:
        """The result file's content as it stands: the experiment and its result so far."""
        base = self.experiment.to_document() if self.experiment is not None else {}
        return {**base, "result": self.result.to_dict()}

    @property
    def platform(self) -> CIHost | None:
        """The CI system the job runs on, None in a terminal (decided by `platforms.ci_host`
        from `env`, the one place that decides)."""
        return ci_host(self.env)

    @property
    def store(self) -> MetricStore:
        return self.result.store

    def path(self, relative: str) -> Path:
        """A path from the experiment, resolved against its directory."""
        p = Path(relative).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    def progress(self, label: str | None = None) -> ProgressLine:
        return ProgressLine(label or f"task {self.index} ({self.name})")

    def summary(self) -> dict[str, Any]:
        """The summary of the run so far, as every event carries it (`events.summary`)."""
        name = self.experiment.name if self.experiment is not None else None
        return summarize(self.result.to_dict(), experiment_name=name, env=self.env)

    def check_stop(self) -> None:
        """Raise `Interrupted` if the run was asked to stop."""
        if self.stop.is_set():
            raise Interrupted(getattr(self.stop, "signal_name", None))


InputsT = TypeVar("InputsT")
"""A task's inputs: the frozen dataclass its `parse` returns and its `run` receives."""

TaskSecrets = Callable[[Mapping[str, Any], Mapping[str, str]], Iterable[str]]
"""The secrets in a task's (canonical, valid) `with:`, and in the environment variables
it names. They read the mapping, not the parsed inputs: secrets are found by field name
in every section alike (a load task's versions and endpoints), as the user wrote them."""


def no_secrets(inputs: Mapping[str, Any], env: Mapping[str, str]) -> Iterable[str]:
    return ()


@dataclass(frozen=True)
class TaskType(Generic[InputsT]):
    """A task: `parse` turns its schema-valid `with:` into its inputs at load, `run`
    receives them (with the context) when the task runs."""

    name: str
    summary: str
    run: Callable[[InputsT, TaskContext], None]
    _: KW_ONLY
    parse: Callable[[Mapping[str, Any]], InputsT]
    secrets: TaskSecrets = no_secrets

    def execute(self, inputs: Mapping[str, Any], ctx: TaskContext) -> None:
        """Parse a raw `with:` and run: for a caller that holds the mapping (tests, benches);
        the engine runs what the loader parsed."""
        self.run(self.parse(inputs), ctx)
