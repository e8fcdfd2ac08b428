"""The exceptions of iter8-py.

One root, a short tree; each carries the context needed to point at the spot::

    Iter8Error                      root: str(e) is a complete, user-facing message
    ├── InputError                  bad input; exit code 2
    │   ├── ExperimentInvalid       an experiment file with one or more Problems
    │   │                           (file, line, JSON path, message)
    │   ├── ReportError             report.model: not a result, or an unknown format
    │   ├── ChartError              charts.chart: a chart or its values cannot be used
    │   ├── BaselineInvalid         baselines.model: a baseline path or URL that cannot be used
    │   └── SetError                charts.values: a --set that Helm would refuse
    ├── TaskFailed                  a task failed at run time; exit code 3
    │                               (task index and name, the reason)
    ├── Interrupted                 SIGINT/SIGTERM arrived; exit code 130
    ├── CommentFailed               platforms.base: the PR/MR comment was not posted
    ├── NonFiniteOutput             finite: NaN or an infinity about to be written (a bug)
    ├── InvalidValue                a value that cannot be used, in the user's terms;
    │   │                           the caller, who knows where the value came from,
    │   │                           raises InputError or TaskFailed with its message
    │   ├── InputsInvalid           tasks: a task's `with:` value its parser cannot take
    │   │                           (the loader reports it at its field, exit code 2)
    │   ├── ConditionError          experiment.conditions: an `if:` or `iter8 assert`
    │   │                           condition
    │   ├── DurationError           core.durations: not a duration (also a ValueError)
    │   ├── TemplateError           templates.render: a Jinja template (and Go templates':
    │   │                           templates.gotemplate.TemplateError, FuncError)
    │   ├── SpecError               assessment.spec: assess inputs naming what the run
    │   │                           lacks (also a ValueError); metrics.backends.spec:
    │   │                           a provider spec that cannot be used
    │   ├── AuthError, SourceError, ValuesError    metrics.backends: secrets, templates,
    │   │                                          values
    │   ├── DescriptorError, MessageError          load.grpc: service types, request data
    │   ├── EditError               rollout.edits: an edit that cannot be applied
    │   ├── RoutingError            traffic.model: routing inputs or a manifest
    │   └── PartialInvalid          shards.partial: a shard's statistics are damaged
    └── ExchangeFailed              another system or process did not do its part;
        │                           the task turns it into TaskFailed
        ├── HTTPFailure             net.httpclient: a request failed after its retries
        │                           (DeadlineExceeded, TooLarge, Misdirected,
        │                           TLSFailure, UnexpectedStatus)
        ├── Refused, NoAnswer, TLSFailure, Misdirected, BadAnswer
        │                           metrics.backends.query: a metrics backend
        ├── WorkerFailed            load.http.runner: a load worker process died
        └── DownloadFailed          baselines.download: a baseline artifact or file

An InvalidValue or ExchangeFailed that reaches the command line was not located by
its caller: that is a bug, reported as one (exit code 4). A foreign exception
converted into one of these is kept as its cause (`raise X(...) from exc`), so
`--log-level debug` shows where it came from. An SLO verdict is a result, never an
exception.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from iter8_action.core.exitcodes import ExitCode

T = TypeVar("T")


class Iter8Error(Exception):
    """Root of every error that iter8-py raises on purpose."""

    exit_code: ExitCode = ExitCode.TASK_FAILED


class InputError(Iter8Error):
    """The user's input (file, flag, action input) is invalid."""

    exit_code = ExitCode.INVALID_INPUT


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located as precisely as we can."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ExperimentInvalid(InputError):
    """An experiment (or another input file) failed to load or validate."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.path))
        super().__init__("\n".join(str(p) for p in self.problems))


class TaskFailed(Iter8Error):
    """A task could not do its job; `reason` says why in the user's terms."""

    exit_code = ExitCode.TASK_FAILED

    def __init__(self, reason: str, *, index: int | None = None, task: str | None = None) -> None:
        self.reason = reason
        self.index = index
        self.task = task
        super().__init__(self._message())

    def _message(self) -> str:
        if self.index is None:
            return self.reason
        return f"task {self.index} ({self.task}) failed: {self.reason}"

    def at(self, index: int, task: str) -> TaskFailed:
        """The same failure, located at a task of the experiment."""
        return TaskFailed(self.reason, index=index, task=task)


class InvalidValue(Iter8Error):
    """A value that cannot be used; its message says why in the user's terms, and the
    code that knows where the value came from raises InputError or TaskFailed with it."""

    exit_code = ExitCode.INTERNAL_ERROR
    """Only when it escapes unconverted, which is a bug."""


class InputsInvalid(InvalidValue):
    """A task's `with:` holds a value its `parse` cannot take; the loader reports `message`
    at `field` (the path below `with:`, `()` for `with:` itself) as a problem of the
    experiment, like a schema error."""

    def __init__(self, message: str, *, field: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    @classmethod
    def converting(
        cls,
        fields: Mapping[str, Any],
        name: str,
        convert: Callable[[Any], T],
        *,
        at: tuple[str | int, ...] | None = None,
    ) -> T | None:
        """`convert(fields[name])` (a duration to seconds, a size to bytes), None when the
        field is absent; the ValueError of a value it cannot take becomes this error at
        `at` (where the field is written in `with:`; the field's own name by default)."""
        value = fields.get(name)
        if value is None:
            return None
        try:
            return convert(value)
        except ValueError as exc:
            raise cls(str(exc), field=at or (name,)) from exc


class ExchangeFailed(Iter8Error):
    """Another system (an HTTP server, a metrics backend) or process (a load worker) did
    not do its part; the task that called it raises TaskFailed with the message."""

    exit_code = ExitCode.INTERNAL_ERROR
    """Only when it escapes unconverted, which is a bug."""


class Interrupted(Iter8Error):
    """The run was stopped by a signal."""

    exit_code = ExitCode.INTERRUPTED

    def __init__(self, signal_name: str | None = None) -> None:
        self.signal_name = signal_name
        super().__init__(f"interrupted by {signal_name}" if signal_name else "interrupted")
